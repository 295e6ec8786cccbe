"""Damage nobody could repair with the tools: each kind detected by ``footy-assets doctor``, named in
one line by every command that meets it, repaired by ``doctor --repair`` (or named as unrepairable), with queries
on the other tables working throughout. Real CLI processes on a real lake."""

from __future__ import annotations

import glob
import os
import subprocess
from pathlib import Path

import polars as pl
import pytest

from footy_assets.lake.publish import PER_MATCH_TABLES
from footy_assets.lake.sql import run_sql
from footy_assets.orchestration.runner import materialize_lake
from footy_assets_tests.helpers import copy_lake, land_synthetic, one_line_error, run_cli

pytestmark = pytest.mark.slow


def _cli(lake, home: Path, *args: str) -> subprocess.CompletedProcess:
    return run_cli(*args, lake=lake, home=home)


@pytest.fixture
def two_matches(lake, instance, two_published, tmp_path):
    """m1 (cdf) and m2 (footy_stats) published, in a copy of the session's lake: (the CLI's home, rows per
    table)."""
    copy_lake(two_published, Path(lake.uri))
    instance.add_dynamic_partitions("match_id", ["m1", "m2"])  # as the materialisation that published them did
    counts = {t: run_sql(lake, f"SELECT count(*) FROM {t}").item() for t in ("matches", *PER_MATCH_TABLES)}
    return tmp_path / "home", counts


def _healthy(lake, home: Path) -> None:
    done = _cli(lake, home, "doctor")
    assert done.returncode == 0 and "healthy" in done.stdout, done.stdout + done.stderr


def test_a_healthy_lake_is_said_healthy(lake, two_matches):
    home, _ = two_matches
    done = _cli(lake, home, "doctor")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "healthy" in done.stdout and "tracking" in done.stdout and "problem" not in done.stdout


def test_a_truncated_checkpoint_is_named_and_repaired(lake, two_matches):
    home, counts = two_matches
    assert _cli(lake, home, "upkeep").returncode == 0  # writes checkpoints
    checkpoint = glob.glob(f"{lake.uri}/tracking/_delta_log/*.checkpoint.parquet")[0]
    data = Path(checkpoint).read_bytes()
    Path(checkpoint).write_bytes(data[: len(data) // 2])
    # queries on the other tables still run; one on tracking is one line naming it
    done = _cli(lake, home, "sql", "SELECT count(*) AS n FROM matches", "--format", "csv")
    assert done.returncode == 0 and done.stdout.splitlines()[-1] == "2", done.stdout + done.stderr
    done = _cli(lake, home, "sql", "SELECT count(*) AS n FROM frame_state", "--format", "csv")
    assert done.returncode == 0 and int(done.stdout.splitlines()[-1]) == counts["frame_state"]
    one_line_error(_cli(lake, home, "sql", "SELECT count(*) FROM tracking"), "tracking", "doctor")
    one_line_error(
        _cli(lake, home, "export", "--match", "m1", "--format", "cdf", "--output", str(Path(lake.uri).parent / "out")),
        "tracking",
    )
    doctor = _cli(lake, home, "doctor")
    assert doctor.returncode == 1
    assert "checkpoint at version" in doctor.stdout and "footy-assets doctor --repair" in doctor.stdout
    repaired = _cli(lake, home, "doctor", "--repair")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    _healthy(lake, home)
    assert run_sql(lake, "SELECT count(*) FROM tracking").item() == counts["tracking"]


def test_a_deleted_data_file_is_named_and_rebuilt_from_the_landed_delivery(lake, two_matches):
    home, counts = two_matches
    published = run_sql(lake, "SELECT fingerprint FROM matches WHERE match_id = 'm1'").item()
    [victim] = glob.glob(f"{lake.uri}/tracking/match_id=m1/fingerprint={published}/*.parquet")
    os.unlink(victim)
    one_line_error(
        _cli(lake, home, "export", "--match", "m1", "--format", "cdf", "--output", str(Path(lake.uri).parent / "out")),
        "tracking",
        "doctor",
    )
    # the other match and the other tables are untouched
    assert run_sql(lake, "SELECT count(*) FROM frame_state WHERE match_id = 'm1'").item() > 0
    doctor = _cli(lake, home, "doctor")
    assert doctor.returncode == 1 and "missing" in doctor.stdout and "rebuilds m1" in doctor.stdout, doctor.stdout
    repaired = _cli(lake, home, "doctor", "--repair")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "ok      m1" in repaired.stdout and "m2" not in repaired.stdout.split("after repair")[0].split("doctor")[-1]
    _healthy(lake, home)
    assert {t: run_sql(lake, f"SELECT count(*) FROM {t}").item() for t in counts} == counts
    out = Path(lake.uri).parent / "out"
    assert _cli(lake, home, "export", "--match", "m1", "--format", "cdf", "--output", str(out)).returncode == 0


def test_a_deleted_file_of_a_match_no_longer_landed_is_named_unrepairable(lake, two_matches):
    import shutil

    home, _ = two_matches
    published = run_sql(lake, "SELECT fingerprint FROM matches WHERE match_id = 'm2'").item()
    [victim] = glob.glob(f"{lake.uri}/frame_state/match_id=m2/fingerprint={published}/*.parquet")
    os.unlink(victim)
    shutil.rmtree(Path(lake.uri) / "landing" / "footy_stats" / "m2")
    repaired = _cli(lake, home, "doctor", "--repair")
    assert repaired.returncode == 1
    assert "land m2's delivery again" in repaired.stdout and "forget m2 --from-lake" in repaired.stdout


def test_a_truncated_newest_commit_is_named_in_one_line_and_repaired(lake, two_matches, instance, truth):
    home, _ = two_matches
    land_synthetic(lake, "cdf", "m1", truth.with_columns(pl.col("x") * 0.9))  # a re-delivery of m1 ...
    assert all(o.ok for o in materialize_lake(lake, instance, progress=lambda _: None))
    newest = sorted(glob.glob(f"{lake.uri}/matches/_delta_log/*.json"))[-1]  # ... whose publish is damaged
    text = Path(newest).read_text()
    Path(newest).write_text(text[: len(text) // 2])
    done = _cli(lake, home, "materialize")
    line = one_line_error(done, "matches", "doctor")
    assert "clone3" not in line and "sysdeps" not in line
    done = _cli(lake, home, "sql", "SELECT count(*) AS n FROM _all_frame_state", "--format", "csv")
    assert done.returncode == 0, done.stderr  # the raw rows of another table still answer
    doctor = _cli(lake, home, "doctor")
    assert doctor.returncode == 1 and "newest commit" in doctor.stdout, doctor.stdout
    repaired = _cli(lake, home, "doctor", "--repair")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    _healthy(lake, home)
    fingerprints = run_sql(lake, "SELECT match_id, fingerprint FROM matches ORDER BY match_id")
    assert fingerprints.height == 2
    landed_m1 = run_sql(lake, "SELECT DISTINCT fingerprint FROM tracking WHERE match_id = 'm1'").item()
    assert fingerprints["fingerprint"][0] == landed_m1


def test_a_damaged_unpublished_delivery_is_dropped(lake, two_matches, instance, truth):
    """A delivery beside the published one (a chain that failed half-way) whose file is damaged: nobody reads it,
    the repair drops it."""
    import dagster as dg

    from footy_assets.orchestration.registry import RESOURCES, all_assets
    from footy_assets.orchestration.resources import LakeResource

    home, counts = two_matches
    land_synthetic(lake, "cdf", "m1", truth.with_columns(pl.col("x") * 0.9))
    ingest = [a for a in all_assets if dg.AssetKey("tracking") in a.keys]
    assert dg.materialize(
        ingest, partition_key="m1", instance=instance, resources={**RESOURCES, "lake": LakeResource(lake_uri=lake.uri)}
    ).success
    published = run_sql(lake, "SELECT fingerprint FROM matches WHERE match_id = 'm1'").item()
    [other] = [f for f in lake.deliveries("tracking", "m1") if f != published]
    [victim] = glob.glob(f"{lake.uri}/tracking/match_id=m1/fingerprint={other}/*.parquet")
    Path(victim).write_bytes(b"not parquet")
    assert run_sql(lake, "SELECT count(*) FROM tracking").item() == counts["tracking"]  # readers unaffected
    doctor = _cli(lake, home, "doctor")
    assert doctor.returncode == 1 and other[:12] in doctor.stdout and "nobody reads" in doctor.stdout, doctor.stdout
    repaired = _cli(lake, home, "doctor", "--repair")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert set(lake.deliveries("tracking", "m1")) == {published}
    _healthy(lake, home)


def test_a_table_of_an_older_lake_is_migrated_by_the_repair(lake, two_matches, truth):
    """A lake written before deliveries had partitions of their own (frame_state partitioned by match only): every
    write to it says so in one line pointing at doctor, doctor --repair rewrites it, and the chain goes on."""
    import shutil

    from deltalake import write_deltalake

    home, counts = two_matches
    rows = pl.read_delta(lake.table_uri("frame_state"))
    shutil.rmtree(Path(lake.uri) / "frame_state")
    write_deltalake(lake.table_uri("frame_state"), rows.to_arrow(), partition_by=["match_id"])
    land_synthetic(lake, "cdf", "m1", truth.with_columns(pl.col("x") * 0.9))  # a re-delivery meets the old table
    done = _cli(lake, home, "materialize")
    failed = [line for line in done.stdout.splitlines() if "FAILED" in line]
    assert done.returncode == 1 and len(failed) == 1, done.stdout + done.stderr
    assert "table frame_state: partitioned by match_id" in failed[0] and "doctor --repair" in failed[0], failed[0]
    doctor = _cli(lake, home, "doctor")
    assert doctor.returncode == 1 and "partitioned by match_id" in doctor.stdout, doctor.stdout
    repaired = _cli(lake, home, "doctor", "--repair")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert lake.open_table("frame_state").metadata().partition_columns == ["match_id", "fingerprint"]
    assert {t: run_sql(lake, f"SELECT count(*) FROM {t}").item() for t in counts} == counts  # the old delivery
    done = _cli(lake, home, "materialize")
    assert done.returncode == 0 and "ok      m1" in done.stdout, done.stdout + done.stderr
    _healthy(lake, home)


def test_upkeep_names_a_missing_data_file_and_keeps_the_other_tables_up(lake, two_matches):
    home, _ = two_matches
    published = run_sql(lake, "SELECT fingerprint FROM matches WHERE match_id = 'm1'").item()
    [victim] = glob.glob(f"{lake.uri}/ball_state/match_id=m1/fingerprint={published}/*.parquet")
    os.unlink(victim)
    done = _cli(lake, home, "upkeep")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "ball_state" in done.stderr and "doctor" in done.stderr and "Traceback" not in done.stderr
    assert "missing" in next(line for line in done.stdout.splitlines() if "ball_state" in line)
    assert "checkpoint at version" in next(line for line in done.stdout.splitlines() if "frame_state" in line)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to mount")
def test_a_read_only_lake_gives_one_line_per_command(lake, two_matches, truth):
    home, _ = two_matches
    land_synthetic(lake, "cdf", "m1", truth.with_columns(pl.col("x") * 0.9))  # work to do
    root = lake.uri
    if subprocess.run(["mount", "--bind", root, root], capture_output=True).returncode != 0:
        pytest.skip("cannot mount here")
    try:
        assert subprocess.run(["mount", "-o", "remount,bind,ro", root], capture_output=True).returncode == 0
        for args in (["materialize"], ["upkeep"]):
            done = _cli(lake, home, *args)
            assert done.returncode == 1, (args, done.stdout, done.stderr)
            assert "Traceback" not in done.stdout + done.stderr, (args, done.stderr)
            said = [
                line for line in done.stdout.splitlines() + done.stderr.splitlines() if "Read-only file system" in line
            ]
            assert said, (args, done.stdout, done.stderr)
        assert run_sql(lake, "SELECT count(*) FROM matches").item() == 2  # reading still works
        assert _cli(lake, home, "doctor").returncode == 0  # and nothing is damaged
    finally:
        subprocess.run(["umount", root], check=True)
