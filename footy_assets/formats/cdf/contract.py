"""Flattened Common Data Format tracking rows: one row per person or ball in a frame, positions in metres from the
pitch centre."""

import pandera.polars as pa
import polars as pl

from footy_assets.core.contracts.validation import Contract

PERIODS = {
    "first_half": 1,
    "second_half": 2,
    "first_half_extratime": 3,
    "first_half_extra": 3,
    "second_half_extratime": 4,
    "second_half_extra": 4,
    "shootout": 5,
    "penalty_shootout": 5,
}


class CdfFrames(Contract):
    """What the reader takes of each frame itself (its entries are ``CdfObjects``): the period's name."""

    line: int = pa.Field(ge=1)
    period_name: str = pa.Field(nullable=True, isin=list(PERIODS))

    class Config:
        strict = False


class CdfObjects(Contract):
    """One row per player, referee or ball per frame; metres, origin centre, home attacking +x. Their frame's
    period is checked once per frame (``CdfFrames``), not once per entry."""

    line: int = pa.Field(ge=1)
    frame_id: int = pa.Field(ge=0)
    kind: pl.Int8 = pa.Field(isin=[0, 1, 2, 3])  # which list the entry came from: home, away, referees, ball
    object_id: str = pa.Field(nullable=True)
    x: float = pa.Field(ge=-100.0, le=100.0)  # metres from the centre, as the canonical table (NaN fails)
    y: float = pa.Field(ge=-100.0, le=100.0)
    z: float = pa.Field(nullable=True, ge=-10.0, le=100.0)  # ball height (m); NaN and infinities fail

    class Config:
        strict = False
