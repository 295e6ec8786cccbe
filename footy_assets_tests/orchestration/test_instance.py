"""The instance's storage on a new home: created whole, and completed when a process was killed creating it."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from footy_assets.orchestration.instance import STORAGE_READY_MARK

# opens the home's instance as the CLI does, then uses the tables the chain needs
OPEN = """
import dagster
from footy_assets.orchestration.instance import open_instance
print("opening", flush=True)
instance = open_instance()
instance.get_dynamic_partitions("match_id")
instance.get_runs(limit=1)
instance.all_instigator_state()
print("opened", flush=True)
"""


def _open(home: Path) -> subprocess.Popen:
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    return subprocess.Popen(
        [sys.executable, "-c", OPEN], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _open_whole(home: Path) -> None:
    out, err = _open(home).communicate(timeout=120)
    assert out.splitlines() == ["opening", "opened"], err[-2000:]


def _storage_shape(home: Path) -> dict[str, tuple]:
    """Per SQLite database of the home: its tables, its schema version, and the data migrations marked done."""
    shape = {}
    for path in sorted(home.rglob("*.db")):
        with sqlite3.connect(path) as db:
            tables = sorted(r[0] for r in db.execute("select name from sqlite_master where type = 'table'"))
            version = sorted(r[0] for r in db.execute("select version_num from alembic_version"))
            done = sorted(r[0] for r in db.execute("select name from secondary_indexes where migration_completed"))
        shape[str(path.relative_to(home))] = (tables, version, done)
    return shape


def _assert_whole(home: Path, whole_shape: dict[str, tuple], context: str = "") -> None:
    """Every table, the schema version and the data migrations of a storage created whole. Dagster's migration of
    a run database stamped late may add tables an old schema version had there (empty, never read): allowed."""
    shape = _storage_shape(home)
    assert set(shape) == set(whole_shape), context
    for name, (tables, version, done) in whole_shape.items():
        assert set(tables) <= set(shape[name][0]), (name, context)
        assert (shape[name][1], shape[name][2]) == (version, done), (name, context)


@pytest.fixture(scope="module")
def whole_shape(tmp_path_factory) -> dict[str, tuple]:
    home = tmp_path_factory.mktemp("whole") / "home"
    _open_whole(home)
    assert (home / STORAGE_READY_MARK).exists()
    shape = _storage_shape(home)
    assert set(shape) == {"history/runs.db", "history/runs/index.db", "schedules/schedules.db"}
    assert "dynamic_partitions" in shape["history/runs/index.db"][0]
    return shape


def test_a_storage_left_half_made_is_completed(tmp_path, whole_shape):
    home = tmp_path / "home"
    _open_whole(home)
    # the state a kill leaves: tables created one by one, the schema version not yet stamped, no data migration
    with sqlite3.connect(home / "history/runs/index.db") as db:
        db.executescript("drop table dynamic_partitions; drop table concurrency_slots; drop table alembic_version;")
    with sqlite3.connect(home / "history/runs.db") as db:
        db.executescript("drop table alembic_version; delete from secondary_indexes;")
    (home / STORAGE_READY_MARK).unlink()

    _open_whole(home)
    _assert_whole(home, whole_shape)
    assert (home / STORAGE_READY_MARK).exists()


def test_a_whole_storage_is_not_migrated_again(tmp_path):
    home = tmp_path / "home"
    _open_whole(home)
    # a table dropped behind the mark's back stays dropped: the mark is what spares every later opening the check
    with sqlite3.connect(home / "history/runs/index.db") as db:
        db.execute("drop table concurrency_slots")
    _open_whole(home)
    with sqlite3.connect(home / "history/runs/index.db") as db:
        tables = {r[0] for r in db.execute("select name from sqlite_master where type = 'table'")}
    assert "concurrency_slots" not in tables


RECORD_A_RUN = """
import dagster as dg
from footy_assets.orchestration.instance import open_instance

@dg.asset
def one():
    return 1

with open_instance() as instance:
    assert dg.materialize([one], instance=instance).success
"""


def test_a_home_with_runs_and_no_mark_is_not_migrated(tmp_path):
    """A home that has recorded runs was created whole (by an older footy_assets, or Dagster's own tools): its
    first opening writes the mark without Dagster's migration, which visits one file per recorded run."""
    home = tmp_path / "home"
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    subprocess.run([sys.executable, "-c", RECORD_A_RUN], env=env, check=True, capture_output=True, timeout=120)
    (home / STORAGE_READY_MARK).unlink()
    # a run's event file the migration would open (and fail on): the opening must not visit the runs' files
    (home / "history/runs/not-a-database.db").write_bytes(b"not SQLite")
    _open_whole(home)
    assert (home / STORAGE_READY_MARK).exists()


def _kill_after(proc: subprocess.Popen, path: Path, delay_s: float) -> bool:
    """SIGKILL ``proc`` ``delay_s`` seconds after ``path`` appears (polled every millisecond); False if it ended."""
    deadline = time.monotonic() + 60
    while not path.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    time.sleep(delay_s)
    if proc.poll() is not None:
        return False
    proc.send_signal(signal.SIGKILL)
    return True


@pytest.mark.slow
@pytest.mark.parametrize("database", ["history/runs.db", "history/runs/index.db", "schedules/schedules.db"])
def test_killed_while_creating_a_database_then_opened_whole(tmp_path, whole_shape, database):
    """Killed just after each database file appears (its tables being created one by one), then at later moments."""
    killed = 0
    for attempt, delay_s in enumerate((0.0, 0.005, 0.015, 0.03, 0.06)):
        home = tmp_path / f"home{attempt}"
        proc = _open(home)
        assert proc.stdout.readline().strip() == "opening"
        killed += _kill_after(proc, home / database, delay_s)
        proc.communicate(timeout=60)
        _open_whole(home)
        _assert_whole(home, whole_shape, f"killed {delay_s} s after {database} appeared")
    assert killed >= 3


def test_the_event_log_keeps_its_connections_open_and_other_processes_see_every_event(tmp_path, monkeypatch):
    """The CLI's instance keeps one engine per SQLite file (the index and the last runs' files), with its
    connections open; each event is still committed when stored: another process reads the run's events and the
    asset's materialisation while this one still holds its connections."""
    import dagster as dg

    from footy_assets.orchestration.instance import open_instance
    from footy_assets.orchestration.sqlite_events import KEPT_RUN_DATABASES, KeptOpenSqliteEventLog

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))

    @dg.asset
    def kept_open_probe() -> int:
        return 1

    instance = open_instance()
    try:
        assert type(instance.event_log_storage) is KeptOpenSqliteEventLog
        run_ids = []
        for _ in range(KEPT_RUN_DATABASES + 2):  # more run files than engines kept: the oldest are closed
            result = dg.materialize([kept_open_probe], instance=instance)
            assert result.success
            run_ids.append(result.run_id)
        kept = instance.event_log_storage._engines
        assert len(kept) == KEPT_RUN_DATABASES + 1 and "index" in kept  # the index is always kept
        assert run_ids[-1] in kept and run_ids[0] not in kept
        seen = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys, dagster as dg\n"
                "with dg.DagsterInstance.from_config(sys.argv[1]) as instance:\n"
                "    print(len(instance.all_logs(sys.argv[2])))\n"
                "    print(instance.get_latest_materialization_event(dg.AssetKey('kept_open_probe')).run_id)\n",
                str(tmp_path / "home"),
                run_ids[-1],
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert seen.returncode == 0, seen.stderr[-2000:]
        count, latest = seen.stdout.split()
        assert int(count) == len(instance.all_logs(run_ids[-1])) > 5 and latest == run_ids[-1]
        # a run read back from a file whose engine was closed: opened again
        assert instance.all_logs(run_ids[0])
    finally:
        instance.dispose()
    assert not instance.event_log_storage._engines


def test_an_event_log_not_in_sqlite_files_is_left_as_it_is():
    import dagster as dg

    from footy_assets.orchestration.sqlite_events import keep_connections_open

    with dg.DagsterInstance.ephemeral() as instance:
        kind = type(instance.event_log_storage)
        keep_connections_open(instance)
        assert type(instance.event_log_storage) is kind


KILLED_AFTER_A_RUN = """
import os, signal
import dagster as dg
from footy_assets.orchestration.instance import open_instance

@dg.asset
def kept_open_probe() -> int:
    return 1

instance = open_instance()
result = dg.materialize([kept_open_probe], instance=instance)
print(result.run_id, len(instance.all_logs(result.run_id)), flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # its connections still open, never closed
"""


def test_a_process_killed_with_its_connections_open_loses_no_event(tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "home")}
    done = subprocess.run(
        [sys.executable, "-c", KILLED_AFTER_A_RUN], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    run_id, stored = done.stdout.split()
    import dagster as dg

    with dg.DagsterInstance.from_config(str(tmp_path / "home")) as instance:
        assert len(instance.all_logs(run_id)) == int(stored) > 5
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.SUCCESS
        assert instance.get_latest_materialization_event(dg.AssetKey("kept_open_probe")).run_id == run_id


PROBE_RUN = """
import sys, dagster as dg

@dg.asset
def kept_open_probe() -> int:
    return 1

instance = dg.DagsterInstance.from_config(sys.argv[1])
{body}
"""


@pytest.fixture
def kept_open(tmp_path, monkeypatch):
    """An instance opened as the command line opens it, with one run of a probe asset; the asset."""
    import dagster as dg

    from footy_assets.orchestration.instance import open_instance

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))

    @dg.asset
    def kept_open_probe() -> int:
        return 1

    instance = open_instance()
    assert dg.materialize([kept_open_probe], instance=instance).success
    yield instance, kept_open_probe
    instance.dispose()


def _other_process(home: Path, body: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", PROBE_RUN.format(body=body), str(home)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_the_event_log_sees_what_other_processes_store(tmp_path, kept_open):
    import dagster as dg

    instance, _ = kept_open
    run_id = _other_process(tmp_path / "home", "print(dg.materialize([kept_open_probe], instance=instance).run_id)")
    assert instance.get_latest_materialization_event(dg.AssetKey("kept_open_probe")).run_id == run_id
    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.SUCCESS


def test_a_live_watch_of_a_run_sees_each_new_event(tmp_path, kept_open):
    """The webserver follows a run's log by watching its file: an event this process stores there wakes it,
    though the commit went to the write-ahead log only."""
    import threading

    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    instance, _ = kept_open
    run = instance.get_runs(limit=1)[0]
    cursor = instance.event_log_storage.get_records_for_run(run.run_id).cursor
    watcher = SqliteEventLogStorage(str(tmp_path / "home" / "history" / "runs"))
    seen, woken = [], threading.Event()

    def callback(entry, _cursor):
        seen.append(entry.dagster_event.message if entry.dagster_event else entry.user_message)
        woken.set()

    watcher.watch(run.run_id, cursor, callback)
    try:
        time.sleep(0.5)  # the watch is in place
        instance.report_engine_event("kept open, watched", run)
        assert woken.wait(timeout=20), "the watch was not woken by the stored event"
        assert seen == ["kept open, watched"]
    finally:
        watcher.end_watch(run.run_id, callback)
        watcher.dispose()


def test_a_live_watch_of_a_run_another_process_writes_is_woken_though_this_process_read_it(tmp_path, kept_open):
    """A run this process only reads (one the daemon launched) is not held open between blocks: the writer's close
    of its connection, the last one, copies its commits into the run's file, which wakes the webserver's watch."""
    import threading

    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    instance, _ = kept_open
    home = tmp_path / "home"
    run_id = _other_process(home, "print(dg.materialize([kept_open_probe], instance=instance).run_id)")
    assert instance.all_logs(run_id)  # read here, by the kept-open event log
    cursor = instance.event_log_storage.get_records_for_run(run_id).cursor
    watcher = SqliteEventLogStorage(str(home / "history" / "runs"))
    seen, all_seen = [], threading.Event()

    def callback(entry, _cursor):
        seen.append(entry.dagster_event.message if entry.dagster_event else entry.user_message)
        if len(seen) == 3:
            all_seen.set()

    watcher.watch(run_id, cursor, callback)
    try:
        time.sleep(0.5)  # the watch is in place
        _other_process(
            home,
            f"run = instance.get_run_by_id({run_id!r})\n"
            "for n in range(3):\n"
            "    instance.report_engine_event(f'written elsewhere {n}', run)",
        )
        assert all_seen.wait(timeout=20), f"the watch saw {seen} of three events"
        assert seen == [f"written elsewhere {n}" for n in range(3)]
        assert instance.all_logs(run_id)[-1].dagster_event.message == "written elsewhere 2"
    finally:
        watcher.end_watch(run_id, callback)
        watcher.dispose()


def test_a_run_wiped_by_another_process_is_not_written_to_a_removed_file(tmp_path, kept_open):
    """``dagster run wipe`` elsewhere removes the runs' files: a later event for a removed run fails as it does in
    Dagster's own event log, instead of going to the removed file unseen."""
    from sqlalchemy.exc import OperationalError

    instance, _ = kept_open
    run = instance.get_runs(limit=1)[0]
    _other_process(tmp_path / "home", "instance.wipe()")
    with pytest.raises(OperationalError, match="no such table"):
        instance.report_engine_event("after the wipe", run)
    assert not instance.get_runs()


def test_the_index_is_asked_for_a_table_once_it_is_found(kept_open, monkeypatch):
    """Dagster asks whether the index has a table (opening a database engine each time) before each statement on
    dynamic partitions: the kept-open event log asks the file once per table found, and again for a table not
    found, or after a wipe."""
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    instance, _ = kept_open
    asked = []
    dagster_has_table = SqliteEventLogStorage.has_table

    def counted(self, table_name):
        asked.append(table_name)
        return dagster_has_table(self, table_name)

    monkeypatch.setattr(SqliteEventLogStorage, "has_table", counted)
    instance.add_dynamic_partitions("probe_matches", ["m1"])
    for _ in range(5):
        assert instance.has_dynamic_partition("probe_matches", "m1")
        assert not instance.has_dynamic_partition("probe_matches", "m2")
    assert asked.count("dynamic_partitions") == 1
    storage = instance.event_log_storage
    assert not storage.has_table("no_such_table") and not storage.has_table("no_such_table")
    assert asked.count("no_such_table") == 2
    instance.wipe()
    assert storage.has_table("dynamic_partitions") and storage.has_table("dynamic_partitions")
    assert asked.count("dynamic_partitions") == 2
