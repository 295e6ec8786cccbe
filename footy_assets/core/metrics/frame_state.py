"""frame_state: one row per identified player or goal keeper per frame.

Its columns, units and meaning: ``FrameState`` in ``footy_assets/core/contracts/derived.py``.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from footy_assets.core.canonical import fingerprint_column
from footy_assets.core.contracts.derived import FrameState
from footy_assets.core.contracts.validation import dtypes
from footy_assets.core.metrics.clock import match_minute, period_starts, period_time_s
from footy_assets.core.metrics.kinematics import kinematics
from footy_assets.core.metrics.nearest import nearest_opponent

FRAME_STATE_SCHEMA: dict[str, pl.DataType] = dtypes(FrameState)  # declared once, by the contract
PEOPLE = ("player", "goal_keeper")


def is_identified_player() -> pl.Expr:
    """Rows of tracking that frame_state describes: players and goal keepers with a player_id and a pitch
    position (a footy_track feed without a homography has image positions only)."""
    return (
        pl.col("role").is_in(PEOPLE)
        & pl.col("player_id").is_not_null()
        & pl.col("team").is_not_null()
        & pl.col("x_m").is_not_null()
        & pl.col("y_m").is_not_null()
    )


def is_located_ball() -> pl.Expr:
    return (pl.col("role") == "ball") & pl.col("x_m").is_not_null()


def identified_players(tracking: pl.DataFrame) -> pl.DataFrame:
    return tracking.filter(is_identified_player())


def ball_positions(tracking: pl.DataFrame) -> pl.DataFrame:
    return tracking.filter(is_located_ball()).select("frame_id", "x_m", "y_m")


def distance_to_ball(frame_id: np.ndarray, x: np.ndarray, y: np.ndarray, ball: pl.DataFrame) -> np.ndarray:
    """Per row, the distance (m) to the ball of its frame; NaN where that frame has no ball. ``x`` and ``y`` in
    metres; ``ball``: frame_id, x_m, y_m (at most one row per frame)."""
    if ball.height == 0:
        return np.full(frame_id.size, np.nan)
    ball_frame = ball["frame_id"].to_numpy()
    lo = int(min(frame_id.min(initial=ball_frame.min()), ball_frame.min()))
    hi = int(max(frame_id.max(initial=ball_frame.max()), ball_frame.max()))
    x, y = x.astype(np.float64, copy=False), y.astype(np.float64, copy=False)
    if hi - lo > 4 * (frame_id.size + ball.height) + 1_000_000:  # sparse ids: join instead of a dense array
        joined = pl.DataFrame({"frame_id": frame_id}).join(ball, on="frame_id", how="left", maintain_order="left")
        dx = x - joined["x_m"].to_numpy()
        dy = y - joined["y_m"].to_numpy()
    else:  # the ball's x, then its y, per frame id in one dense array, gathered per row; differences in place
        row = frame_id - lo
        dense = np.full(hi - lo + 1, np.nan)
        dense[ball_frame - lo] = ball["x_m"].to_numpy()
        dx = dense.take(row)
        np.subtract(x, dx, out=dx)
        dense[ball_frame - lo] = ball["y_m"].to_numpy()
        dy = dense.take(row)
        np.subtract(y, dy, out=dy)
    return np.hypot(dx, dy, out=dx)


def build_frame_state(
    tracking: pl.DataFrame, fps: int, fingerprint: str | None = None, feed_period_starts: dict | None = None
) -> pl.DataFrame:
    """frame_state rows of one match from its canonical tracking rows (frame order kept); ``fingerprint``
    is the delivery the tracking rows come from; ``feed_period_starts`` the periods' starts (ms) where the
    feed gives them (``FeedInfo.period_start_ms``)."""
    if fingerprint is None and "fingerprint" in tracking.columns and tracking.height:
        fingerprint = tracking["fingerprint"][0]  # the delivery the tracking rows come from
    starts = period_starts(tracking.select("period", "timestamp_ms"), feed_period_starts)
    return frame_state_of(identified_players(tracking), ball_positions(tracking), starts, fps, fingerprint)


def frame_state_of(
    people: pl.DataFrame,
    ball: pl.DataFrame,
    starts: dict[int, int],
    fps: int,
    fingerprint: str | None,
    match_id: str | None = None,
    ball_dist_m: np.ndarray | None = None,
) -> pl.DataFrame:
    """frame_state rows from the identified player rows of tracking (``identified_players``, frame order), the
    ball's positions (``ball_positions``) and the periods' starts {period: ms} (``clock.period_starts``). The
    asset reads the three from the lake with one filter each, never the whole table; it passes ``match_id``
    instead of a column of it in ``people`` (a constant column costs nothing; a read one 15 bytes a row).
    ``ball_dist_m``: each row's ``distance_to_ball`` (m) where the caller has it already (ball_state needs it
    too)."""
    pairs = people.select("team", "player_id").unique()  # one pass over the rows for both teams' ids
    ids = [sorted(pairs.filter(pl.col("team") == t)["player_id"].to_list()) for t in (0, 1)]
    # one code per (team, player_id): home ids in string order, then away ids; a team's slot is its own order
    home = len(ids[0])
    code = (
        people.select(
            pl.when(pl.col("team") == 0)
            .then(pl.col("player_id").cast(pl.Enum(ids[0]), strict=False).to_physical())
            .otherwise(pl.col("player_id").cast(pl.Enum(ids[1]), strict=False).to_physical().cast(pl.Int64) + home)
            .cast(pl.Int64)
        )
        .to_series()
        .to_numpy()
    )
    frame_id = people["frame_id"].to_numpy()
    period = people["period"].to_numpy()
    team = people["team"].to_numpy()
    x = people["x_m"].to_numpy().astype(np.float64)
    y = people["y_m"].to_numpy().astype(np.float64)
    # Each result becomes its Float32 column as soon as it is computed, and the float64 arrays are dropped: a full
    # match has 3 M rows, 24 MB per array.
    kin = kinematics(code, period, frame_id, x, y, fps)
    speed_mps = _float32(kin.speed_mps)
    accel_mps2 = _float32(kin.accel_mps2)
    # a glitch's "distance" is the jump, not running: no distance on invalid frames
    distance_m = _float32(np.where(kin.valid, kin.speed_mps / fps, np.nan))
    valid = pl.Series(kin.valid)
    del kin
    slot = np.where(team == 0, code, code - home)
    del code
    near = nearest_opponent(frame_id, team, slot, x, y, (len(ids[0]), len(ids[1])))
    del slot
    # the opponent's code: an away slot follows the home ids
    opponent_code = np.where(near.opponent < 0, -1, np.where(team == 0, near.opponent + home, near.opponent))
    nearest_opp_id = pl.Series(ids[0] + ids[1], dtype=pl.String).gather(
        pl.Series(opponent_code).set(pl.Series(opponent_code < 0), None)
    )
    nearest_opp_dist_m = _float32(near.distance_m)
    del near, opponent_code
    ball_dist_m = _float32(distance_to_ball(frame_id, x, y, ball) if ball_dist_m is None else ball_dist_m)
    del x, y
    clock = period_time_s(starts)
    computed = [
        speed_mps.alias("speed_mps"),
        valid.alias("valid"),
        accel_mps2.alias("accel_mps2"),
        distance_m.alias("distance_m"),
        nearest_opp_id.alias("nearest_opp_id"),
        nearest_opp_dist_m.alias("nearest_opp_dist_m"),
        ball_dist_m.alias("ball_dist_m"),
    ]
    # the computed columns join the rows side by side (no copy), then the columns take the table's order
    return (
        people.select(
            pl.col("match_id") if match_id is None else pl.lit(match_id, pl.String).alias("match_id"),
            "frame_id",
            "timestamp_ms",
            "period",
            clock.alias("period_time_s"),
            match_minute(clock).alias("match_minute"),
            "player_id",
            "team",
            "role",
            "x_m",
            "y_m",
            fps=pl.lit(fps, dtype=pl.Int16),
            fingerprint=fingerprint_column(fingerprint),
        )
        .hstack(computed)
        .select(list(FRAME_STATE_SCHEMA))
    )


def _float32(values: np.ndarray) -> pl.Series:
    """A Float32 column of float64 results, NaN as null."""
    return pl.Series(values.astype(np.float32), nan_to_null=True)


__all__ = ["FRAME_STATE_SCHEMA", "build_frame_state", "frame_state_of"]
