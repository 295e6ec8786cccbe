"""A SQLite event log that keeps its connections open for the process's runs.

Dagster's SQLite event log opens a database engine and a connection for every statement it runs, and closes
both after it: a run of the chain stores about 70 events in about 600 connections, a third of what the run of a
short match costs in Dagster's own work (bench/full_match.py). ``keep_connections_open`` gives the event log of
an instance this process opened one engine per database file (the index and the runs' files, the few most
recent), each with a pool of open connections: every statement still runs in a transaction of its own, under
the storage's lock, with the same busy timeout, so other processes (the webserver, the daemon, other runs) see
the same database at the same moments. Only this process's instance changes; the home's files and settings do
not, and a PostgreSQL instance is left as it is.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine

KEPT_DATABASES = 8  # engines kept open: the index and the last runs' files (a worker runs match after match)


class KeptOpenSqliteEventLog(SqliteEventLogStorage):
    """Dagster's SQLite event log, each database file's engine kept open with a pool of connections."""

    _engines: OrderedDict[str, Engine]
    _engines_lock: threading.Lock

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def _engine(self, shard: str) -> Engine:
        with self._engines_lock:
            engine = self._engines.get(shard)
            if engine is not None:
                self._engines.move_to_end(shard)
                return engine
            engine = self._engines[shard] = create_engine(
                self.conn_string_for_shard(shard), connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}
            )
            while len(self._engines) > KEPT_DATABASES:
                _, oldest = self._engines.popitem(last=False)
                oldest.dispose()
            return engine

    def dispose(self) -> None:
        with self._engines_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()
        super().dispose()


def keep_connections_open(instance) -> None:
    """Give ``instance``'s event log, where it is Dagster's SQLite one, engines kept open (see the module)."""
    storage = instance.event_log_storage
    if type(storage) is SqliteEventLogStorage:
        storage._engines, storage._engines_lock = OrderedDict(), threading.Lock()
        storage.__class__ = KeptOpenSqliteEventLog
