"""What a step of a match's chain reads: the raw-feed record, one delivery's rows of a table, the delivery to
compute from. A missing input raises ``NotReady`` with one line saying what to materialise first (the orchestration
layer reports it as the step's failure)."""

from __future__ import annotations

import polars as pl

from footy_assets.lake.matches import raw_feed_record_uri
from footy_assets.lake.publish import NotPublished, input_fingerprint, input_fingerprints
from footy_assets.lake.store import Lake, unreadable


class NotReady(Exception):
    """An input of the step is not in the lake (yet): the message says what to materialise first."""


def feed_record(lake: Lake, match_id: str) -> dict:
    """What raw_feed recorded of the match's delivery (fps, pitch size, files, ...)."""
    record = lake.read_json(raw_feed_record_uri(lake, match_id))
    if record is None:
        raise NotReady(f"{match_id}: raw_feed has not recorded this match: materialise raw_feed/tracking first")
    return record


def read_table(
    lake: Lake, table: str, match_id: str, fingerprint: str, columns: list[str] | None = None, allow_empty: bool = False
) -> pl.DataFrame:
    """One delivery's rows of a table (only ``columns``), or NotReady saying what to materialise first.

    ``allow_empty``: an empty result is valid (a derived table of a clip can be empty).
    """
    scan = lake.scan_match(table, match_id, fingerprint)
    if scan is None:
        raise NotReady(f"{match_id}: table {table} does not exist yet: materialise {table} first")
    try:
        frame = (scan.select(columns) if columns else scan).collect()
    except Exception as exc:  # a data file missing or damaged: one line naming the table
        raise unreadable(table, exc) from exc
    if frame.height == 0 and not allow_empty:
        raise NotReady(f"{match_id}: {table} holds no rows for this match: materialise {table} first")
    return frame


def tracking_scan(lake: Lake, match_id: str, fingerprint: str) -> pl.LazyFrame:
    """A lazy scan of the tracking rows of one delivery of the match, or NotReady saying to materialise
    tracking first."""
    scan = lake.scan_match("tracking", match_id, fingerprint)
    try:
        empty = scan is None or scan.select(pl.len()).collect().item() == 0
    except Exception as exc:  # a data file missing or damaged: one line naming the table
        raise unreadable("tracking", exc) from exc
    if empty:
        what = "table tracking does not exist yet" if scan is None else "tracking holds no rows for this match"
        raise NotReady(f"{match_id}: {what}: materialise tracking first")
    return scan


def delivery_of(lake: Lake, match_id: str, tables: list[str], output: str = "tracking") -> str:
    """The fingerprint of the delivery a step writing ``output`` computes from: the current one (what raw_feed
    recorded last) of ``output``'s kind (``lake.publish.table_fingerprint``), each input table (and tracking)
    holding its own; NotReady saying what to materialise first."""
    try:
        return input_fingerprint(lake, match_id, list(dict.fromkeys(["tracking", *tables])), output)
    except NotPublished as exc:
        raise NotReady(str(exc)) from None


def deliveries_of(lake: Lake, match_id: str, tables: list[str], outputs: list[str] | tuple = ()) -> dict[str, str]:
    """{table: its current delivery} of the input ``tables`` of a step (each holding it, tracking too) and of the
    ``outputs`` it writes; NotReady saying what to materialise first."""
    try:
        return input_fingerprints(lake, match_id, list(dict.fromkeys(["tracking", *tables])), outputs)
    except NotPublished as exc:
        raise NotReady(str(exc)) from None


def picture_uri(lake: Lake, match_id: str, name: str) -> str:
    """Where a match's picture of a table is kept (a PNG beside the tables)."""
    return lake.join("_pictures", match_id, f"{name}.png")
