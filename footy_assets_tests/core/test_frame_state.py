"""frame_state metrics against independent references: scipy per segment, brute-force nearest opponent."""

import numpy as np
import polars as pl
import pytest
from scipy.signal import savgol_filter

from footy_assets.core.canonical import TRACKING_SCHEMA
from footy_assets.core.metrics.frame_state import build_frame_state

FPS = 25


def _tracking(rows: list[dict]) -> pl.DataFrame:
    frame = pl.DataFrame(rows)
    for name, dtype in TRACKING_SCHEMA.items():
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=dtype).alias(name))
    return frame.select([pl.col(n).cast(d) for n, d in TRACKING_SCHEMA.items()]).sort("frame_id", maintain_order=True)


def _random_tracks(seed: int = 5) -> pl.DataFrame:
    """Players with gaps, short segments, two periods, a substitution (one track, two ids) and ties in time."""
    rng = np.random.default_rng(seed)
    rows = []
    for team in (0, 1):
        for jersey in range(1, 7):
            for period, start in ((1, 0), (2, 5000)):
                frame = start + int(rng.integers(0, 5))
                x, y = rng.uniform(-40, 40), rng.uniform(-30, 30)
                for _ in range(int(rng.integers(4, 9))):  # segments of random length, gaps between
                    length = int(rng.integers(1, 60))
                    for _ in range(length):
                        x += rng.normal(0, 0.2)
                        y += rng.normal(0, 0.2)
                        # substitution: in period 2 jersey 6 of team 0 becomes 16 after frame 5100
                        j = 16 if (team, jersey, period) == (0, 6, 2) and frame > 5100 else jersey
                        rows.append(
                            {
                                "match_id": "m",
                                "frame_id": frame,
                                "timestamp_ms": frame * 40,
                                "period": period,
                                "role": "goal_keeper" if jersey == 1 else "player",
                                "team": team,
                                "jersey": j,
                                "player_id": f"{team}-{j}",
                                "x_m": x,
                                "y_m": y,
                                "source_format": "cdf",
                            }
                        )
                        frame += 1
                    frame += int(rng.integers(1, 4))
    return _tracking(rows)


def test_speed_matches_scipy_per_segment():
    tracking = _random_tracks()
    fs = build_frame_state(tracking, FPS)
    assert fs.height == tracking.height
    checked = 0
    for (_player, _period), rows in fs.sort("frame_id").group_by(["player_id", "period"]):
        frames = rows["frame_id"].to_numpy()
        cuts = np.flatnonzero(np.diff(frames) != 1) + 1
        for seg in np.split(np.arange(rows.height), cuts):
            x = rows["x_m"].to_numpy().astype(np.float64)[seg]
            y = rows["y_m"].to_numpy().astype(np.float64)[seg]
            got = rows["speed_mps"].to_numpy()[seg]
            if seg.size < 9:
                assert rows["speed_mps"][seg.tolist()].null_count() == seg.size
                continue
            vx = savgol_filter(x, 9, 2, deriv=1, delta=1 / FPS)
            vy = savgol_filter(y, 9, 2, deriv=1, delta=1 / FPS)
            np.testing.assert_allclose(got, np.hypot(vx, vy), atol=1e-5, rtol=1e-6)
            checked += seg.size
    assert checked > 1000


def test_speed_of_float64_core_matches_scipy_to_1e_6():
    from footy_assets.core.metrics.kinematics import kinematics

    rng = np.random.default_rng(1)
    n = 500
    frame = np.r_[np.arange(0, 200), np.arange(203, 210), np.arange(215, 508)]  # gap + a 7-frame segment
    x, y = rng.normal(0, 1, n).cumsum(), rng.normal(0, 1, n).cumsum()
    k = kinematics(np.zeros(n, np.int32), np.ones(n, np.int8), frame, x, y, FPS)
    for a, b in ((0, 200), (207, 500)):
        ref = np.hypot(
            savgol_filter(x[a:b], 9, 2, deriv=1, delta=1 / FPS), savgol_filter(y[a:b], 9, 2, deriv=1, delta=1 / FPS)
        )
        assert np.max(np.abs(k.speed_mps[a:b] - ref)) < 1e-6
    assert np.isnan(k.speed_mps[200:207]).all()
    # accel is d(speed)/dt: compare with scipy's derivative of the speed on a smooth track
    t = np.arange(300) / FPS
    xs = 0.5 * 2.0 * t**2  # constant acceleration of 2 m/s^2 from rest, along x
    k = kinematics(np.zeros(300, np.int32), np.ones(300, np.int8), np.arange(300), xs, np.zeros(300), FPS)
    np.testing.assert_allclose(k.speed_mps[10:-10], 2.0 * t[10:-10], atol=1e-9)
    np.testing.assert_allclose(k.accel_mps2[10:-10], 2.0, atol=1e-9)


def test_distance_is_speed_over_fps():
    fs = build_frame_state(_random_tracks(), FPS)
    ok = fs.filter(pl.col("valid"))
    assert ok.height > 0 and ok["speed_mps"].null_count() == 0
    np.testing.assert_allclose(ok["distance_m"].to_numpy(), ok["speed_mps"].to_numpy() / FPS, rtol=1e-6)
    # no distance where the speed cannot be trusted (null, or a glitch in its window)
    assert fs.filter(~pl.col("valid"))["distance_m"].null_count() == fs.filter(~pl.col("valid")).height


def _brute_force(tracking: pl.DataFrame) -> dict:
    out = {}
    people = tracking.filter(pl.col("player_id").is_not_null()).to_dicts()
    by_frame: dict = {}
    for r in people:
        by_frame.setdefault(r["frame_id"], []).append(r)
    for frame, rows in by_frame.items():
        for r in rows:
            best = None
            for o in rows:
                if o["team"] == r["team"]:
                    continue
                d = float(
                    np.hypot(np.float64(r["x_m"]) - np.float64(o["x_m"]), np.float64(r["y_m"]) - np.float64(o["y_m"]))
                )
                if best is None or d < best[0] or (d == best[0] and o["player_id"] < best[1]):
                    best = (d, o["player_id"])
            out[(frame, r["player_id"])] = best
    return out


def test_nearest_opponent_equals_brute_force_with_ties():
    tracking = _random_tracks(seed=9)
    # exact ties: in frame 10, put 1-10 and 1-2 at the same distance from 0-3 ("1-10" < "1-2" in string order)
    extra = [
        {
            "match_id": "m",
            "frame_id": 10_000,
            "timestamp_ms": 400_000,
            "period": 2,
            "role": "player",
            "team": t,
            "jersey": j,
            "player_id": f"{t}-{j}",
            "x_m": x,
            "y_m": y,
            "source_format": "cdf",
        }
        for t, j, x, y in ((0, 3, 0.0, 0.0), (1, 10, 3.0, 0.0), (1, 2, -3.0, 0.0), (1, 5, 0.0, 3.0))
    ] + [  # a frame with only one team: no opponent
        {
            "match_id": "m",
            "frame_id": 10_001,
            "timestamp_ms": 400_040,
            "period": 2,
            "role": "player",
            "team": 0,
            "jersey": 3,
            "player_id": "0-3",
            "x_m": 1.0,
            "y_m": 1.0,
            "source_format": "cdf",
        }
    ]
    tracking = pl.concat([tracking, _tracking(extra)])
    fs = build_frame_state(tracking, FPS)
    expected = _brute_force(tracking)
    got = {(r["frame_id"], r["player_id"]): r for r in fs.to_dicts()}
    assert got.keys() == expected.keys()
    for key, best in expected.items():
        row = got[key]
        if best is None:
            assert row["nearest_opp_id"] is None and row["nearest_opp_dist_m"] is None, key
        else:
            assert row["nearest_opp_id"] == best[1], key
            assert row["nearest_opp_dist_m"] == pytest.approx(best[0], abs=1e-5), key
    assert got[(10_000, "0-3")]["nearest_opp_id"] == "1-10"
    assert got[(10_001, "0-3")]["nearest_opp_id"] is None


def test_ball_distance_and_unidentified_players_are_left_out():
    rows = [
        {
            "match_id": "m",
            "frame_id": 0,
            "timestamp_ms": 0,
            "period": 1,
            "role": "ball",
            "x_m": 1.0,
            "y_m": 1.0,
            "source_format": "cdf",
        },
        {
            "match_id": "m",
            "frame_id": 0,
            "timestamp_ms": 0,
            "period": 1,
            "role": "player",
            "team": 0,
            "jersey": 4,
            "player_id": "0-4",
            "x_m": 4.0,
            "y_m": 5.0,
            "source_format": "cdf",
        },
        {
            "match_id": "m",
            "frame_id": 0,
            "timestamp_ms": 0,
            "period": 1,
            "role": "player",
            "team": 1,
            "x_m": 0.0,
            "y_m": 0.0,
            "source_format": "cdf",
        },
        {
            "match_id": "m",
            "frame_id": 1,
            "timestamp_ms": 40,
            "period": 1,
            "role": "player",
            "team": 0,
            "jersey": 4,
            "player_id": "0-4",
            "x_m": 4.0,
            "y_m": 5.0,
            "source_format": "cdf",
        },
    ]
    fs = build_frame_state(_tracking(rows), FPS)
    assert fs["player_id"].to_list() == ["0-4", "0-4"]
    assert fs["ball_dist_m"].to_list() == [pytest.approx(5.0), None]
    assert fs["nearest_opp_id"].null_count() == 2  # the unidentified away player is no opponent


def _expected_invalid(k, step_rows) -> list[int]:
    """Rows of one segment whose SG window (centred, clamped to the segment) holds a frame with speed above
    MAX_SPEED_MPS or |accel| above MAX_ACCEL_MPS2, together with ``step_rows`` (those whose window holds a raw step
    above 12 m/s)."""
    from footy_assets.core.metrics.kinematics import MAX_ACCEL_MPS2, MAX_SPEED_MPS

    n = k.speed_mps.size
    bad = (k.speed_mps > MAX_SPEED_MPS) | (np.abs(k.accel_mps2) > MAX_ACCEL_MPS2)
    rows = set(step_rows)
    for i in range(n):
        begin = min(max(i - 4, 0), n - 9)
        if bad[begin : begin + 9].any():
            rows.add(i)
    return sorted(rows)


def test_valid_is_false_exactly_where_the_window_spans_a_glitch():
    from footy_assets.core.metrics.kinematics import kinematics

    n = 100
    x = np.arange(n) * 2.0 / FPS  # walking at 2 m/s
    x[50] += 3.0  # a one-frame jump: the steps 49->50 and 50->51 imply 75 m/s
    frame = np.arange(n)
    k = kinematics(np.zeros(n, np.int32), np.ones(n, np.int8), frame, x, np.zeros(n), FPS)
    # SG windows are centred (rows 4..95); a window holds steps begin..begin+7: rows 46..54 see the jump; and
    # rows whose window holds a frame with an impossible speed or acceleration (the jump's, 42..58) are invalid too
    assert np.flatnonzero(~k.valid).tolist() == _expected_invalid(k, range(46, 55))
    # speed_mps itself stays the plain SG value, glitch included
    ref = savgol_filter(x, 9, 2, deriv=1, delta=1 / FPS)
    np.testing.assert_allclose(k.speed_mps, np.abs(ref), atol=1e-9)
    # at a segment's edge the window is clamped to the segment: a jump in frame 2 spoils rows 0..6
    x2 = np.arange(30) * 2.0 / FPS
    x2[2] += 3.0
    k2 = kinematics(np.zeros(30, np.int32), np.ones(30, np.int8), np.arange(30), x2, np.zeros(30), FPS)
    assert np.flatnonzero(~k2.valid).tolist() == _expected_invalid(k2, range(7))
    assert set(range(7)) <= set(np.flatnonzero(~k2.valid))
    # short segments have no speed and are never valid
    k3 = kinematics(np.zeros(5, np.int32), np.ones(5, np.int8), np.arange(5), np.zeros(5), np.zeros(5), FPS)
    assert not k3.valid.any()


@pytest.mark.parametrize("window, polyorder", [(9, 2), (7, 3), (11, 2), (5, 1)])
def test_savgol_coefficients_are_scipys(window, polyorder):
    """The numpy SG weights (no scipy.signal import at start-up) are scipy's, every derivative and position."""
    from scipy.signal import savgol_coeffs

    from footy_assets.core.metrics.kinematics import savgol_coefficients

    for deriv in range(4):
        for pos in range(window):
            for delta in (0.04, 0.1, 1.0):
                np.testing.assert_allclose(
                    savgol_coefficients(window, polyorder, deriv, delta, pos),
                    savgol_coeffs(window, polyorder, deriv=deriv, delta=delta, pos=pos, use="dot"),
                    rtol=1e-12,
                    atol=1e-9,
                )
