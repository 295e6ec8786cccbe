"""Contracts of the derived tables: frame_state, ball_state, intervals, and the two summaries."""

import pandera.polars as pa
import polars as pl

from footy_assets.contracts.checks import MATCH_ID, PLAYER_ID, PerMatchTable, all_of, distinct_values_match


class FrameState(PerMatchTable):
    frame_id: pl.Int64 = pa.Field(ge=0)
    timestamp_ms: pl.Int64 = pa.Field(ge=0)
    period: pl.Int8 = pa.Field(isin=[1, 2, 3, 4, 5])
    player_id: str
    team: pl.Int8 = pa.Field(isin=[0, 1])
    role: str = pa.Field(isin=["player", "goal_keeper"])
    x_m: pl.Float32
    y_m: pl.Float32
    speed_mps: pl.Float32 = pa.Field(nullable=True, ge=0.0)
    valid: pl.Boolean
    accel_mps2: pl.Float32 = pa.Field(nullable=True)
    distance_m: pl.Float32 = pa.Field(nullable=True, ge=0.0)
    nearest_opp_id: str = pa.Field(nullable=True)
    nearest_opp_dist_m: pl.Float32 = pa.Field(nullable=True, ge=0.0)
    ball_dist_m: pl.Float32 = pa.Field(nullable=True, ge=0.0)
    fps: pl.Int16 = pa.Field(ge=1, le=100)
    fingerprint: pl.Categorical

    @pa.dataframe_check(error="player_id and nearest_opp_id must look like '0-10'")
    def ids_format(cls, data) -> pl.LazyFrame:
        return all_of(distinct_values_match(data.lazyframe, "player_id", PLAYER_ID),
                      distinct_values_match(data.lazyframe, "nearest_opp_id", PLAYER_ID))

    @pa.dataframe_check(error="player_id must belong to team, and nearest_opp_id to the other team")
    def teams_consistent(cls, data) -> pl.LazyFrame:
        pairs = data.lazyframe.select("team", "player_id", "nearest_opp_id").unique()
        own = pl.col("player_id").str.head(1) == pl.col("team").cast(pl.String)
        other = pl.col("nearest_opp_id").is_null() | (pl.col("nearest_opp_id").str.head(1) != pl.col("team").cast(pl.String))
        return pairs.select((own & other).all())

    @pa.dataframe_check(error="a player appears twice in one frame")
    def one_row_per_player_per_frame(cls, data) -> pl.LazyFrame:
        # one integer per (frame, player): hashing a struct of a string is several times slower
        code = pl.col("player_id").cast(pl.Categorical).to_physical().cast(pl.Int64)
        return data.lazyframe.select((pl.col("frame_id") * 65_536 + code).n_unique() == pl.len())


class BallState(PerMatchTable):
    frame_id: pl.Int64 = pa.Field(ge=0, unique=True)
    timestamp_ms: pl.Int64 = pa.Field(ge=0)
    period: pl.Int8 = pa.Field(isin=[1, 2, 3, 4, 5])
    x_m: pl.Float32
    y_m: pl.Float32
    z_m: pl.Float32 = pa.Field(nullable=True)
    in_play: pl.Boolean
    possession_team: pl.Int8 = pa.Field(nullable=True, isin=[0, 1])
    possession_player_id: str = pa.Field(nullable=True, str_matches=PLAYER_ID)
    fingerprint: pl.Categorical

    @pa.dataframe_check(error="no possession while the ball is out of play")
    def no_possession_out_of_play(cls, data) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("in_play") | pl.col("possession_team").is_null())


class Intervals(PerMatchTable):
    definition: str
    label: str
    column: str
    player_id: str = pa.Field(str_matches=PLAYER_ID)
    team: pl.Int8 = pa.Field(isin=[0, 1])
    period: pl.Int8 = pa.Field(isin=[1, 2, 3, 4, 5])
    first_frame_id: pl.Int64
    last_frame_id: pl.Int64
    start_s: pl.Float64 = pa.Field(ge=0)
    end_s: pl.Float64 = pa.Field(ge=0)
    duration_ms: pl.Float64 = pa.Field(gt=0)
    frames: pl.Int64 = pa.Field(ge=1)
    peak: pl.Float64
    mean: pl.Float64
    distance_m: pl.Float64 = pa.Field(nullable=True, ge=0)
    fingerprint: pl.Categorical

    @pa.dataframe_check(error="an interval must end after it starts and span its frames")
    def consistent(cls, data) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("end_s") > pl.col("start_s")) & (pl.col("last_frame_id") - pl.col("first_frame_id") + 1 == pl.col("frames"))
        )


class PlayerMatchSummary(pa.DataFrameModel):
    match_id: str = pa.Field(str_matches=MATCH_ID)
    player_id: str = pa.Field(str_matches=PLAYER_ID)
    team: pl.Int8 = pa.Field(isin=[0, 1])
    minutes_tracked: pl.Float64 = pa.Field(ge=0)
    distance_m: pl.Float64 = pa.Field(ge=0)
    top_speed_mps: pl.Float64 = pa.Field(nullable=True, ge=0)
    sprints: pl.Int64 = pa.Field(ge=0)
    high_speed_runs: pl.Int64 = pa.Field(ge=0)

    class Config:
        strict = False
        unique = ["match_id", "player_id"]


class TeamMatchSummary(pa.DataFrameModel):
    match_id: str = pa.Field(str_matches=MATCH_ID)
    team: pl.Int8 = pa.Field(isin=[0, 1])
    distance_m: pl.Float64 = pa.Field(ge=0)
    possession_share: pl.Float64 = pa.Field(nullable=True, ge=0, le=1)

    class Config:
        strict = False
        unique = ["match_id", "team"]


class MatchQuality(PerMatchTable):
    """match_quality (CONTRACTS 9): per period and player, per period and team (player_id null), and per period
    for the whole match (team and player_id null)."""

    period: pl.Int8 = pa.Field(isin=[1, 2, 3, 4, 5])
    team: pl.Int8 = pa.Field(nullable=True, isin=[0, 1])
    player_id: str = pa.Field(nullable=True, str_matches=PLAYER_ID)
    rows: pl.Int64 = pa.Field(ge=0)
    minutes_tracked: pl.Float64 = pa.Field(ge=0)
    frames_without_ball: pl.Int64 = pa.Field(ge=0)
    dropouts: pl.Int64 = pa.Field(ge=0)
    dropout_s: pl.Float64 = pa.Field(ge=0)
    invalid_frames: pl.Int64 = pa.Field(ge=0)
    invalid_share: pl.Float64 = pa.Field(nullable=True, ge=0, le=1)
    unidentified_share: pl.Float64 = pa.Field(nullable=True, ge=0, le=1)
    id_confidence_p10: pl.Float64 = pa.Field(nullable=True, ge=0, le=1)
    id_confidence_p50: pl.Float64 = pa.Field(nullable=True, ge=0, le=1)
    id_confidence_p90: pl.Float64 = pa.Field(nullable=True, ge=0, le=1)
    rows_off_pitch: pl.Int64 = pa.Field(ge=0)
    top_speed_mps: pl.Float64 = pa.Field(nullable=True, ge=0)
    fingerprint: pl.Categorical

    @pa.dataframe_check(error="one row per period and player, one per period and team, one per period")
    def one_row_per_key(cls, data) -> pl.LazyFrame:
        return data.lazyframe.select(pl.struct("period", "team", "player_id").is_unique().all())

    @pa.dataframe_check(error="a player row must name its team")
    def player_has_team(cls, data) -> pl.LazyFrame:
        return data.lazyframe.select((pl.col("player_id").is_null() | pl.col("team").is_not_null()).all())
