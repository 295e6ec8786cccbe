"""Table upkeep: a match partition left with several files is compacted to one, the log is checkpointed, files no
version needs are vacuumed; the rows stay exactly the same; other matches are not rewritten."""

from __future__ import annotations

import os
import time
from pathlib import Path

import polars as pl
from deltalake import write_deltalake

from footy_assets import cli
from footy_assets.automation.upkeep import lake_upkeep_job
from footy_assets.pipeline import materialize_lake
from footy_assets.resources import LakeResource
from footy_assets.upkeep import files_per_match

from .conftest import land_synthetic


def _parquet_on_disk(lake, table) -> int:
    return sum(1 for p in (Path(lake.uri) / table).rglob("*.parquet") if "_delta_log" not in p.parts)


def test_upkeep_compacts_checkpoints_and_vacuums(lake, instance, truth, capsys):
    land_synthetic(lake, "footy_stats", "m1", truth)
    land_synthetic(lake, "cdf", "m2", truth)
    assert all(o.ok for o in materialize_lake(lake, instance, progress=lambda _: None))
    before = pl.read_delta(lake.table_uri("tracking")).sort("match_id", "frame_id", "role", "track_id", "player_id")
    # a partition with several files: m1's rows rewritten as three appended pieces (as a split write leaves them)
    m1 = before.filter(pl.col("match_id") == "m1")
    schema = lake.dataset("tracking").schema
    lake.open_table("tracking").delete("match_id = 'm1'")
    for piece in m1.with_row_index().with_columns(pl.col("index") % 3).partition_by("index"):
        write_deltalake(lake.table_uri("tracking"), piece.drop("index").to_arrow().cast(schema), mode="append")
    assert files_per_match(lake, "tracking") == {"m1": 3, "m2": 1}
    # files of writes killed before their commit: one two days old, one just written (a write about to commit)
    m2_file = next((Path(lake.uri) / "tracking" / "match_id=m2").glob("*.parquet"))
    old_orphan = m2_file.with_name("part-00000-killed-old.snappy.parquet")
    new_orphan = m2_file.with_name("part-00000-killed-new.snappy.parquet")
    for orphan in (old_orphan, new_orphan):
        orphan.write_bytes(m2_file.read_bytes())
    two_days_ago = time.time() - 48 * 3600
    os.utime(old_orphan, (two_days_ago, two_days_ago))
    on_disk = _parquet_on_disk(lake, "tracking")

    assert cli.main(["upkeep", "--lake", lake.uri, "--retention-hours", "0"]) == 0
    out = capsys.readouterr().out
    assert "tracking" in out and "1 match(es) compacted" in out
    assert files_per_match(lake, "tracking") == {"m1": 1, "m2": 1}
    after = pl.read_delta(lake.table_uri("tracking")).sort("match_id", "frame_id", "role", "track_id", "player_id")
    assert after.equals(before)
    assert list((Path(lake.uri) / "tracking" / "_delta_log").glob("*.checkpoint.parquet"))
    assert not old_orphan.exists() and new_orphan.exists()  # the day-old orphan goes, the fresh one waits
    assert _parquet_on_disk(lake, "tracking") == 3 < on_disk  # the live files and the fresh orphan stay

    result = lake_upkeep_job.execute_in_process(resources={"lake": LakeResource(lake_uri=lake.uri)})
    assert result.success
    output = next(e for e in result.all_events if e.event_type_value == "STEP_OUTPUT")
    assert output.event_specific_data.metadata["matches_compacted"].value == 0  # nothing left to compact
