"""A bare numpy/polars prototype of a match's chain, the yardstick of the chain's speed goal ("within 2x of plain
numpy").

The same work as the chain on a footy_stats download, without contracts, Dagster, Delta or publishing: read
the parquet, centre the positions, number frames and periods, sort per player, Savitzky-Golay (9, 2) speed per
track segment (scipy), nearest opponent per frame (dense arrays, numpy), sprint and high-speed-run intervals,
a per-player summary, and write frame_state and the summary as Parquet.

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


def speeds(frame: pl.DataFrame) -> np.ndarray:
    """SG(9, 2) speed per segment (a player's consecutive frames in one period); null under 9 frames."""
    key = frame["player_id"].to_numpy()
    f = frame["frame"].to_numpy()
    new = np.ones(len(f), bool)
    new[1:] = (key[1:] != key[:-1]) | (np.diff(f) != 1) | (np.diff(frame["period"].to_numpy()) != 0)
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], len(f))
    x, y = frame["x_m"].to_numpy(), frame["y_m"].to_numpy()
    out = np.full(len(f), np.nan)
    for s, e in zip(starts, ends):  # per segment (a few hundred), not per frame
        if e - s >= 9:
            vx = savgol_filter(x[s:e], 9, 2, deriv=1, delta=1 / FPS, mode="interp")
            vy = savgol_filter(y[s:e], 9, 2, deriv=1, delta=1 / FPS, mode="interp")
            out[s:e] = np.hypot(vx, vy)
    return out


def nearest_opponent(frame: pl.DataFrame) -> np.ndarray:
    """Distance (m) to the closest player of the other team in the frame (dense frame x slot arrays)."""
    frames, frame_index = np.unique(frame["frame"].to_numpy(), return_inverse=True)
    team = frame["team"].to_numpy()
    slot = frame.select(pl.col("player_id").rank("dense").over("team") - 1)["player_id"].to_numpy().astype(int)
    slots = slot.max() + 1
    grid = np.full((2, len(frames), slots, 2), np.nan, dtype=np.float32)
    grid[team, frame_index, slot, 0] = frame["x_m"].to_numpy()
    grid[team, frame_index, slot, 1] = frame["y_m"].to_numpy()
    # one (frames, home slots, away slots) distance array, its minimum taken both ways
    distance = np.hypot(
        grid[0][:, :, None, 0] - grid[1][:, None, :, 0], grid[0][:, :, None, 1] - grid[1][:, None, :, 1]
    )
    distance = np.where(np.isnan(distance), np.inf, distance)
    nearest = np.stack([distance.min(axis=2), distance.min(axis=1)])  # (team, frames, slots)
    return nearest[team, frame_index, slot]


def main(source: str, out_dir: str) -> None:
    started = time.perf_counter()
    raw = pl.read_parquet(source)
    people = (
        raw.filter(pl.col("role").is_in(["player", "goal_keeper"]) & pl.col("player_id").is_not_null())
        .with_columns(
            x_m=pl.col("x") / 100 - 52.5,
            y_m=pl.col("y") / 100 - 34.0,
            frame=(pl.col("timestamp").cast(pl.Int64) * FPS / 1000).round(0).cast(pl.Int64),
            team=pl.col("player_id").str.head(1).cast(pl.Int8),
        )
        .with_columns(period=((pl.col("timestamp").diff() >= 300_000).fill_null(False).cum_sum() + 1).cast(pl.Int8))
    )
    people = people.with_columns(period=pl.col("period").max().over("frame")).sort("player_id", "frame")
    speed = speeds(people)
    state = people.with_columns(
        speed_mps=pl.Series(speed, nan_to_null=True),
        nearest_opp_dist_m=pl.Series(nearest_opponent(people)),
        distance_m=pl.Series(speed / FPS, nan_to_null=True),
    )
    runs = (
        state.filter(pl.col("speed_mps") >= 5.5)
        .with_columns(
            run=((pl.col("player_id") != pl.col("player_id").shift()) | (pl.col("frame").diff() != 1))
            .fill_null(True)
            .cum_sum()
        )
        .group_by("run")
        .agg(pl.col("player_id").first(), pl.len().alias("frames"), pl.col("speed_mps").max())
        .filter(pl.col("frames") >= FPS)
    )
    summary = (
        state.group_by("player_id")
        .agg(pl.col("distance_m").sum(), pl.col("speed_mps").max().alias("top"), pl.len().alias("frames"))
        .join(runs.group_by("player_id").len().rename({"len": "runs"}), on="player_id", how="left")
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    state.write_parquet(out / "frame_state.parquet")
    summary.write_parquet(out / "summary.parquet")
    print(f"prototype: {state.height:,} rows, {summary.height} players, {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
