"""A SQLite event log that keeps its connections open for the process's runs.

Dagster's SQLite event log opens a database engine and a connection for every block of statements it runs, and
closes both after it: a run of the chain stores about 70 events in about 600 connections, much of what a short
match's run costs in Dagster's own work (docs/performance.md). ``keep_connections_open`` gives the event log of an
instance this process opened one engine per database file (the index, and the few files of its own runs used
last), each with a pool of open connections. Each block still runs in a transaction of its own, under the
storage's lock and with the same busy timeout, so other processes (the webserver, the daemon, other runs) read
every event once it is stored. What a connection closed after each block did by the way is done explicitly:

* the webserver follows a run's log live by watching its file for changes; a commit now goes to the write-ahead
  log only (closing the last connection used to copy it into the file), so a block that wrote to a run's file
  touches the file's modification time;
* a file removed or replaced meanwhile (``dagster run wipe``) is noticed by its inode: the engine holding the old
  one is closed and the file opened again, as Dagster would (a write then fails loudly instead of going to a
  removed file);
* only the files of runs this process writes are held open: a run it only reads (one the daemon launched, say) is
  closed after each block, as Dagster does, so that the writer's own close copies its commits into the file and
  wakes the webserver's live view of that run (a connection held here would keep that close from being the last).

It also remembers the tables the index was found to have: Dagster asks, opening an engine of its own each time,
before most statements on dynamic partitions and event tags.

Only this process's instance changes; the home's files and settings do not, and a PostgreSQL instance is left as it
is.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME, SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine

KEPT_RUN_DATABASES = 8  # runs' files kept open besides the index (a worker runs match after match)


class KeptOpenSqliteEventLog(SqliteEventLogStorage):
    """Dagster's SQLite event log, each database file's engine kept open with a pool of connections."""

    # {shard: (engine, inode of its file when last used; None before the file exists)}, runs' files least recent first
    _engines: OrderedDict[str, tuple[Engine, int | None]]
    _written: set[str]  # the runs' files this process has written to: the only runs' files held between blocks
    _tables: set[str]  # the index's tables found there: Dagster asks again before most statements on partitions

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            path = self.path_for_shard(shard)
            engine, inode = self._engine(shard, path)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn:
                sqlite = conn.connection.dbapi_connection
                changes = sqlite.total_changes
                with conn.begin():
                    yield conn
                wrote = sqlite.total_changes != changes
            if inode is None:  # the file is made by the engine's first connection
                inode = _inode(path)
                self._engines[shard] = (engine, inode)
            if shard == INDEX_SHARD_NAME:
                return
            if wrote:
                self._written.add(shard)
                if inode is not None:
                    os.utime(path)  # the webserver's watch on the run's file: new events are committed
            elif shard not in self._written:  # a run read only: not held (the module says why)
                self._engines.pop(shard)[0].dispose()

    def has_table(self, table_name: str) -> bool:
        """Whether the index holds ``table_name``. Dagster asks it (opening a database engine each time) before
        most statements on dynamic partitions and event tags, several times a step. Tables are only ever added to
        the index (a migration adds them, a wipe empties them), so a table found once is taken as there; one not
        found is asked for again. This process's wipe forgets them all."""
        if table_name not in self._tables and super().has_table(table_name):
            self._tables.add(table_name)
        return table_name in self._tables

    def _engine(self, shard: str, path: str) -> tuple[Engine, int | None]:
        """The shard's engine and its file's inode now (None: no file yet)."""
        inode = _inode(path)
        kept = self._engines.get(shard)
        if kept is not None:
            engine, known = kept
            if known is None or known == inode:
                self._engines[shard] = (engine, inode)
                self._engines.move_to_end(shard)
                return engine, inode
            engine.dispose()  # its file was removed or replaced: open the one there now
        engine = create_engine(self.conn_string_for_shard(shard), connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
        self._engines[shard] = (engine, inode)
        self._engines.move_to_end(shard)
        runs = [name for name in self._engines if name != INDEX_SHARD_NAME]
        for oldest in runs[: max(0, len(runs) - KEPT_RUN_DATABASES)]:
            self._engines.pop(oldest)[0].dispose()
        return engine, inode

    def _dispose_engines(self) -> None:
        with self._db_lock:
            for engine, _ in self._engines.values():
                engine.dispose()
            self._engines.clear()
            self._written.clear()
            self._tables.clear()

    def wipe(self) -> None:
        self._dispose_engines()
        super().wipe()

    def dispose(self) -> None:
        super().dispose()
        self._dispose_engines()


def _inode(path: str) -> int | None:
    try:
        return os.stat(path).st_ino
    except FileNotFoundError:
        return None


def keep_connections_open(instance) -> None:
    """Give ``instance``'s event log, where it is Dagster's SQLite one, engines kept open (see the module)."""
    storage = instance.event_log_storage
    if type(storage) is SqliteEventLogStorage:
        storage._engines, storage._written, storage._tables = OrderedDict(), set(), set()
        storage.__class__ = KeptOpenSqliteEventLog
