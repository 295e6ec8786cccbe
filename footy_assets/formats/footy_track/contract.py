"""Rows of a footy_track ``tracks.parquet``: one row per detection of the video tracker."""

import pandera.polars as pa
import polars as pl

from footy_assets.core.contracts.validation import Contract


class FootyTrackRows(Contract):
    """The tracker's columns, their types and per-row invariants (normalised top-left xywh boxes within [0, 1])."""

    row: pl.Int64 = pa.Field(ge=0)  # position in the file, for error messages
    frame_index: pl.Int32 = pa.Field(ge=0)
    continuous_time_s: pl.Float64 = pa.Field(ge=0.0, le=86_400.0)
    track_id: pl.Int32 = pa.Field(ge=1)
    label: str
    confidence: pl.Float32 = pa.Field(ge=0.0, le=1.0)
    bbox_x: pl.Float32 = pa.Field(ge=0.0, le=1.0)
    bbox_y: pl.Float32 = pa.Field(ge=0.0, le=1.0)
    bbox_w: pl.Float32 = pa.Field(ge=0.0, le=1.0)
    bbox_h: pl.Float32 = pa.Field(ge=0.0, le=1.0)
    is_interpolated: pl.Boolean

    class Config:
        strict = False
        coerce = False
