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
from footy_assets.lake.landing import LandedMatch
from footy_assets.lake.store import Lake, check_match_id, unreadable

RAW_FEED_DIR = "_raw_feed"

MATCHES_SCHEMA: dict[str, pl.DataType] = dtypes(Matches)  # declared once, by the contract


def raw_feed_record_uri(lake: Lake, match_id: str) -> str:
    return lake.join(RAW_FEED_DIR, f"{check_match_id(match_id)}.json")


def raw_feed_record(landed: LandedMatch, info: FeedInfo) -> dict:
    """What raw_feed records of a delivery: files, sizes, sha256, fingerprint and the reader's findings."""
    return {
        "match_id": landed.match_id,
        "format": landed.format,
        "files": [asdict(f) for f in landed.all_files],  # the events folder's as events/<name>
        "fingerprint": landed.fingerprint,
        "landed_bytes": landed.total_bytes,
        "feed": asdict(info),
        "recorded_at_ms": int(time.time() * 1000),
    }


def match_row(record: dict, tracking: pl.DataFrame | pl.LazyFrame, code_versions: dict[str, str]) -> pl.DataFrame:
    """The ``matches`` row of one match from its raw-feed record and its tracking rows (frame_id, period, role,
    player_id, interpolated): a lazy scan is aggregated in two queries run together, never held in memory."""
    feed = record["feed"]
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
    row = {
        "match_id": record["match_id"],
        "format": record["format"],
        "fps": feed["fps"],
        "pitch_length_m": feed["pitch_length_m"],
        "pitch_width_m": feed["pitch_width_m"],
        "periods": periods.to_dicts(),
        "frames": counts["frames"],
        "frames_outside_play": feed["frames_outside_play"],
        "flipped_periods": feed["flipped_periods"],
        "fingerprint": record["fingerprint"],
        "files": json.dumps(record["files"]),
        "landed_bytes": record["landed_bytes"],
        "vendor_rows": feed["vendor_rows"],
        "rows": counts["rows"],
        **{f"rows_{role}": int(counts[f"rows_{role}"]) for role in ("player", "goal_keeper", "ball", "referee")},
        "rows_unidentified": int(counts["rows_unidentified"]),
        "rows_interpolated": int(counts["rows_interpolated"] or 0),
        "vendor_rows_dropped": feed.get("vendor_rows_dropped", 0),
        "code_versions": json.dumps(code_versions, sort_keys=True),
        "materialized_at_ms": int(time.time() * 1000),
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
