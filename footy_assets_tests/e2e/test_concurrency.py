"""Concurrency and faults, with real processes: four CLIs on a new instance, SIGKILL mid-run then a rerun,
and exit statuses a script can rely on (no abort at interpreter exit)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from footy_assets.lake.landing import find_match
from footy_assets.lake.publish import PER_MATCH_TABLES, published_rows
from footy_assets.lake.store import Lake
from footy_assets_tests.helpers import CLI, copy_lake, land_sample, land_synthetic

pytestmark = pytest.mark.slow


def _env(home: Path) -> dict:
    return {**os.environ, "DAGSTER_HOME": str(home), "PYTHONFAULTHANDLER": "1"}


def _runs(home: Path) -> list[dg.DagsterRun]:
    if not (home / "dagster.yaml").exists() or not (home / "history").exists():
        return []
    from footy_assets.orchestration.instance import open_instance

    os.environ["DAGSTER_HOME"] = str(home)
    try:  # under the instance lock, like every footy-assets process: the CLI may be creating it right now
        with open_instance() as instance:
            return list(instance.get_runs())
    finally:
        del os.environ["DAGSTER_HOME"]


def test_four_processes_on_a_new_instance(lake, tmp_path):
    land_sample(lake, "cdf", "validator_v0_3_2")
    land_sample(lake, "cdf", "skillcorner_1925299")
    home = tmp_path / "home"  # does not exist yet: the four processes create it together
    procs = [
        subprocess.Popen(
            [*CLI, "materialize", "--lake", lake.uri],
            env=_env(home),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [r[1][-1500:] for r in results]
    out = "".join(r[0] for r in results)
    for match_id in ("validator_v0_3_2", "skillcorner_1925299"):
        assert out.count(f"ok      {match_id}") == 1, out  # materialised once; the others waited and skipped
    assert lake.table_version("tracking") == 2  # created once, one commit per match
    runs = _runs(home)
    assert sorted(r.status.value for r in runs) == ["SUCCESS", "SUCCESS"]


def _cli_in_own_group(lake: Lake, home: Path) -> subprocess.Popen:
    """``footy-assets materialize`` in a process group of its own (it and the helpers Dagster starts)."""
    return subprocess.Popen(
        [*CLI, "materialize", "--lake", lake.uri],
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the CLI and its helpers at once. Dagster mirrors a run's output through a ``tail -F`` and a
    watcher that ends it when the run's process dies; a kill between starting the two (it happened) would
    leave the tail holding the output pipe forever. A terminal's kill, or a container's end, takes the group."""
    os.killpg(proc.pid, signal.SIGKILL)


def _landed_fingerprint(lake: Lake, match_id: str) -> str:
    return find_match(lake, match_id).fingerprint


def test_sigkill_at_random_moments_then_a_rerun_converges(lake, tmp_path, truth):
    home = tmp_path / "home"
    land_synthetic(lake, "footy_stats", "m1", truth)
    rng = random.Random(20261123)
    kills, redelivered = 0, False
    for _ in range(10):  # until three kills landed mid-run (a run that finishes first is fine too)
        if kills == 2 and not redelivered:  # a re-delivery in between: the rerun must converge to the new one
            land_synthetic(lake, "footy_stats", "m1", truth.with_columns(pl.col("x") * 0.95))
            redelivered = True
        proc = _cli_in_own_group(lake, home)
        time.sleep(rng.uniform(0.3, 3.0))  # a run of this match takes about 3 s: start-up, mid-run, or done
        if proc.poll() is None:
            _kill_group(proc)
            kills += 1
        proc.communicate(timeout=120)
        if kills >= 3:
            break
    assert kills >= 3 and redelivered
    final = subprocess.run(
        [*CLI, "materialize", "--lake", lake.uri], env=_env(home), capture_output=True, text=True, timeout=300
    )
    assert final.returncode == 0, final.stdout[-2000:] + final.stderr[-2000:]
    assert all(r.status.value not in ("STARTED", "STARTING") for r in _runs(home))
    fingerprint = _landed_fingerprint(lake, "m1")
    matches = pl.from_arrow(lake.read_match("matches", "m1"))
    assert matches["fingerprint"].to_list() == [fingerprint]
    for table in PER_MATCH_TABLES:  # every table holds the published delivery (beside, maybe, the superseded one)
        assert fingerprint in lake.deliveries(table, "m1"), table
    # the content equals a clean run of the same delivery in a fresh lake
    clean = Lake.from_env(str(tmp_path / "clean"))
    shutil.copytree(Path(lake.uri) / "landing", Path(clean.uri) / "landing")
    done = subprocess.run(
        [*CLI, "materialize", "--lake", clean.uri],
        env=_env(tmp_path / "home2"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0
    for table in ("tracking", "frame_state", "intervals", "player_match_summary"):
        a = published_rows(lake, table, "m1", fingerprint)
        b = published_rows(clean, table, "m1", fingerprint)
        assert a.sort(a.columns, nulls_last=True).equals(b.sort(b.columns, nulls_last=True)), table


def test_a_run_of_a_dead_process_is_marked_failed_by_the_daemon_sensor(lake, tmp_path, truth):
    from footy_assets.orchestration.automation.sensor import dead_cli_runs_sensor

    home = tmp_path / "home"
    for attempt in range(4):  # a kill can come just after a short run ended: try again with a new delivery
        land_synthetic(lake, "cdf", "m1", truth.with_columns(pl.col("x") * (1 - attempt / 100)))
        proc = _cli_in_own_group(lake, home)
        deadline = time.time() + 60
        while time.time() < deadline and not any(r.status.value == "STARTED" for r in _runs(home)):
            time.sleep(0.05)
        _kill_group(proc)
        proc.communicate(timeout=60)
        if any(r.status.value == "STARTED" for r in _runs(home)):
            break
    statuses = [r.status.value for r in _runs(home)]
    assert statuses.count("STARTED") == 1  # the ghost a kill -9 leaves
    os.environ["DAGSTER_HOME"] = str(home)
    try:
        with dg.DagsterInstance.get() as instance:
            result = dead_cli_runs_sensor(dg.build_sensor_context(instance=instance))
            assert "1 dead" in result.skip_message
    finally:
        del os.environ["DAGSTER_HOME"]
    after = [r.status.value for r in _runs(home)]
    assert "STARTED" not in after and after.count("FAILURE") == statuses.count("FAILURE") + 1


@pytest.fixture(scope="module")
def materialised_lake(tmp_path_factory, skillcorner_lake):
    """The real sample published (a copy of the session's) and a broken delivery landed beside it."""
    lake = copy_lake(skillcorner_lake, tmp_path_factory.mktemp("exits") / "lake")
    broken = land_sample(lake, "cdf", "validator_v0_3_2", as_name="broken")
    (broken / "tracking.jsonl").write_text('{"frame_id": "not a number"}\n')
    return lake


def test_error_paths_exit_with_their_own_status_50_times(materialised_lake, tmp_path):
    """Each command's error path, 50 times: only 0, 1 or 2, never 134 (abort) or a signal."""
    lake = materialised_lake.uri
    commands = {
        "sql": ([*CLI, "sql", "--lake", lake, "SELECT * FROM no_such_table"], 2),
        "intervals": (
            [
                *CLI,
                "intervals",
                "--lake",
                lake,
                "--match",
                "skillcorner_1925299",
                "--request",
                '{"filters": [{"type": "frame_state", "players": ["9-99"], "column": "speed_mps", "gte": 1}]}',
            ],
            2,
        ),
        "materialize": ([*CLI, "materialize", "--lake", lake, "--match", "broken"], 1),
    }
    env = _env(tmp_path / "home")
    subprocess.run(
        [*CLI, "materialize", "--lake", lake, "--match", "skillcorner_1925299"],
        env=env,
        capture_output=True,
        timeout=300,
    )  # create the instance once

    def run(name):
        argv, _ = commands[name]
        return name, subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300).returncode

    with ThreadPoolExecutor(max_workers=3) as pool:
        statuses = list(pool.map(run, [name for name in commands for _ in range(50)]))
    seen = {name: sorted({code for n, code in statuses if n == name}) for name in commands}
    assert seen == {name: [expected] for name, (_, expected) in commands.items()}
