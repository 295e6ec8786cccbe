"""ball_state: one row per frame with a ball.

* ``in_play``: the feed's flag where it gives one (tracking.in_play), else true (every frame of the
  table is inside a period).
* ``possession_team``: the team of the closest identified player within 1.5 m of the ball (ties: the
  smallest player_id), kept until a player of the other team is the closest within 1.5 m; null while
  the ball is out of play and before the first touch after it comes back into play (and at each period).
* ``possession_player_id``: that closest player in the frames where one is within 1.5 m, else null.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from footy_assets.core.canonical import fingerprint_column
from footy_assets.core.contracts.derived import BallState
from footy_assets.core.contracts.validation import dtypes
from footy_assets.core.metrics.frame_state import ball_positions, distance_to_ball, identified_players, is_located_ball

CONTROL_RADIUS_M = 1.5

BALL_STATE_SCHEMA: dict[str, pl.DataType] = dtypes(BallState)  # declared once, by the contract


def closest_in_control(tracking: pl.DataFrame, radius_m: float = CONTROL_RADIUS_M) -> pl.DataFrame:
    """Per frame, the closest identified player within ``radius_m`` of the ball: frame_id, team, player_id."""
    return closest_of(identified_players(tracking), ball_positions(tracking), radius_m)


def closest_of(
    people: pl.DataFrame,
    ball: pl.DataFrame,
    radius_m: float = CONTROL_RADIUS_M,
    ball_dist_m: np.ndarray | None = None,
) -> pl.DataFrame:
    """closest_in_control from the identified player rows and the ball's positions (frame_id, x_m, y_m);
    ``ball_dist_m``: each player row's ``distance_to_ball`` (m) where the caller has it already."""
    d = ball_dist_m
    if d is None:
        d = distance_to_ball(people["frame_id"].to_numpy(), people["x_m"].to_numpy(), people["y_m"].to_numpy(), ball)
    near = (
        people.select("frame_id", "team", "player_id")
        .with_columns(ball_dist_m=pl.Series(d, nan_to_null=True))
        .filter(pl.col("ball_dist_m") <= radius_m)
    )
    return (
        near.sort("frame_id", "ball_dist_m", "player_id")
        .group_by("frame_id", maintain_order=True)
        .first()
        .select("frame_id", "team", "player_id")
    )


BALL_COLUMNS = ["match_id", "frame_id", "timestamp_ms", "period", "x_m", "y_m", "z_m", "in_play"]
PEOPLE_COLUMNS = ["frame_id", "team", "player_id", "x_m", "y_m"]


def build_ball_state(tracking: pl.DataFrame, fingerprint: str | None = None) -> pl.DataFrame:
    """ball_state rows of one match from its canonical tracking rows; ``fingerprint`` is their delivery's."""
    if fingerprint is None and "fingerprint" in tracking.columns and tracking.height:
        fingerprint = tracking["fingerprint"][0]  # the delivery the tracking rows come from
    return ball_state_of(
        tracking.filter(is_located_ball()).select(BALL_COLUMNS),
        identified_players(tracking).select(PEOPLE_COLUMNS),
        fingerprint,
    )


def ball_state_of(
    ball_rows: pl.DataFrame, people: pl.DataFrame, fingerprint: str | None, ball_dist_m: np.ndarray | None = None
) -> pl.DataFrame:
    """ball_state from tracking's located ball rows (``BALL_COLUMNS``) and identified player rows
    (``PEOPLE_COLUMNS``): the asset reads the two with a filter each, never the whole table. ``ball_dist_m``:
    each player row's ``distance_to_ball`` (m) where the caller has it already (frame_state needs it too)."""
    ball = ball_rows.sort("frame_id").with_columns(in_play=pl.col("in_play").fill_null(True))
    control = closest_of(people, ball.select("frame_id", "x_m", "y_m"), ball_dist_m=ball_dist_m)
    joined = ball.join(control, on="frame_id", how="left", maintain_order="left")
    # A stretch is a run of consecutive in-play ball frames of one period; possession never carries
    # across out-of-play frames or periods.
    stretch = (
        ((pl.col("in_play") != pl.col("in_play").shift(1)) | (pl.col("period") != pl.col("period").shift(1)))
        .fill_null(True)
        .cum_sum()
    )
    return joined.with_columns(stretch=stretch).select(
        "match_id",
        "frame_id",
        "timestamp_ms",
        "period",
        "x_m",
        "y_m",
        "z_m",
        "in_play",
        possession_team=pl.when(pl.col("in_play")).then(pl.col("team").forward_fill().over("stretch")).cast(pl.Int8),
        possession_player_id=pl.when(pl.col("in_play")).then(pl.col("player_id")),
        fingerprint=fingerprint_column(fingerprint),
    )


__all__ = [
    "BALL_COLUMNS",
    "BALL_STATE_SCHEMA",
    "CONTROL_RADIUS_M",
    "PEOPLE_COLUMNS",
    "ball_state_of",
    "build_ball_state",
    "closest_in_control",
]
