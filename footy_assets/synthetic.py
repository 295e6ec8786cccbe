"""Synthetic matches: one underlying truth, written as any vendor format, for the demo, tests and bench.

The truth is in the canonical frame (metres, centre origin, home attacking +x). 22 players stand and drift
slowly around formation anchors and make runs towards spots near their anchor: walks, jogs, runs, high-speed
runs and sprints, each a raised-cosine speed ramp up (steeper for faster runs, at most 4.5 m/s^2), a hold
at its peak and a ramp down. The mix follows published elite match profiles: about 9 km per player per 90
minutes, about 70% of it below 4 m/s, high-speed running (5.5-7 m/s) about twice the sprint distance (> 7
m/s), top speeds 8.5-10 m/s
(``footy_assets_tests/test_synthetic.py`` holds the generator to this). Goal keepers stay near their goal and
never run fast; one referee; a ball passed between players (with height during passes). Each match has two
halves and a 15-minute break, a substitution (home #9 off, #14 on) in the second half, a one-second drop-out
of one player, one player whose jersey is unreadable for a while, and a few frames where the ball is not
tracked.

Writers turn the truth into each vendor's files with that vendor's conventions (units, origin, sides
swapped at half time where the vendor does not standardise, clock, ids, quirks), so readers can be
checked against the truth and against each other. Everything is vectorised numpy/polars.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from scipy.signal import butter, sosfiltfilt

LENGTH, WIDTH = 105.0, 68.0
BREAK_MS = 15 * 60 * 1000
SPORTVU_EPOCH_MS = 1_598_184_000_000
# 4-4-2 anchors for the home team (attacking +x), in metres from the centre spot.
ANCHORS = [(-47.0, 0.0), (-33, -22), (-35, -8), (-35, 8), (-33, 22), (-15, -24), (-17, -8), (-17, 8),
           (-15, 24), (-4, -8), (-5, 9)]
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
INSIDE = np.array([LENGTH / 2 - 9, WIDTH / 2 - 7])  # runs end this far inside the lines  # steepest change of a run's speed (raised-cosine ramps)


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
        speed = peak * np.where(tau < ramp, (1 - np.cos(np.pi * tau / ramp)) / 2,
                                np.where(tau <= ramp + hold, 1.0, (1 - np.cos(np.pi * (2 * ramp + hold - tau) / ramp)) / 2))
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
            parts.append(pl.DataFrame({
                "period": period, "timestamp_ms": ts, "role": "goal_keeper" if obj % 11 == 0 else "player",
                "team": team, "jersey": jerseys, "track": f"{'ha'[team]}{obj % 11:02d}",
                "x": half["players"][obj, :, 0], "y": half["players"][obj, :, 1], "z": None,
                "identified": identified,
            }).filter(pl.Series(keep)))
        parts.append(pl.DataFrame({
            "period": period, "timestamp_ms": ts, "role": "referee", "team": None, "jersey": None,
            "track": "ref", "x": half["referee"][:, 0], "y": half["referee"][:, 1], "z": None, "identified": True,
        }))
        ball_keep = np.ones(n, bool)
        ball_keep[n // 4 : n // 4 + 5] = False  # the ball is occluded for five frames
        parts.append(pl.DataFrame({
            "period": period, "timestamp_ms": ts, "role": "ball", "team": None, "jersey": None, "track": "ball",
            "x": half["ball"][:, 0], "y": half["ball"][:, 1], "z": half["ball_z"], "identified": True,
        }).filter(pl.Series(ball_keep)))
    schema = {"period": pl.Int8, "timestamp_ms": pl.Int64, "role": pl.String, "team": pl.Int8,
              "jersey": pl.Int16, "track": pl.String, "x": pl.Float64, "y": pl.Float64, "z": pl.Float64,
              "identified": pl.Boolean}
    truth = pl.concat([p.cast(schema) for p in parts]).sort("timestamp_ms", "track")
    return truth.with_columns(frame=(pl.col("timestamp_ms") * spec.fps / 1000).round(0).cast(pl.Int64))


def _stadium_frame(truth: pl.DataFrame, home_right_in: set[int]) -> pl.DataFrame:
    """Truth rotated into the stadium's frame: in the periods of ``home_right_in`` home attacks -x."""
    sign = pl.when(pl.col("period").is_in(list(home_right_in))).then(-1.0).otherwise(1.0)
    return truth.with_columns(x=pl.col("x") * sign, y=pl.col("y") * sign)


def write_footy_stats(truth: pl.DataFrame, folder: Path, file_format: str = "parquet", seed: int = 1) -> Path:
    """The tracking download: cm from the bottom-left corner, teams swap ends at half time."""
    rng = np.random.default_rng(seed)
    stadium = _stadium_frame(truth, home_right_in={2})
    pid = pl.when(pl.col("role").is_in(["player", "goal_keeper"]) & pl.col("identified")).then(
        pl.format("{}-{}", pl.col("team"), pl.col("jersey"))
    )
    rows = stadium.select(
        timestamp=pl.col("timestamp_ms").cast(pl.Int32),
        role="role",
        player_id=pid,
        player_id_conf=pl.when(pid.is_not_null()).then(
            pl.Series(rng.uniform(0.6, 1.0, stadium.height)).round(3)).cast(pl.Float32),
        x=((pl.col("x") + LENGTH / 2) * 100).round(0).cast(pl.Int16),
        y=((pl.col("y") + WIDTH / 2) * 100).round(0).cast(pl.Int16),
        bbox_x=(960 + pl.col("x") * 15).round(0).cast(pl.Int16),
        bbox_y=(700 - pl.col("y") * 6).round(0).cast(pl.Int16),
    )
    folder.mkdir(parents=True, exist_ok=True)
    if file_format == "parquet":
        path = folder / "tracking.parquet"
        table = rows.to_arrow()
        # The vendor ships player_id_conf as float16.
        table = table.set_column(3, "player_id_conf", table["player_id_conf"].cast(pa.float16()))
        pq.write_table(table, path)
    else:
        path = folder / "tracking.json"
        body = rows.write_ndjson().strip().replace("\n", ",\n")
        path.write_text("[\n" + body + "\n]\n")
    return path


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
    code = (pl.when(pl.col("role") == "referee").then(2)
            .when(pl.col("role") == "goal_keeper").then(pl.col("team") + 3)
            .otherwise(pl.col("team")))
    jersey = pl.when(pl.col("role") == "referee").then(0).when(pl.col("identified")).then(pl.col("jersey")).otherwise(-1)
    xs, ys = (pl.col("x") + LENGTH / 2).round(3), (WIDTH / 2 - pl.col("y")).round(3)
    people = stadium.filter(pl.col("role") != "ball").with_columns(
        item=pl.format("{},{},{},{},{}", code, pl.col("track").replace_strict(ids), jersey, xs, ys)
    )
    ball = stadium.filter(pl.col("role") == "ball").with_columns(
        ball=pl.format("{},{},{}", xs, ys, pl.col("z").round(2))
    )
    period_start = truth.group_by("period").agg(pl.col("timestamp_ms").min().alias("start"))
    frames = (
        people.group_by("timestamp_ms", "period", maintain_order=True).agg(pl.col("item").str.join(";"))
        .join(ball.select("timestamp_ms", "ball"), on="timestamp_ms", how="left")
        .join(period_start, on="period")
        .sort("timestamp_ms")
    )
    colon = pl.when((pl.col("period") == 1) & pl.lit(ball_colon)).then(pl.lit(":")).otherwise(pl.lit(""))
    lines = frames.select(
        "timestamp_ms",
        line=pl.format("{};{},{},0:{};", pl.col("timestamp_ms") + SPORTVU_EPOCH_MS,
                       pl.col("timestamp_ms") - pl.col("start"), "period", "item")
        + pl.when(pl.col("ball").is_not_null()).then(colon + pl.col("ball") + ";").otherwise(pl.lit("")),
    )
    first = frames.row(0, named=True)
    halftime = int(truth.filter(pl.col("period") == 1)["timestamp_ms"].max()) + 60_000
    not_play = pl.DataFrame({
        "timestamp_ms": [-400, -200, halftime, halftime + 200],
        "line": [f"{SPORTVU_EPOCH_MS + t};-1,{h},0:{first['item']};" for t, h in
                 [(-400, 0), (-200, 0), (halftime, 1), (halftime + 200, 1)]],
    })
    out = pl.concat([lines, not_play.cast(lines.schema)]).sort("timestamp_ms")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tracking.txt"
    path.write_text("\n".join(out["line"].to_list()) + "\n")
    return path


CDF_PERIOD = {1: "first_half", 2: "second_half"}
KICK_OFF = datetime(2024, 8, 29, 14, 0, 0)


def write_cdf(truth: pl.DataFrame, folder: Path, match_id: str, fps: int = 25, version: str = "0.2") -> Path:
    """CDF tracking JSONL + meta: metres from the centre, home attacking +x all match (standardised)."""
    sheet = (truth.filter(pl.col("role").is_in(["player", "goal_keeper"]))
             .group_by("team", "jersey").agg(pl.col("role").first()).sort("team", "jersey"))
    pid = pl.format("p{}{}", pl.col("team"), pl.col("jersey").cast(pl.String).str.zfill(2))
    objs = truth.with_columns(
        id=pl.when(pl.col("role") == "referee").then(pl.lit("referee_1"))
        .when(pl.col("identified")).then(pid).otherwise(pl.format("unknown_{}", pl.col("track"))),
        position=pl.when(pl.col("role") == "goal_keeper").then(pl.lit("GK")).otherwise(pl.lit("CM")),
        x=pl.col("x").round(2), y=pl.col("y").round(2),
    )
    frames = truth.select("frame", "period").unique().sort("frame")
    starts = frames.group_by("period").agg(pl.col("frame").min().alias("start"), pl.col("frame").max().alias("end"))
    for side, team in (("home", 0), ("away", 1)):
        players = (objs.filter(pl.col("team") == team).group_by("frame")
                   .agg(pl.struct("id", "x", "y", "position").alias(side)))
        frames = frames.join(players, on="frame", how="left")
    refs = objs.filter(pl.col("role") == "referee").group_by("frame").agg(pl.struct("id", "x", "y").alias("referees"))
    ball = objs.filter(pl.col("role") == "ball").select("frame", bx="x", by="y", bz=pl.col("z").round(2))
    frames = frames.join(refs, on="frame", how="left").join(ball, on="frame", how="left").sort("frame")
    status = pl.lit(True)
    ball_struct = pl.struct(x="bx", y="by", z="bz", **({"status": status} if version == "0.3" else {}))
    out = frames.select(
        frame_id="frame",
        timestamp=(pl.lit(KICK_OFF) + pl.duration(milliseconds=pl.col("frame") * 1000 // fps))
        .dt.to_string("%Y-%m-%dT%H:%M:%S%.3fZ"),
        period=pl.col("period").replace_strict(CDF_PERIOD, return_dtype=pl.String),
        match=pl.struct(id=pl.lit(match_id)),
        **({"ball_status": status} if version == "0.2" else {}),
        teams=pl.struct(home=pl.struct(id=pl.lit("home_team"), players="home"),
                        away=pl.struct(id=pl.lit("away_team"), players="away")),
        referees="referees",
        ball=ball_struct,
    )
    start_key, end_key = ("start_frame_id", "end_frame_id") if version == "0.2" else ("frame_id_start", "frame_id_end")
    team_sheet = {
        side: {"id": f"{side}_team", "players": [
            {"id": f"p{team}{j:02d}", "team_id": f"{side}_team", "jersey_number": j,
             "is_starter": j != SUB_ON, **({"position": "GK"} if r == "goal_keeper" else {})}
            for t, j, r in sheet.iter_rows() if t == team]}
        for side, team in (("home", 0), ("away", 1))
    }
    meta = {
        "match": {"id": match_id, "periods": [
            {"period": CDF_PERIOD[p], "play_direction": "left_right", start_key: s, end_key: e,
             "left_team_id": "home_team" if p == 1 else "away_team",
             "right_team_id": "away_team" if p == 1 else "home_team"}
            for p, s, e in starts.sort("period").iter_rows()]},
        "teams": team_sheet,
        "stadium" if version == "0.2" else "venue": {"pitch_length": LENGTH, "pitch_width": WIDTH},
        "meta": {"tracking": {"fps": fps, "name": "footy_assets synthetic"}, "cdf": {"version": f"{version}.0"}},
    }
    folder.mkdir(parents=True, exist_ok=True)
    out.write_ndjson(folder / "tracking.jsonl")
    (folder / "meta.json").write_text(json.dumps(meta, indent=1))
    return folder / "tracking.jsonl"


VIDEO_SIZE = (1920, 1080)
# A fixed camera high above the near touchline that sees the whole pitch: where the stadium's corners appear in
# the normalised image (near touchline low and wide, far touchline high and narrow: a broadcast perspective).
CAMERA_CORNERS = {(-LENGTH / 2, -WIDTH / 2): (0.05, 0.93), (LENGTH / 2, -WIDTH / 2): (0.95, 0.93),
                  (LENGTH / 2, WIDTH / 2): (0.78, 0.30), (-LENGTH / 2, WIDTH / 2): (0.22, 0.30)}


def homography_from(points: dict[tuple[float, float], tuple[float, float]]) -> np.ndarray:
    """The 3x3 homography mapping each of four source points to its target (direct linear transform)."""
    rows, rhs = [], []
    for (x, y), (u, v) in points.items():
        rows += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
        rhs += [u, v]
    return np.append(np.linalg.solve(np.array(rows), np.array(rhs)), 1.0).reshape(3, 3)


def _project(matrix: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    points = matrix @ np.vstack([x, y, np.ones_like(x)])
    return points[0] / points[2], points[1] / points[2]


def write_footy_track(truth: pl.DataFrame, folder: Path, match_id: str, fps: int = 25, homography: bool = True,
                      schema_version: str = "1.0.0") -> Path:
    """The video tracker's output (the video tracker's documented output format): tracks.parquet + tracks_meta.json.

    The stadium frame (home attacks -x in period 2) seen by a fixed broadcast camera: boxes are the bottom-centre
    of each object projected into the image, 25-95 px tall for people by their distance from the camera. A
    track ends where the tracker loses an object (a drop-out, a jersey that cannot be read, half time) or the
    player changes (the substitution); the track that picks a player up again after a drop-out or an unreadable
    spell carries no identity of its own but ``reid_parent_track_id`` to the track it continues. The unreadable
    spell is a track that never gets an identity; the frames before the drop-out are the tracker's predictions
    (``is_interpolated``); a few detections of a steward are labelled ``staff`` (no role: dropped). With
    ``homography`` the sidecar carries the camera's ``pitch_homography``.
    """
    stadium = _stadium_frame(truth, home_right_in={2})
    to_image = homography_from(CAMERA_CORNERS)
    order = stadium.sort("track", "timestamp_ms")
    step = pl.col("frame").diff().over("track")
    changed = [pl.col(c).ne_missing(pl.col(c).shift().over("track")) for c in ("period", "jersey", "identified")]
    new_segment = (step.ne_missing(1) | pl.any_horizontal(changed))
    order = order.with_columns(segment=new_segment.cum_sum())
    # track ids in order of appearance, from 1, never reused
    first_seen = order.group_by("segment").agg(pl.col("timestamp_ms").min(), pl.col("track").first()).sort(
        "timestamp_ms", "track")
    ids = dict(zip(first_seen["segment"].to_list(), range(1, first_seen.height + 1)))
    order = order.with_columns(track_id=pl.col("segment").replace_strict(ids, return_dtype=pl.Int32))
    u, v = _project(to_image, order["x"].to_numpy(), order["y"].to_numpy())
    people = order["role"].is_in(["player", "goal_keeper", "referee"]).to_numpy()
    h = np.where(people, 0.023 + 0.065 * (v - 0.30) / 0.63, 0.011)
    w = np.where(people, 0.4 * h, h * VIDEO_SIZE[1] / VIDEO_SIZE[0])
    # the tracker's predictions: the 3 frames before home #6's drop-out
    before_dropout = (order.filter((pl.col("team") == DROPOUT[0]) & (pl.col("jersey") == DROPOUT[1])
                                   & (pl.col("period") == 1))
                      .filter(pl.col("frame").diff().shift(-1) > 1)["frame"].to_list())
    predicted = (pl.col("team") == DROPOUT[0]) & (pl.col("jersey") == DROPOUT[1]) & pl.col("frame").is_in(
        [f - k for f in before_dropout for k in range(3)])
    label = pl.col("role").replace({"goal_keeper": "goalkeeper"})
    rows = order.select(
        match_id=pl.lit(match_id),
        frame_index=pl.col("frame").cast(pl.Int32),
        continuous_time_s=pl.col("timestamp_ms") / 1000,
        track_id="track_id",
        label=label,
        confidence=pl.lit(0.9, pl.Float32),
        bbox_x=pl.Series(u - w / 2).cast(pl.Float32),
        bbox_y=pl.Series(v - h).cast(pl.Float32),
        bbox_w=pl.Series(w).cast(pl.Float32),
        bbox_h=pl.Series(h).cast(pl.Float32),
        detector_model=pl.lit("yolo11n.pt@v3"),
        tracker=pl.lit("bytetrack"),
        is_interpolated=predicted.fill_null(False),
    )
    staff_id = len(ids) + 1
    staff = rows.head(10).with_columns(track_id=pl.lit(staff_id, pl.Int32), label=pl.lit("staff"),
                                       bbox_x=pl.lit(0.01, pl.Float32), bbox_y=pl.lit(0.5, pl.Float32))
    rows = pl.concat([rows, staff]).sort("frame_index", "track_id")
    segments = (order.group_by("segment", maintain_order=True)
                .agg(pl.col("track_id").first(), pl.col("track").first(), pl.col("role").first(),
                     pl.col("team").first(), pl.col("jersey").first(), pl.col("identified").first(),
                     pl.col("period").first(), start_frame=pl.col("frame").min(), end_frame=pl.col("frame").max(),
                     start=pl.col("timestamp_ms").min(), end=pl.col("timestamp_ms").max())
                .sort("track", "start"))
    tracks, last_identified = {}, {}
    for seg in segments.iter_rows(named=True):  # per track segment (a few dozen), not per frame
        person = seg["role"] in ("player", "goal_keeper")
        key = (seg["track"], seg["period"], seg["jersey"])
        parent = last_identified.get(key) if person and seg["identified"] else None
        own = person and seg["identified"] and parent is None
        tracks[str(seg["track_id"])] = {
            "label": "goalkeeper" if seg["role"] == "goal_keeper" else seg["role"],
            "start_frame": seg["start_frame"], "end_frame": seg["end_frame"],
            "start_continuous_time_s": seg["start"] / 1000, "end_continuous_time_s": seg["end"] / 1000,
            "team_id": ("home", "away")[seg["team"]] if own else None,
            "jersey_number": seg["jersey"] if own else None,
            "player_id": f"{('home', 'away')[seg['team']]}_{seg['jersey']}" if own else None,
            "reid_parent_track_id": parent,
        }
        if person and seg["identified"]:
            last_identified.setdefault(key, seg["track_id"])
    tracks[str(staff_id)] = {"label": "staff", "start_frame": 0, "end_frame": 9, "team_id": None,
                             "jersey_number": None, "player_id": None, "reid_parent_track_id": None}
    half_start = truth.filter(pl.col("period") == 2)["timestamp_ms"].min()
    meta = {
        "schema_version": schema_version,
        "match_id": match_id,
        "produced_by": {"detector": "yolo11n.pt@v3", "tracker": "bytetrack", "tracker_config": "bytetrack.yaml"},
        "video": {"width": VIDEO_SIZE[0], "height": VIDEO_SIZE[1], "fps": float(fps)},
        "game_metadata": {"half_start_continuous_s": half_start / 1000 if half_start is not None else None},
        "tracks": tracks,
    }
    if homography:
        to_pitch = np.linalg.inv(to_image)
        meta["pitch_homography"] = (to_pitch / to_pitch[2, 2]).tolist()
    folder.mkdir(parents=True, exist_ok=True)
    table = rows.to_arrow()
    for name in ("label", "detector_model", "tracker"):  # dictionary<string>, as the tracker's documented Arrow schema
        table = table.set_column(table.schema.get_field_index(name), name, table[name].dictionary_encode())
    pq.write_table(table, folder / "tracks.parquet")
    (folder / "tracks_meta.json").write_text(json.dumps(meta, indent=1))
    return folder / "tracks.parquet"


def write_match(lake_landing: Path, fmt: str, spec: MatchSpec, truth: pl.DataFrame | None = None, **kw) -> Path:
    """Write ``spec``'s match into ``<landing>/<fmt>/<match_id>/`` and return the folder."""
    truth = generate_truth(spec) if truth is None else truth
    folder = lake_landing / fmt / spec.match_id
    if fmt == "footy_stats":
        write_footy_stats(truth, folder, **kw)
    elif fmt == "sportvu":
        write_sportvu(truth, folder, **kw)
    elif fmt == "cdf":
        write_cdf(truth, folder, spec.match_id, fps=spec.fps, **kw)
    elif fmt == "footy_track":
        write_footy_track(truth, folder, spec.match_id, fps=spec.fps, **kw)
    else:
        raise ValueError(f"no synthetic writer for format {fmt!r}")
    return folder
