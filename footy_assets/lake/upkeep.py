"""Table upkeep: what keeps the lake's Delta tables quick to open and small on disk after a season of writes,
kills and re-deliveries.

Per table:
* **compaction** of each match partition that holds more than one data file (a re-delivery or a retried write
  leaves several): one file per match where it pays, nothing rewritten where it does not;
* a **checkpoint** of the log, so opening the table reads one Parquet file instead of every commit since the
  start (a table past 100 commits opened in 0.6 s instead of 0.1 s);
* **vacuum** of data files no version within the retention needs (default 7 days: a reader that opened an older
  version a few minutes ago is never cut off), of files no version names (left by a write killed before its
  commit) once a day old, and of old log entries.

Compacting a match takes its lock (local lakes), so it never races a materialisation of the same match.
``footy-assets upkeep`` runs it from the command line; the ``lake_upkeep_job`` on a weekly schedule in Dagster.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from deltalake import CommitProperties

from footy_assets.lake import claims
from footy_assets.lake.matches import read_matches
from footy_assets.lake.publish import (
    PER_MATCH_TABLES,
    prune_superseded,
    published_fingerprints,
    published_set,
    reader_hold_hours,
)
from footy_assets.lake.store import COMMIT_RETRIES, Lake, TableUnreadable, one_line

DEFAULT_RETENTION_HOURS = int(os.environ.get("FOOTY_VACUUM_RETENTION_HOURS", str(7 * 24)))
# The longest (hours) a reader may hold a table snapshot: a query, an export or a materialisation reading a
# version. A vacuum with a shorter retention may delete files such a reader still needs (warned, not refused).
ORPHAN_HOURS = 24  # a data file in no version is removed once this old (never a write still to commit)
TABLES = (*PER_MATCH_TABLES, "matches")


@dataclass
class TableUpkeep:
    table: str
    version_before: int
    version_after: int = 0
    files_before: int = 0
    files_after: int = 0
    matches_compacted: list[str] = field(default_factory=list)
    files_vacuumed: int = 0
    seconds: float = 0.0


def files_per_match(lake: Lake, table: str) -> Counter:
    """How many data files each match partition of ``table`` holds in its current version."""
    dt = lake.open_table(table)
    if dt is None:
        return Counter()
    import pyarrow as pa

    actions = pa.table(dt.get_add_actions(flatten=True))  # (an Arrow table through the C data interface)
    column = "partition.match_id" if "partition.match_id" in actions.column_names else "match_id"
    return Counter(actions[column].to_pylist()) if column in actions.column_names else Counter()


def files_per_partition(lake: Lake, table: str) -> Counter:
    """How many data files each partition of ``table`` holds in its current version: {(match_id, fingerprint or
    None): files} (one partition per delivery of a match; ``matches`` has one per match)."""
    dt = lake.open_table(table)
    if dt is None:
        return Counter()
    import pyarrow as pa

    actions = pa.table(dt.get_add_actions(flatten=True))
    if "partition.match_id" not in actions.column_names:
        return Counter()
    fingerprints = (
        actions["partition.fingerprint"].to_pylist()
        if "partition.fingerprint" in actions.column_names
        else [None] * actions.num_rows
    )
    return Counter(zip(actions["partition.match_id"].to_pylist(), fingerprints))


def check_retention(retention_hours: int) -> str | None:
    """A ``ValueError`` for a negative retention (hours); else a one-line warning when it is shorter than
    ``reader_hold_hours()`` (None when it is not)."""
    if retention_hours < 0:
        raise ValueError(
            f"--retention-hours {retention_hours}: the vacuum retention cannot be negative (hours, 0 or more)"
        )
    hold = reader_hold_hours()
    if retention_hours < hold:
        return (
            f"warning: a vacuum retention of {retention_hours} h is shorter than the {hold:g} h a "
            "reader may hold a snapshot (FOOTY_READER_HOLD_HOURS): a query or run reading now may lose files"
        )
    return None


def upkeep_table(
    lake: Lake,
    table: str,
    retention_hours: int = DEFAULT_RETENTION_HOURS,
    progress: Callable[[str], None] = print,
    is_live: Callable[[claims.Holder], bool] | None = None,
) -> TableUpkeep | None:
    """Compact, checkpoint and vacuum one table (None when it does not exist); ``retention_hours`` >= 0. A match is
    compacted while upkeep holds it (``claims``): never while a run writes it. ``is_live``: how to tell whether a
    claim's holder still runs (the shell passes the Dagster instance's view of runs)."""
    check_retention(retention_hours)  # a negative one is refused before anything is touched

    started = time.perf_counter()
    dt = lake.open_table(table)
    if dt is None:
        return None
    counts = files_per_partition(lake, table)
    report = TableUpkeep(table, dt.version(), files_before=sum(counts.values()))
    for (match_id, fingerprint), files in sorted(counts.items(), key=lambda item: (item[0][0], item[0][1] or "")):
        if files < 2:
            continue  # one file per delivery already: compaction would rewrite it for nothing
        with claims.claimed(
            lake,
            match_id,
            claims.this_process("upkeep"),
            is_live or claims.holder_is_live(None),
            on_wait=lambda other, match_id=match_id: progress(
                f"  wait    {match_id}: {other.describe()} is writing it"
            ),
        ):
            current = lake.open_table(table)
            where = [("match_id", "=", match_id)] + ([("fingerprint", "=", fingerprint)] if fingerprint else [])
            current.optimize.compact(
                partition_filters=where, commit_properties=CommitProperties(max_commit_retries=COMMIT_RETRIES)
            )
        report.matches_compacted.append(match_id)
    dt = lake.open_table(table)
    dt.create_checkpoint()
    # Files no version names: a write killed between its Parquet file and its commit leaves one. Only a full
    # vacuum sees them, and one younger than a day may be a write about to commit: they wait that long.
    vacuumed = dt.vacuum(
        retention_hours=max(retention_hours, ORPHAN_HOURS), dry_run=False, enforce_retention_duration=False, full=True
    )
    if retention_hours < ORPHAN_HOURS:  # files a commit removed, between the retention and a day old
        vacuumed += dt.vacuum(retention_hours=retention_hours, dry_run=False, enforce_retention_duration=False)
    report.files_vacuumed = len(vacuumed)
    dt.cleanup_metadata()
    report.version_after = dt.version()
    report.files_after = sum(files_per_partition(lake, table).values())
    report.seconds = time.perf_counter() - started
    return report


def superseded_deliveries(lake: Lake) -> dict[str, set[str]]:
    """{match_id: fingerprints other than the published ones (of each table: the tracking's, or for the event
    tables the event data's)} over every per-match table, from their logs (one open per table). A match nothing
    publishes keeps its deliveries (its chain may still be running)."""
    published = {row["match_id"]: row for row in read_matches(lake).iter_rows(named=True)}
    found: dict[str, set[str]] = {}
    for table in PER_MATCH_TABLES:
        dt = lake.open_table(table)
        if dt is None or "fingerprint" not in dt.metadata().partition_columns:
            continue
        for part in dt.partitions():
            match_id, fingerprint = part["match_id"], part["fingerprint"]
            if match_id in published and fingerprint not in published_set(table, published[match_id]):
                found.setdefault(match_id, set()).add(fingerprint)
    return found


def drop_superseded(
    lake: Lake, progress: Callable[[str], None] = print, is_live: Callable[[claims.Holder], bool] | None = None
) -> int:
    """Drop the deliveries nobody publishes any more, once no reader can still hold the marker that published
    them: superseded at least ``reader_hold_hours()`` ago, their files as old (a chain writing one now is left
    alone). The number of (table, delivery) partitions dropped."""
    hold_ms = reader_hold_hours() * 3600 * 1000
    now_ms = time.time() * 1000
    marked = {
        row["match_id"]: row["materialized_at_ms"]
        for row in read_matches(lake).select("match_id", "materialized_at_ms").iter_rows(named=True)
    }
    dropped = 0
    for match_id, _fingerprints in sorted(superseded_deliveries(lake).items()):
        if now_ms - (marked.get(match_id) or now_ms) < hold_ms:
            continue  # published less than the hold ago: a reader may still read the delivery it superseded
        with claims.claimed(
            lake,
            match_id,
            claims.this_process("upkeep"),
            is_live or claims.holder_is_live(None),
            on_wait=lambda other, match_id=match_id: progress(
                f"  wait    {match_id}: {other.describe()} is writing it"
            ),
        ):
            published = published_fingerprints(lake, match_id)  # the tracking's and the event data's
            done = prune_superseded(
                lake,
                match_id,
                keep=lambda table, published=published: published_set(table, published),
                older_than_ms=int(now_ms - hold_ms),
            )
        dropped += sum(len(v) for v in done.values())
    return dropped


def upkeep_lake(
    lake: Lake,
    retention_hours: int = DEFAULT_RETENTION_HOURS,
    progress: Callable[[str], None] = print,
    is_live: Callable[[claims.Holder], bool] | None = None,
) -> list[TableUpkeep]:
    """Upkeep of every table of the lake, one line per table (``retention_hours`` >= 0; one shorter than
    ``reader_hold_hours()`` is warned about through ``progress`` first): superseded deliveries dropped, then each
    table compacted, checkpointed and vacuumed. A table that cannot be read is named in one line (and in
    ``UpkeepFailed`` at the end); the others are still kept up."""
    warning = check_retention(retention_hours)
    if warning:
        progress(warning)
    failed = {}
    try:
        dropped = drop_superseded(lake, progress, is_live)
        if dropped:
            progress(f"  dropped {dropped} superseded delivery partition(s) (older than {reader_hold_hours():g} h)")
    except TableUnreadable as exc:
        failed["matches (superseded deliveries not dropped)"] = str(exc)
        progress(f"  superseded deliveries not dropped: {exc}")
    from footy_assets.lake.doctor import check_table

    reports = []
    for table in TABLES:
        try:
            # no vacuum of a damaged table (the small matches table's files are read too)
            damage = check_table(lake, table, read_footers=table == "matches")[0].findings
            if damage:
                failed[table] = damage[0].problem
                progress(
                    f"  {table:<22} FAILED: {damage[0].problem} ({len(damage)} problem(s): footy-assets "
                    "doctor --repair)"
                )
                continue
            report = upkeep_table(lake, table, retention_hours, progress, is_live)
        except Exception as exc:  # noqa: BLE001 - a damaged table: named in one line, the others still kept up
            failed[table] = one_line(exc)
            progress(f"  {table:<22} FAILED: {one_line(exc)}")
            continue
        if report is None:
            continue
        reports.append(report)
        progress(
            f"  {table:<22} {report.files_before:>5} -> {report.files_after:<5} data files, "
            f"{len(report.matches_compacted)} match(es) compacted, {report.files_vacuumed} file(s) vacuumed, "
            f"checkpoint at version {report.version_after} ({report.seconds:.1f} s)"
        )
    if failed:
        raise UpkeepFailed(f"upkeep failed on {', '.join(failed)} (footy-assets doctor says what is wrong)", reports)
    return reports


class UpkeepFailed(RuntimeError):
    """Some tables could not be kept up (named); ``reports`` holds those that were."""

    def __init__(self, message: str, reports: list[TableUpkeep]):
        super().__init__(message)
        self.reports = reports
