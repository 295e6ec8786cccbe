"""The instance for teams: Dagster's storage in a real PostgreSQL (Debian's, started here on 127.0.0.1; `.ci/run`
installs it), the daemon's queue running at most FOOTY_MAX_CONCURRENT_RUNS runs at once. Four matches land; the
sensor and the daemon materialise them, two at a time, and the runs are in PostgreSQL."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg
import pytest

from footy_assets.lake.store import PROJECT_ROOT, Lake
from footy_assets_tests.helpers import CLI, land_synthetic

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(*command: str) -> subprocess.CompletedProcess:
    """Run a PostgreSQL tool as the postgres user when we are root (initdb refuses root)."""
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def postgres():
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not binaries:
        pytest.skip("PostgreSQL is not installed (.ci/run installs Debian's postgresql)")
    bin_dir = Path(binaries[-1])
    folder = Path(tempfile.mkdtemp(prefix="footy_pg_"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data, port = folder / "data", _free_port()
    done = _as_postgres(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
    assert done.returncode == 0, done.stderr
    done = _as_postgres(
        str(bin_dir / "pg_ctl"),
        "-D",
        str(data),
        "-o",
        f"-p {port} -k {folder} -c listen_addresses=127.0.0.1",
        "-l",
        str(folder / "log"),
        "-w",
        "start",
    )
    assert done.returncode == 0, done.stderr + done.stdout
    try:
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/postgres"
    finally:
        _as_postgres(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def _stop(daemon: subprocess.Popen, log) -> None:
    """Stop the daemon and the processes it started (its process group), then close its log."""
    os.killpg(daemon.pid, signal.SIGTERM)
    try:
        daemon.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(daemon.pid, signal.SIGKILL)
    log.close()


@pytest.mark.server
def test_four_matches_through_the_sensor_and_the_daemon_two_at_a_time(postgres, tmp_path, truth):
    home, lake = tmp_path / "home", Lake.from_env(str(tmp_path / "lake"))
    env = dict(
        os.environ,
        DAGSTER_HOME=str(home),
        FOOTY_DATA_LAKE=lake.uri,
        FOOTY_POSTGRES_URL=postgres,
        FOOTY_MAX_CONCURRENT_RUNS="2",
        FOOTY_SENSOR_INTERVAL_S="5",
        FOOTY_AUTOMATION_INTERVAL_S="3600",
        PYTHONPATH=str(PROJECT_ROOT),
    )  # the processes started from tmp_path run this checkout's code
    # the home's first use with FOOTY_POSTGRES_URL set (what any footy-assets command does; not
    # `python -m footy_assets.orchestration.instance`, which also points the project's .env at the home)
    done = subprocess.run(
        [sys.executable, "-c", "from footy_assets.orchestration.instance import ensure_dagster_home as e; e()"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    config = (home / "dagster.yaml").read_text()
    assert "postgres_url:\n      env: FOOTY_POSTGRES_URL" in config and postgres not in config  # no secret in the file
    for number, fmt in enumerate(("footy_stats", "sportvu", "cdf", "footy_track")):
        land_synthetic(lake, fmt, f"m{number}", truth)
    log = open(tmp_path / "daemon.log", "w")  # noqa: SIM115  the server's log, open while it runs
    daemon = subprocess.Popen(
        [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", str(PROJECT_ROOT / "workspace.yaml")],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    os.environ["FOOTY_POSTGRES_URL"] = postgres  # for this process's view of the instance
    try:
        with dg.DagsterInstance.from_config(str(home)) as instance:
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            deadline = time.time() + 420
            while time.time() < deadline:
                runs = instance.get_runs()
                if len(runs) == 4 and all(r.is_finished for r in runs):
                    break
                if daemon.poll() is not None:
                    break
                time.sleep(3)
            log.flush()
            runs = instance.get_runs()
            assert len(runs) == 4 and all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs), (
                [(r.tags.get("dagster/partition"), r.status) for r in runs],
                (tmp_path / "daemon.log").read_text()[-3000:],
            )
            assert sorted(r.tags["dagster/partition"] for r in runs) == ["m0", "m1", "m2", "m3"]
            # never more than two in progress at once, and at some point two together
            spans = [(rec.start_time, rec.end_time) for rec in instance.get_run_records()]
            overlaps = [sum(1 for s, e in spans if s <= t < e) for t, _ in spans]
            assert max(overlaps) == 2, spans
    finally:
        os.environ.pop("FOOTY_POSTGRES_URL", None)
        _stop(daemon, log)
    from footy_assets.lake.sql import run_sql

    assert run_sql(lake, "SELECT count(*) AS n FROM matches")["n"][0] == 4


@pytest.mark.server
def test_the_daemon_starts_on_a_home_written_without_max_concurrent_runs(postgres, tmp_path):
    """FOOTY_MAX_CONCURRENT_RUNS unset when the home is written and when the daemon starts: the queue's limit is
    the number of cores, written into dagster.yaml, and every daemon (the run queue's included) beats."""
    home, lake = tmp_path / "home", Lake.from_env(str(tmp_path / "lake"))
    Path(lake.uri, "landing").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k != "FOOTY_MAX_CONCURRENT_RUNS"}
    # PYTHONPATH: the processes started below (from tmp_path) run this checkout's code, not the installed one
    env.update(
        DAGSTER_HOME=str(home), FOOTY_DATA_LAKE=lake.uri, FOOTY_POSTGRES_URL=postgres, PYTHONPATH=str(PROJECT_ROOT)
    )
    done = subprocess.run(
        [sys.executable, "-c", "from footy_assets.orchestration.instance import ensure_dagster_home as e; e()"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    import yaml

    config = yaml.safe_load((home / "dagster.yaml").read_text())
    assert config["run_queue"]["max_concurrent_runs"] == (os.cpu_count() or 2)
    log = open(tmp_path / "daemon.log", "w")  # noqa: SIM115  the server's log, open while it runs
    daemon = subprocess.Popen(
        [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", str(PROJECT_ROOT / "workspace.yaml")],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    os.environ["FOOTY_POSTGRES_URL"] = postgres  # for this process's view of the instance
    try:
        with dg.DagsterInstance.from_config(str(home)) as instance:
            beating: set[str] = set()
            deadline = time.time() + 180  # a bound on the wait, not an assertion on time
            while daemon.poll() is None and "QUEUED_RUN_COORDINATOR" not in beating and time.time() < deadline:
                beating = set(instance.get_daemon_heartbeats())
                time.sleep(1)
            log.flush()
            text = (tmp_path / "daemon.log").read_text()
            assert daemon.poll() is None, f"dagster-daemon exited {daemon.returncode}: {text[-3000:]}"
            assert "QUEUED_RUN_COORDINATOR" in beating, (sorted(beating), text[-3000:])
            assert "FOOTY_MAX_CONCURRENT_RUNS" not in text
    finally:
        os.environ.pop("FOOTY_POSTGRES_URL", None)
        _stop(daemon, log)


def test_a_bad_max_concurrent_runs_is_one_line(tmp_path):
    env = dict(
        os.environ,
        DAGSTER_HOME=str(tmp_path / "home"),
        FOOTY_POSTGRES_URL="postgresql+psycopg2://x@h/db",
        FOOTY_MAX_CONCURRENT_RUNS="four",
    )
    done = subprocess.run(
        [*CLI, "forget", "m1", "--lake", str(tmp_path)],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == "error: FOOTY_MAX_CONCURRENT_RUNS='four' is not a positive whole number of runs"
    assert not (tmp_path / "home" / "dagster.yaml").exists()
