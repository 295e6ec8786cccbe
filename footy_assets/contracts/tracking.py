"""The canonical ``tracking`` table (CONTRACTS 3)."""

import pandera.polars as pa
import polars as pl

from footy_assets.canonical import ROLES
from footy_assets.contracts.checks import PLAYER_ID, PerMatchTable, distinct_values_match, unique_player_frames


class Tracking(PerMatchTable):
    frame_id: pl.Int64 = pa.Field(ge=0)
    timestamp_ms: pl.Int64 = pa.Field(ge=0)
    period: pl.Int8 = pa.Field(isin=[1, 2, 3, 4, 5])
    role: str = pa.Field(isin=list(ROLES))
    team: pl.Int8 = pa.Field(nullable=True, isin=[0, 1])
    jersey: pl.Int16 = pa.Field(nullable=True, ge=0)
    player_id: str = pa.Field(nullable=True)
    track_id: str = pa.Field(nullable=True)
    x_m: pl.Float32 = pa.Field(ge=-100.0, le=100.0)
    y_m: pl.Float32 = pa.Field(ge=-100.0, le=100.0)
    z_m: pl.Float32 = pa.Field(nullable=True)
    id_confidence: pl.Float32 = pa.Field(nullable=True, ge=0.0, le=1.0)
    bbox_x: pl.Int16 = pa.Field(nullable=True)
    bbox_y: pl.Int16 = pa.Field(nullable=True)
    source_format: str = pa.Field(isin=["footy_stats", "sportvu", "cdf", "footy_track"])
    in_play: pl.Boolean = pa.Field(nullable=True)
    fingerprint: pl.Categorical

    @pa.dataframe_check(error="player_id must look like '0-10'")
    def player_id_format(cls, data) -> pl.LazyFrame:
        return distinct_values_match(data.lazyframe, "player_id", PLAYER_ID)

    @pa.dataframe_check(error="a player_id appears twice in one frame")
    def one_row_per_player_per_frame(cls, data) -> pl.LazyFrame:
        return unique_player_frames(data.lazyframe)

    @pa.dataframe_check(error="more than one ball in one frame")
    def one_ball_per_frame(cls, data) -> pl.LazyFrame:
        balls = data.lazyframe.filter(pl.col("role") == "ball")
        return balls.select(pl.col("frame_id").n_unique() == pl.len())

    @pa.dataframe_check(error="player_id must be '{team}-{jersey}' of the row's own team and jersey")
    def player_id_is_team_jersey(cls, data) -> pl.LazyFrame:
        combos = data.lazyframe.select("team", "jersey", "player_id").unique()
        expected = pl.format("{}-{}", pl.col("team"), pl.col("jersey"))
        ok = pl.col("player_id").is_null() | (pl.col("player_id") == expected)
        return combos.select(ok.fill_null(False).all())
