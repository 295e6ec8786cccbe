"""The last step of a match's chain, without Dagster: the ``matches`` row of the delivery every table of the
match holds (``matches_row``), and its publish (``publish``): the one commit that flips readers to the new delivery,
then the superseded deliveries no reader can still be reading dropped."""

from __future__ import annotations

import json
import time

import polars as pl

from footy_assets.chain.inputs import NotReady, tracking_scan
from footy_assets.chain.versions import CODE_VERSIONS
from footy_assets.core.contracts.matches import Matches
from footy_assets.lake.matches import (
    MATCHES_SCHEMA,
    TRACKING_COUNTS,
    match_row,
    raw_feed_record_uri,
    record_fingerprints,
)
from footy_assets.lake.publish import (
    NotPublished,
    check_publishable,
    prune_superseded,
    published_row,
    published_set,
    reader_hold_hours,
)
from footy_assets.lake.store import Lake


def matches_row(lake: Lake, match_id: str) -> tuple[dict, pl.DataFrame]:
    """(the raw-feed record, the validated ``matches`` row) of the delivery raw_feed recorded last; NotReady when
    raw_feed has not recorded the match or a table of the match does not hold its delivery of it (the tracking's,
    or the event data's for the ``EVENT_TABLES``)."""
    record = lake.read_json(raw_feed_record_uri(lake, match_id))
    if record is None:
        raise NotReady(f"{match_id}: raw_feed has not recorded this match yet: materialise raw_feed first")
    fingerprint, events_fingerprint = record_fingerprints(record)
    try:  # the publish marker: only when every table of the match holds this delivery
        check_publishable(lake, match_id, fingerprint, events_fingerprint=events_fingerprint)
    except NotPublished as exc:
        raise NotReady(str(exc)) from None
    counts = _tracking_counts(lake, match_id, fingerprint, record.get("tracking_counts"))
    return record, Matches.validate(match_row(record, counts, CODE_VERSIONS))


def _tracking_counts(lake: Lake, match_id: str, fingerprint: str, recorded: dict | None) -> dict | pl.LazyFrame:
    """The tracking columns of the matches row: those ingest counted and recorded with the delivery (``recorded``,
    from the record naming ``fingerprint``), else those of the published row when it names the same tracking
    delivery made by the same code (an event-only re-delivery of a match recorded before ingest counted), else
    tracking's rows to count."""
    if recorded is not None and set(TRACKING_COUNTS) <= set(recorded):
        return {name: recorded[name] for name in TRACKING_COUNTS}
    previous = published_row(lake, match_id, None)
    if (
        previous is not None
        and previous["fingerprint"] == fingerprint
        and json.loads(previous["code_versions"] or "{}").get("tracking") == CODE_VERSIONS["tracking"]
    ):
        return {name: previous[name] for name in TRACKING_COUNTS}
    return tracking_scan(lake, match_id, fingerprint).select("frame_id", "period", "role", "player_id", "interpolated")


def publish(lake: Lake, match_id: str, row: pl.DataFrame) -> tuple[int, dict[str, list[str]]]:
    """Write the match's ``matches`` row (the flip) and drop the deliveries no reader can still be reading:
    (the Delta version written, {table: deliveries dropped})."""
    published = row.row(0, named=True)
    previous = published_row(lake, match_id, None)
    hold_ms = reader_hold_hours() * 3600 * 1000
    version = lake.write_match("matches", match_id, row, MATCHES_SCHEMA)  # the flip
    # The deliveries just superseded stay for readers that read the marker a moment ago; those the previous
    # publish superseded go once that publish is older than a reader may hold a marker (else upkeep drops them).
    dropped = {}
    if previous is None:  # the first publish: no marker ever named another delivery (failed attempts): drop them
        dropped = prune_superseded(lake, match_id, keep=lambda table: published_set(table, published))
    elif time.time() * 1000 - (previous["materialized_at_ms"] or 0) >= hold_ms:
        dropped = prune_superseded(lake, match_id, keep=lambda table: published_set(table, published, previous))
    return version, dropped
