"""Parsed SportVU messages (the SportVU raw message format): one row per object per message."""

import pandera.polars as pa

from footy_assets.core.contracts.validation import Contract


class SportVuObjects(Contract):
    line: int = pa.Field(ge=1)
    system_time_ms: int = pa.Field(ge=0)
    match_ms: int = pa.Field(ge=-1)
    half: int = pa.Field(ge=0, le=5)
    team_code: int = pa.Field(isin=[0, 1, 2, 3, 4])
    object_id: str = pa.Field(str_length={"min_value": 1})
    jersey: int = pa.Field(ge=-1, le=999)
    x: float = pa.Field(ge=-50.0, le=200.0)
    y: float = pa.Field(ge=-50.0, le=150.0)

    class Config:
        strict = False


class SportVuBall(Contract):
    line: int = pa.Field(ge=1)
    x: float = pa.Field(ge=-50.0, le=200.0)
    y: float = pa.Field(ge=-50.0, le=150.0)
    z: float = pa.Field(ge=-5.0, le=100.0)

    class Config:
        strict = False
