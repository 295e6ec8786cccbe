"""Rows of the footy_stats tracking download (the vendor's tracking-download API)."""

import pandera.polars as pa
import polars as pl

from footy_assets.core.contracts.validation import Contract

ROLES = ["player", "goal_keeper", "ball", "referee"]


class FootyStatsRows(Contract):
    """One row per object per timestamp; x/y in centimetres, origin bottom-left."""

    row: int = pa.Field(ge=0)  # position in the file, for error messages
    timestamp: int = pa.Field(ge=0)
    role: str = pa.Field(isin=ROLES)
    player_id: str = pa.Field(nullable=True, str_matches=r"^[01]-\d{1,3}$")
    player_id_conf: pl.Float32 = pa.Field(nullable=True, ge=0.0, le=1.0)
    x: pl.Int32 = pa.Field(nullable=True, ge=-5000, le=16000)
    y: pl.Int32 = pa.Field(nullable=True, ge=-5000, le=12000)
    bbox_x: pl.Int16 = pa.Field(nullable=True)
    bbox_y: pl.Int16 = pa.Field(nullable=True)

    class Config:
        strict = False
        coerce = False
