"""The tracking download of a published match as a stream of chunks: what ``footy-assets export --format
tracking_download`` writes and ``footy-assets serve`` sends, made once here so the bytes are the same.

``tracking_download`` reads the ``matches`` row (the published delivery, the pitch, the code versions), plans
the batched read of that delivery's tracking rows (``batches.plan_batches``: files checked before any byte is
made), and returns a ``TrackingDownload`` whose ``chunks()`` make the file batch by batch
(``formats.footy_stats.export.chunks``). Its ``tag`` names the bytes: the delivery's fingerprint, the code version
that wrote its tracking rows, the download's own version and the versions of the libraries that encode it; the
same tag, the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

import polars as pl
import pyarrow as pa

from footy_assets.formats.common import ExportError
from footy_assets.formats.footy_stats import export as download
from footy_assets.lake.batches import BatchPlan, plan_batches
from footy_assets.lake.publish import published_row
from footy_assets.lake.store import Lake, check_match_id, unreadable

MATCH_COLUMNS = ["fingerprint", "pitch_length_m", "pitch_width_m", "code_versions"]
MEDIA_TYPES = {"parquet": "application/vnd.apache.parquet", "json": "application/json"}


@dataclass(frozen=True)
class TrackingDownload:
    """One published match's tracking download, ready to be made: ``chunks()`` gives its bytes in order."""

    match_id: str
    file_format: str  # parquet or json
    fingerprint: str  # the published delivery
    tag: str  # sha256 (hex) of what the bytes depend on
    match: dict  # the matches row's pitch_length_m, pitch_width_m
    plan: BatchPlan

    @property
    def file_name(self) -> str:
        return download.file_name(self.file_format)

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.file_format]

    def chunks(self) -> Iterator[bytes]:
        """The file, chunk by chunk (about one Parquet row group, or one batch of JSON rows, each)."""
        yield from download.chunks(self.plan.batches(), self.match, self.file_format)

    def files(self) -> dict[str, bytes]:
        """{file name: content} as the export writes them: the file, and ``pitch.json`` for a pitch other than
        105 x 68 m."""
        files = {self.file_name: b"".join(self.chunks())}
        pitch = download.pitch_file(self.match)
        if pitch is not None:
            files["pitch.json"] = pitch
        return files


def tracking_download(lake: Lake, match_id: str, file_format: str = "parquet") -> TrackingDownload:
    """The tracking download of the delivery ``matches`` publishes for ``match_id``. ``ExportError`` for a match that
    is not published or has no pitch positions; ``TableUnreadable`` for a table or file that cannot be read."""
    check_match_id(match_id)
    download.file_name(file_format)
    row = published_row(lake, match_id, MATCH_COLUMNS)
    if row is None:
        raise ExportError(f"{match_id}: not published in {lake.uri} (land it and run footy-assets materialize)")
    fingerprint = row["fingerprint"]
    plan = plan_batches(lake, "tracking", match_id, fingerprint, list(download.SOURCE_COLUMNS))
    if not _has_positions(plan):
        raise ExportError(
            f"{match_id}: no pitch positions (a footy_track feed without a homography): only the mot export applies"
        )
    versions = json.loads(row["code_versions"] or "{}")
    identity = {
        "fingerprint": fingerprint,
        "tracking": versions.get("tracking"),
        "download": download.DOWNLOAD_VERSION,
        "format": file_format,
        "pitch": [row["pitch_length_m"], row["pitch_width_m"]],
        "pyarrow": pa.__version__,  # the Parquet writer and its created_by
        "polars": pl.__version__,  # the JSON writer's number formatting
    }
    tag = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
    match = {"pitch_length_m": row["pitch_length_m"], "pitch_width_m": row["pitch_width_m"]}
    return TrackingDownload(match_id, file_format, fingerprint, tag, match, plan)


def _has_positions(plan: BatchPlan) -> bool:
    """Whether any tracking row of the delivery has a pitch position: from the files' statistics, else from the
    x_m column aggregated by polars' streaming engine (never a match's column in memory)."""
    nulls = plan.nulls.get("x_m")
    if nulls is not None:
        return nulls < plan.rows
    scan = plan.lake.scan_match("tracking", plan.match_id, plan.fingerprint)
    if scan is None:
        return False
    try:
        return bool(scan.select(pl.col("x_m").is_not_null().any()).collect(engine="streaming").item())
    except Exception as exc:  # a data file missing or damaged: one line naming the table
        raise unreadable("tracking", exc) from exc


__all__ = ["MEDIA_TYPES", "TrackingDownload", "tracking_download"]
