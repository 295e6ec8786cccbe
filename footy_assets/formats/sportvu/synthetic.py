"""Synthetic sportvu deliveries: the synthetic truth written with this vendor's conventions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from footy_assets.core.synthetic import LENGTH, SPORTVU_EPOCH_MS, WIDTH, _stadium_frame


def _random_ids(rng: np.random.Generator, n: int) -> list[str]:
    alphabet = np.array(list("abcdefghijklmnopqrstuvwxyz0123456789"))
    return ["".join(row) for row in alphabet[rng.integers(0, 36, (n, 25))]]


def write_sportvu(truth: pl.DataFrame, folder: Path, seed: int = 2, ball_colon: bool = True) -> Path:
    """SportVU messages: metres from the top-left corner (y down), string object ids, system-time clock.

    Home is on the right in period 1 (as in the real sample); the match clock restarts at 0 in period 2;
    a few messages before kick-off and in the break have match time -1; the ball part has a leading ':'
    in period 1 and none in period 2 (both occur in the wild).
    """
    rng = np.random.default_rng(seed)
    tracks = truth["track"].unique().sort().to_list()
    ids = dict(zip(tracks, _random_ids(rng, len(tracks))))
    stadium = _stadium_frame(truth, home_right_in={1})
    code = (
        pl.when(pl.col("role") == "referee")
        .then(2)
        .when(pl.col("role") == "goal_keeper")
        .then(pl.col("team") + 3)
        .otherwise(pl.col("team"))
    )
    jersey = (
        pl.when(pl.col("role") == "referee").then(0).when(pl.col("identified")).then(pl.col("jersey")).otherwise(-1)
    )
    xs, ys = (pl.col("x") + LENGTH / 2).round(3), (WIDTH / 2 - pl.col("y")).round(3)
    people = stadium.filter(pl.col("role") != "ball").with_columns(
        item=pl.format("{},{},{},{},{}", code, pl.col("track").replace_strict(ids), jersey, xs, ys)
    )
    ball = stadium.filter(pl.col("role") == "ball").with_columns(
        ball=pl.format("{},{},{}", xs, ys, pl.col("z").round(2))
    )
    period_start = truth.group_by("period").agg(pl.col("timestamp_ms").min().alias("start"))
    frames = (
        people.group_by("timestamp_ms", "period", maintain_order=True)
        .agg(pl.col("item").str.join(";"))
        .join(ball.select("timestamp_ms", "ball"), on="timestamp_ms", how="left")
        .join(period_start, on="period")
        .sort("timestamp_ms")
    )
    colon = pl.when((pl.col("period") == 1) & pl.lit(ball_colon)).then(pl.lit(":")).otherwise(pl.lit(""))
    lines = frames.select(
        "timestamp_ms",
        line=pl.format(
            "{};{},{},0:{};",
            pl.col("timestamp_ms") + SPORTVU_EPOCH_MS,
            pl.col("timestamp_ms") - pl.col("start"),
            "period",
            "item",
        )
        + pl.when(pl.col("ball").is_not_null()).then(colon + pl.col("ball") + ";").otherwise(pl.lit("")),
    )
    first = frames.row(0, named=True)
    halftime = int(truth.filter(pl.col("period") == 1)["timestamp_ms"].max()) + 60_000
    not_play = pl.DataFrame(
        {
            "timestamp_ms": [-400, -200, halftime, halftime + 200],
            "line": [
                f"{SPORTVU_EPOCH_MS + t};-1,{h},0:{first['item']};"
                for t, h in [(-400, 0), (-200, 0), (halftime, 1), (halftime + 200, 1)]
            ],
        }
    )
    out = pl.concat([lines, not_play.cast(lines.schema)]).sort("timestamp_ms")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tracking.txt"
    path.write_text("\n".join(out["line"].to_list()) + "\n")
    return path
