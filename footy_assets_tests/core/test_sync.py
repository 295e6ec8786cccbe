"""Synchronising events with tracking (core/sync.py) on the real samples and on a synthetic match whose true
frames are known: the clock offsets recovered, the acting player at the ball, the events' order kept, and the
frames independent of the event clock's offset and jitter."""

from __future__ import annotations

from functools import cache

import numpy as np
import polars as pl
import pytest

from footy_assets.core import sync
from footy_assets.core.contracts.events import EventSync
from footy_assets.formats.cdf import events as cdf_events
from footy_assets.formats.cdf import reader as cdf_reader
from footy_assets.formats.common import Delivery
from footy_assets_tests.helpers import SAMPLES

FOLDER = SAMPLES / "cdf_events"
FINGERPRINT = "e" * 64


@cache
def tracking(name: str) -> pl.DataFrame:
    """The sample's canonical tracking. The sample folder also holds events.jsonl: the tracking reader takes a
    delivery of tracking.jsonl and meta.json only."""
    files = {f: (FOLDER / name / f).read_bytes() for f in ("tracking.jsonl", "meta.json")}
    return cdf_reader.read(Delivery(name, FINGERPRINT, files)).tracking


@cache
def events(name: str) -> pl.DataFrame:
    files = {f: (FOLDER / name / f).read_bytes() for f in ("events.jsonl", "match.json", "meta.json")}
    return cdf_events.read(Delivery(name, FINGERPRINT, files)).events


@cache
def synced(name: str) -> sync.SyncResult:
    return sync.synchronise(events(name), tracking(name), 25)


def positions(frame: str = "frame_id") -> tuple[pl.DataFrame, pl.DataFrame]:
    t = tracking("footovision_h1")
    ball = t.filter(pl.col("role") == "ball").select(pl.col("frame_id").alias(frame), bx="x_m", by="y_m")
    people = t.filter(pl.col("player_id").is_not_null()).select(
        pl.col("frame_id").alias(frame), "player_id", px="x_m", py="y_m"
    )
    return ball, people


def actor_ball_m(rows: pl.DataFrame, frame: str) -> pl.Series:
    """The acting player's distance to the ball (m) at each row's ``frame`` column, from tracking."""
    ball, people = positions(frame)
    joined = rows.join(people, on=[frame, "player_id"], how="left").join(ball, on=frame, how="left")
    return joined.select(((pl.col("px") - pl.col("bx")) ** 2 + (pl.col("py") - pl.col("by")) ** 2).sqrt()).to_series()


def test_footovision_one_clock_no_offset():
    result = synced("footovision_h1")
    period = result.periods.row(0, named=True)
    assert (period["period"], period["kickoff_frame_id"], period["offset_ms"]) == (1, 0, 0)
    assert period["kickoff_event_id"] == "6742527193" and period["offset_source"] == "kick-off"
    out = result.events
    assert (out["offset_ms"] == 0).all()
    kick_off = out.filter(pl.col("event_id") == "6742527193").row(0, named=True)
    assert (kick_off["sync_status"], kick_off["frame_id"]) == ("synced", 0)
    assert np.hypot(kick_off["ball_x_m"], kick_off["ball_y_m"]) == pytest.approx(0.17, abs=0.01)
    EventSync.validate(out)


def test_footovision_passes_put_the_actor_at_the_ball():
    ev = events("footovision_h1")
    out = ev.join(synced("footovision_h1").events, on="event_id")
    passes = out.filter(pl.col("type") == "pass")
    assert passes.height == 21
    assert (passes["sync_status"] == "synced").mean() >= 0.9
    done = passes.filter(pl.col("sync_status") == "synced")
    at_chosen = actor_ball_m(done, "frame_id")
    # at the events' own frames the passer is a median 2.5 m from the ball; at the chosen frames under 1 m
    own = actor_ball_m(passes.with_columns(own=(pl.col("timestamp_ms") / 40).round().cast(pl.Int64)), "own")
    assert own.median() == pytest.approx(2.52, abs=0.05)
    assert at_chosen.median() < 1.0
    assert (at_chosen <= sync.SyncParams().near_m).all()
    # the positions written back are the tracking's at the chosen frame
    tracked = done.select(
        np.hypot(pl.col("player_x_m") - pl.col("ball_x_m"), pl.col("player_y_m") - pl.col("ball_y_m"))
    )
    assert np.allclose(tracked.to_series().to_numpy(), at_chosen.to_numpy(), atol=1e-4)
    # every ball event with an identified actor is placed, and no event that does not involve the ball
    statuses = dict(out.group_by("sync_status").len().iter_rows())
    assert statuses == {"synced": 32, "unmatched: not a ball event": 169, "unmatched: no identified actor": 2}
    # a pass with a receiver ends where the ball reaches him, after it starts
    ends = done.filter(pl.col("receiver_id").is_not_null())
    assert ends["frame_id_end"].is_not_null().mean() >= 0.9
    assert (ends["frame_id_end"] > ends["frame_id"]).fill_null(True).all()


def test_frames_keep_the_events_order():
    for name in ("footovision_h1", "sportec_snippet"):
        out = events(name).join(synced(name).events, on="event_id").sort("event_index")
        placed = out.filter(pl.col("sync_status") == "synced")
        assert (placed["frame_id"].diff().drop_nulls() >= 0).all()
        kicks = placed.filter(pl.col("type").is_in(["pass", "shot"]))
        assert (kicks["frame_id"].diff().drop_nulls() > 0).all()  # no two kicks in one frame


def test_sportec_kick_off_offsets_recovered():
    """DFL's event clock is +2.33 s (first half) and +2.01 s (second half) off its tracking: the kick-off events
    against the first in-play frames (1 and 90002)."""
    result = synced("sportec_snippet")
    periods = result.periods.sort("period")
    assert periods["kickoff_frame_id"].to_list() == [1, 90002]
    assert periods["offset_ms"].to_list() == [pytest.approx(2330, abs=40), pytest.approx(2010, abs=40)]
    assert (periods["offset_source"] == "kick-off").all()
    out = events("sportec_snippet").join(result.events, on="event_id")
    assert dict(out.select("period", "offset_ms").unique().iter_rows()) == dict(
        periods.select("period", "offset_ms").iter_rows()
    )
    # the kick-off's frame on the corrected clock is the tracking's kick-off
    first = out.filter(pl.col("event_id") == "17364900000006").row(0, named=True)
    assert first["clock_frame_id"] == 1
    # the snippet tracks three players for 4 s after each kick-off: no event's actor is at the ball then
    assert set(out["sync_status"]) == {
        "unmatched: not a ball event",
        "unmatched: actor not in the tracking",
        "unmatched: no tracking at the event's time",
    }
    EventSync.validate(result.events)


def ball_leaves_the_centre_spot(t: pl.DataFrame) -> list[int]:
    """Per period, the first frame where the ball is in play and moving away from within 3 m of the centre spot
    (read off the tracking alone, not by the synchroniser)."""
    ball = t.filter(pl.col("role") == "ball").sort("frame_id")
    near = (pl.col("x_m") ** 2 + pl.col("y_m") ** 2).sqrt() < 3.5
    moving = (pl.col("x_m").diff() ** 2 + pl.col("y_m").diff() ** 2).sqrt().over("period") > 0.01
    return (
        ball.filter(pl.col("in_play") & near & moving.fill_null(False))
        .group_by("period")
        .agg(pl.col("frame_id").min())
        .sort("period")["frame_id"]
        .to_list()
    )


@pytest.mark.parametrize("extra_ms", [-10_000, -2330, 0, 2300, 10_000, 60_000])
def test_sportec_kick_offs_on_their_frames_whatever_the_clock(extra_ms):
    """Every event moved by ``extra_ms`` on top of the feed's own +2.33 s / +2.01 s: both kick-offs still land
    within 2 frames of the frame where the ball leaves the centre spot, and the offset found moves with it."""
    ev = events("sportec_snippet")
    t = tracking("sportec_snippet")
    moved = ev.with_columns(
        time=pl.col("time") + pl.duration(milliseconds=extra_ms), timestamp_ms=pl.col("timestamp_ms") + extra_ms
    )
    result = sync.synchronise(moved, t, 25)
    kick_offs = ["17364900000006", "17364900000800"]  # the kick-off passes of the two halves
    frames = result.events.filter(pl.col("event_id").is_in(kick_offs)).sort("event_id")["clock_frame_id"].to_list()
    leaves = ball_leaves_the_centre_spot(t)
    assert leaves == [1, 90002]
    assert all(abs(f - want) <= 2 for f, want in zip(frames, leaves, strict=True)), (frames, leaves)
    offsets = result.periods.sort("period")["offset_ms"].to_list()
    assert offsets == [pytest.approx(2330 + extra_ms, abs=40), pytest.approx(2010 + extra_ms, abs=40)]


@pytest.mark.parametrize(("offset_ms", "seed"), [(2300, 0), (2300, 1), (3000, 2), (-2300, 3)])
def test_frames_do_not_depend_on_the_event_clock(offset_ms, seed):
    """A constant offset and a jitter of up to 0.5 s either way on every event's time: the same frames for at least
    95% of the ball events, the kick-off within 2 frames, the events' order kept, every ball event placed or
    unmatched with a reason."""
    ev = events("footovision_h1")
    rng = np.random.default_rng(seed)
    shift = offset_ms + rng.uniform(-500, 500, ev.height).round().astype(np.int64)
    moved = ev.with_columns(
        time=pl.col("time") + pl.duration(milliseconds=pl.Series(shift)),
        timestamp_ms=pl.col("timestamp_ms") + pl.Series(shift),
    )
    result = sync.synchronise(moved, tracking("footovision_h1"), 25)
    assert result.periods["offset_ms"][0] == pytest.approx(offset_ms, abs=500)
    both = synced("footovision_h1").events.join(result.events, on="event_id", suffix="_moved")
    placed = both.filter(pl.col("sync_status") == "synced")
    assert placed.height == 32
    assert (placed["frame_id"] == placed["frame_id_moved"]).mean() >= 0.95
    kick_off = both.filter(pl.col("event_id") == "6742527193").row(0, named=True)
    assert kick_off["sync_status_moved"] == "synced" and abs(kick_off["frame_id_moved"]) <= 2
    order = ev.select("event_id", "event_index").join(result.events, on="event_id").sort("event_index")
    assert (order.filter(pl.col("sync_status") == "synced")["frame_id"].diff().drop_nulls() >= 0).all()
    assert set(result.events["sync_status"]) <= {
        "synced",
        "unmatched: not a ball event",
        "unmatched: no identified actor",
    }
    # at the chosen frames of passes (the window has no shot) the passer is at the ball
    passes = ev.join(result.events, on="event_id").filter(
        (pl.col("type") == "pass") & (pl.col("sync_status") == "synced")
    )
    assert actor_ball_m(passes, "frame_id").median() <= 1.5


def synthetic_match(truth: pl.DataFrame, bias_ms: dict[int, int], seed: int = 5) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Canonical tracking of the synthetic truth (the first 2 s of each period flagged out of play) and pass
    events at its true kicks: the ball's height is exactly 0 where it leaves the passer's feet. Event times are
    off by ``bias_ms`` per period and by each event's own error (0.3 s late on average, 0.4 s either way)."""
    first = pl.col("frame").min().over("period")
    t = truth.select(
        match_id=pl.lit("syn"),
        frame_id="frame",
        timestamp_ms="timestamp_ms",
        period="period",
        role="role",
        player_id=pl.when(pl.col("identified") & pl.col("jersey").is_not_null()).then(
            pl.format("{}-{}", "team", "jersey")
        ),
        x_m=pl.col("x").cast(pl.Float32),
        y_m=pl.col("y").cast(pl.Float32),
        z_m=pl.col("z").cast(pl.Float32),
        in_play=pl.col("frame") - first >= 50,
    )
    ball = t.filter((pl.col("role") == "ball") & (pl.col("z_m") == 0)).select("frame_id", "period", bx="x_m", by="y_m")
    people = t.filter(pl.col("player_id").is_not_null()).select("frame_id", "player_id", "x_m", "y_m")
    kicks = (
        ball.join(people, on="frame_id")
        .filter(((pl.col("x_m") - pl.col("bx")) ** 2 + (pl.col("y_m") - pl.col("by")) ** 2) < 1e-4)
        .unique("frame_id")
        .sort("frame_id")
    )
    # the carrier 0.8 s later (20 frames) is the receiver; a "pass" to oneself is none
    later = t.filter(pl.col("role") == "ball").select("frame_id", ex="x_m", ey="y_m").join(people, on="frame_id")
    receiver = (
        later.with_columns(d=(pl.col("x_m") - pl.col("ex")) ** 2 + (pl.col("y_m") - pl.col("ey")) ** 2)
        .sort("d")
        .group_by("frame_id")
        .first()
        .select(end="frame_id", receiver_id="player_id")
    )
    kicks = (
        kicks.with_columns(end=pl.col("frame_id") + 20)
        .join(receiver, on="end", how="left")
        .filter(pl.col("receiver_id") != pl.col("player_id"))
    )
    rng = np.random.default_rng(seed)
    error = rng.normal(300, 400, kicks.height).round().astype(np.int64)
    ev = kicks.with_columns(
        true_frame="frame_id",
        timestamp_ms=pl.col("frame_id") * 40
        + pl.col("period").replace_strict(bias_ms, return_dtype=pl.Int64)
        + pl.Series(error),
        type=pl.lit("pass"),
        sub_type=pl.lit(None, pl.String),
        x_m=pl.col("bx") + pl.Series(rng.normal(0, 1.5, kicks.height)).cast(pl.Float32),
        y_m=pl.col("by") + pl.Series(rng.normal(0, 1.5, kicks.height)).cast(pl.Float32),
    )
    # each period's kick-off: a pass by the player nearest the ball at its first in-play frame, on the biased clock
    starts = (
        t.filter(pl.col("in_play") & (pl.col("role") == "ball"))
        .group_by("period")
        .agg(pl.col("frame_id").min().alias("frame_id"))
    )
    nearest = (
        starts.join(t.filter(pl.col("role") == "ball").select("frame_id", "x_m", "y_m"), on="frame_id")
        .join(people, on="frame_id", suffix="_p")
        .with_columns(d=(pl.col("x_m_p") - pl.col("x_m")) ** 2 + (pl.col("y_m_p") - pl.col("y_m")) ** 2)
        .sort("d")
        .group_by("period")
        .first()
    )
    kick_offs = nearest.select(
        "period",
        "player_id",
        true_frame=pl.lit(None, pl.Int64),
        timestamp_ms=pl.col("frame_id") * 40 + pl.col("period").replace_strict(bias_ms, return_dtype=pl.Int64),
        type=pl.lit("pass"),
        sub_type=pl.lit("kick_off"),
        receiver_id=pl.lit(None, pl.String),
        x_m=0.0,
        y_m=0.0,
    )
    columns = ["period", "player_id", "true_frame", "timestamp_ms", "type", "sub_type", "receiver_id", "x_m", "y_m"]
    ev = pl.concat([kick_offs.select(columns), ev.select(columns)], how="vertical_relaxed").sort("timestamp_ms")
    ev = ev.with_columns(
        match_id=pl.lit("syn"),
        event_id=pl.format("e{}", pl.int_range(pl.len())),
        event_index=pl.int_range(pl.len(), dtype=pl.Int32),
        x_end_m=pl.lit(None, pl.Float32),
        y_end_m=pl.lit(None, pl.Float32),
        body_part=pl.lit("feet"),
    )
    return t, ev


def test_synthetic_match_true_frames(truth):
    """Against the truth: the clock offsets exactly, and the passes' frames within 2 frames (0.08 s)."""
    t, ev = synthetic_match(truth, {1: 2300, 2: 2000})
    result = sync.synchronise(ev, t, 25)
    assert result.periods["offset_ms"].to_list() == [2300, 2000]
    out = ev.join(result.events, on="event_id").filter(pl.col("true_frame").is_not_null())
    assert out.height > 15
    assert (out["sync_status"] == "synced").mean() >= 0.95
    error = (out["frame_id"] - out["true_frame"]).abs()
    assert (error <= 2).fill_null(False).mean() >= 0.95
    EventSync.validate(result.events)


def test_without_a_kick_off_in_tracking_the_offset_is_zero():
    moved = tracking("footovision_h1").with_columns(
        x_m=pl.when(pl.col("role") == "ball").then(pl.col("x_m") + 20).otherwise(pl.col("x_m"))
    )
    result = sync.synchronise(events("footovision_h1"), moved, 25)
    period = result.periods.row(0, named=True)
    assert (period["offset_ms"], period["offset_source"], period["kickoff_frame_id"]) == (
        0,
        "no kick-off in tracking",
        None,
    )
    # the actor is never near the shifted ball: nothing is placed, each ball event says why
    statuses = set(result.events["sync_status"])
    assert "synced" not in statuses
    assert "unmatched: actor never within 3 m of the ball in the window" in statuses


def test_no_events_or_no_tracking():
    ev, t = events("footovision_h1"), tracking("footovision_h1")
    assert sync.synchronise(ev.clear(), t, 25).events.height == 0
    for result in (
        sync.synchronise(ev, t.clear(), 25),
        sync.synchronise(ev.with_columns(period=pl.lit(2, pl.Int8)), t, 25),
    ):
        assert dict(result.events.group_by("sync_status").len().iter_rows()) == {
            "unmatched: not a ball event": 169,
            "unmatched: no tracking in the period": 34,
        }
        assert result.events["clock_frame_id"].null_count() == 203
        EventSync.validate(result.events)
    assert sync.synchronise(ev.with_columns(period=pl.lit(2, pl.Int8)), t, 25).periods.row(0) == (
        2,
        None,
        "6742527193",
        0,
        "no tracking in the period",
    )


def test_ordered_choice_keeps_order_and_kicks_apart():
    slots = np.array([[10, -1], [5, 12], [15, -1]])
    scores = np.array([[0.9, 0], [0.95, 0.5], [0.9, 0]])
    # event 1's best frame (5) comes before event 0's: its later candidate is taken (0.9 + 0.5 + 0.9)
    assert sync._ordered_choice(slots, scores, np.array([False, False, False])).tolist() == [0, 1, 0]
    # two kicks cannot share a frame; a kick and a reception can
    same = np.array([[20], [20]])
    points = np.array([[0.8], [0.7]])
    assert sync._ordered_choice(same, points, np.array([True, True])).tolist() == [0, -1]
    assert sync._ordered_choice(same, points, np.array([True, False])).tolist() == [0, 0]
