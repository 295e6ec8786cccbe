"""The Dagster instance home the CLI and the Makefile use (``DAGSTER_HOME``, default ``.dagster_home/``).

Its ``dagster.yaml`` is written once, if missing: no usage statistics sent, run monitoring on (the daemon
marks a crashed run worker's run failed), and at most one run per match at a time (a tag concurrency limit
on the partition tag that Dagster puts on every partitioned run), so a sensor run, a scheduled backfill and
a UI launch never write the same match at once.

Concurrency and faults (several ``footy-assets`` processes at once, ``kill -9``):
* the first use of a new home creates the instance's storage under an exclusive file lock, so four
  processes started together on a new ``DAGSTER_HOME`` create (and migrate) it once;
* a process killed while it creates a SQLite storage leaves it half made (table after table, the schema
  version stamped last): until a first opening has completed (the mark file ``.footy_assets.storage-ready``),
  every opening of a SQLite home that has recorded no run yet runs Dagster's own ``dagster instance migrate``
  and ``reindex`` on it, which complete what is missing, then writes the mark (PostgreSQL creates its storage
  in one transaction; a home with runs was created whole);
* runs of the CLI carry the process id, its start time and the host as tags; a run whose process is gone
  is marked failed the next time the CLI starts (``sweep_dead_runs``) or the daemon ticks (the
  ``dead_cli_runs_sensor``), so nothing stays STARTED and the daemon's queue is never blocked by ghosts.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import sys
from pathlib import Path

from footy_assets.lake.locks import exclusive, process_alive, process_start_time
from footy_assets.lake.store import PROJECT_ROOT
from footy_assets.orchestration.tags import HOST_TAG, PID_TAG, START_TAG

INSTANCE_YAML = """\
# Written by footy_assets (footy_assets/orchestration/instance.py); edit freely, it is not overwritten.
telemetry:
  enabled: false
run_monitoring:
  enabled: true
  poll_interval_seconds: 60
run_queue:
  tag_concurrency_limits:
    - key: "dagster/partition"
      value:
        applyLimitPerUniqueValue: true
      limit: 1
"""

POSTGRES_ENV = "FOOTY_POSTGRES_URL"
MAX_RUNS_ENV = "FOOTY_MAX_CONCURRENT_RUNS"

# For teams (FOOTY_POSTGRES_URL set when the home is first used): runs, events and schedules in PostgreSQL, so
# the webserver, the daemon and every run worker share one instance from any machine. The URL is read from the
# environment at run time (the file holds no password); runs wait in the daemon's queue, at most
# FOOTY_MAX_CONCURRENT_RUNS at once and still one per match. That number is written into the file as a literal
# when the home is created (FOOTY_MAX_CONCURRENT_RUNS then, else the number of cores): Dagster's `env:` has no
# default, so a reference would kill `dagster-daemon` at start wherever the variable is not set.
POSTGRES_YAML = """\
storage:
  postgres:
    postgres_url:
      env: {url_env}
run_queue:
  max_concurrent_runs: {max_runs}
  tag_concurrency_limits:
    - key: "dagster/partition"
      value:
        applyLimitPerUniqueValue: true
      limit: 1
"""


class InstanceConfigError(ValueError):
    """A setting of a new home that cannot be written (one line for the user)."""


def max_concurrent_runs() -> int:
    """Runs in progress at once for a PostgreSQL home: ``FOOTY_MAX_CONCURRENT_RUNS``, else the number of cores."""
    given = os.environ.get(MAX_RUNS_ENV, "").strip()
    if not given:
        return os.cpu_count() or 2
    if not given.isdigit() or int(given) < 1:
        raise InstanceConfigError(f"{MAX_RUNS_ENV}={given!r} is not a positive whole number of runs")
    return int(given)


def instance_yaml() -> str:
    """The dagster.yaml of a new home: SQLite beside it, or PostgreSQL when FOOTY_POSTGRES_URL is set."""
    if not os.environ.get(POSTGRES_ENV):
        return INSTANCE_YAML
    shared = INSTANCE_YAML.split("run_queue:", maxsplit=1)[0]  # the queue is configured with the storage below
    return shared + POSTGRES_YAML.format(url_env=POSTGRES_ENV, max_runs=max_concurrent_runs())


def ensure_dagster_home() -> Path:
    """``$DAGSTER_HOME`` (default ``.dagster_home/`` in the project root), created with its dagster.yaml."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT / ".dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        with exclusive(home / ".footy_assets.lock"):
            if not config.exists():  # another process may have written it while we waited
                tmp = home / f".dagster.yaml.{os.getpid()}"
                tmp.write_text(instance_yaml())
                os.replace(tmp, config)
    return home


STORAGE_READY_MARK = ".footy_assets.storage-ready"


def open_instance():
    """The instance at ``$DAGSTER_HOME``; its storage is created (or completed) by one process at a time."""
    import dagster as dg

    from footy_assets.orchestration.sqlite_events import keep_connections_open

    home = ensure_dagster_home()
    with exclusive(home / ".footy_assets.lock"):
        instance = dg.DagsterInstance.get()
        ready = home / STORAGE_READY_MARK
        if not ready.exists():
            if _sqlite_without_runs(instance):
                _complete_storage(instance)
            # touch every storage: each database exists, with the tables the chain uses
            instance.get_runs(limit=1)
            instance.get_dynamic_partitions("match_id")
            instance.all_instigator_state()
            tmp = home / f"{STORAGE_READY_MARK}.{os.getpid()}"
            tmp.write_text("the instance's storage was opened whole by footy_assets\n")
            os.replace(tmp, ready)
    keep_connections_open(instance)
    return instance


def _sqlite_without_runs(instance) -> bool:
    """Whether the instance keeps its runs in SQLite files and has recorded none: a storage a killed creation may
    have left half made, and one whose check is quick (the migration visits one file per recorded run)."""
    from dagster._core.storage.runs import SqliteRunStorage

    return isinstance(instance.run_storage, SqliteRunStorage) and not instance.get_runs(limit=1)


def _complete_storage(instance) -> None:
    """Complete every storage of the instance that a killed process left half made.

    Dagster's migration (``dagster instance migrate``) creates the missing tables of an event index never
    stamped, and stamps and upgrades the run and schedule databases; its reindex (``dagster instance reindex``)
    does the data migrations a new storage gets. On a whole, current storage neither changes anything.
    """
    with contextlib.redirect_stdout(io.StringIO()):  # their progress lines would mix with the CLI's report
        instance.upgrade()
        instance.reindex()


def process_tags() -> dict[str, str]:
    """Tags naming this process, so a later process can tell whether a STARTED run's worker still lives."""
    return {
        PID_TAG: str(os.getpid()),
        START_TAG: str(process_start_time(os.getpid()) or ""),
        HOST_TAG: socket.gethostname(),
    }


def sweep_dead_runs(instance) -> list[str]:
    """Mark failed every run of this host's CLI that is still STARTING/STARTED but whose process is gone.

    Returns the run ids marked. Runs of other hosts are left alone (their processes cannot be seen here).
    """
    import dagster as dg

    host = socket.gethostname()
    marked = []
    records = instance.get_runs(
        filters=dg.RunsFilter(
            statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING], tags={HOST_TAG: host}
        )
    )
    for run in records:
        pid = run.tags.get(PID_TAG)
        if not pid or not pid.isdigit() or process_alive(int(pid), run.tags.get(START_TAG, "")):
            continue
        instance.report_run_failed(
            run,
            f"the process that ran it (pid {pid} on {host}) is gone (killed?): marked "
            "failed; the next materialize converges",
        )
        marked.append(run.run_id)
    return marked


def write_dotenv(root: Path = PROJECT_ROOT) -> Path:
    """Point every Dagster tool run from the project root at the project's instance: ``dagster`` and ``dg`` load
    a ``.env`` from the working directory before they resolve ``$DAGSTER_HOME`` (which must be absolute, so
    each clone writes its own; ``.env`` is not committed). Other lines of an existing ``.env`` are kept."""
    home = ensure_dagster_home()
    path = root / ".env"
    target = path.resolve()  # a .env linked elsewhere is written where it points, as an editor would
    lines = target.read_text().splitlines() if target.exists() else []
    kept = [line for line in lines if not line.strip().startswith("DAGSTER_HOME=")]
    tmp = target.with_name(f".env.{os.getpid()}")  # whole or not at all: a kill never leaves it cut short
    # the lines kept may be secrets: the new file is private while written, then gets the old one's permissions
    mode = target.stat().st_mode & 0o7777 if target.exists() else 0o644
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
        out.write("\n".join([*kept, f"DAGSTER_HOME={home}"]) + "\n")
    os.chmod(tmp, mode)
    os.replace(tmp, target)
    return path


if __name__ == "__main__":  # `python -m footy_assets.orchestration.instance`: used by `make install` and `make dev`
    home = ensure_dagster_home()
    if not os.environ.get(POSTGRES_ENV):  # SQLite beside it: created now, so the first run does not pay for it
        open_instance().dispose()
    print(f"instance: {home} (DAGSTER_HOME in {write_dotenv()})", file=sys.stderr)
