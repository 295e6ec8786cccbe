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


@pytest.mark.parametrize("user_setting", [None, "dirty_decay_ms:0"])
def test_workers_keep_freed_pages_unless_the_user_set_the_allocator(monkeypatch, user_setting):
    """Worker processes serve match after match: they keep polars' freed pages for the next one (the setting is
    read when polars loads, so only processes started with it have it); a setting of the user's is left as is."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    import footy_assets
    from footy_assets import ALLOCATOR_ENV, MATCH_AFTER_MATCH_ALLOCATOR
    from footy_assets.orchestration.runner import _worker_allocator

    # as the command line finds it: footy_assets imported before polars, the variable set by the user or not
    monkeypatch.setattr(footy_assets, "USER_ALLOCATOR", user_setting)
    if user_setting:
        monkeypatch.setenv(ALLOCATOR_ENV, user_setting)
    before = os.environ[ALLOCATOR_ENV]  # as polars left it when it loaded
    with (
        _worker_allocator(),
        ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool,
    ):
        in_worker = pool.submit(_allocator_in_polars_process).result(timeout=120)
    assert os.environ[ALLOCATOR_ENV] == before
    if user_setting:
        assert in_worker.endswith(",dirty_decay_ms:0")
    else:  # polars puts its defaults first: the last setting of a key wins
        assert in_worker.endswith("," + MATCH_AFTER_MATCH_ALLOCATOR)
        assert in_worker.count("dirty_decay_ms") == 2


def _allocator_in_polars_process() -> str:
    """The allocator setting of a worker process once footy_assets and polars are loaded."""
    import polars  # noqa: F401

    import footy_assets  # noqa: F401

    return os.environ["_RJEM_MALLOC_CONF"]


def test_a_worker_collects_again_once_its_instance_is_open(tmp_path):
    """A worker process starts with the collector paused (its imports make objects that live as long as it); its
    first match opens the instance, freezes them, and the collector runs again for the matches."""
    from footy_assets.orchestration.instance import INSTANCE_YAML
    from footy_assets.orchestration.runner import _worker_pool

    (tmp_path / "dagster.yaml").write_text(INSTANCE_YAML)
    with _worker_pool(1) as pool:
        before, after, frozen = pool.submit(_collector_around_the_instance, str(tmp_path)).result(timeout=120)
    assert (before, after) == (False, True)
    assert frozen > 0


def _collector_around_the_instance(home: str) -> tuple[bool, bool, int]:
    """In a worker: (collector on before the instance opens, after, objects frozen)."""
    import gc

    from footy_assets.orchestration.runner import _worker_instance

    before = gc.isenabled()
    _worker_instance(home)
    return before, gc.isenabled(), gc.get_freeze_count()
