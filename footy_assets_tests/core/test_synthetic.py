"""The synthetic match moves like elite football (the demo's numbers must look like a real match's).

Elite players' match profiles: 9-12 km per 90
minutes, most of it below 4 m/s, high-speed running (5.5-7 m/s) well above sprint distance (> 7 m/s), top
speeds 8.5-10 m/s, accelerations within about 6 m/s^2. The truth's own speeds (frame-to-frame, no smoothing)
are held to these, so the generator cannot drift again.
"""

import numpy as np
import polars as pl
import pytest

from footy_assets.formats import synthetic

SPEC = synthetic.MatchSpec("profile", half_seconds=600.0, fps=25, seed=7)


@pytest.fixture(scope="module")
def moves() -> pl.DataFrame:
    """Per player and frame: speed (m/s) and acceleration (m/s^2) from the truth, within unbroken runs."""
    truth = synthetic.generate_truth(SPEC).filter(pl.col("role").is_in(["player", "goal_keeper"]))
    step = pl.col("frame").diff().over("track", "period")
    frame = truth.sort("track", "period", "frame").with_columns(
        speed=pl.when(step == 1).then(
            (pl.col("x").diff() ** 2 + pl.col("y").diff() ** 2).sqrt().over("track", "period") * SPEC.fps
        )
    )
    return frame.with_columns(accel=pl.when(step == 1).then(pl.col("speed").diff().over("track", "period") * SPEC.fps))


def _distance(frame: pl.DataFrame, lo: float, hi: float = np.inf) -> float:
    return float(frame.filter((pl.col("speed") >= lo) & (pl.col("speed") < hi))["speed"].sum() / SPEC.fps)


def test_top_speeds_are_those_of_elite_players(moves):
    top = moves.group_by("track", "role").agg(pl.col("speed").max())
    outfield = top.filter(pl.col("role") == "player")["speed"]
    assert outfield.max() <= 10.0
    assert ((outfield >= 8.5) & (outfield <= 10.0)).mean() >= 0.75, outfield.sort().to_list()
    assert top.filter(pl.col("role") == "goal_keeper")["speed"].max() < 7.0


def test_distance_is_mostly_below_4_mps_and_high_speed_running_exceeds_sprinting(moves):
    outfield = moves.filter(pl.col("role") == "player")
    total = _distance(outfield, 0.0)
    per_90 = total / outfield["track"].n_unique() / (2 * SPEC.half_seconds / 60) * 90
    assert 8_000 <= per_90 <= 12_000
    assert _distance(outfield, 0.0, 4.0) / total >= 0.6
    hsr, sprint = _distance(outfield, 5.5, 7.0), _distance(outfield, 7.0)
    assert sprint > 0 and hsr >= 1.3 * sprint
    assert _distance(outfield, 4.0, 5.5) > hsr


def test_accelerations_stay_within_human_limits(moves):
    accel = moves["accel"].drop_nulls().abs()
    assert accel.max() <= 6.0
