"""Data-quality checks per match: pure functions over polars frames, wired into assets as asset checks.

Each returns ``(passed, metadata)``. Which checks block downstream assets is decided where they are
declared (footy_assets/chain/checks.py): a failure that would poison downstream numbers blocks.
"""

from __future__ import annotations

import polars as pl

from footy_assets.core.canonical import duplicate_players

PITCH_MARGIN_M = 5.0
MAX_PLAUSIBLE_SPEED_MPS = 12.0
MAX_BALL_MISSING_SHARE = 0.05  # ball_tracked warns above this share of frames without the ball
PEOPLE = ("player", "goal_keeper", "referee")


def no_duplicate_player_frames(tracking: pl.DataFrame) -> tuple[bool, dict]:
    """No player_id twice in one frame (a duplicate would double-count distance and break speeds)."""
    dup = duplicate_players(tracking)
    return dup.height == 0, {"duplicated_player_frames": dup.height, "examples": dup.head(5).to_dicts()}


def positions_on_pitch(
    tracking: pl.DataFrame, length_m: float, width_m: float, margin_m: float = PITCH_MARGIN_M
) -> tuple[bool, dict]:
    """Players, goal keepers and referees within the pitch plus ``margin_m`` (the ball may leave it)."""
    outside = (pl.col("x_m").abs() > length_m / 2 + margin_m) | (pl.col("y_m").abs() > width_m / 2 + margin_m)
    # the offending rows' few columns only: filtering the frame itself copied every column of 3 M rows
    off = (
        tracking.lazy()
        .filter(pl.col("role").is_in(PEOPLE) & outside)
        .select("frame_id", "role", "player_id", "track_id", "x_m", "y_m")
        .collect()
    )
    return off.height == 0, {
        "rows_off_pitch": off.height,
        "margin_m": margin_m,
        "examples": off.select("frame_id", "role", "player_id", "track_id", "x_m", "y_m").head(5).to_dicts(),
    }


def ball_tracked(tracking: pl.DataFrame, max_missing_share: float = MAX_BALL_MISSING_SHARE) -> tuple[bool, dict]:
    """The ball is tracked in all but ``max_missing_share`` of the frames: every feed loses it for a few frames
    (occlusions), so a handful of frames without it passes; the count and the first of them are reported."""
    frames = tracking["frame_id"].unique()
    with_ball = (
        tracking.lazy().filter(pl.col("role") == "ball").select(pl.col("frame_id").unique()).collect().to_series()
    )
    missing = frames.drop_nulls().to_frame().join(with_ball.to_frame(), on="frame_id", how="anti")["frame_id"].sort()
    return missing.len() <= max_missing_share * frames.len(), {
        "max_share_without_ball": max_missing_share,
        "frames": frames.len(),
        "frames_without_ball": missing.len(),
        "share_without_ball": round(missing.len() / max(frames.len(), 1), 5),
        "first_frames_without_ball": missing.head(10).to_list(),
    }


def speeds_plausible(frame_state: pl.DataFrame, limit_mps: float = MAX_PLAUSIBLE_SPEED_MPS) -> tuple[bool, dict]:
    """No smoothed speed above ``limit_mps``; the worst frames are listed to find the tracking error."""
    speeds = frame_state.select("frame_id", "player_id", "speed_mps")  # not a copy of every column below
    fast = int((speeds["speed_mps"] > limit_mps).sum())
    # lazily: the filter feeds top_k without a copy of every row that has a speed
    worst = speeds.lazy().filter(pl.col("speed_mps").is_not_null()).top_k(5, by="speed_mps").collect()
    return fast == 0, {
        "limit_mps": limit_mps,
        "frames_above_limit": fast,
        "top_speed_mps": float(worst["speed_mps"][0]) if worst.height else None,
        "worst_frames": worst.select("frame_id", "player_id", "speed_mps").to_dicts(),
    }


def frame_state_covers_tracking(frame_state_rows: int, tracking: pl.DataFrame) -> tuple[bool, dict]:
    """frame_state has one row for every identified player or goal keeper row of tracking that has a position."""
    from footy_assets.core.metrics.frame_state import identified_players

    return frame_state_covers(frame_state_rows, identified_players(tracking).height)


def frame_state_covers(frame_state_rows: int, tracking_player_rows: int) -> tuple[bool, dict]:
    """frame_state_covers_tracking from the count of tracking's identified player rows."""
    return (
        frame_state_rows == tracking_player_rows,
        {"frame_state_rows": frame_state_rows, "tracking_player_rows": tracking_player_rows},
    )
