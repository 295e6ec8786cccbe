"""Write-audit-publish across a match's tables: readers always see one whole delivery.

Delta commits one table at a time and a match spans ten tables, so:
* a delivery is audited (vendor schema, canonical contract, every blocking check) before its first commit;
* every per-match table keeps each delivery of a match in a partition of its own (``match_id``,
  ``fingerprint``): a new delivery is written *beside* the published one, never over it;
* a match has two deliveries, each with its fingerprint: its tracking (``fingerprint``: tracking and the tables
  computed from it alone) and its tracking with its event data (``events_fingerprint``: the ``EVENT_TABLES``,
  computed from the event data synchronised with the tracking); the event data re-delivered alone changes the
  second only, so only the event tables are written again;
* the ``matches`` row, written last, publishes both only when every per-match table holds its own: that one
  commit flips every reader from the old delivery to the new one;
* superseded deliveries are dropped later (``prune_superseded``), once no reader can still hold a marker that
  named them (``reader_hold_hours``): at the next publish of the match, those the previous publish superseded if
  it is that old; by ``upkeep`` the rest.

Readers (``footy-assets sql``, ``intervals``, ``export``, a direct Delta reader following docs/concepts/lake.md) read
the ``matches`` row first, then the rows of each table whose fingerprint is the one it publishes for that table
(``table_fingerprint``): before the flip they see the old delivery whole, after it the new one, and a chain that
fails half-way changes nothing they see.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

import polars as pl

from footy_assets.lake.matches import raw_feed_record_uri
from footy_assets.lake.store import Lake, SettingError, TableUnreadable, unreadable

PER_MATCH_TABLES = (
    "tracking",
    "frame_state",
    "ball_state",
    "intervals",
    "match_quality",
    "events",
    "lineups",
    "player_period_summary",
    "player_match_summary",
    "team_match_summary",
)

# The tables computed from the event data (and the summaries that read them): their rows carry the match's
# ``events_fingerprint``; every other per-match table carries its ``fingerprint`` (the tracking delivery).
EVENT_TABLES = ("events", "lineups", "player_match_summary", "team_match_summary")
# The column of the matches row (and of the raw-feed record) naming each kind of delivery
EVENTS_KEY = "events_fingerprint"


def key_column(table: str) -> str:
    """The column of the ``matches`` row that names the delivery of ``table`` its readers read:
    ``events_fingerprint`` for the ``EVENT_TABLES``, else ``fingerprint``."""
    return EVENTS_KEY if table in EVENT_TABLES else "fingerprint"


def table_fingerprint(row: dict, table: str) -> str | None:
    """The delivery of ``table`` a ``matches`` row (or a raw-feed record) publishes: its ``fingerprint``, or for the
    ``EVENT_TABLES`` its ``events_fingerprint`` (a row written before that column existed: its ``fingerprint``)."""
    if table in EVENT_TABLES and row.get(EVENTS_KEY):
        return row[EVENTS_KEY]
    return row.get("fingerprint")


def published_set(table: str, *rows: dict | None) -> set[str]:
    """The deliveries of ``table`` the ``matches`` rows ``rows`` (or raw-feed records; None: no row) publish:
    each row's ``table_fingerprint``. A reader may be reading them: pruning and upkeep keep them."""
    return {f for row in rows if row for f in [table_fingerprint(row, table)] if f}


READER_HOLD_ENV = "FOOTY_READER_HOLD_HOURS"


def reader_hold_hours() -> float:
    """The longest a reader may hold a ``matches`` row before reading the tables (hours; ``FOOTY_READER_HOLD_HOURS``,
    default 1): a delivery a publish superseded stays that long at least, and upkeep warns about a vacuum retention
    shorter than it."""
    text = os.environ.get(READER_HOLD_ENV, "")
    try:
        hours = float(text) if text else 1.0
    except ValueError:
        raise SettingError(f"{READER_HOLD_ENV}={text!r} is not a number of hours") from None
    if not 0 <= hours < float("inf"):
        raise SettingError(f"{READER_HOLD_ENV}={text!r} must be a number of hours, 0 or more")
    return hours


class NotPublished(RuntimeError):
    """The tables of a match do not all hold one delivery: nothing is published."""


def _per_table(lake: Lake, tables: Iterable[str], work) -> dict:
    """``work(table)`` for each table, at the same time: on an object store opening a table is a few requests of
    tens of milliseconds, and a publish asks eight tables."""
    tables = list(tables)
    if len(tables) < 2:
        return {t: work(t) for t in tables}
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(8, len(tables)), thread_name_prefix="publish") as pool:
        return dict(zip(tables, pool.map(work, tables)))


def current_record(lake: Lake, match_id: str) -> dict:
    """The raw-feed record of the delivery the match's chain is working on (written after tracking's commit, and
    again after the event tables' when the event data alone was re-delivered). ``NotPublished`` when raw_feed
    has recorded nothing."""
    record = lake.read_json(raw_feed_record_uri(lake, match_id))
    if record is None or not record.get("fingerprint"):
        raise NotPublished(
            f"{match_id}: raw_feed has not recorded this match yet: materialise raw_feed and tracking first"
        )
    return record


def missing_from(
    lake: Lake, match_id: str, fingerprint: str, tables: Iterable[str], events_fingerprint: str | None = None
) -> list[str]:
    """The tables among ``tables`` that hold no partition of their delivery of the match: ``events_fingerprint``
    for the ``EVENT_TABLES`` (default: ``fingerprint``), ``fingerprint`` for the others. Every write of a delivery
    makes one, an empty result included (a clip without sprints)."""
    row = {"fingerprint": fingerprint, EVENTS_KEY: events_fingerprint}
    held = _per_table(lake, tables, lambda t: table_fingerprint(row, t) in lake.deliveries(t, match_id))
    return [t for t, present in held.items() if not present]


def input_fingerprints(lake: Lake, match_id: str, tables: list[str], outputs: Iterable[str] = ()) -> dict[str, str]:
    """{table: its current delivery} (``table_fingerprint`` of the current record, ``current_record``) of each of
    ``tables``, the inputs of a step, and of ``outputs``, the tables it writes; ``NotPublished`` unless each input
    table holds its delivery."""
    record = current_record(lake, match_id)
    missing = missing_from(lake, match_id, record["fingerprint"], tables, record.get(EVENTS_KEY))
    if missing:
        raise NotPublished(
            f"{match_id}: {', '.join(missing)} hold(s) no rows of delivery "
            f"{table_fingerprint(record, missing[0])[:12]}: materialise {missing[0]} first"
        )
    return {t: table_fingerprint(record, t) for t in (*tables, *outputs)}


def input_fingerprint(lake: Lake, match_id: str, tables: list[str], output: str = "tracking") -> str:
    """The delivery a step writing ``output`` computes from (``input_fingerprints``): the current tracking delivery,
    or for the ``EVENT_TABLES`` the current event data's."""
    return input_fingerprints(lake, match_id, tables, [output])[output]


def check_publishable(
    lake: Lake,
    match_id: str,
    fingerprint: str,
    tables: tuple[str, ...] = PER_MATCH_TABLES,
    events_fingerprint: str | None = None,
) -> None:
    """Raise ``NotPublished`` unless every per-match table holds its delivery of the match: ``fingerprint``, or
    ``events_fingerprint`` for the ``EVENT_TABLES`` (default: ``fingerprint``)."""
    missing = missing_from(lake, match_id, fingerprint, tables, events_fingerprint)
    if missing:
        shown = fingerprint[:12] + (
            f" (event data {events_fingerprint[:12]})" if events_fingerprint not in (None, fingerprint) else ""
        )
        raise NotPublished(f"{match_id}: delivery {shown} not published: not yet written to {', '.join(missing)}")


def prune_superseded(
    lake: Lake,
    match_id: str,
    keep: Callable[[str], set[str]],
    older_than_ms: int | None = None,
    tables: tuple[str, ...] = PER_MATCH_TABLES,
) -> dict[str, list[str]]:
    """Drop the match's deliveries other than ``keep(table)`` from every per-match table (one commit per table
    that holds any); with ``older_than_ms``, only deliveries whose newest file is older than that (Unix ms), so a
    delivery being written now is never dropped. {table: fingerprints dropped}."""

    def prune(table: str) -> list[str]:
        held = lake.deliveries(table, match_id)
        kept = keep(table)
        drop = {
            f for f, modified in held.items() if f not in kept and (older_than_ms is None or modified < older_than_ms)
        }
        return lake.drop_deliveries(table, match_id, keep=set(held) - drop) if drop else []

    return {t: dropped for t, dropped in _per_table(lake, tables, prune).items() if dropped}


def published_row(lake: Lake, match_id: str, columns: list[str] | None) -> dict | None:
    """``columns`` (None: all) of the match's ``matches`` row (None when the match is not published)."""
    try:
        row = lake.read_match("matches", match_id, columns=columns)
    except TableUnreadable:
        raise
    except Exception as exc:  # a data file missing or damaged
        raise unreadable("matches", exc) from exc
    return row.slice(0, 1).to_pylist()[0] if row is not None and row.num_rows else None


def published_fingerprint(lake: Lake, match_id: str, table: str = "tracking") -> str | None:
    """The delivery of ``table`` (default: tracking; the same for every table but the ``EVENT_TABLES``) ``matches``
    publishes for the match (None when the match is not published)."""
    row = published_fingerprints(lake, match_id)
    return None if row is None else table_fingerprint(row, table)


def published_fingerprints(lake: Lake, match_id: str) -> dict | None:
    """{"fingerprint", "events_fingerprint"} the match's ``matches`` row publishes (None when the match is not
    published; a row written before ``events_fingerprint`` existed gives its ``fingerprint`` for both)."""
    row = published_row(lake, match_id, None)  # every column: one small row, whichever columns its table has
    if row is None:
        return None
    return {"fingerprint": row["fingerprint"], EVENTS_KEY: row.get(EVENTS_KEY) or row["fingerprint"]}


def published_rows(
    lake: Lake, table: str, match_id: str, fingerprint: str, columns: list[str] | None = None
) -> pl.DataFrame:
    """One match's rows of ``table`` from the published delivery ``fingerprint`` (never a mix of two); read the
    ``matches`` row first: ``published_fingerprint(lake, match_id, table)``, which is its ``fingerprint`` for every
    table but the ``EVENT_TABLES`` (events, lineups, player_match_summary, team_match_summary), whose rows carry its
    ``events_fingerprint``."""
    scan = lake.scan_match(table, match_id, fingerprint)
    if scan is None:
        return pl.DataFrame()
    try:
        return (scan.select(columns) if columns else scan).collect()
    except Exception as exc:  # a data file missing or damaged: one line naming the table
        raise unreadable(table, exc) from exc
