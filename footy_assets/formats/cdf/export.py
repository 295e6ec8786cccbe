"""Canonical tracking -> Common Data Format v0.3.2 (tracking JSONL + meta JSON).

The canonical frame is CDF's own (metres from the centre spot, home attacking left to right in every period),
so positions go out as they are, rounded to the centimetre. Identified players are ``"{team}-{jersey}"`` on the
team sheets (goal keepers with position ``GK``); an unidentified player of a known team is
``unknown_<track or n>`` in his team's list and on no sheet (a reader sees him unidentified); a player whose
team is unknown has no place in a CDF frame and is left out. Referees are ``officials``. The ball carries
``status`` where the feed said whether it was in play.

Times: the lake keeps no kick-off time, so timestamps count the match clock from 1970-01-01T00:00:00Z (UTC, as
the format requires); ``frame_id`` is the canonical one, and each period's first and last frame are in the meta.
Parts of the meta the lake does not know (competition, season, venue id, the video, landmark and event
vendors) are filled with ``"unknown"`` / ``"not collected"`` so the schema's required keys are present.
"""

from __future__ import annotations

import json

import polars as pl

PERIOD_NAMES = {1: "first_half", 2: "second_half", 3: "first_half_extratime", 4: "second_half_extratime", 5: "shootout"}
CDF_VERSION = "0.3.2"
SIDES = (("home", 0), ("away", 1))


def _iso(ms: pl.Expr) -> pl.Expr:
    return (pl.lit(0, pl.Datetime("ms", "UTC")) + pl.duration(milliseconds=ms)).dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ")


def _iso_ms(ms: int) -> str:
    return pl.select(_iso(pl.lit(ms, pl.Int64))).item()


def _object_ids(frame: pl.DataFrame, prefix: str) -> pl.Expr:
    """The object's id in a frame: the player_id, else ``<prefix><track_id>``, else ``<prefix><n>`` numbered within
    the frame (ids are unique per frame)."""
    rank = pl.int_range(pl.len()).over("frame_id", pl.col("player_id").is_null()).cast(pl.String)
    return pl.coalesce(pl.col("player_id"), pl.lit(prefix) + pl.coalesce(pl.col("track_id"), rank))


def _lists(rows: pl.DataFrame, name: str) -> pl.DataFrame:
    """Per frame, the list of {id, x, y} of ``rows`` as column ``name``."""
    return rows.group_by("frame_id", maintain_order=True).agg(
        pl.struct("id", x=pl.col("x_m").cast(pl.Float64).round(2), y=pl.col("y_m").cast(pl.Float64).round(2)).alias(
            name
        )
    )


def tracking_lines(tracking: pl.DataFrame, match_id: str) -> bytes:
    """The tracking JSONL: one line per frame, in frame order."""
    placed = tracking.filter(pl.col("x_m").is_not_null())
    frames = tracking.group_by("frame_id", maintain_order=True).agg(
        pl.col("period").first(), pl.col("timestamp_ms").first()
    )
    people = placed.filter(pl.col("role").is_in(["player", "goal_keeper"]) & pl.col("team").is_not_null())
    people = people.with_columns(id=_object_ids(people, "unknown_"))
    for side, team in SIDES:
        frames = frames.join(_lists(people.filter(pl.col("team") == team), side), on="frame_id", how="left")
    referees = placed.filter(pl.col("role") == "referee")
    frames = frames.join(
        _lists(referees.with_columns(id=_object_ids(referees, "referee_")), "officials"), on="frame_id", how="left"
    )
    ball = placed.filter(pl.col("role") == "ball").select(
        "frame_id",
        bx=pl.col("x_m").cast(pl.Float64).round(2),
        by=pl.col("y_m").cast(pl.Float64).round(2),
        bz=pl.col("z_m").cast(pl.Float64).round(2),
        status="in_play",
    )
    frames = frames.join(ball, on="frame_id", how="left").sort("frame_id")
    has_status = tracking.filter(pl.col("role") == "ball")["in_play"].null_count() == 0 and ball.height > 0
    empty = pl.lit([], dtype=frames.schema["home"])
    out = frames.select(
        "frame_id",
        timestamp=_iso(pl.col("timestamp_ms")),
        period=pl.col("period").replace_strict(PERIOD_NAMES, return_dtype=pl.String),
        match=pl.struct(id=pl.lit(match_id)),
        teams=pl.struct(**{side: pl.struct(id=pl.lit(side), players=pl.coalesce(side, empty)) for side, _ in SIDES}),
        officials=pl.coalesce("officials", empty),
        ball=pl.struct(x="bx", y="by", z="bz", **({"status": pl.col("status").fill_null(False)} if has_status else {})),
    )
    return out.write_ndjson().encode()


def meta_document(tracking: pl.DataFrame, match: dict) -> dict:
    """The meta JSON: periods (first and last frame, times), whistles, team sheets, pitch, fps."""
    periods = (
        tracking.group_by("period")
        .agg(
            first=pl.col("frame_id").min(),
            last=pl.col("frame_id").max(),
            start=pl.col("timestamp_ms").min(),
            end=pl.col("timestamp_ms").max(),
        )
        .sort("period")
    )
    first_ms = int(periods["start"].min())
    starters_until = first_ms + 10_000  # seen in the first 10 s of the match: a starter
    sheet = (
        tracking.filter(pl.col("player_id").is_not_null())
        .group_by("team", "jersey", "player_id")
        .agg(gk=(pl.col("role") == "goal_keeper").mean() > 0.5, first=pl.col("timestamp_ms").min())
        .sort("team", "jersey")
    )
    unknown_vendor = {"version": "0.0.0", "name": "not collected"}
    fps = int(match["fps"])
    return {
        "competition": {"id": "unknown"},
        "season": {"id": "unknown"},
        "match": {
            "id": match["match_id"],
            "kickoff_time": _iso_ms(first_ms),
            "periods": [
                {
                    "period": PERIOD_NAMES[p],
                    "play_direction": "left_right",
                    "start_time": _iso_ms(start),
                    "end_time": _iso_ms(end),
                    "frame_id_start": first,
                    "frame_id_end": last,
                    "left_team_id": "home",
                    "right_team_id": "away",
                }
                for p, first, last, start, end in periods.iter_rows()
            ],
            "whistles": [
                {"type": PERIOD_NAMES[p], "sub_type": sub, "time": _iso_ms(ms)}
                for p, _, _, start, end in periods.iter_rows()
                for sub, ms in (("start", start), ("end", end))
            ],
        },
        "teams": {
            side: {
                "id": side,
                "players": [
                    {
                        "id": pid,
                        "team_id": side,
                        "jersey_number": jersey,
                        "is_starter": first <= starters_until,
                        **({"position": "GK"} if gk else {}),
                    }
                    for t, jersey, pid, gk, first in sheet.iter_rows()
                    if t == team
                ],
            }
            for side, team in SIDES
        },
        "venue": {
            "id": "unknown",
            "pitch_length": float(match["pitch_length_m"]),
            "pitch_width": float(match["pitch_width_m"]),
        },
        "meta": {
            "video": {**unknown_vendor, "perspective": "unknown", "fps": fps},
            "tracking": {
                "version": "1",
                "name": f"footy_assets (from {match['format']})",
                "fps": fps,
                "collection_timing": "post_match",
            },
            "event": {**unknown_vendor, "collection_timing": "post_match"},
            "landmarks": {
                **unknown_vendor,
                "fps": fps,
                "collection_timing": "post_match",
                "skeleton": {"root": "none", "joints": [], "connections": []},
            },
            "meta": {"version": "1", "name": "footy_assets"},
            "ball": {**unknown_vendor, "fps": fps, "collection_timing": "post_match"},
            "cdf": {"version": CDF_VERSION},
        },
    }


def render(tracking: pl.DataFrame, match: dict) -> dict[str, bytes]:
    return {
        "tracking.jsonl": tracking_lines(tracking, match["match_id"]),
        "meta.json": json.dumps(meta_document(tracking, match), indent=1).encode(),
    }
