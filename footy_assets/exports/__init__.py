"""Exports (CONTRACTS 11): a published match of the lake back out in the standards the seeds name.

* ``cdf``: Common Data Format v0.3.2 — ``tracking.jsonl`` (one frame per line) + ``meta.json``; valid against
  the schemas of the ``common-data-format-validator`` package.
* ``tracking_download``: the vendor's tracking download exactly as seed ``vendor-api-tracking-download.txt``:
  ``tracking.parquet`` (int32 ms, role, player_id, float16 player_id_conf, int16 cm from the bottom-left corner,
  int16 pixels) or ``tracking.json`` (an array of row objects); a ``pitch.json`` beside it when the pitch is not
  105 x 68 m.
* ``mot``: MOT Challenge CSV of a footy_track match (``<frame>,<id>,<left>,<top>,<width>,<height>,<conf>,-1,-1,-1``,
  1-indexed frames, pixel boxes) for tracking evaluators.

Each reads only the delivery ``matches`` publishes. Landing an export under a new match_id and materialising it
gives the same canonical rows within the format's rounding (``footy_assets_tests/test_exports.py``).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from footy_assets.lake import Lake, check_match_id, unreadable
from footy_assets.publish import published_fingerprint, published_rows

EXPORT_FORMATS = ("cdf", "tracking_download", "mot")


class ExportError(ValueError):
    """A match that cannot be exported in the format asked for (not published, no positions, not footy_track)."""


def published_match(lake: Lake, match_id: str) -> tuple[pl.DataFrame, dict]:
    """The published tracking rows of a match (in frame order) and its ``matches`` row."""
    check_match_id(match_id)
    fingerprint = published_fingerprint(lake, match_id)
    if fingerprint is None:
        raise ExportError(f"{match_id}: not published in {lake.uri} (land it and run footy-assets materialize)")
    try:
        row = pl.from_arrow(lake.read_match("matches", match_id)).row(0, named=True)
    except Exception as exc:  # a data file of matches missing or damaged: one line naming the table
        raise unreadable("matches", exc) from exc
    tracking = published_rows(lake, "tracking", match_id, fingerprint)
    return tracking.sort("frame_id", maintain_order=True), row


def render(lake: Lake, match_id: str, fmt: str, json_download: bool = False) -> dict[str, bytes]:
    """{file name: content} of one export of a published match."""
    from footy_assets.exports import cdf, mot, tracking_download

    if fmt not in EXPORT_FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; expected one of {', '.join(EXPORT_FORMATS)}")
    tracking, match = published_match(lake, match_id)
    if fmt == "mot":
        return mot.render(tracking, match)
    if tracking["x_m"].null_count() == tracking.height:
        raise ExportError(f"{match_id}: no pitch positions (a footy_track feed without a homography): only the mot "
                          "export applies")
    if fmt == "cdf":
        return cdf.render(tracking, match)
    return tracking_download.render(tracking, match, "json" if json_download else "parquet")


def export_match(lake: Lake, match_id: str, fmt: str, output: str, json_download: bool = False) -> list[str]:
    """Write one export of a published match into the folder ``output`` (a path or s3://bucket/prefix); the
    written files' URIs. Each file is replaced whole (a reader sees the old or the new one)."""
    files = render(lake, match_id, fmt, json_download)
    target = Lake.from_env(output)
    if target.is_local:
        Path(target.uri).mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in files.items():
        uri = target.join(name)
        target.write_bytes_atomic(uri, data)
        written.append(uri)
    return written


__all__ = ["EXPORT_FORMATS", "ExportError", "export_match", "published_match", "render"]
