"""The ``matches`` table: one row per match."""

import pandera.polars as pa
import polars as pl


class Matches(pa.DataFrameModel):
    match_id: str = pa.Field(unique=True, str_matches=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
    format: str = pa.Field(isin=["footy_stats", "sportvu", "cdf", "footy_track"])
    fps: pl.Int32 = pa.Field(ge=1, le=100)
    pitch_length_m: pl.Float32 = pa.Field(ge=50, le=130)
    pitch_width_m: pl.Float32 = pa.Field(ge=30, le=100)
    frames: pl.Int64 = pa.Field(ge=1)
    frames_outside_play: pl.Int64 = pa.Field(ge=0)
    fingerprint: str = pa.Field(str_matches=r"^[0-9a-f]{64}$")
    rows: pl.Int64 = pa.Field(ge=1)
    vendor_rows: pl.Int64 = pa.Field(ge=1)

    class Config:
        strict = False
