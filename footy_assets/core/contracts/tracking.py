"""The canonical ``tracking`` table: one row per object per frame, declared here once (its polars schema is
``dtypes(Tracking)``, ``canonical.TRACKING_SCHEMA``)."""

import pandera.polars as pa
import polars as pl

from footy_assets.core.contracts.checks import (
    FINGERPRINT_DOC,
    FORMATS,
    FRAME_ID_DOC,
    PERIOD_DOC,
    PLAYER_ID,
    PLAYER_ID_DOC,
    TIMESTAMP_DOC,
    X_DOC,
    Y_DOC,
    PerMatchTable,
    distinct_values_match,
    unique_player_frames,
)

ROLES = ("player", "goal_keeper", "ball", "referee")
MAX_ABS_POSITION_M = 100.0  # nothing tracked is 100 m from the centre spot


class Tracking(PerMatchTable):
    """tracking: one row per object (player, goal keeper, ball, referee) per frame, from whichever vendor format the
    match was delivered in: metres from the centre spot, the home team attacking +x in every period, frames outside
    the periods left out."""

    frame_id: pl.Int64 = pa.Field(ge=0, description=FRAME_ID_DOC + "; one row per object and frame")
    timestamp_ms: pl.Int64 = pa.Field(ge=0, description=TIMESTAMP_DOC)
    period: pl.Int8 = pa.Field(isin=[1, 2, 3, 4, 5], description=PERIOD_DOC)
    role: str = pa.Field(isin=list(ROLES), description="what the row tracks: player, goal_keeper, ball or referee")
    team: pl.Int8 = pa.Field(
        nullable=True,
        isin=[0, 1],
        description="0 home, 1 away; null for the ball, referees and players whose team the feed does not give",
    )
    jersey: pl.Int16 = pa.Field(
        nullable=True,
        ge=0,
        description="shirt number; null where the feed gives none "
        "(the ball, referees mostly, players it did not identify)",
    )
    player_id: str = pa.Field(nullable=True, description=PLAYER_ID_DOC + "; null where team or jersey is")
    track_id: str = pa.Field(
        nullable=True, description="the vendor's object or track id, as text; null where the feed has none"
    )
    x_m: pl.Float32 = pa.Field(
        nullable=True,
        ge=-MAX_ABS_POSITION_M,
        le=MAX_ABS_POSITION_M,
        description=X_DOC + "; null only where the feed has image positions alone (footy_track without a "
        "pitch homography)",
    )
    y_m: pl.Float32 = pa.Field(
        nullable=True, ge=-MAX_ABS_POSITION_M, le=MAX_ABS_POSITION_M, description=Y_DOC + "; null where x_m is"
    )
    z_m: pl.Float32 = pa.Field(
        nullable=True,
        description="m above the ground: the ball's height where the feed "
        "gives it; null for people and where it does not",
    )
    id_confidence: pl.Float32 = pa.Field(
        nullable=True,
        ge=0.0,
        le=1.0,
        description="0-1: the vendor's confidence in the row's identification; null where it gives none",
    )
    bbox_x: pl.Int16 = pa.Field(
        nullable=True,
        description="pixels: horizontal image position of the object (the "
        "box's bottom centre); null where the vendor gives no image position",
    )
    bbox_y: pl.Int16 = pa.Field(
        nullable=True,
        description="pixels: vertical image position of the object (the "
        "box's bottom centre); null where the vendor gives no image position",
    )
    bbox_w: pl.Int16 = pa.Field(
        nullable=True,
        ge=0,
        description="pixels: the box's width (footy_track, whose MOT export needs it); null for the other formats",
    )
    bbox_h: pl.Int16 = pa.Field(
        nullable=True, ge=0, description="pixels: the box's height (footy_track); null for the other formats"
    )
    source_format: str = pa.Field(
        isin=list(FORMATS), description="the vendor format the rows were read from: " + ", ".join(FORMATS)
    )
    in_play: pl.Boolean = pa.Field(
        nullable=True,
        description="the feed's own ball-in-play flag for the frame (cdf "
        "ball_status or ball.status; sportvu's pause flag, paused = out of play), read by "
        "ball_state.in_play; null where the feed gives none (footy_stats, footy_track)",
    )
    interpolated: pl.Boolean = pa.Field(
        nullable=True,
        description="footy_track: the tracker predicted the box (a "
        "lost track), nothing was detected; null for the other formats",
    )
    fingerprint: pl.Categorical = pa.Field(description=FINGERPRINT_DOC)

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
