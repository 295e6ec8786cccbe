"""Matches in parallel: `footy-assets materialize --workers N` runs N matches at once, each in a worker process
with a run of its own in the same instance; the match job accepts the multiprocess executor when asked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from footy_assets.definitions import defs
from footy_assets.lake.sql import run_sql
from footy_assets.lake.store import Lake
from footy_assets_tests.helpers import land_synthetic


@pytest.mark.slow
def test_materialize_with_two_workers(tmp_path, truth):
    lake = Lake.from_env(str(tmp_path / "lake"))
    for number, fmt in enumerate(("footy_stats", "sportvu", "cdf", "footy_track")):
        land_synthetic(lake, fmt, f"w{number}", truth)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "FOOTY_"))}
    env["DAGSTER_HOME"] = str(tmp_path / "home")
    done = subprocess.run(
        [str(Path(sys.executable).parent / "footy-assets"), "materialize", "--lake", lake.uri, "--workers", "2"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("  ok      w") == 4 and "done in" in done.stdout
    assert run_sql(lake, "SELECT count(*) AS n FROM matches")["n"][0] == 4
    with dg.DagsterInstance.from_config(str(tmp_path / "home")) as instance:
        runs = instance.get_runs()
        assert len(runs) == 4 and all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
        assert len({r.tags["footy_assets/pid"] for r in runs}) == 2  # two worker processes shared the matches
    again = subprocess.run(
        [str(Path(sys.executable).parent / "footy-assets"), "materialize", "--lake", lake.uri, "--workers", "2"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0 and "0 materialised" in again.stdout


def test_match_job_runs_in_process_by_default_and_accepts_multiprocess():
    job = defs.resolve_job_def("match_job")
    assert job.executor_def.name == "multi_or_in_process_executor"
    assert dg.validate_run_config(job, {"execution": {"config": {"multiprocess": {"max_concurrent": 2}}}})
    # a run of a match (sensor, backfill, launchpad) gets the job's config: in process unless asked otherwise
    assert job.partitioned_config.get_run_config_for_partition_key("m1") == {
        "execution": {"config": {"in_process": {}}}
    }
