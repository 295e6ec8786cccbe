"""Each table is declared once, by its pandera contract: the polars schema the lake writes is derived from it."""

import polars as pl

from footy_assets.core.canonical import TRACKING_SCHEMA
from footy_assets.core.contracts.derived import BallState, FrameState, Intervals, MatchQuality
from footy_assets.core.contracts.matches import Matches
from footy_assets.core.contracts.tracking import Tracking
from footy_assets.core.contracts.validation import dtypes
from footy_assets.core.metrics.ball_state import BALL_STATE_SCHEMA
from footy_assets.core.metrics.frame_state import FRAME_STATE_SCHEMA
from footy_assets.core.quality.match_quality import MATCH_QUALITY_SCHEMA
from footy_assets.lake.matches import MATCHES_SCHEMA
from footy_assets.orchestration.assets.derived import INTERVALS_SCHEMA


def test_the_derived_schemas_equal_the_literal_ones():
    for contract, literal in [(Tracking, TRACKING_SCHEMA), (FrameState, FRAME_STATE_SCHEMA), (BallState, BALL_STATE_SCHEMA),
                              (Intervals, INTERVALS_SCHEMA), (MatchQuality, MATCH_QUALITY_SCHEMA), (Matches, MATCHES_SCHEMA)]:
        derived = dtypes(contract)
        assert list(derived) == list(literal), contract
        for name in literal:
            assert derived[name] == literal[name], (contract, name)
            assert repr(derived[name]) == repr(literal[name]), (contract, name)
            assert str(derived[name]) == str(literal[name])
        # the arrow schema the lake writes
        to_arrow = lambda s: pl.DataFrame(schema={n: pl.String if d == pl.Categorical else d for n, d in s.items()}).to_arrow().schema
        assert to_arrow(derived) == to_arrow(literal)
