"""Tracking rows handed from a run's ingest to its metrics step: exactly that delivery's, once, one match at a time."""

from __future__ import annotations

import polars as pl

from footy_assets.chain import handover
from footy_assets.lake.store import Lake


def test_the_rows_are_taken_once_and_only_for_their_own_delivery(tmp_path):
    lake, other_lake = Lake.from_env(str(tmp_path / "a")), Lake.from_env(str(tmp_path / "b"))
    rows = pl.DataFrame({"frame_id": [1, 2]})
    handover.leave(lake, "m1", "f" * 64, rows)
    assert handover.take(lake, "m1", "e" * 64) is None  # another delivery of the match: read the lake
    assert handover.take(other_lake, "m1", "f" * 64) is None
    assert handover.take(lake, "m2", "f" * 64) is None
    assert handover.take(lake, "m1", "f" * 64) is rows
    assert handover.take(lake, "m1", "f" * 64) is None  # taken: no longer held


def test_one_match_is_held_at_a_time_and_discard_drops_it(tmp_path):
    lake = Lake.from_env(str(tmp_path))
    handover.leave(lake, "m1", "f" * 64, pl.DataFrame({"a": [1]}))
    handover.leave(lake, "m2", "f" * 64, pl.DataFrame({"a": [2]}))
    assert handover.take(lake, "m1", "f" * 64) is None
    handover.discard()
    assert handover.take(lake, "m2", "f" * 64) is None
