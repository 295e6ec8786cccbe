"""Table upkeep: a match partition left with several files is compacted to one, the log is checkpointed, files no
version needs are vacuumed; the rows stay exactly the same; other matches are not rewritten."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import polars as pl
import pytest
from deltalake import write_deltalake

from footy_assets import cli
from footy_assets.lake.upkeep import files_per_match, upkeep_lake
from footy_assets.orchestration.automation.upkeep import lake_upkeep_job
from footy_assets.orchestration.resources import LakeResource
from footy_assets_tests.helpers import CLI, copy_lake, quiet

pytestmark = pytest.mark.slow  # a published lake, the CLI in processes of its own


def _parquet_on_disk(lake, table) -> int:
    return sum(1 for p in (Path(lake.uri) / table).rglob("*.parquet") if "_delta_log" not in p.parts)


def test_upkeep_compacts_checkpoints_and_vacuums(lake, two_published, capsys):
    copy_lake(two_published, Path(lake.uri))  # m1 and m2 published, one file per match and table
    before = pl.read_delta(lake.table_uri("tracking")).sort("match_id", "frame_id", "role", "track_id", "player_id")
    # a partition with several files: m1's rows rewritten as three appended pieces (as a split write leaves them)
    m1 = before.filter(pl.col("match_id") == "m1")
    schema = lake.dataset("tracking").schema
    lake.open_table("tracking").delete("match_id = 'm1'")
    for piece in m1.with_row_index().with_columns(pl.col("index") % 3).partition_by("index"):
        write_deltalake(lake.table_uri("tracking"), piece.drop("index").to_arrow().cast(schema), mode="append")
    assert files_per_match(lake, "tracking") == {"m1": 3, "m2": 1}
    # files of writes killed before their commit: one two days old, one just written (a write about to commit)
    m2_file = next((Path(lake.uri) / "tracking" / "match_id=m2").rglob("*.parquet"))
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


def _upkeep(tmp_path, *argv, **env):
    (tmp_path / "lake").mkdir(exist_ok=True)
    environ = {k: v for k, v in os.environ.items() if k != "FOOTY_READER_HOLD_HOURS"} | env
    return subprocess.run(
        [*CLI, "upkeep", "--lake", str(tmp_path / "lake"), *argv],
        capture_output=True,
        text=True,
        timeout=120,
        env=environ,
    )


def test_a_negative_retention_is_refused_in_one_line(tmp_path):
    done = _upkeep(tmp_path, "--retention-hours", "-5")
    assert done.returncode == 2, done.stderr
    assert done.stderr == ("error: --retention-hours -5: the vacuum retention cannot be negative (hours, 0 or more)\n")
    assert done.stdout == ""  # refused before the lake is touched


def test_a_retention_shorter_than_a_reader_holds_is_warned_and_still_runs(tmp_path):
    done = _upkeep(tmp_path, "--retention-hours", "0")
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        "warning: a vacuum retention of 0 h is shorter than the 1 h a reader may hold a snapshot "
        "(FOOTY_READER_HOLD_HOURS): a query or run reading now may lose files"
    ]
    assert "upkeep (vacuum retention 0 h)" in done.stdout and "done in" in done.stdout
    longer = _upkeep(tmp_path, "--retention-hours", "1")  # as long as the default hold: no warning
    assert longer.returncode == 0 and longer.stderr == "", longer.stderr
    held = _upkeep(tmp_path, "--retention-hours", "2", FOOTY_READER_HOLD_HOURS="3")
    assert held.returncode == 0 and "than the 3 h a reader may hold" in held.stderr, held.stderr


def test_upkeep_refuses_a_negative_retention_before_touching_a_table(lake, two_published):
    copy_lake(two_published, Path(lake.uri))
    before = lake.open_table("tracking").version()
    with pytest.raises(ValueError, match="cannot be negative"):
        upkeep_lake(lake, -1, progress=quiet)
    assert lake.open_table("tracking").version() == before
