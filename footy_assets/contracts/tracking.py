"""The canonical ``tracking`` table (CONTRACTS 3)."""

import pandera.polars as pa
import polars as pl

from footy_assets.canonical import ROLES


class Tracking(pa.DataFrameModel):
    match_id: str = pa.Field(str_matches=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
    frame_id: pl.Int64 = pa.Field(ge=0)
    timestamp_ms: pl.Int64 = pa.Field(ge=0)
    period: pl.Int8 = pa.Field(isin=[1, 2, 3, 4, 5])
    role: str = pa.Field(isin=list(ROLES))
    team: pl.Int8 = pa.Field(nullable=True, isin=[0, 1])
    jersey: pl.Int16 = pa.Field(nullable=True, ge=0)
    player_id: str = pa.Field(nullable=True, str_matches=r"^[01]-\d+$")
    track_id: str = pa.Field(nullable=True)
    x_m: pl.Float32 = pa.Field(ge=-100.0, le=100.0)
    y_m: pl.Float32 = pa.Field(ge=-100.0, le=100.0)
    z_m: pl.Float32 = pa.Field(nullable=True)
    id_confidence: pl.Float32 = pa.Field(nullable=True, ge=0.0, le=1.0)
    bbox_x: pl.Int16 = pa.Field(nullable=True)
    bbox_y: pl.Int16 = pa.Field(nullable=True)
    source_format: str = pa.Field(isin=["footy_stats", "sportvu", "cdf", "footy_track"])
    in_play: pl.Boolean = pa.Field(nullable=True)

    class Config:
        strict = True
        ordered = True

    @pa.dataframe_check(error="a player_id appears twice in one frame")
    def one_row_per_player_per_frame(cls, data) -> pl.LazyFrame:
        lf = data.lazyframe
        dup = pl.struct("frame_id", "player_id").is_duplicated() & pl.col("player_id").is_not_null()
        return lf.select(~dup)

    @pa.dataframe_check(error="more than one ball in one frame")
    def one_ball_per_frame(cls, data) -> pl.LazyFrame:
        lf = data.lazyframe
        dup = (pl.col("role") == "ball") & pl.col("frame_id").is_duplicated().over("role")
        return lf.select(~dup)

    @pa.dataframe_check(error="player_id must be '{team}-{jersey}' of the row's own team and jersey")
    def player_id_is_team_jersey(cls, data) -> pl.LazyFrame:
        expected = pl.format("{}-{}", pl.col("team"), pl.col("jersey"))
        return data.lazyframe.select(pl.col("player_id").is_null() | (pl.col("player_id") == expected))
