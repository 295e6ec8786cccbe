"""The SQLite instance commits a run's events without waiting for the disk each time (WAL, synchronous NORMAL), in
every process that opens it: the CLI, a worker, the code location of ``dagster dev``."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

SYNCHRONOUS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}

# a fresh process opens the instance as the CLI does, runs one event through it and reports, from inside Dagster's
# own storage, the journal mode of the run's event database and the synchronous level of its connections
PROBE = """
import sys
import dagster as dg
from footy_assets.orchestration.instance import open_instance
if sys.argv[1] == "cli":
    instance = open_instance()
else:
    if sys.argv[1] == "definitions":
        import footy_assets.definitions  # noqa: F401  (what dagster dev's code location loads)
    instance = dg.DagsterInstance.get()
storage = instance.event_log_storage
with storage.index_connection() as conn:
    print(conn.exec_driver_sql("PRAGMA journal_mode").scalar(), conn.exec_driver_sql("PRAGMA synchronous").scalar())
"""


def _probe(home, how: str) -> tuple[str, str]:
    env = {"DAGSTER_HOME": str(home), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", PROBE, how], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    mode, level = done.stdout.split()
    return mode, SYNCHRONOUS[int(level)]


def test_the_cli_and_the_definitions_commit_in_wal_without_a_disk_wait_each_time(tmp_path):
    assert _probe(tmp_path / "cli_home", "cli") == ("wal", "NORMAL")
    (tmp_path / "defs_home").mkdir()
    assert _probe(tmp_path / "defs_home", "definitions") == ("wal", "NORMAL")


def test_dagster_alone_waits_for_the_disk_at_every_commit(tmp_path):
    # what the setting changes: Dagster's own instance, without footy_assets, commits at SQLite's default
    (tmp_path / "plain_home").mkdir()
    assert _probe(tmp_path / "plain_home", "plain") == ("wal", "FULL")
    with sqlite3.connect(tmp_path / "x.db") as con:
        assert SYNCHRONOUS[con.execute("PRAGMA synchronous").fetchone()[0]] == "FULL"
