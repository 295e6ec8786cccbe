"""Synthetic matches: one underlying truth, written as any vendor format, for the demo, tests and bench.

The truth is in the canonical frame (metres, centre origin, home attacking +x). 22 players stand and drift
slowly around formation anchors and make runs towards spots near their anchor: walks, jogs, runs, high-speed
runs and sprints, each a raised-cosine speed ramp up (steeper for faster runs, at most 4.5 m/s^2), a hold
at its peak and a ramp down. The mix follows published elite match profiles: about 9 km per player per 90
minutes, about 70% of it below 4 m/s, high-speed running (5.5-7 m/s) about twice the sprint distance (> 7
m/s), top speeds 8.5-10 m/s
(``footy_assets_tests/core/test_synthetic.py`` holds the generator to this). Goal keepers stay near their goal and
never run fast; one referee; a ball passed between players (with height during passes). Each match has two
halves and a 15-minute break, a substitution (home #9 off, #14 on) in the second half, a one-second drop-out
of one player, one player whose jersey is unreadable for a while, and a few frames where the ball is not
tracked.

Writers turn the truth into each vendor's files with that vendor's conventions (units, origin, sides
swapped at half time where the vendor does not standardise, clock, ids, quirks), so readers can be
checked against the truth and against each other. Everything is vectorised numpy/polars.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.signal import butter, sosfiltfilt

LENGTH, WIDTH = 105.0, 68.0
BREAK_MS = 15 * 60 * 1000
SPORTVU_EPOCH_MS = 1_598_184_000_000
# 4-4-2 anchors for the home team (attacking +x), in metres from the centre spot.
ANCHORS = [
    (-47.0, 0.0),
    (-33, -22),
    (-35, -8),
    (-35, 8),
    (-33, 22),
    (-15, -24),
    (-17, -8),
    (-17, 8),
    (-15, 24),
    (-4, -8),
    (-5, 9),
]
JERSEYS = [1, 2, 4, 5, 3, 7, 6, 8, 11, 9, 10]
SUB_OFF, SUB_ON = 9, 14  # home #9 is replaced by #14 in the second half
UNREADABLE = (1, 10)  # away #10's jersey cannot be read for a while in period 1
DROPOUT = (0, 6)  # home #6 is not tracked for one second in period 1


@dataclass(frozen=True)
class MatchSpec:
    match_id: str
    half_seconds: float = 120.0
    fps: int = 25
    seed: int = 7


def _smooth_noise(rng: np.random.Generator, n: int, fps: int, cutoff_hz: float, size: int) -> np.ndarray:
    """Zero-mean low-pass noise, shape (size, n), unit standard deviation."""
    sos = butter(2, cutoff_hz / (fps / 2), output="sos")
    pad = 60 * fps  # discard the filter's start-up transient at both ends
    noise = sosfiltfilt(sos, rng.standard_normal((size, n + 2 * pad)), axis=1)[:, pad : pad + n]
    return noise / noise.std(axis=1, keepdims=True)


def _soft_limit(v: np.ndarray, limit: float, margin: float = 6.0) -> np.ndarray:
    """``v`` kept within +-``limit`` without a corner: unchanged inside ``limit - margin``, then bending
    smoothly (tanh) towards the limit, so a player nearing a line slows down instead of hitting a wall."""
    inner = limit - margin
    excess = np.abs(v) - inner
    return np.where(excess > 0, np.sign(v) * (inner + margin * np.tanh(excess / margin)), v)


# Runs a player makes between standing and walking about his anchor: (share of runs, peak speed range m/s,
# hold at the peak range s). Shares and peaks follow published elite match profiles: about 70% of the
# distance below 4 m/s, high-speed running (5.5-7 m/s) several times the sprint distance (> 7 m/s), top
# speeds of 8.5-10 m/s.
RUN_KINDS = {
    "walk": (0.33, (1.2, 2.0), (2.0, 8.0)),
    "jog": (0.34, (2.6, 3.9), (1.0, 4.0)),
    "run": (0.21, (4.2, 5.4), (0.5, 2.0)),
    "high_speed_run": (0.09, (5.8, 6.8), (0.5, 1.5)),
    "sprint": (0.03, (8.3, 9.0), (0.3, 1.0)),
}
MAX_ACCEL_MPS2 = 4.5
INSIDE = np.array(
    [LENGTH / 2 - 9, WIDTH / 2 - 7]
)  # runs end this far inside the lines  # steepest change of a run's speed (raised-cosine ramps)


def _run_velocity(rng: np.random.Generator, n: int, fps: int, anchor: np.ndarray, keeper: bool) -> np.ndarray:
    """Velocity (n, 2) in m/s of one player's runs in one half.

    A run ramps its speed up along a raised cosine (acceleration at most ``MAX_ACCEL_MPS2``), holds the peak,
    and ramps down; it heads for a random spot near the anchor, so players keep their shape. The loop is per
    run (a few hundred per half), never per frame.
    """
    velocity = np.zeros((n, 2))
    names = list(RUN_KINDS)
    shares = np.array([RUN_KINDS[k][0] for k in names])
    if keeper:  # goal keepers jog and run, rarely faster
        shares = np.array([0.6, 0.3, 0.1, 0.0, 0.0])
    shares = shares / shares.sum()
    at = rng.uniform(0.0, 8.0)
    position = np.zeros(2)  # displacement from the anchor accumulated by runs so far
    reach = np.array([6.0, 5.0]) if keeper else np.array([14.0, 12.0])
    while True:
        kind = names[rng.choice(len(names), p=shares)]
        _, peaks, holds = RUN_KINDS[kind]
        peak, hold = rng.uniform(*peaks), rng.uniform(*holds)
        # gentle runs start gently: peak acceleration grows with the run's speed, up to MAX_ACCEL_MPS2
        accel = min(MAX_ACCEL_MPS2, 0.55 * peak) * rng.uniform(0.8, 1.0)
        ramp = np.pi * peak / (2 * accel)
        start = int(at * fps)
        tau = np.arange(int((2 * ramp + hold) * fps)) / fps
        if start + tau.size >= n:
            break
        speed = peak * np.where(
            tau < ramp,
            (1 - np.cos(np.pi * tau / ramp)) / 2,
            np.where(tau <= ramp + hold, 1.0, (1 - np.cos(np.pi * (2 * ramp + hold - tau) / ramp)) / 2),
        )
        length = speed.sum() / fps
        # of a few random headings, the one ending nearest a random spot about the anchor
        # (a run that would end outside the lines is taken only if no heading avoids it: the path is straight)
        angles = rng.uniform(0, 2 * np.pi, 16)
        ends = position + length * np.c_[np.cos(angles), np.sin(angles)]
        spot = np.clip(anchor + rng.uniform(-1, 1, 2) * reach, -INSIDE, INSIDE) - anchor
        outside = (np.abs(anchor + ends) > INSIDE).any(axis=1)
        best = np.argmin(np.hypot(*(ends - spot).T) + 1000.0 * outside)
        heading = np.array([np.cos(angles[best]), np.sin(angles[best])])
        velocity[start : start + tau.size] = speed[:, None] * heading
        position = ends[best]
        at += tau.size / fps + rng.uniform(1.0, 6.0)
    return velocity


def _runs(rng: np.random.Generator, n: int, fps: int, anchors: np.ndarray) -> np.ndarray:
    """Displacement (players, n, 2) in metres of every player's runs in one half (player 0 is the keeper)."""
    velocity = np.stack([_run_velocity(rng, n, fps, anchors[p], p == 0) for p in range(anchors.shape[0])])
    return np.cumsum(velocity, axis=1) / fps


def _half(rng: np.random.Generator, spec: MatchSpec, n: int) -> dict[str, np.ndarray]:
    """Positions of 22 players, the referee and the ball for one half: arrays (objects, n, 2)."""
    fps = spec.fps
    home = np.array(ANCHORS, dtype=float)
    away = home * np.array([-1.0, -1.0])
    anchors = np.concatenate([home, away])
    wander = np.stack([_smooth_noise(rng, n, fps, 0.08, 22), _smooth_noise(rng, n, fps, 0.08, 22)], axis=-1)
    scale = np.where(np.arange(22) % 11 == 0, 1.0, 1.5)[:, None, None]  # keepers stay near goal
    sprint = np.concatenate([_runs(rng, n, fps, home), _runs(rng, n, fps, away)])
    players = anchors[:, None, :] + scale * wander + sprint
    players[..., 0] = _soft_limit(players[..., 0], LENGTH / 2 - 0.5)
    players[..., 1] = _soft_limit(players[..., 1], WIDTH / 2 - 0.5)
    referee = 10.0 * np.stack([_smooth_noise(rng, n, fps, 0.05, 1), _smooth_noise(rng, n, fps, 0.05, 1)], -1)
    referee[..., 0] = _soft_limit(referee[..., 0], LENGTH / 2 - 8)  # the referee stays on the pitch too
    referee[..., 1] = _soft_limit(referee[..., 1], WIDTH / 2 - 4)
    # Ball: carried by a player, passed to another every 2-5 s, flying for 0.8 s.
    switch = np.cumsum(rng.uniform(2, 5, n // fps + 2) * fps).astype(int)
    switch = np.concatenate([[0], switch[switch < n]])
    carrier = rng.integers(1, 22, switch.size)
    seg = np.searchsorted(switch, np.arange(n), side="right") - 1
    k = np.arange(n)
    now = players[carrier[seg], k]
    prev_carrier = carrier[np.maximum(seg - 1, 0)]
    start = players[prev_carrier, switch[seg]]
    flight = np.clip((k - switch[seg]) / (0.8 * fps), 0, 1)
    flying = (flight < 1) & (seg > 0)
    ball = np.where(flying[:, None], start + (now - start) * flight[:, None], now + 0.4)
    height = rng.uniform(0.2, 3.0, switch.size)[seg]
    z = np.where(flying, 4 * height * flight * (1 - flight), 0.1)
    return {"players": players, "referee": referee[0], "ball": ball, "ball_z": z}


def generate_truth(spec: MatchSpec) -> pl.DataFrame:
    """The truth of a match: one row per object per frame, canonical coordinates, time since kick-off.

    Columns: period, frame (index within the match clock), timestamp_ms, role, team, jersey, track
    (a stable id of the physical object), x, y, z, identified (False where the jersey is unreadable).
    """
    rng = np.random.default_rng(spec.seed)
    n = int(spec.half_seconds * spec.fps)
    parts = []
    for period in (1, 2):
        half = _half(rng, spec, n)
        start_ms = 0 if period == 1 else int(spec.half_seconds * 1000) + BREAK_MS
        ts = start_ms + np.round(np.arange(n) * 1000 / spec.fps).astype(np.int64)
        for obj in range(22):
            team = obj // 11
            jersey = JERSEYS[obj % 11]
            jerseys = np.full(n, jersey)
            if team == 0 and jersey == SUB_OFF and period == 2:
                jerseys[n // 2 :] = SUB_ON
            keep = np.ones(n, bool)
            identified = np.ones(n, bool)
            if (team, jersey) == DROPOUT and period == 1:
                keep[n // 3 : n // 3 + spec.fps] = False
            if (team, jersey) == UNREADABLE and period == 1:
                identified[n // 2 : n // 2 + 3 * spec.fps] = False
            parts.append(
                pl.DataFrame(
                    {
                        "period": period,
                        "timestamp_ms": ts,
                        "role": "goal_keeper" if obj % 11 == 0 else "player",
                        "team": team,
                        "jersey": jerseys,
                        "track": f"{'ha'[team]}{obj % 11:02d}",
                        "x": half["players"][obj, :, 0],
                        "y": half["players"][obj, :, 1],
                        "z": None,
                        "identified": identified,
                    }
                ).filter(pl.Series(keep))
            )
        parts.append(
            pl.DataFrame(
                {
                    "period": period,
                    "timestamp_ms": ts,
                    "role": "referee",
                    "team": None,
                    "jersey": None,
                    "track": "ref",
                    "x": half["referee"][:, 0],
                    "y": half["referee"][:, 1],
                    "z": None,
                    "identified": True,
                }
            )
        )
        ball_keep = np.ones(n, bool)
        ball_keep[n // 4 : n // 4 + 5] = False  # the ball is occluded for five frames
        parts.append(
            pl.DataFrame(
                {
                    "period": period,
                    "timestamp_ms": ts,
                    "role": "ball",
                    "team": None,
                    "jersey": None,
                    "track": "ball",
                    "x": half["ball"][:, 0],
                    "y": half["ball"][:, 1],
                    "z": half["ball_z"],
                    "identified": True,
                }
            ).filter(pl.Series(ball_keep))
        )
    schema = {
        "period": pl.Int8,
        "timestamp_ms": pl.Int64,
        "role": pl.String,
        "team": pl.Int8,
        "jersey": pl.Int16,
        "track": pl.String,
        "x": pl.Float64,
        "y": pl.Float64,
        "z": pl.Float64,
        "identified": pl.Boolean,
    }
    truth = pl.concat([p.cast(schema) for p in parts]).sort("timestamp_ms", "track")
    return truth.with_columns(frame=(pl.col("timestamp_ms") * spec.fps / 1000).round(0).cast(pl.Int64))


def _stadium_frame(truth: pl.DataFrame, home_right_in: set[int]) -> pl.DataFrame:
    """Truth rotated into the stadium's frame: in the periods of ``home_right_in`` home attacks -x."""
    sign = pl.when(pl.col("period").is_in(list(home_right_in))).then(-1.0).otherwise(1.0)
    return truth.with_columns(x=pl.col("x") * sign, y=pl.col("y") * sign)
