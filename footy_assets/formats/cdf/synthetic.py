"""Synthetic cdf deliveries: the synthetic truth written with this vendor's conventions."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import polars as pl

from footy_assets.core.synthetic import LENGTH, SUB_ON, WIDTH

CDF_PERIOD = {1: "first_half", 2: "second_half"}
KICK_OFF = datetime(2024, 8, 29, 14, 0, 0)


def write_cdf(truth: pl.DataFrame, folder: Path, match_id: str, fps: int = 25, version: str = "0.2") -> Path:
    """CDF tracking JSONL + meta: metres from the centre, home attacking +x all match (standardised)."""
    sheet = (
        truth.filter(pl.col("role").is_in(["player", "goal_keeper"]))
        .group_by("team", "jersey")
        .agg(pl.col("role").first())
        .sort("team", "jersey")
    )
    pid = pl.format("p{}{}", pl.col("team"), pl.col("jersey").cast(pl.String).str.zfill(2))
    objs = truth.with_columns(
        id=pl.when(pl.col("role") == "referee")
        .then(pl.lit("referee_1"))
        .when(pl.col("identified"))
        .then(pid)
        .otherwise(pl.format("unknown_{}", pl.col("track"))),
        position=pl.when(pl.col("role") == "goal_keeper").then(pl.lit("GK")).otherwise(pl.lit("CM")),
        x=pl.col("x").round(2),
        y=pl.col("y").round(2),
    )
    frames = truth.select("frame", "period").unique().sort("frame")
    starts = frames.group_by("period").agg(pl.col("frame").min().alias("start"), pl.col("frame").max().alias("end"))
    for side, team in (("home", 0), ("away", 1)):
        players = (
            objs.filter(pl.col("team") == team).group_by("frame").agg(pl.struct("id", "x", "y", "position").alias(side))
        )
        frames = frames.join(players, on="frame", how="left")
    refs = objs.filter(pl.col("role") == "referee").group_by("frame").agg(pl.struct("id", "x", "y").alias("referees"))
    ball = objs.filter(pl.col("role") == "ball").select("frame", bx="x", by="y", bz=pl.col("z").round(2))
    frames = frames.join(refs, on="frame", how="left").join(ball, on="frame", how="left").sort("frame")
    status = pl.lit(True)
    ball_struct = pl.struct(x="bx", y="by", z="bz", **({"status": status} if version == "0.3" else {}))
    out = frames.select(
        frame_id="frame",
        timestamp=(pl.lit(KICK_OFF) + pl.duration(milliseconds=pl.col("frame") * 1000 // fps)).dt.to_string(
            "%Y-%m-%dT%H:%M:%S%.3fZ"
        ),
        period=pl.col("period").replace_strict(CDF_PERIOD, return_dtype=pl.String),
        match=pl.struct(id=pl.lit(match_id)),
        **({"ball_status": status} if version == "0.2" else {}),
        teams=pl.struct(
            home=pl.struct(id=pl.lit("home_team"), players="home"),
            away=pl.struct(id=pl.lit("away_team"), players="away"),
        ),
        referees="referees",
        ball=ball_struct,
    )
    start_key, end_key = ("start_frame_id", "end_frame_id") if version == "0.2" else ("frame_id_start", "frame_id_end")
    team_sheet = {
        side: {
            "id": f"{side}_team",
            "players": [
                {
                    "id": f"p{team}{j:02d}",
                    "team_id": f"{side}_team",
                    "jersey_number": j,
                    "is_starter": j != SUB_ON,
                    **({"position": "GK"} if r == "goal_keeper" else {}),
                }
                for t, j, r in sheet.iter_rows()
                if t == team
            ],
        }
        for side, team in (("home", 0), ("away", 1))
    }
    meta = {
        "match": {
            "id": match_id,
            "periods": [
                {
                    "period": CDF_PERIOD[p],
                    "play_direction": "left_right",
                    start_key: s,
                    end_key: e,
                    "left_team_id": "home_team" if p == 1 else "away_team",
                    "right_team_id": "away_team" if p == 1 else "home_team",
                }
                for p, s, e in starts.sort("period").iter_rows()
            ],
        },
        "teams": team_sheet,
        "stadium" if version == "0.2" else "venue": {"pitch_length": LENGTH, "pitch_width": WIDTH},
        "meta": {"tracking": {"fps": fps, "name": "footy_assets synthetic"}, "cdf": {"version": f"{version}.0"}},
    }
    folder.mkdir(parents=True, exist_ok=True)
    out.write_ndjson(folder / "tracking.jsonl")
    (folder / "meta.json").write_text(json.dumps(meta, indent=1))
    return folder / "tracking.jsonl"
