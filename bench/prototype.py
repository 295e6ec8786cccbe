"""A bare numpy/polars prototype of a match's chain, the yardstick of the chain's speed goal: the same core work,
written as fast as a careful engineer would, without contracts, Dagster, Delta or publishing.

Read the footy_stats parquet (the columns used), centre the positions, number frames and periods, order the rows
per player (a stable radix sort of a small integer code: rows come in frame order), Savitzky-Golay (9, 2) speed
per track segment (scipy, x and y in one call), the nearest opponent per frame (a slot-major array per team,
one vectorised pass per pair of slots), sprint (>= 7 m/s) and high-speed-run (>= 5.5 m/s) intervals
of at least a second, a per-player summary, and frame_state and the summary written as Parquet.

Run: ``.venv/bin/python bench/prototype.py tracking.parquet OUT_DIR`` (bench/full_match.py runs it).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import polars as pl
from scipy.signal import savgol_filter

FPS = 25
HALF_TIME_GAP_MS = 300_000  # a gap in the clock this long starts a new period
THRESHOLDS_MPS = {"high_speed_run": 5.5, "sprint": 7.0}


def speeds(code: np.ndarray, frame: np.ndarray, period: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """SG(9, 2) speed (m/s) per segment (a player's consecutive frames in one period); NaN under 9 frames. Rows
    sorted by (player, frame)."""
    new = np.ones(frame.size, bool)
    new[1:] = (code[1:] != code[:-1]) | (np.diff(frame) != 1) | (period[1:] != period[:-1])
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], frame.size)
    out = np.full(frame.size, np.nan)
    for s, e in zip(starts, ends):  # per segment (a few hundred), not per frame
        if e - s >= 9:
            v = savgol_filter(xy[s:e], 9, 2, deriv=1, delta=1 / FPS, mode="interp", axis=0)
            out[s:e] = np.hypot(v[:, 0], v[:, 1])
    return out


def nearest_opponent(frame: np.ndarray, team: np.ndarray, slot: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Distance (m) to the closest player of the other team in the frame."""
    f = frame - frame.min()
    slots = int(slot.max()) + 1
    # per team, (slot, frame) arrays: each slot's positions contiguous; an empty slot is far away
    grid = np.full((2, 2, slots, int(f.max()) + 1), 1e6, dtype=np.float32)
    grid[team, 0, slot, f] = xy[:, 0]
    grid[team, 1, slot, f] = xy[:, 1]
    best = np.full((2, slots, grid.shape[-1]), np.inf, dtype=np.float32)
    d2 = np.empty(grid.shape[-1], dtype=np.float32)
    tmp = np.empty_like(d2)
    for i in range(slots):  # slots x slots vectorised passes over all frames
        for j in range(slots):
            np.subtract(grid[0, 0, i], grid[1, 0, j], out=d2)
            np.multiply(d2, d2, out=d2)
            np.subtract(grid[0, 1, i], grid[1, 1, j], out=tmp)
            np.multiply(tmp, tmp, out=tmp)
            np.add(d2, tmp, out=d2)
            np.minimum(best[0, i], d2, out=best[0, i])
            np.minimum(best[1, j], d2, out=best[1, j])
    nearest = np.sqrt(best[team, slot, f])
    nearest[nearest > 1e5] = np.nan  # the other team has nobody in the frame
    return nearest


def runs(state: pl.DataFrame, threshold: float) -> pl.DataFrame:
    """Intervals of at least a second at or above ``threshold`` m/s: player, frames, peak speed."""
    fast = state.select("code", "frame", "speed_mps").filter(pl.col("speed_mps") >= threshold)
    return (
        fast.with_columns(
            run=((pl.col("code") != pl.col("code").shift()) | (pl.col("frame").diff() != 1)).fill_null(True).cum_sum()
        )
        .group_by("run")
        .agg(pl.col("code").first(), pl.len().alias("frames"), pl.col("speed_mps").max().alias("peak"))
        .filter(pl.col("frames") >= FPS)
    )


def main(source: str, out_dir: str) -> None:
    started = time.perf_counter()
    raw = pl.read_parquet(source, columns=["timestamp", "role", "player_id", "x", "y"])
    stamps = raw["timestamp"].unique().sort()
    period_starts = stamps.filter(stamps.diff() >= HALF_TIME_GAP_MS)
    people = raw.filter(pl.col("role").is_in(["player", "goal_keeper"]) & pl.col("player_id").is_not_null())
    ids = people["player_id"].unique().sort()
    people = people.select(
        "player_id",
        "timestamp",
        code=pl.col("player_id").cast(pl.Enum(ids)).to_physical(),
        frame=(pl.col("timestamp").cast(pl.Int64) * FPS / 1000).round(0).cast(pl.Int64),
        period=(pl.lit(period_starts).search_sorted(pl.col("timestamp"), side="right") + 1).cast(pl.Int8),
        team=pl.col("player_id").str.head(1).cast(pl.Int8),
        x_m=pl.col("x") / 100 - 52.5,
        y_m=pl.col("y") / 100 - 34.0,
    )
    code, frame = people["code"].to_numpy(), people["frame"].to_numpy()
    order = np.argsort(code, kind="stable") if np.all(np.diff(frame) >= 0) else np.lexsort((frame, code))
    people = people[order]
    code, frame, period = code[order], frame[order], people["period"].to_numpy()
    team = people["team"].to_numpy().astype(np.intp)
    xy = np.column_stack([people["x_m"].to_numpy(), people["y_m"].to_numpy()])
    speed = speeds(code, frame, period, xy)
    first_code = np.array([code[team == t].min(initial=0) for t in (0, 1)])
    state = people.with_columns(
        speed_mps=pl.Series(speed, nan_to_null=True),
        distance_m=pl.Series(speed / FPS, nan_to_null=True),
        nearest_opp_dist_m=pl.Series(nearest_opponent(frame, team, code - first_code[team], xy)),
    )
    found = {name: runs(state, threshold) for name, threshold in THRESHOLDS_MPS.items()}
    summary = state.group_by("code", "player_id").agg(
        pl.col("distance_m").sum(), pl.col("speed_mps").max().alias("top_speed_mps"), pl.len().alias("frames")
    )
    for name, intervals in found.items():
        summary = summary.join(intervals.group_by("code").len(name=name), on="code", how="left")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    state.drop("code").write_parquet(out / "frame_state.parquet")
    summary.drop("code").write_parquet(out / "summary.parquet")
    print(f"prototype: {state.height:,} rows, {summary.height} players, {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
