"""The ``matches`` table (one row per match) and the raw-feed record it is built from.

``matches`` is written last in a match's chain, so its row says what the lake holds for that match:
the fingerprint of the landed files and the code versions that produced it. ``footy-assets materialize``
(and the schedule later) compare these with the landing zone and the code to decide what needs work.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict

import polars as pl

from footy_assets.core.contracts.matches import Matches
from footy_assets.core.contracts.validation import dtypes
from footy_assets.formats.common import FeedInfo
from footy_assets.lake.landing import LandedMatch, is_event_file
from footy_assets.lake.store import Lake, check_match_id, unreadable

RAW_FEED_DIR = "_raw_feed"

MATCHES_SCHEMA: dict[str, pl.DataType] = dtypes(Matches)  # declared once, by the contract


def raw_feed_record_uri(lake: Lake, match_id: str) -> str:
    return lake.join(RAW_FEED_DIR, f"{check_match_id(match_id)}.json")


def raw_feed_record(landed: LandedMatch, info: FeedInfo, counts: dict | None = None) -> dict:
    """What raw_feed records of a delivery: files, sizes, sha256, the fingerprints of the tracking delivery and of
    the whole delivery (``events_fingerprint``), the reader's findings and ``counts``, the ``tracking_counts`` of
    the tracking rows written (the ``matches`` row takes them from here instead of reading the rows again)."""
    return {
        "match_id": landed.match_id,
        "format": landed.format,
        "files": [asdict(f) for f in landed.all_files],  # the events folder's as events/<name>
        "fingerprint": landed.fingerprint,
        "events_fingerprint": landed.events_fingerprint,
        "landed_bytes": landed.total_bytes,
        "feed": asdict(info),
        **({"tracking_counts": counts} if counts is not None else {}),
        "recorded_at_ms": int(time.time() * 1000),
    }


def record_fingerprints(record: dict) -> tuple[str, str]:
    """(the tracking delivery, the delivery of the tables computed from the event data) a raw-feed record names;
    a record written before event data had a fingerprint of its own names one delivery for both."""
    return record["fingerprint"], record.get("events_fingerprint") or record["fingerprint"]


def with_event_files(record: dict, landed: LandedMatch) -> dict:
    """``record`` (the tracking delivery raw_feed recorded) with the event data of ``landed`` as read (the same
    tracking delivery): its files, its ``events_fingerprint`` and the bytes landed. Recorded once the event
    tables are written, so the steps after them work on this event delivery."""
    landed_now = {f.name: asdict(f) for f in landed.all_files}
    # a tracking file touched but not changed (the same sha256) is recorded as it is now: not hashed again
    tracking = [
        landed_now[f["name"]] if landed_now.get(f["name"], {}).get("sha256") == f["sha256"] else f
        for f in record["files"]
        if not is_event_file(f["name"], landed.format)
    ]
    files = tracking + [asdict(f) for f in landed.all_files if is_event_file(f.name, landed.format)]
    return {
        **record,
        "files": files,
        "events_fingerprint": landed.events_fingerprint,
        "landed_bytes": sum(int(f["size_bytes"]) for f in files),
        "events_recorded_at_ms": int(time.time() * 1000),
    }


TRACKING_COUNTS = (
    "periods",
    "frames",
    "rows",
    "rows_player",
    "rows_goal_keeper",
    "rows_ball",
    "rows_referee",
    "rows_unidentified",
    "rows_interpolated",
)  # the columns of a matches row counted from its tracking rows (``tracking_counts``)


def tracking_counts(tracking: pl.DataFrame | pl.LazyFrame) -> dict:
    """The ``TRACKING_COUNTS`` of one delivery's tracking rows (frame_id, period, role, player_id, interpolated): a
    lazy scan is aggregated in two queries run together, never held in memory."""
    rows = tracking.lazy()
    people = pl.col("role").is_in(["player", "goal_keeper"])
    has_interpolated = "interpolated" in rows.collect_schema().names()
    periods, totals = pl.collect_all(
        [
            rows.group_by("period")
            .agg(
                first_frame=pl.col("frame_id").min(),
                last_frame=pl.col("frame_id").max(),
                frames=pl.col("frame_id").n_unique().cast(pl.Int64),
            )
            .sort("period"),
            rows.select(
                frames=pl.col("frame_id").n_unique(),
                rows=pl.len(),
                **{
                    f"rows_{role}": (pl.col("role") == role).sum()
                    for role in ("player", "goal_keeper", "ball", "referee")
                },
                rows_unidentified=(people & pl.col("player_id").is_null()).sum(),
                rows_interpolated=pl.col("interpolated").sum() if has_interpolated else pl.lit(0),
            ),
        ]
    )
    counts = totals.row(0, named=True)
    return {
        "periods": periods.to_dicts(),
        "frames": counts["frames"],
        "rows": counts["rows"],
        **{f"rows_{role}": int(counts[f"rows_{role}"]) for role in ("player", "goal_keeper", "ball", "referee")},
        "rows_unidentified": int(counts["rows_unidentified"]),
        "rows_interpolated": int(counts["rows_interpolated"] or 0),
    }


def match_row(
    record: dict, tracking: pl.DataFrame | pl.LazyFrame | dict, code_versions: dict[str, str]
) -> pl.DataFrame:
    """The ``matches`` row of one match from its raw-feed record and its tracking rows (frame_id, period, role,
    player_id, interpolated; a lazy scan is aggregated, never held in memory), or their ``tracking_counts``
    already known (a dict)."""
    feed = record["feed"]
    counts = tracking if isinstance(tracking, dict) else tracking_counts(tracking)
    row = {
        "match_id": record["match_id"],
        "format": record["format"],
        "fps": feed["fps"],
        "pitch_length_m": feed["pitch_length_m"],
        "pitch_width_m": feed["pitch_width_m"],
        "periods": counts["periods"],
        "frames": counts["frames"],
        "frames_outside_play": feed["frames_outside_play"],
        "flipped_periods": feed["flipped_periods"],
        "fingerprint": record["fingerprint"],
        "files": json.dumps(record["files"]),
        "landed_bytes": record["landed_bytes"],
        "vendor_rows": feed["vendor_rows"],
        "rows": counts["rows"],
        **{f"rows_{role}": counts[f"rows_{role}"] for role in ("player", "goal_keeper", "ball", "referee")},
        "rows_unidentified": counts["rows_unidentified"],
        "rows_interpolated": counts["rows_interpolated"],
        "vendor_rows_dropped": feed.get("vendor_rows_dropped", 0),
        "code_versions": json.dumps(code_versions, sort_keys=True),
        "materialized_at_ms": int(time.time() * 1000),
        "events_fingerprint": record_fingerprints(record)[1],
    }
    return pl.DataFrame([row], schema=MATCHES_SCHEMA)


def read_matches(lake: Lake) -> pl.DataFrame:
    """The whole ``matches`` table (small: one row per match); empty with its schema when absent."""
    dataset = lake.dataset("matches")
    if dataset is None:
        return pl.DataFrame(schema=MATCHES_SCHEMA)
    try:
        return pl.from_arrow(dataset.to_table())
    except Exception as exc:  # a data file missing or damaged: one line naming the table
        raise unreadable("matches", exc) from exc
