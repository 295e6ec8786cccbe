"""Contracts of the derived tables: frame_state, ball_state, intervals, match_quality and the three summaries.

Each table is declared here once: its columns in order, their dtypes (``dtypes(Model)`` is the polars schema the
lake writes), their checks, and a description of each (unit first, meaning, when it is null).
"""

import pandera.polars as pa
import polars as pl

from footy_assets.core.contracts.checks import (
    FINGERPRINT_DOC,
    FRAME_ID_DOC,
    PERIOD_DOC,
    PLAYER_ID,
    PLAYER_ID_DOC,
    TEAM_DOC,
    TIMESTAMP_DOC,
    X_DOC,
    Y_DOC,
    PerMatchTable,
    all_of,
    distinct_values_match,
    once_per_frame,
)

PERIOD_TIME_DOC = (
    "s since the start of the period: where the feed says (cdf meta start frames, sportvu's game "
    "clock), else the period's first frame in tracking"
)
MINUTE_DOC = (
    "min: the match minute as event data counts it, 0 at kick-off, 45 at the start of the second half, "
    "90 and 105 in extra time; added time keeps counting (47 in the first half is its third added minute)"
)
VALID_ONLY = " (valid frames only)"
SPEED_WINDOW = "the 9 frames its speed is smoothed from"


class FrameState(PerMatchTable):
    """frame_state: one row per identified player or goal keeper (player_id, team and a pitch position) per frame."""

    frame_id: pl.Int64 = pa.Field(ge=0, description=FRAME_ID_DOC)
    timestamp_ms: pl.Int64 = pa.Field(ge=0, description=TIMESTAMP_DOC)
    period: pl.Int8 = pa.Field(isin=[1, 2, 3, 4, 5], description=PERIOD_DOC)
    period_time_s: pl.Float32 = pa.Field(ge=0, description=PERIOD_TIME_DOC)
    match_minute: pl.Int16 = pa.Field(ge=0, description=MINUTE_DOC)
    player_id: str = pa.Field(description=PLAYER_ID_DOC)
    team: pl.Int8 = pa.Field(isin=[0, 1], description=TEAM_DOC)
    role: str = pa.Field(isin=["player", "goal_keeper"], description="player or goal_keeper (tracking's role)")
    x_m: pl.Float32 = pa.Field(description=X_DOC)
    y_m: pl.Float32 = pa.Field(description=Y_DOC)
    speed_mps: pl.Float32 = pa.Field(
        nullable=True,
        ge=0.0,
        description="m/s: hypot(vx, vy), vx and vy the "
        "Savitzky-Golay (window 9, order 2) first derivatives of x_m and y_m over the "
        "track segment (a run of one player's consecutive frames in one period); the 4 "
        "frames at each end of a segment from the segment's own polynomial; null on "
        "segments shorter than 9 frames. Glitches included: use it where valid",
    )
    valid: pl.Boolean = pa.Field(
        description="the speed can be trusted: speed_mps is not null, and "
        + SPEED_WINDOW
        + " hold no raw step faster than 12 m/s, no speed above 12 m/s and no |accel_mps2| "
        "above 12 m/s^2 (identity swaps, jumps and jitter of the tracking)"
    )
    accel_mps2: pl.Float32 = pa.Field(
        nullable=True,
        description="m/s^2: tangential acceleration, the rate of change "
        "of the speed (the SG(9, 2) second derivative projected on the velocity, "
        "(v.a)/|v|); 0 where the speed is 0, null where speed_mps is null",
    )
    distance_m: pl.Float32 = pa.Field(
        nullable=True,
        ge=0.0,
        description="m covered in the frame: speed_mps / fps; null where valid is false (a jump is not running)",
    )
    nearest_opp_id: str = pa.Field(
        nullable=True,
        description="player_id of the closest player or goal keeper of the "
        "other team in the frame (Euclidean, unsmoothed x_m and y_m; ties: the smallest "
        "player_id as text); null when the frame has no opponent",
    )
    nearest_opp_dist_m: pl.Float32 = pa.Field(
        nullable=True, ge=0.0, description="m to nearest_opp_id (unsmoothed positions); null when nearest_opp_id is"
    )
    ball_dist_m: pl.Float32 = pa.Field(
        nullable=True,
        ge=0.0,
        description="m to the ball (unsmoothed positions); null when the frame has no located ball",
    )
    fps: pl.Int16 = pa.Field(ge=1, le=100, description="1/s: frames per second of the feed (minutes = rows / fps / 60)")
    fingerprint: pl.Categorical = pa.Field(description=FINGERPRINT_DOC)

    @pa.dataframe_check(error="player_id and nearest_opp_id must look like '0-10'")
    def ids_format(cls, data) -> pl.LazyFrame:
        return all_of(
            distinct_values_match(data.lazyframe, "player_id", PLAYER_ID),
            distinct_values_match(data.lazyframe, "nearest_opp_id", PLAYER_ID),
        )

    @pa.dataframe_check(error="player_id must belong to team, and nearest_opp_id to the other team")
    def teams_consistent(cls, data) -> pl.LazyFrame:
        pairs = data.lazyframe.select("team", "player_id", "nearest_opp_id").unique()
        own = pl.col("player_id").str.head(1) == pl.col("team").cast(pl.String)
        other = pl.col("nearest_opp_id").is_null() | (
            pl.col("nearest_opp_id").str.head(1) != pl.col("team").cast(pl.String)
        )
        return pairs.select((own & other).all())

    @pa.dataframe_check(error="a player appears twice in one frame")
    def one_row_per_player_per_frame(cls, data) -> pl.LazyFrame:
        return once_per_frame(data.lazyframe, "player_id")


class BallState(PerMatchTable):
    """ball_state: one row per frame with a located ball."""

    frame_id: pl.Int64 = pa.Field(ge=0, unique=True, description=FRAME_ID_DOC)
    timestamp_ms: pl.Int64 = pa.Field(ge=0, description=TIMESTAMP_DOC)
    period: pl.Int8 = pa.Field(isin=[1, 2, 3, 4, 5], description=PERIOD_DOC)
    x_m: pl.Float32 = pa.Field(description="the ball: " + X_DOC)
    y_m: pl.Float32 = pa.Field(description="the ball: " + Y_DOC)
    z_m: pl.Float32 = pa.Field(
        nullable=True, description="m above the ground: the ball's height; null where the feed gives none"
    )
    in_play: pl.Boolean = pa.Field(
        description="the ball is in play: the feed's flag (tracking.in_play) where it "
        "gives one, else true (every frame of the table is inside a period)"
    )
    possession_team: pl.Int8 = pa.Field(
        nullable=True,
        isin=[0, 1],
        description="0 home, 1 away: the team of the "
        "closest identified player within 1.5 m of the ball (ties: the smallest "
        "player_id), kept until a player of the other team is the closest within "
        "1.5 m; null while the ball is out of play, and after each restart and "
        "period start until the first touch",
    )
    possession_player_id: str = pa.Field(
        nullable=True,
        str_matches=PLAYER_ID,
        description="the closest identified "
        "player within 1.5 m of the ball in this frame, '{team}-{jersey}'; null when "
        "no one is that close",
    )
    fingerprint: pl.Categorical = pa.Field(description=FINGERPRINT_DOC)

    @pa.dataframe_check(error="no possession while the ball is out of play")
    def no_possession_out_of_play(cls, data) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("in_play") | pl.col("possession_team").is_null())


class Intervals(PerMatchTable):
    """intervals: one row per interval of a named definition (footy_assets/core/metrics/interval_catalog.json) and
    player: a maximal run of the player's consecutive frames of one period where the definition's predicate holds
    (bounds inclusive, null never matching, on speed_mps, accel_mps2 and distance_m valid frames only), as long as
    the definition's minimum duration or longer."""

    definition: str = pa.Field(
        description="the definition's name in footy_assets/core/metrics/interval_catalog.json: "
        "sprint, high_speed_run, pressing, acceleration, deceleration"
    )
    label: str = pa.Field(description="the predicate as the filter API writes it, e.g. 'speed_mps >=7.0'")
    column: str = pa.Field(description="the frame_state column the predicate is on")
    player_id: str = pa.Field(str_matches=PLAYER_ID, description=PLAYER_ID_DOC)
    team: pl.Int8 = pa.Field(isin=[0, 1], description=TEAM_DOC)
    period: pl.Int8 = pa.Field(isin=[1, 2, 3, 4, 5], description=PERIOD_DOC)
    first_frame_id: pl.Int64 = pa.Field(description="frame_id of the interval's first frame")
    last_frame_id: pl.Int64 = pa.Field(description="frame_id of the interval's last frame")
    start_s: pl.Float64 = pa.Field(ge=0, description="s on the match clock: the first frame's timestamp_ms / 1000")
    end_s: pl.Float64 = pa.Field(
        ge=0,
        description="s on the match clock: (the last frame's timestamp_ms + 1000 / "
        "fps) / 1000, the end of the last frame",
    )
    period_start_s: pl.Float64 = pa.Field(
        ge=0, description="s on the match clock: the start of the period (as frame_state.period_time_s counts it)"
    )
    start_period_time_s: pl.Float64 = pa.Field(ge=0, description="s since the start of the period, at start_s")
    end_period_time_s: pl.Float64 = pa.Field(gt=0, description="s since the start of the period, at end_s")
    match_minute: pl.Int16 = pa.Field(ge=0, description=MINUTE_DOC + "; at start_s")
    duration_ms: pl.Float64 = pa.Field(gt=0, description="ms: frames x 1000 / fps")
    frames: pl.Int64 = pa.Field(ge=1, description="frames in the interval: last_frame_id - first_frame_id + 1")
    peak: pl.Float64 = pa.Field(
        description="the column's extreme in the interval, in the column's unit (m/s, m/s^2 "
        "or m): its maximum, or its minimum for a predicate with an upper bound only"
    )
    mean: pl.Float64 = pa.Field(description="the column's mean over the interval's frames, in the column's unit")
    distance_m: pl.Float64 = pa.Field(
        nullable=True,
        ge=0,
        description="m covered during the interval: "
        "frame_state.distance_m added up over its frames (null distances count 0)",
    )
    fingerprint: pl.Categorical = pa.Field(description=FINGERPRINT_DOC)

    @pa.dataframe_check(error="an interval must end after it starts and span its frames")
    def consistent(cls, data) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("end_s") > pl.col("start_s"))
            & (pl.col("last_frame_id") - pl.col("first_frame_id") + 1 == pl.col("frames"))
        )


ZONES = {"0_2": "[0, 2)", "2_4": "[2, 4)", "4_5_5": "[4, 5.5)", "5_5_7": "[5.5, 7)", "7_plus": "[7, inf)"}


def _zone_doc(zone: str, whose: str = "") -> str:
    """The description of a speed zone's distance column (``whose``: by whom, after "m covered")."""
    return f"m covered{whose} at speeds in {ZONES[zone]} m/s; the five zones add up to distance_m" + VALID_ONLY


MINUTES_TRACKED_DOC = "min: his frames / fps / 60"
TOP_SPEED_DOC = "m/s: the highest valid speed_mps; null when there is no valid frame"
SPRINTS_DOC = "sprint intervals (speed_mps >= 7 m/s for 1 s or more)"
HIGH_SPEED_RUNS_DOC = "high_speed_run intervals (5.5 <= speed_mps <= 7 m/s for 1 s or more)"
PRESSING_DOC = "s: the pressing intervals' durations added up (within 2 m of the nearest opponent for 0.5 s or more)"
ACCELERATIONS_DOC = "acceleration intervals (accel_mps2 >= 3 m/s^2 for 0.5 s or more)"
DECELERATIONS_DOC = "deceleration intervals (accel_mps2 <= -3 m/s^2 for 0.5 s or more)"


class PlayerPeriodSummary(PerMatchTable):
    """player_period_summary: one row per player per period (chain/sql_models/player_period_summary.sql)."""

    player_id: str = pa.Field(str_matches=PLAYER_ID, description=PLAYER_ID_DOC)
    period: pl.Int8 = pa.Field(isin=[1, 2, 3, 4, 5], description=PERIOD_DOC)
    team: pl.Int8 = pa.Field(isin=[0, 1], description=TEAM_DOC)
    role: str = pa.Field(
        isin=["player", "goal_keeper"],
        description="player or goal_keeper: his role in most of his frames of the period (a tie: goal_keeper)",
    )
    first_match_minute: pl.Int16 = pa.Field(ge=0, description=MINUTE_DOC + "; at his first frame of the period")
    on_period_time_s: pl.Float64 = pa.Field(
        ge=0, description="s on the period's clock (period_time_s) when he is first seen: a substitute comes on late"
    )
    off_period_time_s: pl.Float64 = pa.Field(
        gt=0,
        description="s on the period's clock when he is last seen, plus one frame: a replaced player goes off early",
    )
    minutes_played: pl.Float64 = pa.Field(
        ge=0, description="min on the pitch: from his first to his last frame of the period, drop-outs included"
    )
    minutes_tracked: pl.Float64 = pa.Field(ge=0, description=MINUTES_TRACKED_DOC)
    distance_m: pl.Float64 = pa.Field(ge=0, description="m covered" + VALID_ONLY)
    distance_0_2_mps_m: pl.Float64 = pa.Field(ge=0, description=_zone_doc("0_2"))
    distance_2_4_mps_m: pl.Float64 = pa.Field(ge=0, description=_zone_doc("2_4"))
    distance_4_5_5_mps_m: pl.Float64 = pa.Field(ge=0, description=_zone_doc("4_5_5"))
    distance_5_5_7_mps_m: pl.Float64 = pa.Field(ge=0, description=_zone_doc("5_5_7") + ": high-speed running")
    distance_7_plus_mps_m: pl.Float64 = pa.Field(ge=0, description=_zone_doc("7_plus") + ": sprinting")
    top_speed_mps: pl.Float64 = pa.Field(nullable=True, ge=0, description=TOP_SPEED_DOC)
    sprints: pl.Int64 = pa.Field(ge=0, description=SPRINTS_DOC)
    high_speed_runs: pl.Int64 = pa.Field(ge=0, description=HIGH_SPEED_RUNS_DOC)
    pressing_s: pl.Float64 = pa.Field(ge=0, description=PRESSING_DOC)
    accelerations: pl.Int64 = pa.Field(ge=0, description=ACCELERATIONS_DOC)
    decelerations: pl.Int64 = pa.Field(ge=0, description=DECELERATIONS_DOC)
    fingerprint: str = pa.Field(description=FINGERPRINT_DOC)

    @pa.dataframe_check(error="one row per player and period")
    def one_row_per_player_and_period(cls, data) -> pl.LazyFrame:
        return data.lazyframe.select(pl.struct("player_id", "period").is_unique().all())


class PlayerMatchSummary(PerMatchTable):
    """player_match_summary: one row per player per match, his periods of player_period_summary added up
    (chain/sql_models/player_match_summary.sql)."""

    player_id: str = pa.Field(str_matches=PLAYER_ID, unique=True, description=PLAYER_ID_DOC)
    player_name: str = pa.Field(
        nullable=True,
        description="his short name on the match sheet (lineups."
        "short_name); null where the match has no lineup or he is not on it",
    )
    team: pl.Int8 = pa.Field(isin=[0, 1], description=TEAM_DOC)
    role: str = pa.Field(
        isin=["player", "goal_keeper"], description="player or goal_keeper: his role in the period he played longest in"
    )
    periods: pl.Int64 = pa.Field(ge=1, description="periods he appears in")
    minutes_played: pl.Float64 = pa.Field(
        ge=0, description="min on the pitch: from his first to his last frame of each period, added up"
    )
    minutes_tracked: pl.Float64 = pa.Field(ge=0, description=MINUTES_TRACKED_DOC)
    distance_m: pl.Float64 = pa.Field(ge=0, description="m covered" + VALID_ONLY)
    distance_0_2_mps_m: pl.Float64 = pa.Field(ge=0, description=_zone_doc("0_2"))
    distance_2_4_mps_m: pl.Float64 = pa.Field(ge=0, description=_zone_doc("2_4"))
    distance_4_5_5_mps_m: pl.Float64 = pa.Field(ge=0, description=_zone_doc("4_5_5"))
    distance_5_5_7_mps_m: pl.Float64 = pa.Field(ge=0, description=_zone_doc("5_5_7") + ": high-speed running")
    distance_7_plus_mps_m: pl.Float64 = pa.Field(ge=0, description=_zone_doc("7_plus") + ": sprinting")
    top_speed_mps: pl.Float64 = pa.Field(nullable=True, ge=0, description=TOP_SPEED_DOC)
    sprints: pl.Int64 = pa.Field(ge=0, description=SPRINTS_DOC)
    high_speed_runs: pl.Int64 = pa.Field(ge=0, description=HIGH_SPEED_RUNS_DOC)
    pressing_s: pl.Float64 = pa.Field(ge=0, description=PRESSING_DOC)
    accelerations: pl.Int64 = pa.Field(ge=0, description=ACCELERATIONS_DOC)
    decelerations: pl.Int64 = pa.Field(ge=0, description=DECELERATIONS_DOC)
    fingerprint: str = pa.Field(description=FINGERPRINT_DOC)


class TeamMatchSummary(PerMatchTable):
    """team_match_summary: one row per team per match, its players' player_match_summary rows added up
    (chain/sql_models/team_match_summary.sql)."""

    team: pl.Int8 = pa.Field(isin=[0, 1], unique=True, description=TEAM_DOC)
    players: pl.Int64 = pa.Field(ge=1, description="players and goal keepers of the team seen in the match")
    minutes_played: pl.Float64 = pa.Field(ge=0, description="min: the players' minutes_played added up")
    minutes_tracked: pl.Float64 = pa.Field(ge=0, description="min: the players' minutes_tracked added up")
    distance_m: pl.Float64 = pa.Field(ge=0, description="m covered by the team's players" + VALID_ONLY)
    distance_0_2_mps_m: pl.Float64 = pa.Field(ge=0, description=_zone_doc("0_2", " by the team's players"))
    distance_2_4_mps_m: pl.Float64 = pa.Field(ge=0, description=_zone_doc("2_4", " by the team's players"))
    distance_4_5_5_mps_m: pl.Float64 = pa.Field(ge=0, description=_zone_doc("4_5_5", " by the team's players"))
    distance_5_5_7_mps_m: pl.Float64 = pa.Field(ge=0, description=_zone_doc("5_5_7", " by the team's players"))
    distance_7_plus_mps_m: pl.Float64 = pa.Field(ge=0, description=_zone_doc("7_plus", " by the team's players"))
    top_speed_mps: pl.Float64 = pa.Field(
        nullable=True,
        ge=0,
        description="m/s: the highest valid speed_mps of the team's players; null when none has a valid frame",
    )
    sprints: pl.Int64 = pa.Field(ge=0, description="the players' " + SPRINTS_DOC)
    high_speed_runs: pl.Int64 = pa.Field(ge=0, description="the players' " + HIGH_SPEED_RUNS_DOC)
    pressing_s: pl.Float64 = pa.Field(ge=0, description="s: the players' pressing_s added up")
    accelerations: pl.Int64 = pa.Field(ge=0, description="the players' " + ACCELERATIONS_DOC)
    decelerations: pl.Int64 = pa.Field(ge=0, description="the players' " + DECELERATIONS_DOC)
    possession_share: pl.Float64 = pa.Field(
        nullable=True,
        ge=0,
        le=1,
        description="0-1: frames in which the team "
        "has possession / frames in which either team has it (ball_state."
        "possession_team); null when the team never has possession",
    )
    fingerprint: str = pa.Field(description=FINGERPRINT_DOC)


class MatchQuality(PerMatchTable):
    """match_quality: what a club reads to decide whether a match can be trusted. One row per period and
    identified player, one per period and team (player_id null: the team's totals, its unidentified rows
    included), and one per period for the whole match (team and player_id null: people whose team is unknown
    too)."""

    period: pl.Int8 = pa.Field(isin=[1, 2, 3, 4, 5], description=PERIOD_DOC)
    team: pl.Int8 = pa.Field(nullable=True, isin=[0, 1], description="0 home, 1 away; null on the whole-match rows")
    player_id: str = pa.Field(
        nullable=True, str_matches=PLAYER_ID, description=PLAYER_ID_DOC + "; null on the team and whole-match rows"
    )
    rows: pl.Int64 = pa.Field(
        ge=0,
        description="tracked rows: a player's frame_state rows; a team's player and goal "
        "keeper rows of tracking, identified or not; the whole match's, team known or not",
    )
    minutes_tracked: pl.Float64 = pa.Field(ge=0, description="min: rows / fps / 60")
    frames_without_ball: pl.Int64 = pa.Field(ge=0, description="frames of the rows in which the ball is not tracked")
    dropouts: pl.Int64 = pa.Field(
        ge=0,
        description="breaks: a player missing for a frame or more and back in the "
        "same period (team and whole-match rows: their players' breaks added up)",
    )
    dropout_s: pl.Float64 = pa.Field(ge=0, description="s: the total length of those breaks (missed frames / fps)")
    invalid_frames: pl.Int64 = pa.Field(
        ge=0, description="frame_state rows whose speed cannot be trusted (valid = false, short segments included)"
    )
    invalid_share: pl.Float64 = pa.Field(
        nullable=True,
        ge=0,
        le=1,
        description="0-1: invalid_frames / identified rows (frame_state rows); null when there are none",
    )
    unidentified_share: pl.Float64 = pa.Field(
        nullable=True, ge=0, le=1, description="0-1: share of the rows without a player_id; null on player rows"
    )
    id_confidence_p10: pl.Float64 = pa.Field(
        nullable=True,
        ge=0,
        le=1,
        description="0-1: 10th percentile of the "
        "vendor's identification confidence (tracking.id_confidence) over the "
        "rows; null where it gives none",
    )
    id_confidence_p50: pl.Float64 = pa.Field(
        nullable=True, ge=0, le=1, description="0-1: median identification confidence; null where the vendor gives none"
    )
    id_confidence_p90: pl.Float64 = pa.Field(
        nullable=True,
        ge=0,
        le=1,
        description="0-1: 90th percentile of the identification confidence; null where the vendor gives none",
    )
    rows_off_pitch: pl.Int64 = pa.Field(
        ge=0,
        description="tracking rows outside the pitch lines (|x_m| above half the length or |y_m| above half the width)",
    )
    top_speed_mps: pl.Float64 = pa.Field(nullable=True, ge=0, description=TOP_SPEED_DOC)
    fingerprint: pl.Categorical = pa.Field(description=FINGERPRINT_DOC)

    @pa.dataframe_check(error="one row per period and player, one per period and team, one per period")
    def one_row_per_key(cls, data) -> pl.LazyFrame:
        return data.lazyframe.select(pl.struct("period", "team", "player_id").is_unique().all())

    @pa.dataframe_check(error="a player row must name its team")
    def player_has_team(cls, data) -> pl.LazyFrame:
        return data.lazyframe.select((pl.col("player_id").is_null() | pl.col("team").is_not_null()).all())
