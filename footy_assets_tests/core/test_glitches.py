"""Glitches that stay under the 12 m/s step threshold: jitter and swaps a broadcast tracker makes,
amplified at a segment's edge, must not reach a summary, an interval or match_quality's top speed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy.signal import savgol_filter

from footy_assets.core.metrics.kinematics import MAX_ACCEL_MPS2, MAX_SPEED_MPS, kinematics
from footy_assets.formats import synthetic
from footy_assets.lake.sql import run_sql
from footy_assets.orchestration.runner import materialize_lake
from footy_assets_tests.helpers import SAMPLES, land_sample

OLD_RULE = {"max_speed_mps": np.inf, "max_accel_mps2": np.inf}  # steps only: the rule before speed and acceleration
OUT_AND_BACK = np.cumsum([1.1, 1.1, 1.1, -1.1, -1.1, -1.1, -1.1, -1.1])  # steps of 1.1 m: 11 m/s at 10 fps


def _quiet(_line):
    pass


def _walk_with_edge_jitter(fps: int = 10, n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    x = np.arange(n) * 1.5 / fps  # jogging at 1.5 m/s ...
    x[-8:] = x[-9] + OUT_AND_BACK  # ... then out and back in its last 8 frames: no step above 11 m/s
    return x, np.zeros(n)


def test_edge_jitter_under_the_step_threshold_is_invalid():
    fps = 10
    x, y = _walk_with_edge_jitter(fps)
    assert np.abs(np.diff(x)).max() * fps <= 11.0 + 1e-9
    n = x.size
    args = (np.zeros(n, np.int32), np.ones(n, np.int8), np.arange(n), x, y, fps)
    old, new = kinematics(*args, **OLD_RULE), kinematics(*args)
    # the parabola fitted to the segment's last 9 frames: its slope at the end is ~1.9 x the steps' speed
    assert old.speed_mps[-1] > 18 and old.valid[-1]  # the old rule trusted it
    np.testing.assert_allclose(new.speed_mps, old.speed_mps)  # speed_mps stays the plain SG value
    np.testing.assert_allclose(new.speed_mps, np.abs(savgol_filter(x, 9, 2, deriv=1, delta=1 / fps)), atol=1e-9)
    assert new.speed_mps[new.valid].max() <= MAX_SPEED_MPS
    assert np.abs(new.accel_mps2[new.valid]).max() <= MAX_ACCEL_MPS2
    assert new.valid[: n - 20].all()  # the jog before stays valid


def test_interior_jitter_is_invalid_by_its_acceleration_and_exactly_over_the_window():
    fps, n = 10, 80
    x = np.arange(n) * 1.5 / fps
    x[40:46] += [1.0, 2.0, 3.0, 2.0, 1.0, 0.0]  # 0.6 s out and back (steps <= 11.5 m/s): |accel| is no human's
    y = np.zeros(n)
    args = (np.zeros(n, np.int32), np.ones(n, np.int8), np.arange(n), x, y, fps)
    old, new = kinematics(*args, **OLD_RULE), kinematics(*args)
    assert old.valid.all() and np.nanmax(old.speed_mps) < 12 and np.abs(old.accel_mps2).max() > 30
    bad = np.flatnonzero(np.abs(new.accel_mps2) > MAX_ACCEL_MPS2)
    expected = sorted({i for b in bad for i in range(b - 4, b + 5)})  # every row whose window holds one
    assert np.flatnonzero(~new.valid).tolist() == expected
    assert np.abs(new.accel_mps2[new.valid]).max() <= MAX_ACCEL_MPS2


def test_synthetic_truth_stays_valid():
    """Realistic runs (top speeds 7-10 m/s) are never taken for glitches, at 25 and at 10 fps."""
    for fps in (25, 10):
        truth = synthetic.generate_truth(synthetic.MatchSpec("syn", half_seconds=120.0, fps=fps, seed=5))
        people = truth.filter(pl.col("role").is_in(["player", "goal_keeper"]))
        code = people["track"].cast(pl.Categorical).to_physical().to_numpy().astype(np.int64)
        k = kinematics(
            code,
            people["period"].to_numpy(),
            people["frame"].to_numpy(),
            people["x"].to_numpy(),
            people["y"].to_numpy(),
            fps,
        )
        known = ~np.isnan(k.speed_mps)
        assert k.valid[known].all()
        assert 7.0 <= np.nanmax(k.speed_mps) <= 10.5


def _edit_player(path: Path, player_id: str, edits: dict[int, tuple[float, float]]) -> None:
    """Set a player's position in the given frame lines of a CDF tracking file."""
    lines = path.read_text().splitlines()
    for line, (x, y) in edits.items():
        doc = json.loads(lines[line])
        for side in ("home", "away"):
            for p in doc["teams"][side]["players"]:
                if str(p["id"]) == player_id:
                    p["x"], p["y"] = round(x, 2), round(y, 2)
        lines[line] = json.dumps(doc)
    path.write_text("\n".join(lines) + "\n")


def _positions(path: Path, player_id: str) -> np.ndarray:
    out = []
    for line in path.read_text().splitlines():
        doc = json.loads(line)
        out.append(
            next(
                (p["x"], p["y"])
                for side in ("home", "away")
                for p in doc["teams"][side]["players"]
                if str(p["id"]) == player_id
            )
        )
    return np.array(out, dtype=float)


@pytest.mark.slow
def test_real_sample_with_sub_threshold_glitches_shows_no_impossible_speed(lake, instance):
    """The real SkillCorner sample (10 fps) with two glitches no raw step above 12 m/s betrays: one player jitters
    out and back in the last 8 frames of his track (the edge's parabola makes ~20 m/s of it), another in the
    middle (accelerations of 30+ m/s^2). The old rule kept both valid: its summary showed the edge's speed."""
    folder = land_sample(lake, "cdf", "skillcorner_1925299")
    tracking = folder / "tracking.jsonl"
    first = json.loads(tracking.read_text().splitlines()[0])
    edge, middle = (str(first["teams"]["home"]["players"][i]["id"]) for i in (4, 8))
    xy = _positions(tracking, edge)  # stands where he is at frame 92, then out and back along x
    _edit_player(tracking, edge, {93 + k: (xy[92, 0] + d, xy[92, 1]) for k, d in enumerate(OUT_AND_BACK)})
    xy = _positions(tracking, middle)  # 2.1 m out and back within 0.6 s of his own run
    _edit_player(
        tracking, middle, {40 + k: (xy[40 + k, 0] + d, xy[40 + k, 1]) for k, d in enumerate([0.7, 1.4, 2.1, 1.4, 0.7])}
    )
    periods = np.array([json.loads(line)["period"] for line in tracking.read_text().splitlines()])
    for victim in (edge, middle):
        steps = np.hypot(*np.diff(_positions(tracking, victim), axis=0).T)[periods[1:] == periods[:-1]]
        assert steps.max() * 10 <= 12.0  # the old rule sees no glitch
    assert all(o.ok for o in materialize_lake(lake, instance, progress=_quiet))
    raw = run_sql(lake, "SELECT max(speed_mps) AS v FROM frame_state").item()
    assert raw > 15  # speed_mps is the plain SG value, glitch included: the old rule called it valid ...
    top = run_sql(lake, "SELECT max(top_speed_mps) AS v FROM player_match_summary").item()
    assert top <= 12.5  # ... and the summary showed it
    assert run_sql(lake, "SELECT max(top_speed_mps) AS v FROM player_period_summary").item() <= 12.5
    assert run_sql(lake, "SELECT max(top_speed_mps) AS v FROM team_match_summary").item() <= 12.5
    peaks = run_sql(lake, 'SELECT "column", max(abs(peak)) AS peak FROM intervals GROUP BY ALL')
    for column, peak in peaks.iter_rows():
        assert column != "speed_mps" or peak <= 12.5
        assert column != "accel_mps2" or peak <= MAX_ACCEL_MPS2
    valid = run_sql(
        lake,
        "SELECT max(speed_mps) AS v, max(abs(accel_mps2)) AS a, avg(valid::INT) AS share FROM frame_state WHERE valid",
    ).row(0)
    assert valid[0] <= MAX_SPEED_MPS and valid[1] <= MAX_ACCEL_MPS2
    quality = run_sql(
        lake, "SELECT max(top_speed_mps) AS v, max(invalid_share) AS s FROM match_quality WHERE team IS NULL"
    ).row(0)
    assert quality[0] <= 12.5 and quality[1] <= 0.03  # at least 97 % of the frames stay valid


@pytest.mark.slow
def test_real_samples_keep_their_frames_valid(lake, instance):
    """The real samples as delivered: every frame with a speed stays valid (footovision_h1 is read as a CDF match:
    its tracking.jsonl and meta.json only)."""
    land_sample(lake, "cdf", "skillcorner_1925299")
    target = Path(lake.uri) / "landing" / "cdf" / "footovision_h1"
    target.mkdir(parents=True)
    for name in ("tracking.jsonl", "meta.json"):
        shutil.copy(SAMPLES / "cdf_events" / "footovision_h1" / name, target / name)
        (target / name).chmod(0o644)
    assert all(o.ok for o in materialize_lake(lake, instance, progress=_quiet))
    shares = run_sql(
        lake,
        "SELECT match_id, max(invalid_share) AS s, max(top_speed_mps) AS v FROM match_quality "
        "WHERE team IS NULL GROUP BY match_id ORDER BY match_id",
    )
    assert shares["match_id"].to_list() == ["footovision_h1", "skillcorner_1925299"]
    assert shares["s"].max() <= 0.03 and shares["v"].max() <= 12.5
    assert run_sql(lake, "SELECT count(*) FROM frame_state WHERE NOT valid AND speed_mps IS NOT NULL").item() == 0
