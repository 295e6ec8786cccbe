"""The pandera contracts reject what they must."""

import pandera.polars as pa
import polars as pl
import pytest

from footy_assets.core.contracts.tracking import Tracking
from footy_assets.lake.delivery import read_match
from footy_assets.lake.landing import find_match
from footy_assets_tests.helpers import land_synthetic


@pytest.fixture(scope="module")
def good(tmp_path_factory, truth):
    from footy_assets.lake.store import Lake

    lake = Lake.from_env(str(tmp_path_factory.mktemp("contracts")))
    land_synthetic(lake, "footy_stats", "m", truth.head(2000))
    return read_match(lake, find_match(lake, "m")).tracking


def test_good_rows_pass(good):
    assert Tracking.validate(good).height == good.height


@pytest.mark.parametrize(
    "change, problem",
    [
        (pl.col("x_m").cast(pl.Float64), "to have type Float32"),
        (
            pl.when(pl.int_range(pl.len()) == 5)
            .then(pl.lit(250.0))
            .otherwise(pl.col("x_m"))
            .cast(pl.Float32)
            .alias("x_m"),
            "x_m",
        ),
        (pl.when(pl.col("role") == "ball").then(pl.lit("bal")).otherwise(pl.col("role")).alias("role"), "role"),
        (
            pl.when(pl.col("player_id").is_not_null())
            .then(pl.lit("1-99"))
            .otherwise(pl.col("player_id"))
            .alias("player_id"),
            "player_id",
        ),
        (pl.lit(0, dtype=pl.Int8).alias("period"), "period"),
    ],
)
def test_bad_rows_are_rejected(good, change, problem):
    with pytest.raises((pa.errors.SchemaError, pa.errors.SchemaErrors)) as err:
        Tracking.validate(good.with_columns(change))
    assert problem in str(err.value)


def test_duplicate_player_in_a_frame_is_rejected(good):
    player_row = good.filter(pl.col("player_id").is_not_null()).head(1)
    with pytest.raises((pa.errors.SchemaError, pa.errors.SchemaErrors), match="appears twice"):
        Tracking.validate(pl.concat([good, player_row]))


def test_two_balls_in_a_frame_are_rejected(good):
    ball = good.filter(pl.col("role") == "ball").head(1)
    with pytest.raises((pa.errors.SchemaError, pa.errors.SchemaErrors), match="more than one ball"):
        Tracking.validate(pl.concat([good, ball]))


def test_frame_state_contract_rejects_bad_rows(good):
    from footy_assets.core.contracts.derived import FrameState
    from footy_assets.core.metrics.frame_state import build_frame_state

    state = FrameState.validate(build_frame_state(good, 25))
    wrong_team = state.with_columns(
        nearest_opp_id=pl.when(pl.col("team") == 0).then(pl.lit("0-5")).otherwise(pl.col("nearest_opp_id"))
    )
    with pytest.raises((pa.errors.SchemaError, pa.errors.SchemaErrors), match="other team"):
        FrameState.validate(wrong_team)
    negative = state.with_columns(speed_mps=pl.lit(-1.0, dtype=pl.Float32))
    with pytest.raises((pa.errors.SchemaError, pa.errors.SchemaErrors), match="speed_mps"):
        FrameState.validate(negative)
