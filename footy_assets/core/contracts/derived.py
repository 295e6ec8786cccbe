"""Contracts of the derived tables: frame_state, ball_state, intervals, and the two summaries."""

import pandera.polars as pa
import polars as pl

from footy_assets.core.contracts.checks import (FINGERPRINT_DOC, FRAME_ID_DOC, MATCH_ID, MATCH_ID_DOC, PERIOD_DOC, PLAYER_ID,
                                           PLAYER_ID_DOC, TEAM_DOC, TIMESTAMP_DOC, X_DOC, Y_DOC, PerMatchTable, all_of,
                                           distinct_values_match, once_per_frame)

PERIOD_TIME_DOC = "s since the start of the period (its first frame)"
MINUTE_DOC = ("match minute as event data counts it: 0 at kick-off, 45 at the start of the second half, 90 and 105 "
              "in extra time; added time keeps counting")
VALID_ONLY = " (valid frames only)"


class FrameState(PerMatchTable):
    frame_id: pl.Int64 = pa.Field(ge=0, description=FRAME_ID_DOC)
    timestamp_ms: pl.Int64 = pa.Field(ge=0, description=TIMESTAMP_DOC)
    period: pl.Int8 = pa.Field(isin=[1, 2, 3, 4, 5], description=PERIOD_DOC)
    period_time_s: pl.Float32 = pa.Field(ge=0, description=PERIOD_TIME_DOC)
    match_minute: pl.Int16 = pa.Field(ge=0, description=MINUTE_DOC)
    player_id: str = pa.Field(description=PLAYER_ID_DOC)
    team: pl.Int8 = pa.Field(isin=[0, 1], description=TEAM_DOC)
    role: str = pa.Field(isin=["player", "goal_keeper"], description="player or goal_keeper")
    x_m: pl.Float32 = pa.Field(description=X_DOC)
    y_m: pl.Float32 = pa.Field(description=Y_DOC)
    speed_mps: pl.Float32 = pa.Field(nullable=True, ge=0.0, description="m/s: Savitzky-Golay (window 9, order 2) "
                                     "first derivative of x_m and y_m per track segment, hypot; null on segments "
                                     "shorter than 9 frames")
    valid: pl.Boolean = pa.Field(description="the speed can be trusted: not null, and no raw step faster than 12 m/s "
                                 "inside its smoothing window (a tracking glitch)")
    accel_mps2: pl.Float32 = pa.Field(nullable=True, description="m/s^2: rate of change of the speed (SG 9/2 "
                                      "acceleration projected on the velocity)")
    distance_m: pl.Float32 = pa.Field(nullable=True, ge=0.0, description="m covered in the frame: speed_mps / fps; "
                                      "null on invalid frames")
    nearest_opp_id: str = pa.Field(nullable=True, description="player_id of the closest player of the other team "
                                   "in the frame (ties: the smallest id)")
    nearest_opp_dist_m: pl.Float32 = pa.Field(nullable=True, ge=0.0, description="m to nearest_opp_id (unsmoothed "
                                              "positions)")
    ball_dist_m: pl.Float32 = pa.Field(nullable=True, ge=0.0, description="m to the ball; null when the frame has "
                                       "no ball")
    fps: pl.Int16 = pa.Field(ge=1, le=100, description="frames per second of the feed")
    fingerprint: pl.Categorical = pa.Field(description=FINGERPRINT_DOC)

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
        return once_per_frame(data.lazyframe, "player_id")


class BallState(PerMatchTable):
    frame_id: pl.Int64 = pa.Field(ge=0, unique=True, description=FRAME_ID_DOC)
    timestamp_ms: pl.Int64 = pa.Field(ge=0, description=TIMESTAMP_DOC)
    period: pl.Int8 = pa.Field(isin=[1, 2, 3, 4, 5], description=PERIOD_DOC)
    x_m: pl.Float32 = pa.Field(description="ball, " + X_DOC)
    y_m: pl.Float32 = pa.Field(description="ball, " + Y_DOC)
    z_m: pl.Float32 = pa.Field(nullable=True, description="m: the ball's height, where the feed gives it")
    in_play: pl.Boolean = pa.Field(description="the ball is in play (the feed's flag, else true inside periods)")
    possession_team: pl.Int8 = pa.Field(nullable=True, isin=[0, 1], description="0 home, 1 away: team of the "
                                        "closest player within 1.5 m, kept until the other team's; null out of play")
    possession_player_id: str = pa.Field(nullable=True, str_matches=PLAYER_ID, description="the closest player "
                                         "within 1.5 m of the ball in the frame; null when none")
    fingerprint: pl.Categorical = pa.Field(description=FINGERPRINT_DOC)

    @pa.dataframe_check(error="no possession while the ball is out of play")
    def no_possession_out_of_play(cls, data) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("in_play") | pl.col("possession_team").is_null())


class Intervals(PerMatchTable):
    definition: str = pa.Field(description="name in footy_assets/core/metrics/interval_catalog.json: sprint, high_speed_run, "
                               "pressing, acceleration, deceleration")
    label: str = pa.Field(description="the predicate as the filter API writes it, e.g. 'speed_mps >=7.0'")
    column: str = pa.Field(description="the frame_state column the predicate is on")
    player_id: str = pa.Field(str_matches=PLAYER_ID, description=PLAYER_ID_DOC)
    team: pl.Int8 = pa.Field(isin=[0, 1], description=TEAM_DOC)
    period: pl.Int8 = pa.Field(isin=[1, 2, 3, 4, 5], description=PERIOD_DOC)
    first_frame_id: pl.Int64 = pa.Field(description="the interval's first frame")
    last_frame_id: pl.Int64 = pa.Field(description="the interval's last frame")
    start_s: pl.Float64 = pa.Field(ge=0, description="s, match clock: first frame's timestamp_ms / 1000")
    end_s: pl.Float64 = pa.Field(ge=0, description="s, match clock: (last frame's timestamp_ms + 1000 / fps) / 1000")
    period_start_s: pl.Float64 = pa.Field(ge=0, description="s, match clock: the start of the period")
    start_period_time_s: pl.Float64 = pa.Field(ge=0, description="s since the start of the period, at start_s")
    end_period_time_s: pl.Float64 = pa.Field(gt=0, description="s since the start of the period, at end_s")
    match_minute: pl.Int16 = pa.Field(ge=0, description=MINUTE_DOC + " (at start_s)")
    duration_ms: pl.Float64 = pa.Field(gt=0, description="ms: frames x 1000 / fps")
    frames: pl.Int64 = pa.Field(ge=1, description="frames in the interval")
    peak: pl.Float64 = pa.Field(description="the column's extreme in the interval (its maximum, or its minimum for "
                                "an upper bound only), in the column's unit")
    mean: pl.Float64 = pa.Field(description="the column's mean in the interval, in the column's unit")
    distance_m: pl.Float64 = pa.Field(nullable=True, ge=0, description="m covered during the interval")
    fingerprint: pl.Categorical = pa.Field(description=FINGERPRINT_DOC)

    @pa.dataframe_check(error="an interval must end after it starts and span its frames")
    def consistent(cls, data) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("end_s") > pl.col("start_s")) & (pl.col("last_frame_id") - pl.col("first_frame_id") + 1 == pl.col("frames"))
        )


ZONES = {"0_2": "[0, 2)", "2_4": "[2, 4)", "4_5_5": "[4, 5.5)", "5_5_7": "[5.5, 7)", "7_plus": "7 and above"}


class PlayerPeriodSummary(PerMatchTable):
    """player_period_summary: one row per player per period (chain/sql_models/player_period_summary.sql)."""

    player_id: str = pa.Field(str_matches=PLAYER_ID, description=PLAYER_ID_DOC)
    period: pl.Int8 = pa.Field(isin=[1, 2, 3, 4, 5], description=PERIOD_DOC)
    team: pl.Int8 = pa.Field(isin=[0, 1], description=TEAM_DOC)
    role: str = pa.Field(isin=["player", "goal_keeper"], description="player or goal_keeper: his role in most "
                         "of his frames")
    first_match_minute: pl.Int16 = pa.Field(ge=0, description=MINUTE_DOC + " (his first frame of the period)")
    on_period_time_s: pl.Float64 = pa.Field(ge=0, description="s of the period's clock when he is first seen (a "
                                            "substitute comes on late)")
    off_period_time_s: pl.Float64 = pa.Field(gt=0, description="s of the period's clock when he is last seen, plus "
                                             "one frame (a replaced player goes off early)")
    minutes_played: pl.Float64 = pa.Field(ge=0, description="min on the pitch: from his first to his last frame of "
                                          "the period, drop-outs included")
    minutes_tracked: pl.Float64 = pa.Field(ge=0, description="min: his frames / fps / 60")
    distance_m: pl.Float64 = pa.Field(ge=0, description="m covered" + VALID_ONLY)
    distance_0_2_mps_m: pl.Float64 = pa.Field(ge=0, description="m covered at [0, 2) m/s" + VALID_ONLY)
    distance_2_4_mps_m: pl.Float64 = pa.Field(ge=0, description="m covered at [2, 4) m/s" + VALID_ONLY)
    distance_4_5_5_mps_m: pl.Float64 = pa.Field(ge=0, description="m covered at [4, 5.5) m/s" + VALID_ONLY)
    distance_5_5_7_mps_m: pl.Float64 = pa.Field(ge=0, description="m covered at [5.5, 7) m/s: high-speed running"
                                                + VALID_ONLY)
    distance_7_plus_mps_m: pl.Float64 = pa.Field(ge=0, description="m covered at 7 m/s and above: sprinting"
                                                 + VALID_ONLY)
    top_speed_mps: pl.Float64 = pa.Field(nullable=True, ge=0, description="m/s: the highest valid speed")
    sprints: pl.Int64 = pa.Field(ge=0, description="sprint intervals (speed >= 7 m/s for 1 s or more)")
    high_speed_runs: pl.Int64 = pa.Field(ge=0, description="high_speed_run intervals (5.5-7 m/s for 1 s or more)")
    pressing_s: pl.Float64 = pa.Field(ge=0, description="s spent within 2 m of an opponent (pressing intervals)")
    accelerations: pl.Int64 = pa.Field(ge=0, description="acceleration intervals of the catalog")
    decelerations: pl.Int64 = pa.Field(ge=0, description="deceleration intervals of the catalog")
    fingerprint: str = pa.Field(description=FINGERPRINT_DOC)

    @pa.dataframe_check(error="one row per player and period")
    def one_row_per_player_and_period(cls, data) -> pl.LazyFrame:
        return data.lazyframe.select(pl.struct("player_id", "period").is_unique().all())


class PlayerMatchSummary(PerMatchTable):
    """player_match_summary: one row per player per match (chain/sql_models/player_match_summary.sql)."""

    player_id: str = pa.Field(str_matches=PLAYER_ID, unique=True, description=PLAYER_ID_DOC)
    team: pl.Int8 = pa.Field(isin=[0, 1], description=TEAM_DOC)
    role: str = pa.Field(isin=["player", "goal_keeper"], description="player or goal_keeper: his role in the "
                         "period he played longest in")
    periods: pl.Int64 = pa.Field(ge=1, description="periods he appears in")
    minutes_played: pl.Float64 = pa.Field(ge=0, description="min on the pitch: first to last frame of each period, "
                                          "added up")
    minutes_tracked: pl.Float64 = pa.Field(ge=0, description="min: his frames / fps / 60")
    distance_m: pl.Float64 = pa.Field(ge=0, description="m covered" + VALID_ONLY)
    distance_0_2_mps_m: pl.Float64 = pa.Field(ge=0, description="m covered at [0, 2) m/s" + VALID_ONLY)
    distance_2_4_mps_m: pl.Float64 = pa.Field(ge=0, description="m covered at [2, 4) m/s" + VALID_ONLY)
    distance_4_5_5_mps_m: pl.Float64 = pa.Field(ge=0, description="m covered at [4, 5.5) m/s" + VALID_ONLY)
    distance_5_5_7_mps_m: pl.Float64 = pa.Field(ge=0, description="m covered at [5.5, 7) m/s: high-speed running"
                                                + VALID_ONLY)
    distance_7_plus_mps_m: pl.Float64 = pa.Field(ge=0, description="m covered at 7 m/s and above: sprinting"
                                                 + VALID_ONLY)
    top_speed_mps: pl.Float64 = pa.Field(nullable=True, ge=0, description="m/s: the highest valid speed")
    sprints: pl.Int64 = pa.Field(ge=0, description="sprint intervals (speed >= 7 m/s for 1 s or more)")
    high_speed_runs: pl.Int64 = pa.Field(ge=0, description="high_speed_run intervals (5.5-7 m/s for 1 s or more)")
    pressing_s: pl.Float64 = pa.Field(ge=0, description="s spent within 2 m of an opponent (pressing intervals)")
    accelerations: pl.Int64 = pa.Field(ge=0, description="acceleration intervals of the catalog")
    decelerations: pl.Int64 = pa.Field(ge=0, description="deceleration intervals of the catalog")
    fingerprint: str = pa.Field(description=FINGERPRINT_DOC)


class TeamMatchSummary(PerMatchTable):
    """team_match_summary: one row per team per match (chain/sql_models/team_match_summary.sql)."""

    team: pl.Int8 = pa.Field(isin=[0, 1], unique=True, description=TEAM_DOC)
    players: pl.Int64 = pa.Field(ge=1, description="players of the team seen in the match")
    minutes_played: pl.Float64 = pa.Field(ge=0, description="min: the players' minutes_played added up")
    minutes_tracked: pl.Float64 = pa.Field(ge=0, description="min: the players' minutes_tracked added up")
    distance_m: pl.Float64 = pa.Field(ge=0, description="m covered by the team" + VALID_ONLY)
    distance_0_2_mps_m: pl.Float64 = pa.Field(ge=0, description="m covered at [0, 2) m/s" + VALID_ONLY)
    distance_2_4_mps_m: pl.Float64 = pa.Field(ge=0, description="m covered at [2, 4) m/s" + VALID_ONLY)
    distance_4_5_5_mps_m: pl.Float64 = pa.Field(ge=0, description="m covered at [4, 5.5) m/s" + VALID_ONLY)
    distance_5_5_7_mps_m: pl.Float64 = pa.Field(ge=0, description="m covered at [5.5, 7) m/s" + VALID_ONLY)
    distance_7_plus_mps_m: pl.Float64 = pa.Field(ge=0, description="m covered at 7 m/s and above" + VALID_ONLY)
    top_speed_mps: pl.Float64 = pa.Field(nullable=True, ge=0, description="m/s: the team's highest valid speed")
    sprints: pl.Int64 = pa.Field(ge=0, description="sprint intervals of the team's players")
    high_speed_runs: pl.Int64 = pa.Field(ge=0, description="high_speed_run intervals of the team's players")
    pressing_s: pl.Float64 = pa.Field(ge=0, description="s of pressing intervals of the team's players")
    accelerations: pl.Int64 = pa.Field(ge=0, description="acceleration intervals of the team's players")
    decelerations: pl.Int64 = pa.Field(ge=0, description="deceleration intervals of the team's players")
    possession_share: pl.Float64 = pa.Field(nullable=True, ge=0, le=1, description="0-1: frames in which the team "
                                            "has the ball / frames in which either team has it")
    fingerprint: str = pa.Field(description=FINGERPRINT_DOC)


class MatchQuality(PerMatchTable):
    """match_quality: per period and player, per period and team (player_id null), and per period
    for the whole match (team and player_id null)."""

    period: pl.Int8 = pa.Field(isin=[1, 2, 3, 4, 5], description=PERIOD_DOC)
    team: pl.Int8 = pa.Field(nullable=True, isin=[0, 1], description="0 home, 1 away; null on the whole-match rows")
    player_id: str = pa.Field(nullable=True, str_matches=PLAYER_ID, description=PLAYER_ID_DOC + "; null on the "
                              "team and whole-match rows")
    rows: pl.Int64 = pa.Field(ge=0, description="tracked rows (player-frames; a team row: all the team's rows, "
                              "identified or not)")
    minutes_tracked: pl.Float64 = pa.Field(ge=0, description="min: rows / fps / 60")
    frames_without_ball: pl.Int64 = pa.Field(ge=0, description="frames in which the ball is not tracked")
    dropouts: pl.Int64 = pa.Field(ge=0, description="breaks: a player missing for a frame or more and back in the "
                                  "same period")
    dropout_s: pl.Float64 = pa.Field(ge=0, description="s: the total length of those breaks")
    invalid_frames: pl.Int64 = pa.Field(ge=0, description="frame_state rows whose speed cannot be trusted "
                                        "(valid = false)")
    invalid_share: pl.Float64 = pa.Field(nullable=True, ge=0, le=1, description="0-1: invalid_frames / identified "
                                         "rows")
    unidentified_share: pl.Float64 = pa.Field(nullable=True, ge=0, le=1, description="0-1: share of rows without a "
                                              "player_id (team and whole-match rows)")
    id_confidence_p10: pl.Float64 = pa.Field(nullable=True, ge=0, le=1, description="0-1: 10th percentile of the "
                                             "vendor's identification confidence; null where it gives none")
    id_confidence_p50: pl.Float64 = pa.Field(nullable=True, ge=0, le=1, description="0-1: median identification "
                                             "confidence")
    id_confidence_p90: pl.Float64 = pa.Field(nullable=True, ge=0, le=1, description="0-1: 90th percentile of the "
                                             "identification confidence")
    rows_off_pitch: pl.Int64 = pa.Field(ge=0, description="rows outside the pitch lines")
    top_speed_mps: pl.Float64 = pa.Field(nullable=True, ge=0, description="m/s: the highest valid speed")
    fingerprint: pl.Categorical = pa.Field(description=FINGERPRINT_DOC)

    @pa.dataframe_check(error="one row per period and player, one per period and team, one per period")
    def one_row_per_key(cls, data) -> pl.LazyFrame:
        return data.lazyframe.select(pl.struct("period", "team", "player_id").is_unique().all())

    @pa.dataframe_check(error="a player row must name its team")
    def player_has_team(cls, data) -> pl.LazyFrame:
        return data.lazyframe.select((pl.col("player_id").is_null() | pl.col("team").is_not_null()).all())
