"""Edges a stranger found in the lake's publishing: a damaged publish marker, a missing file met by `sql` and
`intervals`, a lake without `matches`, files without boolean or long-string statistics, claims and locks through
links or left by nobody, and settings that are not numbers. Real CLI processes on real lakes."""

from __future__ import annotations

import glob
import json
import os
import subprocess
from pathlib import Path

import polars as pl
import pytest

from footy_assets.lake import claims
from footy_assets.lake.sql import run_sql
from footy_assets_tests.helpers import CLI, cli_env, copy_lake, land_synthetic, one_line_error, run_cli

pytestmark = pytest.mark.slow

REQUEST = json.dumps({"filters": [{"type": "frame_state", "players": ["0-4"], "column": "speed_mps", "gte": 0.0}]})


def _cli(lake, home: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return run_cli(*args, lake=lake, home=home, env=env)


def _one_line(done: subprocess.CompletedProcess, code: int, *words: str) -> None:
    one_line_error(done, *words, code=code)


@pytest.fixture
def published(lake, two_published, tmp_path):
    """m1 (cdf) and m2 (footy_stats) published, in a copy of the session's lake: the CLI's home."""
    copy_lake(two_published, Path(lake.uri))
    return tmp_path / "home"


def test_a_damaged_row_of_matches_is_named_everywhere_and_repaired(lake, published):
    home = published
    [victim] = glob.glob(f"{lake.uri}/matches/match_id=m1/*.parquet")
    data = Path(victim).read_bytes()
    Path(victim).write_bytes(data[:-200] + b"\0" * 200)
    _one_line(_cli(lake, home, "sql", "SELECT count(*) FROM matches"), 1, "matches")
    _one_line(_cli(lake, home, "intervals", "--match", "m1", "--request", REQUEST), 1, "table matches")
    doctor = _cli(lake, home, "doctor")
    assert doctor.returncode == 1 and "matches / m1" in doctor.stdout and "rebuilds m1" in doctor.stdout, doctor.stdout
    repaired = _cli(lake, home, "doctor", "--repair")
    assert repaired.returncode == 0 and "healthy" in repaired.stdout, repaired.stdout + repaired.stderr
    assert run_sql(lake, "SELECT count(*) FROM matches").item() == 2


def test_a_missing_file_met_by_sql_is_one_line_naming_the_table(lake, published):
    home = published
    fingerprint = run_sql(lake, "SELECT fingerprint FROM matches WHERE match_id = 'm1'").item()
    for path in glob.glob(f"{lake.uri}/frame_state/match_id=m1/fingerprint={fingerprint}/*.parquet"):
        os.unlink(path)
    _one_line(_cli(lake, home, "sql", "SELECT count(*) FROM frame_state"), 1, "table frame_state", "doctor")
    done = _cli(lake, home, "sql", "SELECT count(*) AS n FROM ball_state", "--format", "csv")
    assert done.returncode == 0 and int(done.stdout.splitlines()[-1]) > 0


def test_without_a_matches_table_nothing_is_published(lake, published):
    import shutil

    shutil.rmtree(Path(lake.uri) / "matches")
    assert run_sql(lake, "SELECT count(*) FROM frame_state").item() == 0
    assert run_sql(lake, "SELECT count(*) FROM _all_frame_state").item() > 0


def test_filters_on_booleans_and_on_a_table_of_an_older_lake_find_their_rows(lake, published):
    from deltalake import write_deltalake

    valid = run_sql(lake, "SELECT count(*) FROM frame_state WHERE valid").item()
    assert valid > 0 and run_sql(lake, "SELECT count(*) FROM frame_state WHERE valid = true").item() == valid
    # frame_state as an older footy_assets wrote it (partitioned by match only, a 64-character fingerprint with
    # no statistics): read as published until doctor --repair migrates it
    rows = pl.read_delta(lake.table_uri("frame_state"))
    import shutil

    shutil.rmtree(Path(lake.uri) / "frame_state")
    write_deltalake(lake.table_uri("frame_state"), rows.to_arrow(), partition_by=["match_id"])
    assert run_sql(lake, "SELECT count(*) FROM frame_state").item() == rows.height


def test_locks_and_claims_never_lead_outside_the_lake(lake, published, tmp_path, truth):
    import shutil

    home = published
    outside = tmp_path / "outside"
    outside.mkdir()
    land_synthetic(lake, "cdf", "m1", truth.with_columns(pl.col("x") * 0.9))  # work to do
    claims_dir = Path(lake.uri) / claims.CLAIMS_DIR
    shutil.rmtree(claims_dir, ignore_errors=True)
    claims_dir.symlink_to(outside)  # the claims folder swapped for a link out of the lake
    done = _cli(lake, home, "materialize")
    assert list(outside.iterdir()) == [], done.stdout  # nothing created outside
    assert done.returncode == 1 and "leads outside the lake" in done.stdout, done.stdout
    claims_dir.unlink()
    claims_dir.mkdir()
    (claims_dir / "m1.lock").symlink_to(outside / "created.lock")  # a lock file that is a link
    done = _cli(lake, home, "materialize")
    assert not (outside / "created.lock").exists(), done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_a_claim_nobody_can_hold_is_taken_over(lake, published, truth):
    home = published
    claims_dir = Path(lake.uri) / claims.CLAIMS_DIR
    claims_dir.mkdir(exist_ok=True)
    # pid 1 always lives, but without its start time the claim cannot be told from a reused pid
    (claims_dir / "m1.json").write_text(
        json.dumps(
            {"id": "upkeep-x", "kind": "upkeep", "host": os.uname().nodename, "pid": 1, "pid_start": "", "since_ms": 0}
        )
    )
    (claims_dir / "m2.json").mkdir()  # a folder where a claim goes
    land_synthetic(lake, "cdf", "m1", truth.with_columns(pl.col("x") * 0.9))
    land_synthetic(lake, "footy_stats", "m2", truth.with_columns(pl.col("x") * 0.9))
    done = _cli(lake, home, "materialize", env={"FOOTY_MATCH_WAIT_S": "2"})
    assert done.returncode == 0 and "ok      m1" in done.stdout and "ok      m2" in done.stdout, done.stdout


@pytest.mark.parametrize("value", ["abc", "nan", "-1"])
def test_a_reader_hold_that_is_not_hours_is_refused_in_one_line(lake, published, value):
    _one_line(_cli(lake, published, "upkeep", env={"FOOTY_READER_HOLD_HOURS": value}), 2, "FOOTY_READER_HOLD_HOURS")


def test_an_s3_setting_that_is_not_a_number_is_a_usage_error(tmp_path):
    done = subprocess.run(
        [*CLI, "sql", "SELECT 1", "--lake", "s3://bucket/lake"],
        capture_output=True,
        text=True,
        timeout=120,
        env=cli_env(tmp_path / "home", FOOTY_S3_CONNECT_TIMEOUT_S="abc"),
    )
    _one_line(done, 2, "FOOTY_S3_CONNECT_TIMEOUT_S")
