"""Synchronising events with tracking: the tracking frame at which each ball event happened.

Event clocks are annotated by hand and run seconds apart from the tracking's (a constant bias per period, plus
each event's own error of a second or two). The event's own clock is therefore only a starting point: the frame
is chosen from what the tracking shows at the ball, in four steps:

1. Clock bias, per period: the kick-off event's time minus the tracking's kick-off (the first frame the feed
   flags in play, else the ball leaving the centre spot). Every event of the period is shifted by it.
2. Candidates: in a window around each shifted ball event (5 s; 15 s for set pieces, whose annotation lags the
   restart most), every frame where the acting player is within 3 m of the ball is scored 0-1 from
   - the player-ball distance (the actor must be at the ball),
   - the ball's change of velocity over the frame (a touch: kick, stop or deflection),
   - for kicks, how far the ball moves away from the actor in the next 0.6 s; for receptions, how far it came
     from in the previous 0.6 s (a pass sends the ball away; a dribble keeps it at the foot),
   - the ball's distance to the event's annotated location (weighted lightly: annotated locations are also
     off by metres), and the distance in time to the shifted event time (weighted lightly too, so that the
     frame chosen does not follow the annotation's own error).
   Each event keeps its best few local maxima.
3. Order: the frames are chosen jointly so that they follow the order the events were delivered in (a
   dynamic programme over the events' candidates): an event whose
   candidates all come before an earlier event's frame is left unmatched rather than placed out of order.
4. End frames: for a pass or shot with a receiver (or an end location), the frame in the following 5 s where
   the ball reaches the receiver (or that location), before the next event's frame.

Everything is computed at once over all events x window frames (numpy); only the order-keeping programme walks
the events (a few thousand, each step a few vector operations).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

SET_PIECES = frozenset(
    {"kick_off", "throw_in", "corner_kick", "corner", "free_kick", "goal_kick", "penalty_kick", "penalty"}
)
KICK, RECEIVE, TOUCH = "kick", "receive", "touch"
# event types (CDF's are free strings) that involve the ball, by how the ball behaves at their frame
BALL_EVENTS: dict[tuple[str, str | None], str] = {
    ("pass", None): KICK,
    ("shot", None): KICK,
    **{("defending", s): KICK for s in ("clearance", "block_clearance")},
    **{("defending", s): RECEIVE for s in ("interception", "block", "blocked_shot")},
    **{("defending", s): TOUCH for s in ("tackle", "ground_duel", "aerial_duel", "duel")},
    **{("goalkeeping", s): KICK for s in ("punch", "throw", "kick", "goal_kick")},
    **{
        ("goalkeeping", s): RECEIVE
        for s in ("save", "save_attempt", "claim", "pick_up", "catch", "parry", "smother", "keeper_sweeper")
    },
    # a carry starts where its player gains the ball: a reception
    **{
        ("misc", s): RECEIVE
        for s in ("recovery", "ball_recovery", "interception", "reception", "control", "ball_receipt", "carry")
    },
    **{
        ("misc", s): TOUCH
        for s in (
            "dribble",
            "take_on",
            "ground_duel",
            "aerial_duel",
            "tackle",
            "other_ball_action",
            "bad_touch",
            "nutmeg",
            "ball_touch",
            "touch",
        )
    },
}
UNMATCHED = "unmatched: "


@dataclass(frozen=True)
class SyncParams:
    """The method's constants (seconds, metres, m/s); the defaults are the published synchronisers' values."""

    window_s: float = 5.0  # candidate frames this far either side of the shifted event time
    set_piece_window_s: float = 15.0
    near_m: float = 3.0  # the actor must be this close to the ball: within a stride of it
    max_ball_height_m: float = 3.5  # above this only a header touches the ball
    touch_step_s: float = 0.12  # velocities before and after a frame over this long (3 frames at 25 fps)
    touch_half_mps: float = 3.0  # a change of velocity this large scores 0.5
    kick_horizon_s: float = 0.6  # how long after a kick (before a reception) the ball's distance is looked at
    kick_full_m: float = 5.0  # the ball this much further away (closer) scores a full kick (reception)
    location_zero_m: float = 10.0  # the ball this far from the annotated location scores 0 on location
    candidates: int = 6  # local maxima kept per event
    min_score: float = 0.35  # a best frame scoring less is left unmatched
    end_window_s: float = 5.0
    end_near_m: float = 3.0
    kickoff_radius_m: float = 3.0  # the ball within this of the centre spot before a kick-off
    kickoff_search_s: float = 10.0  # a kick-off not flagged by the feed is looked for this early in the period
    weights: dict = field(
        default_factory=lambda: {
            KICK: {"near": 0.35, "touch": 0.25, "motion": 0.2, "location": 0.1, "time": 0.1},
            RECEIVE: {"near": 0.35, "touch": 0.25, "motion": 0.2, "location": 0.1, "time": 0.1},
            TOUCH: {"near": 0.45, "touch": 0.35, "motion": 0.0, "location": 0.1, "time": 0.1},
        }
    )


SYNC_SCHEMA: dict[str, pl.DataType] = {
    "match_id": pl.String,
    "event_id": pl.String,
    "frame_id": pl.Int64,
    "frame_id_end": pl.Int64,
    "clock_frame_id": pl.Int64,
    "sync_score": pl.Float32,
    "sync_status": pl.String,
    "offset_ms": pl.Int64,
    "player_x_m": pl.Float32,
    "player_y_m": pl.Float32,
    "ball_x_m": pl.Float32,
    "ball_y_m": pl.Float32,
}


@dataclass
class SyncResult:
    """``events``: one row per event (SYNC_SCHEMA), in the events' order. ``periods``: per period, the tracking's
    kick-off frame, the kick-off event and the offset removed (ms; the event clock minus the tracking's)."""

    events: pl.DataFrame
    periods: pl.DataFrame


# -- tracking as dense arrays ---------------------------------------------------------------------------------


@dataclass
class _Dense:
    """Tracking laid out per frame: each period a contiguous run of slots from its first to its last frame_id
    (missing frames are NaN), players as rows of (player, slot) arrays."""

    fps: int
    period_of_slot: np.ndarray  # int8, per slot
    frame_of_slot: np.ndarray  # int64 frame_id, per slot
    first_slot: dict[int, int]  # period -> slot of its first frame
    first_frame: dict[int, int]  # period -> its first frame_id
    last_frame: dict[int, int]
    ball: np.ndarray  # (slots, 3) x, y, z (NaN where no ball / no height)
    in_play: np.ndarray  # int8 per slot: 1 in play, 0 not, -1 the feed does not say
    players: list[str]
    px: np.ndarray  # (players + 1, slots) float32; the last row (code -1) all NaN
    py: np.ndarray

    def slot(self, period: np.ndarray, frame: np.ndarray) -> np.ndarray:
        """Slot of each (period, frame_id); -1 outside the period's frames."""
        out = np.full(frame.shape, -1, dtype=np.int64)
        for p, first in self.first_frame.items():
            here = (period == p) & (frame >= first) & (frame <= self.last_frame[p])
            out[here] = self.first_slot[p] + frame[here] - first
        return out


def _dense(tracking: pl.DataFrame, fps: int) -> _Dense:
    frames = tracking.group_by("period").agg(pl.col("frame_id").min().alias("lo"), pl.col("frame_id").max().alias("hi"))
    first_slot, first_frame, last_frame, size = {}, {}, {}, 0
    for p, lo, hi in frames.sort("period").iter_rows():
        first_slot[p], first_frame[p], last_frame[p] = size, lo, hi
        size += hi - lo + 1
    size = max(size, 1)  # no tracking: one empty slot of no period (so that lookups stay in bounds)
    period_of_slot = np.zeros(size, dtype=np.int8)
    frame_of_slot = np.zeros(size, dtype=np.int64)
    for p, start in first_slot.items():
        n = last_frame[p] - first_frame[p] + 1
        period_of_slot[start : start + n] = p
        frame_of_slot[start : start + n] = np.arange(first_frame[p], first_frame[p] + n)
    d = _Dense(
        fps,
        period_of_slot,
        frame_of_slot,
        first_slot,
        first_frame,
        last_frame,
        np.full((size, 3), np.nan),
        np.full(size, -1, dtype=np.int8),
        [],
        np.zeros((0, size), np.float32),
        np.zeros((0, size), np.float32),
    )
    periods = list(first_slot)
    slot = (
        pl.col("period").replace_strict(
            periods, [first_slot[q] - first_frame[q] for q in periods], default=None, return_dtype=pl.Int64
        )
        + pl.col("frame_id")
    ).alias("slot")
    flag = pl.col("in_play").cast(pl.Int8).fill_null(-1) if "in_play" in tracking.columns else pl.lit(-1, pl.Int8)
    ball = (
        tracking.lazy()
        .filter(pl.col("role") == "ball")
        .select(
            slot, *(pl.col(c).cast(pl.Float64).fill_null(np.nan) for c in ("x_m", "y_m", "z_m")), flag.alias("flag")
        )
        .collect()
    )
    slots = ball["slot"].to_numpy()
    for i, name in enumerate(("x_m", "y_m", "z_m")):
        d.ball[slots, i] = ball[name].to_numpy()
    d.in_play[slots] = ball["flag"].to_numpy()
    # players by code (their rank among the match's ids); ball and referee rows have no player_id
    named = tracking.lazy().filter(pl.col("player_id").is_not_null())
    d.players = sorted(named.select(pl.col("player_id").unique()).collect().to_series().to_list())
    people = named.select(
        pl.col("player_id").cast(pl.Enum(d.players)).to_physical().alias("code"),
        slot,
        pl.col("x_m").cast(pl.Float32).fill_null(np.nan),
        pl.col("y_m").cast(pl.Float32).fill_null(np.nan),
    ).collect()
    code, slots = people["code"].to_numpy(), people["slot"].to_numpy()
    # one row more than players, all NaN: the row of code -1 (an actor not in the tracking)
    d.px = np.full((len(d.players) + 1, size), np.nan, dtype=np.float32)
    d.py = np.full((len(d.players) + 1, size), np.nan, dtype=np.float32)
    d.px[code, slots] = people["x_m"].to_numpy()
    d.py[code, slots] = people["y_m"].to_numpy()
    return d


def _touch_signal(d: _Dense, step: int) -> np.ndarray:
    """Per slot, |velocity after - velocity before| of the ball (m/s), each over ``step`` frames: high at a kick,
    a stop or a deflection, near 0 while the ball rolls or rests; 0 where it cannot be computed."""
    xy = d.ball[:, :2]
    n = xy.shape[0]
    out = np.zeros(n)
    if n <= 2 * step:
        return out
    before = (xy[step : n - step] - xy[: n - 2 * step]) * d.fps / step
    after = (xy[2 * step :] - xy[step : n - step]) * d.fps / step
    change = np.hypot(*(after - before).T)
    same = d.period_of_slot[: n - 2 * step] == d.period_of_slot[2 * step :]  # not across a period's edge
    out[step : n - step] = np.where(same & np.isfinite(change), change, 0.0)
    return out


# -- kick-offs and offsets ----------------------------------------------------------------------------------


def _kickoff_slot(d: _Dense, period: int, radius_m: float, search_s: float) -> int | None:
    """The tracking's kick-off in a period: the first frame the feed flags in play (where it flags frames), else
    the first frame, in the period's first ``search_s``, that the ball leaves the centre spot (within
    ``radius_m`` of it, then 0.5 m further within 0.2 s and moving at the next frame)."""
    lo = d.first_slot[period]
    hi = lo + d.last_frame[period] - d.first_frame[period] + 1
    flags = d.in_play[lo:hi]
    if (flags >= 0).any():
        live = np.flatnonzero(flags == 1)
        return int(lo + live[0]) if live.size else None
    xy = d.ball[lo : min(hi, lo + round(search_s * d.fps)), :2]
    k = max(1, round(0.2 * d.fps))
    if xy.shape[0] <= k:
        return None
    near = np.hypot(*xy.T) <= radius_m
    away = np.hypot(*(xy[k:] - xy[:-k]).T) >= 0.5
    step = np.hypot(*(xy[1:] - xy[:-1]).T) >= 0.05
    ok = near[:-k] & away & step[: xy.shape[0] - k]
    hits = np.flatnonzero(np.nan_to_num(ok, nan=0).astype(bool))
    return int(lo + hits[0]) if hits.size else None


def _kickoff_events(events: pl.DataFrame) -> pl.DataFrame:
    """Per period, the event that kicked it off: its first ``pass``/``kick_off``, else its first pass."""
    kick = (pl.col("type") == "pass") & (pl.col("sub_type") == "kick_off")
    return (
        events.filter(pl.col("type") == "pass")
        .sort("event_index")
        .group_by("period", maintain_order=True)
        .agg(pl.col("event_index").filter(kick).first().fill_null(pl.col("event_index").first()).alias("ko"))
        .join(events.select("period", ko="event_index", ko_ms="timestamp_ms", ko_id="event_id"), on=["period", "ko"])
    )


# -- candidate frames -----------------------------------------------------------------------------------------


def _window_max(values: np.ndarray, width: int) -> np.ndarray:
    """Per row, the NaN-ignoring max of every run of ``width`` consecutive cells (-inf where all are NaN):
    column i covers cells i .. i + width - 1."""
    from numpy.lib.stride_tricks import sliding_window_view

    filled = np.where(np.isnan(values), -np.inf, values)
    return sliding_window_view(filled, width, axis=1).max(axis=2)


def _candidates(d: _Dense, touch: np.ndarray, ev: dict, half: int, p: SyncParams):
    """Score the window of ``half`` frames either side of each event's centre slot: (candidate slots (n, K),
    -1 where none; their scores 0-1 (n, K); why an event has no candidate)."""
    n = ev["centre"].size
    horizon = max(1, round(p.kick_horizon_s * d.fps))
    offsets = np.arange(-half - horizon, half + horizon + 1)
    slots = ev["centre"][:, None] + offsets[None, :]
    inside = (slots >= 0) & (slots < d.period_of_slot.size)
    slots_c = np.clip(slots, 0, d.period_of_slot.size - 1)
    inside &= d.period_of_slot[slots_c] == ev["period"][:, None]
    actor = ev["actor"]
    known = actor >= 0
    a = np.where(known, actor, 0)
    bx, by, bz = (d.ball[slots_c, i] for i in range(3))
    pxw = np.where(inside & known[:, None], d.px[a[:, None], slots_c], np.nan)
    pyw = np.where(inside & known[:, None], d.py[a[:, None], slots_c], np.nan)
    dist = np.hypot(pxw - bx, pyw - by)  # NaN where either is missing
    # the farthest the ball is from the actor over the ``horizon`` frames after (before) each window frame
    runs = _window_max(dist, horizon)
    after, before = runs[:, horizon + 1 : horizon + 2 * half + 2], runs[:, : 2 * half + 1]
    core = slice(horizon, horizon + 2 * half + 1)
    dist, slots_c, inside = dist[:, core], slots_c[:, core], inside[:, core]
    bx, by, bz = bx[:, core], by[:, core], bz[:, core]

    near = np.clip(1 - dist / p.near_m, 0, 1)
    change = touch[slots_c]
    touched = change / (change + p.touch_half_mps)
    away = np.clip((np.where(np.isfinite(after), after, dist) - dist) / p.kick_full_m, 0, 1)
    came = np.clip((np.where(np.isfinite(before), before, dist) - dist) / p.kick_full_m, 0, 1)
    loc_d = np.hypot(bx - ev["x"][:, None], by - ev["y"][:, None])
    location = np.where(np.isfinite(loc_d), np.clip(1 - loc_d / p.location_zero_m, 0, 1), 0.0)
    time = 1 - np.abs(np.arange(-half, half + 1)) / (half + 1)
    score = np.zeros(dist.shape)
    for kind, w in p.weights.items():
        rows = ev["kind"] == kind
        if not rows.any():
            continue
        motion = away if kind == KICK else came
        score[rows] = (
            w["near"] * near[rows]
            + w["touch"] * touched[rows]
            + w["motion"] * motion[rows]
            + w["location"] * location[rows]
            + w["time"] * time[None, :]
        )
    high = ~np.isnan(bz) & (bz > p.max_ball_height_m) & ~ev["header"][:, None]
    ok = inside & (dist <= p.near_m) & ~high
    score = np.where(ok, score, -np.inf)
    # local maxima along the window (a plateau keeps its first frame), the best ``candidates`` of them
    left = np.concatenate([np.full((n, 1), -np.inf), score[:, :-1]], axis=1)
    right = np.concatenate([score[:, 1:], np.full((n, 1), -np.inf)], axis=1)
    peak = np.isfinite(score) & (score > left) & (score >= right)
    ranked = np.where(peak, score, -np.inf)
    k = min(p.candidates, ranked.shape[1])
    top = np.argsort(-ranked, axis=1, kind="stable")[:, :k]
    cand_score = np.take_along_axis(ranked, top, axis=1)
    cand_slot = np.where(np.isfinite(cand_score), np.take_along_axis(slots_c, top, axis=1), -1)
    why = np.where(
        ~np.isfinite(dist).any(axis=1),
        "actor or ball not tracked in the window",
        f"actor never within {p.near_m:g} m of the ball in the window",
    )
    return cand_slot, np.where(np.isfinite(cand_score), cand_score, 0.0), why


class _Steps:
    """A non-decreasing step function best(slot): the highest total of a consistent choice so far whose last
    frame is at or before ``slot``, kept as its breakpoints, each with the candidate point achieving it."""

    def __init__(self):
        self.at = np.zeros(0, dtype=np.int64)
        self.value = np.zeros(0)
        self.point = np.zeros(0, dtype=np.int64)

    def best(self, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(best total, its point or -1) at each of ``slots``; 0 and -1 before the first breakpoint."""
        pos = np.searchsorted(self.at, slots, side="right") - 1
        if not self.at.size:
            return np.zeros(slots.size), np.full(slots.size, -1)
        found = pos >= 0
        return (
            np.where(found, self.value[np.maximum(pos, 0)], 0.0),
            np.where(found, self.point[np.maximum(pos, 0)], -1),
        )

    def insert(self, slots: np.ndarray, values: np.ndarray, points: np.ndarray) -> None:
        at = np.concatenate([self.at, slots])
        value = np.concatenate([self.value, values])
        point = np.concatenate([self.point, points])
        order = np.lexsort((-value, at))  # by slot, the best first within a slot
        at, value, point = at[order], value[order], point[order]
        running = np.maximum.accumulate(value)
        rises = np.concatenate([[True], value[1:] > running[:-1]])  # a new best: a breakpoint
        self.at, self.value, self.point = at[rises], value[rises], point[rises]


def _ordered_choice(cand_slot: np.ndarray, cand_score: np.ndarray, kick: np.ndarray) -> np.ndarray:
    """The candidate (column) chosen for each event (row, in order), or -1: the choice with the highest total
    score whose slots never decrease along the rows, a kick coming strictly after an earlier kick (the ball is
    not kicked twice in one frame); events that cannot fit are skipped (-1).

    A dynamic programme over two step functions (the best totals ending with a kick, and with another event);
    every candidate point remembers the point it extends, for the walk back."""
    n = cand_slot.shape[0]
    ending = {True: _Steps(), False: _Steps()}
    points_prev, points_event, points_col = [], [], []
    count = 0
    for e in range(n):
        cols = np.flatnonzero(cand_slot[e] >= 0)
        if not cols.size:
            continue
        slots = cand_slot[e, cols]
        after_kick, kick_point = ending[True].best(slots - (1 if kick[e] else 0))
        after_other, other_point = ending[False].best(slots)
        base = np.maximum(after_kick, after_other)
        prev = np.where(after_kick >= after_other, kick_point, other_point)
        ids = np.arange(count, count + cols.size)
        count += cols.size
        points_prev.append(prev)
        points_event.append(np.full(cols.size, e))
        points_col.append(cols)
        ending[bool(kick[e])].insert(slots, base + cand_score[e, cols], ids)
    chosen = np.full(n, -1, dtype=np.int64)
    if not count:
        return chosen
    prev, event, col = (np.concatenate(x) for x in (points_prev, points_event, points_col))
    last = [(steps.value[-1], steps.point[-1]) for steps in ending.values() if steps.value.size]
    point = max(last, key=lambda vp: (vp[0], -vp[1]))[1]  # the best total overall
    while point >= 0:
        chosen[event[point]] = col[point]
        point = prev[point]
    return chosen


def _end_slots(
    d: _Dense,
    touch: np.ndarray,
    start: np.ndarray,
    limit: np.ndarray,
    target: np.ndarray,
    end_xy: np.ndarray,
    p: SyncParams,
) -> np.ndarray:
    """Per kick, the slot in (start, limit] where the ball reaches the receiver (``target`` >= 0: a player row)
    or the end location (``end_xy``); -1 where neither comes within ``end_near_m``."""
    n = start.size
    out = np.full(n, -1, dtype=np.int64)
    if not n:
        return out
    width = max(1, round(p.end_window_s * d.fps))
    slots = start[:, None] + np.arange(1, width + 1)[None, :]
    slots_c = np.clip(slots, 0, d.period_of_slot.size - 1)
    ok = (slots <= limit[:, None]) & (slots < d.period_of_slot.size)
    ok &= d.period_of_slot[slots_c] == d.period_of_slot[np.clip(start, 0, None)][:, None]
    bx, by = d.ball[slots_c, 0], d.ball[slots_c, 1]
    t = np.where(target >= 0, target, 0)
    rx = np.where((target >= 0)[:, None], d.px[t[:, None], slots_c], end_xy[:, 0:1])
    ry = np.where((target >= 0)[:, None], d.py[t[:, None], slots_c], end_xy[:, 1:2])
    dist = np.hypot(rx - bx, ry - by)
    close = ok & (dist <= p.end_near_m)
    # the first arrival: from the first frame the ball comes within reach, the best frame of the next
    # ``kick_horizon_s`` (the ball stops or turns at the receiver's feet), not a later touch of his
    first = np.argmax(close, axis=1)
    column = np.arange(width)[None, :]
    arrival = close & (column >= first[:, None]) & (column <= first[:, None] + round(p.kick_horizon_s * d.fps))
    change = touch[slots_c]
    score = 0.6 * np.clip(1 - dist / p.end_near_m, 0, 1) + 0.4 * change / (change + p.touch_half_mps)
    score = np.where(arrival, score, -np.inf)
    best = np.argmax(score, axis=1)
    found = np.isfinite(score[np.arange(n), best])
    out[found] = slots_c[np.arange(n), best][found]
    return out


# -- the whole ---------------------------------------------------------------------------------------------


def _codes(ids: pl.Series, players: list[str]) -> np.ndarray:
    """Each id's row in the dense player arrays (-1: null or not in the tracking)."""
    return (
        ids.replace_strict(players, range(len(players)), default=None, return_dtype=pl.Int64).fill_null(-1).to_numpy()
    )


def ball_event_kind(events: pl.DataFrame) -> pl.Series:
    """``kick``, ``receive`` or ``touch`` for events that involve the ball (by type and sub_type), else null."""
    exact = {f"{t}/{s}": k for (t, s), k in BALL_EVENTS.items() if s is not None}
    by_type = {t: k for (t, s), k in BALL_EVENTS.items() if s is None}
    key = pl.format("{}/{}", "type", pl.col("sub_type").fill_null(""))
    return (
        events.select(
            key.replace_strict(exact, default=None, return_dtype=pl.String).fill_null(
                pl.col("type").replace_strict(by_type, default=None, return_dtype=pl.String)
            )
        )
        .to_series()
        .alias("kind")
    )


def synchronise(events: pl.DataFrame, tracking: pl.DataFrame, fps: int, params: SyncParams | None = None) -> SyncResult:
    """Find the tracking frame of every ball event (see the module's docstring).

    ``events``: rows of the events table (event_id, event_index, period, timestamp_ms on the tracking's timeline,
    type, sub_type, player_id, receiver_id, x_m, y_m, x_end_m, y_end_m, body_part); ``tracking``: canonical
    tracking rows of the same match; ``fps``: its frame rate. Returns one row per event, in ``event_index``
    order: ``frame_id`` (start) and ``frame_id_end`` (reception or end) of tracking, ``sync_score`` 0-1,
    ``sync_status`` (``synced`` or ``unmatched: <reason>``), ``offset_ms`` removed from the event's clock
    (its period's: event clock minus tracking clock), the acting player's and the ball's x_m/y_m at the frame,
    and ``clock_frame_id``: the frame at the event's time once the offset is removed (for every event)."""
    p = params or SyncParams()
    events = events.sort("event_index")
    n = events.height
    match_id = events["match_id"][0] if "match_id" in events.columns and n else None
    kind = ball_event_kind(events)
    d = _dense(tracking, fps)
    touch = _touch_signal(d, max(1, round(p.touch_step_s * fps)))

    # 1. the clock bias of each period
    ko_events = _kickoff_events(events)
    period_rows, offset = [], {}
    for period in sorted(set(events["period"].to_list())):
        slot = _kickoff_slot(d, period, p.kickoff_radius_m, p.kickoff_search_s) if period in d.first_slot else None
        ko = ko_events.filter(pl.col("period") == period)
        ko_ms = int(ko["ko_ms"][0]) if ko.height else None
        frame = int(d.frame_of_slot[slot]) if slot is not None else None
        track_ms = round(frame * 1000 / fps) if frame is not None else None
        offset[period] = ko_ms - track_ms if ko_ms is not None and track_ms is not None else 0
        period_rows.append(
            {
                "period": period,
                "kickoff_frame_id": frame,
                "kickoff_event_id": ko["ko_id"][0] if ko.height else None,
                "offset_ms": offset[period],
                "offset_source": "kick-off"
                if ko_ms is not None and frame is not None
                else "no tracking in the period"
                if period not in d.first_slot
                else "no kick-off in tracking"
                if ko_ms is not None
                else "no kick-off event",
            }
        )
    periods = pl.DataFrame(
        period_rows,
        schema={
            "period": pl.Int8,
            "kickoff_frame_id": pl.Int64,
            "kickoff_event_id": pl.String,
            "offset_ms": pl.Int64,
            "offset_source": pl.String,
        },
    )
    period = events["period"].to_numpy().astype(np.int64)
    offset_ms = events["period"].replace_strict(list(offset), list(offset.values()), return_dtype=pl.Int64).to_numpy()
    shifted = events["timestamp_ms"].to_numpy() - offset_ms
    clock_frame = np.round(shifted * fps / 1000).astype(np.int64)
    in_period = np.isin(period, list(d.first_slot))
    # the window's centre slot; it may lie outside its period's slots (an event near the edge of the tracking):
    # only the window's frames inside the period are candidates
    centre = np.zeros(n, dtype=np.int64)
    for q, first in d.first_frame.items():
        rows = period == q
        centre[rows] = d.first_slot[q] + clock_frame[rows] - first

    # 2. candidates of the ball events
    actor = _codes(events["player_id"], d.players)
    kinds = kind.to_numpy()
    ball_event = kind.is_not_null().to_numpy() & in_period
    set_piece = events["sub_type"].is_in(list(SET_PIECES)).fill_null(False).to_numpy()
    cand_slot = np.full((n, p.candidates), -1, dtype=np.int64)
    cand_score = np.zeros((n, p.candidates))
    why = np.full(n, "", dtype=object)
    covered = np.zeros(n, dtype=bool)  # the window holds frames of the event's period
    for piece, window_s in ((False, p.window_s), (True, p.set_piece_window_s)):
        half = max(1, round(window_s * fps))
        for q, first in d.first_frame.items():
            rows = (period == q) & (set_piece == piece)
            last_slot = d.first_slot[q] + d.last_frame[q] - first
            covered[rows] = (centre[rows] + half >= d.first_slot[q]) & (centre[rows] - half <= last_slot)
        rows = np.flatnonzero(ball_event & covered & (set_piece == piece) & (actor >= 0))
        if not rows.size:
            continue
        ev = {
            "centre": centre[rows],
            "period": period[rows],
            "actor": actor[rows],
            "kind": kinds[rows],
            "x": events["x_m"].cast(pl.Float64).fill_null(np.nan).to_numpy()[rows],
            "y": events["y_m"].cast(pl.Float64).fill_null(np.nan).to_numpy()[rows],
            "header": (events["body_part"] == "head").fill_null(False).to_numpy()[rows],
        }
        s, sc, w = _candidates(d, touch, ev, half, p)
        cand_slot[rows, : s.shape[1]], cand_score[rows, : s.shape[1]], why[rows] = s, sc, w
    had_candidates = (cand_slot >= 0).any(axis=1)
    cand_slot[cand_score < p.min_score] = -1  # too weak to place an event, nor to constrain the others' order
    strong = (cand_slot >= 0).any(axis=1)

    # 3. frames in the events' order
    chosen = _ordered_choice(cand_slot, cand_score, kinds == KICK)
    has_choice = chosen >= 0
    slot = np.where(has_choice, cand_slot[np.arange(n), np.maximum(chosen, 0)], -1)
    score = np.where(has_choice, cand_score[np.arange(n), np.maximum(chosen, 0)], np.nan)
    reasons = [  # the first that applies
        (kind.is_null().to_numpy(), "not a ball event"),
        (~in_period, "no tracking in the period"),
        (events["player_id"].is_null().to_numpy(), "no identified actor"),
        (~covered, "no tracking at the event's time"),
        (actor < 0, "actor not in the tracking"),
        (~had_candidates, None),  # the window's own reason
        (~strong, f"no frame scores {p.min_score:g} or more"),
        (~has_choice, "out of order with the events around it"),
    ]
    status = np.full(n, "synced", dtype=object)
    decided = np.zeros(n, dtype=bool)
    for applies, reason in reasons:
        rows = applies & ~decided
        status[rows] = UNMATCHED + (why[rows].astype(str) if reason is None else reason)
        decided |= rows
    status = status.astype(str)
    synced = status == "synced"
    slot = np.where(synced, slot, -1)

    # 4. end frames of kicks with a receiver or an end location
    next_slot = np.full(n, np.iinfo(np.int64).max)
    later = np.where(synced, slot, np.iinfo(np.int64).max)
    suffix_min = np.minimum.accumulate(later[::-1])[::-1]
    next_slot[:-1] = suffix_min[1:]
    receiver = _codes(
        events["receiver_id"] if "receiver_id" in events.columns else pl.Series([None] * n, dtype=pl.String), d.players
    )
    end_xy = np.c_[
        events["x_end_m"].cast(pl.Float64).fill_null(np.nan).to_numpy(),
        events["y_end_m"].cast(pl.Float64).fill_null(np.nan).to_numpy(),
    ]
    start_xy = np.c_[
        events["x_m"].cast(pl.Float64).fill_null(np.nan).to_numpy(),
        events["y_m"].cast(pl.Float64).fill_null(np.nan).to_numpy(),
    ]
    moved = np.hypot(*(end_xy - start_xy).T) > 1.0  # an end location that is not the start repeated
    kicks = np.flatnonzero(synced & (kinds == KICK) & ((receiver >= 0) | moved))
    limit = np.where(next_slot[kicks] > slot[kicks], next_slot[kicks], np.iinfo(np.int64).max)
    end = np.full(n, -1, dtype=np.int64)
    end[kicks] = _end_slots(
        d,
        touch,
        slot[kicks],
        limit,
        receiver[kicks],
        np.where((receiver[kicks] >= 0)[:, None], np.nan, end_xy[kicks]),
        p,
    )

    def where(valid: np.ndarray, values: np.ndarray) -> pl.Series:
        return pl.Series(values).set(pl.Series(~valid), None) if n else pl.Series(values)

    a, s0, e0 = np.maximum(actor, 0), np.maximum(slot, 0), np.maximum(end, 0)
    out = pl.DataFrame(
        {
            "match_id": pl.Series([match_id] * n, dtype=pl.String),
            "event_id": events["event_id"],
            "frame_id": where(synced, d.frame_of_slot[s0]),
            "frame_id_end": where(end >= 0, d.frame_of_slot[e0]),
            "clock_frame_id": where(in_period, clock_frame),
            "sync_score": where(synced, np.nan_to_num(score)),
            "sync_status": pl.Series(status.astype(str)),
            "offset_ms": pl.Series(offset_ms),
            "player_x_m": where(synced, d.px[a, s0]),
            "player_y_m": where(synced, d.py[a, s0]),
            "ball_x_m": where(synced, d.ball[s0, 0]),
            "ball_y_m": where(synced, d.ball[s0, 1]),
        }
    )
    return SyncResult(out.select([pl.col(c).cast(t) for c, t in SYNC_SCHEMA.items()]), periods)
