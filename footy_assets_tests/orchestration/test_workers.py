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


def _thread_pools() -> tuple[int, int, str | None]:
    """In a worker: polars' and DuckDB's thread pool sizes, and what Arrow is told."""
    import polars as pl

    from footy_assets.orchestration.registry import RESOURCES

    with RESOURCES["duckdb"].get_connection() as con:
        duck = con.execute("SELECT current_setting('threads')").fetchone()[0]
    return pl.thread_pool_size(), int(duck), os.environ.get("OMP_NUM_THREADS")


def test_worker_processes_share_the_cores_and_the_setting_is_undone(monkeypatch):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from footy_assets.orchestration.runner import THREAD_SETTINGS, threads_per_worker

    for name in THREAD_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    with (
        threads_per_worker(2),
        ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool,
    ):
        assert pool.submit(_thread_pools).result(timeout=120) == (2, 2, "2")
    assert not any(name in os.environ for name in THREAD_SETTINGS)
    monkeypatch.setenv("POLARS_MAX_THREADS", "1")  # the user's own setting is kept
    with threads_per_worker(2):
        assert os.environ["POLARS_MAX_THREADS"] == "1" and os.environ["FOOTY_DUCKDB_THREADS"] == "2"
    assert os.environ["POLARS_MAX_THREADS"] == "1"
