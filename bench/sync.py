"""Benchmark: synchronising a full match's events with its tracking (core/sync.py).

Builds a synthetic 90-minute, 25 fps match (formats/synthetic.py: 22 players, a referee and the ball, ~3.2 M
tracking rows) and events at its true ball touches: every pass at the frame the ball leaves its passer (with its
receiver), a kick-off pass at each period's first in-play frame, and non-ball events between them, about 1,700 in
all. The event clock is the vendor's: each period is off by a constant (+2.3 s, +2.0 s), and each event by its
own annotation error (late by 0.3 s on average, 0.4 s either way), its location by ~1.5 m; the tracking
measures every position with an error of 0.1 m (``--noise``).

Prints the time ``synchronise`` takes, the offsets it removed, and how close its frames are to the true ones
(share within 0 / 1 / 2 frames), then the share of frames that stay the same when the event times are jittered
again (+-0.5 s) and shifted by 3 s.

Run: ``.venv/bin/python bench/sync.py [--minutes 45] [--noise 0.1]``. Not a timed test: the time depends on the
machine.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import polars as pl

from footy_assets.core.sync import synchronise
from footy_assets.formats import synthetic

BIAS_MS = {1: 2300, 2: 2000}  # the event clock's constant offset per period
KICKOFF_FRAMES = 50  # frames before each period's kick-off (the feed flags them out of play)


def tracking_of(truth: pl.DataFrame, match_id: str, fps: int, noise_m: float = 0.0, seed: int = 0) -> pl.DataFrame:
    """Canonical tracking rows of the synthetic truth (identified players by team-jersey), the first
    ``KICKOFF_FRAMES`` frames of each period flagged out of play, positions measured with a Gaussian error of
    ``noise_m`` (m) each way."""
    first = pl.col("frame").min().over("period")
    rng = np.random.default_rng(seed)
    tracked = truth.with_columns(
        x=pl.col("x") + pl.Series(rng.normal(0, noise_m, truth.height)),
        y=pl.col("y") + pl.Series(rng.normal(0, noise_m, truth.height)),
    )
    return tracked.select(
        match_id=pl.lit(match_id),
        frame_id="frame",
        timestamp_ms="timestamp_ms",
        period="period",
        role="role",
        team="team",
        jersey="jersey",
        player_id=pl.when(pl.col("identified") & pl.col("jersey").is_not_null()).then(
            pl.format("{}-{}", "team", "jersey")
        ),
        x_m=pl.col("x").cast(pl.Float32),
        y_m=pl.col("y").cast(pl.Float32),
        z_m=pl.col("z").cast(pl.Float32),
        in_play=pl.col("frame") - first >= KICKOFF_FRAMES,
    )


def true_passes(tracking: pl.DataFrame) -> pl.DataFrame:
    """The synthetic ball's flights: each starts at the frame its height is exactly 0 (the ball leaves the
    passer's feet, at the passer's position) and reaches the receiver 0.8 s later."""
    ball = tracking.filter((pl.col("role") == "ball") & (pl.col("z_m") == 0)).select(
        "frame_id", "period", bx="x_m", by="y_m"
    )
    people = tracking.filter(pl.col("player_id").is_not_null()).select("frame_id", "player_id", "x_m", "y_m")
    at = ball.join(people, on="frame_id").with_columns(
        d=((pl.col("x_m") - pl.col("bx")) ** 2 + (pl.col("y_m") - pl.col("by")) ** 2).sqrt()
    )
    passer = at.sort("d").group_by("frame_id").first().filter(pl.col("d") < 0.05)
    receive = passer.select("frame_id", end=pl.col("frame_id") + 20)
    ball_end = tracking.filter(pl.col("role") == "ball").select(end="frame_id", ex="x_m", ey="y_m")
    recv = (
        receive.join(ball_end, on="end")
        .join(people.rename({"frame_id": "end"}), on="end")
        .with_columns(d=((pl.col("x_m") - pl.col("ex")) ** 2 + (pl.col("y_m") - pl.col("ey")) ** 2).sqrt())
        .sort("d")
        .group_by("frame_id")
        .first()
        .select("frame_id", receiver_id="player_id", end_frame="end")
    )
    passes = passer.join(recv, on="frame_id", how="left").sort("frame_id")
    # the synthetic carrier sometimes "passes" to himself: no pass
    return passes.filter(pl.col("receiver_id").is_null() | (pl.col("receiver_id") != pl.col("player_id"))).select(
        "frame_id", "period", "player_id", "receiver_id", "end_frame", x="bx", y="by"
    )


def events_of(tracking: pl.DataFrame, passes: pl.DataFrame, match_id: str, fps: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    kickoffs = (
        tracking.filter(pl.col("role") == "ball")
        .group_by("period")
        .agg(pl.col("frame_id").min() + KICKOFF_FRAMES)
        .rename({"frame_id": "ko"})
    )
    ko_rows = []
    for period, frame in kickoffs.sort("period").iter_rows():
        ball = tracking.filter((pl.col("frame_id") == frame) & (pl.col("role") == "ball")).row(0, named=True)
        near = (
            tracking.filter((pl.col("frame_id") == frame) & pl.col("player_id").is_not_null())
            .with_columns(d=((pl.col("x_m") - ball["x_m"]) ** 2 + (pl.col("y_m") - ball["y_m"]) ** 2))
            .sort("d")
            .row(0, named=True)
        )
        ko_rows.append(
            {
                "frame_id": frame,
                "period": period,
                "player_id": near["player_id"],
                "receiver_id": None,
                "end_frame": None,
                "x": ball["x_m"],
                "y": ball["y_m"],
                "sub_type": "kick_off",
            }
        )
    balls = pl.concat(
        [
            pl.DataFrame(ko_rows, schema={**passes.schema, "sub_type": pl.String}),
            passes.with_columns(sub_type=pl.lit(None, pl.String)),
        ]
    ).sort("frame_id")
    n = balls.height
    lag = rng.normal(300, 400, n).round()
    lag[balls["sub_type"].is_not_null().to_numpy()] = 0  # the kick-offs: the bias alone
    ball_events = balls.with_columns(
        type=pl.lit("pass"),
        true_frame="frame_id",
        timestamp_ms=(pl.col("frame_id") * 1000 / fps).round().cast(pl.Int64)
        + pl.col("period").replace_strict(BIAS_MS, return_dtype=pl.Int64)
        + pl.Series(lag.astype(np.int64)),
        x_m=(pl.col("x") + pl.Series(rng.normal(0, 1.5, n))).cast(pl.Float32),
        y_m=(pl.col("y") + pl.Series(rng.normal(0, 1.5, n))).cast(pl.Float32),
    )
    others = ball_events.sample(fraction=0.17, seed=seed).with_columns(
        type=pl.lit("defending"),
        sub_type=pl.lit("pressing"),
        true_frame=pl.lit(None, pl.Int64),
        timestamp_ms=pl.col("timestamp_ms") + 400,
        receiver_id=pl.lit(None, pl.String),
    )
    keep = [
        "period",
        "timestamp_ms",
        "type",
        "sub_type",
        "player_id",
        "receiver_id",
        "x_m",
        "y_m",
        "true_frame",
        "end_frame",
    ]
    events = pl.concat([ball_events.select(keep), others.select(keep)]).sort("timestamp_ms", "type")
    return events.with_columns(
        match_id=pl.lit(match_id),
        event_id=pl.format("e{}", pl.int_range(pl.len())),
        event_index=pl.int_range(pl.len(), dtype=pl.Int32),
        x_end_m=pl.lit(None, pl.Float32),
        y_end_m=pl.lit(None, pl.Float32),
        body_part=pl.lit("feet"),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=45.0, help="length of each half")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--noise",
        type=float,
        default=0.1,
        help="tracking error (m, standard deviation) added to every position after the true passes are found",
    )
    args = parser.parse_args()
    spec = synthetic.MatchSpec("bench_sync", half_seconds=args.minutes * 60, fps=25, seed=args.seed)
    started = time.perf_counter()
    truth = synthetic.generate_truth(spec)
    exact = tracking_of(truth, spec.match_id, spec.fps)
    passes = true_passes(exact)
    events = events_of(exact, passes, spec.match_id, spec.fps, args.seed)
    tracking = tracking_of(truth, spec.match_id, spec.fps, args.noise, args.seed) if args.noise else exact
    del truth, exact
    print(
        f"match: {tracking.height:,} tracking rows, {events.height:,} events "
        f"({events['true_frame'].is_not_null().sum():,} passes), built in {time.perf_counter() - started:.1f} s"
    )

    started = time.perf_counter()
    result = synchronise(events, tracking, spec.fps)
    elapsed = time.perf_counter() - started
    print(
        f"synchronise: {elapsed:.2f} s   (peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)"
    )
    print("offsets removed (ms):", dict(result.periods.select("period", "offset_ms").iter_rows()), " true:", BIAS_MS)

    out = events.join(result.events, on="event_id")
    passes_out = out.filter(pl.col("true_frame").is_not_null())
    synced = passes_out.filter(pl.col("sync_status") == "synced")
    error = (synced["frame_id"] - synced["true_frame"]).abs()
    print(
        f"passes synced: {synced.height:,} of {passes_out.height:,}; frame within 0 / 1 / 2 frames of the truth: "
        + " / ".join(f"{(error <= k).mean():.1%}" for k in (0, 1, 2))
    )
    ends = synced.filter(pl.col("end_frame").is_not_null() & pl.col("receiver_id").is_not_null())
    end_error = (ends["frame_id_end"] - ends["end_frame"]).abs()
    print(
        f"receptions found: {ends['frame_id_end'].is_not_null().mean():.1%}; within 2 frames: "
        f"{(end_error <= 2).fill_null(False).mean():.1%}"
    )
    print("unmatched:", dict(out.filter(pl.col("sync_status") != "synced").group_by("sync_status").len().iter_rows()))

    rng = np.random.default_rng(args.seed + 1)
    moved = events.with_columns(
        timestamp_ms=pl.col("timestamp_ms")
        + 3000
        + pl.Series(rng.uniform(-500, 500, events.height).round().astype(np.int64))
    )
    again = synchronise(moved, tracking, spec.fps).events
    both = result.events.join(again, on="event_id", suffix="_again").filter(pl.col("sync_status") == "synced")
    print(f"the same frame after +3 s and +-0.5 s jitter: {(both['frame_id'] == both['frame_id_again']).mean():.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
