"""The metrics step of one match, without Dagster: ball_state, frame_state, intervals and match_quality from the
match's tracking rows, each computed with the pure functions of ``footy_assets.core.metrics`` and
``footy_assets.core.quality``, validated by its contract and put through its checks, ready to be written.

``MetricsStep`` reads tracking's player and ball rows once for ball_state and frame_state, keeps frame_state in
memory for intervals and match_quality, and lets go of each input as soon as no later table needs it (a full
match's tracking rows are the step's peak memory). What it is not asked to compute is read from the lake.
"""

from __future__ import annotations

import ctypes
import functools
import sys
import time
from dataclasses import dataclass, field

import polars as pl

from footy_assets.chain import handover
from footy_assets.chain.checks import COVERS_TRACKING, SPEEDS_PLAUSIBLE, Outcome, outcome
from footy_assets.chain.inputs import delivery_of, feed_record, read_table, tracking_scan
from footy_assets.core import quality
from footy_assets.core.canonical import fingerprint_column
from footy_assets.core.contracts.derived import BallState, FrameState, Intervals, MatchQuality
from footy_assets.core.contracts.validation import dtypes
from footy_assets.core.metrics import clock
from footy_assets.core.metrics.ball_state import BALL_COLUMNS, PEOPLE_COLUMNS, ball_state_of
from footy_assets.core.metrics.frame_state import (
    distance_to_ball,
    frame_state_of,
    is_identified_player,
    is_located_ball,
)
from footy_assets.core.metrics.intervals import catalog_intervals, load_catalog
from footy_assets.core.pictures import picture_aggregates, render_picture
from footy_assets.core.quality.match_quality import TRACKING_COLUMNS as QUALITY_TRACKING_COLUMNS
from footy_assets.core.quality.match_quality import TrackingQuality, build_match_quality, tracking_quality_queries
from footy_assets.lake.store import Lake, unreadable

INTERVALS_SCHEMA: dict[str, pl.DataType] = dtypes(Intervals)

# frame_state's columns read from tracking (match_id is the partition: given, not read)
TRACKING_COLUMNS_USED = ["frame_id", "timestamp_ms", "period", "role", "team", "player_id", "x_m", "y_m"]
# every column of tracking this step reads (of the rows ingest hands over, only these are kept)
TRACKING_COLUMNS_READ = list(dict.fromkeys([*TRACKING_COLUMNS_USED, *BALL_COLUMNS, *QUALITY_TRACKING_COLUMNS]))
# the frame_state columns match_quality needs
QUALITY_STATE_COLUMNS = ["frame_id", "period", "team", "player_id", "valid", "speed_mps", "ball_dist_m"]


def _return_freed_heap() -> None:
    """Give the C heap's free pages back to the system (glibc's ``malloc_trim``; elsewhere nothing). numpy's large
    temporaries of a full match (float64 arrays of 3 M rows) are freed into glibc's heap, which keeps them: the next
    step, which allocates through polars' own allocator, would add its memory on top (docs/performance.md)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim():
    if sys.platform != "linux":
        return None
    try:
        return ctypes.CDLL(None).malloc_trim  # the C library the process runs on
    except (OSError, AttributeError):  # not glibc (musl)
        return None


@dataclass
class Computed:
    """One table of one match computed, validated and checked, not yet written: its rows and the delivery they
    come from, the outcomes of its checks (a refusing one: write nothing), facts for the asset's metadata, a
    picture (PNG bytes) where the table has one, and when its computation started (``time.perf_counter``, s)."""

    table: str
    match_id: str
    frame: pl.DataFrame
    fingerprint: str
    started: float
    facts: dict = field(default_factory=dict)
    checks: tuple[Outcome, ...] = ()
    picture: bytes | None = None

    @property
    def refused(self) -> list[Outcome]:
        """The blocking checks that failed: nothing of the table may be written."""
        return [o for o in self.checks if o.refuses]

    def refusal_message(self) -> str:
        """One line: which table was refused and by which check, with what the check found."""
        first = self.refused[0]
        return f"{self.match_id}: {self.table} refused, nothing written: check {first.name} failed ({first.metadata})"


def intervals_table(
    match_id: str, found: pl.DataFrame, fingerprint: str | None = None, starts: dict[int, int] | None = None
) -> pl.DataFrame:
    """The intervals table rows of one match from catalog_intervals' output (empty is valid); ``starts`` is
    {period: start ms} (``clock.starts_from_clock`` of frame_state) for the clock within the period."""
    if found.height == 0:
        return pl.DataFrame(schema=INTERVALS_SCHEMA)
    start_ms = clock.period_start_ms(starts or {}).cast(pl.Float64)
    in_period = (pl.col("start_ms") - start_ms) / 1000
    return found.select(
        match_id=pl.lit(match_id),
        definition="definition",
        label="label",
        column="column",
        player_id="player_id",
        team="team",
        period="period",
        first_frame_id="first_frame_id",
        last_frame_id="last_frame_id",
        start_s=pl.col("start_ms") / 1000,
        end_s=pl.col("end_ms") / 1000,
        period_start_s=start_ms / 1000,
        start_period_time_s=in_period,
        end_period_time_s=(pl.col("end_ms") - start_ms) / 1000,
        match_minute=clock.match_minute(in_period),
        duration_ms="duration_ms",
        frames="frames",
        peak="peak",
        mean="mean",
        distance_m="distance_m",
        fingerprint=fingerprint_column(fingerprint),
    ).cast(INTERVALS_SCHEMA)


def intervals_state_columns() -> list[str]:
    """The frame_state columns the intervals of the catalog need."""
    return sorted(
        {"player_id", "team", "period", "period_time_s", "frame_id", "timestamp_ms", "distance_m", "valid"}
        | {d.column for d in load_catalog()}
    )


class MetricsStep:
    """The metrics of one match, one table at a time, in this order: ``ball_state``, ``frame_state``,
    ``intervals``, ``match_quality`` (each method once, any subset of them). ``wanted`` names the tables the
    step will compute: tracking is read only when ball_state or frame_state is among them."""

    def __init__(self, lake: Lake, match_id: str, wanted: set[str]):
        self.lake, self.match_id = lake, match_id
        self.feed = feed_record(lake, match_id)["feed"]
        self.fps = int(self.feed["fps"])
        self.fingerprint: str | None = None
        self.people: pl.DataFrame | None = None  # tracking's identified player rows
        self.ball: pl.DataFrame | None = None  # tracking's located ball rows
        self.period_firsts: pl.DataFrame | None = None  # period, its first timestamp_ms in tracking
        self.tracking_quality: TrackingQuality | None = None  # match_quality's aggregates of tracking's rows
        self.state: pl.DataFrame | None = None  # frame_state once computed
        self.read_seconds: float | None = None  # the one read of tracking's rows, reported with ball_state
        self.ball_dist_m = None  # each player row's distance to the ball (m): computed once, for both tables
        # Running the tables at once measured no faster on two cores (polars already uses both) and held more
        # memory: one after the other.
        if wanted & {"frame_state", "ball_state"}:
            self._read_tracking(with_quality="match_quality" in wanted)

    def _pitch(self) -> tuple[float, float]:
        return (self.feed["pitch_length_m"], self.feed["pitch_width_m"])

    def _read_tracking(self, with_quality: bool) -> None:
        """Tracking's identified player rows, its located ball rows and each period's first timestamp, read by
        queries run together (never the whole table in memory); with match_quality's aggregates of its rows when
        that table is wanted too (so it never reads them again)."""
        started = time.perf_counter()
        self.fingerprint = delivery_of(self.lake, self.match_id, ["tracking"])
        held = handover.take(self.lake, self.match_id, self.fingerprint)  # the rows ingest just committed
        scan = held.lazy() if held is not None else tracking_scan(self.lake, self.match_id, self.fingerprint)
        del held  # the scan holds them until the queries below are collected
        try:
            # (the frames with a ball are collected as the queries are built: a second, small read on the lake)
            quality = (
                tracking_quality_queries(scan.select(QUALITY_TRACKING_COLUMNS), self._pitch()) if with_quality else []
            )
            self.people, self.ball, self.period_firsts, *found = pl.collect_all(
                [
                    scan.filter(is_identified_player()).select(TRACKING_COLUMNS_USED),
                    scan.filter(is_located_ball()).select(BALL_COLUMNS),
                    scan.group_by("period").agg(pl.col("timestamp_ms").min()),
                    *quality,
                ]
            )
        except Exception as exc:  # a data file missing or damaged: one line naming the table
            raise unreadable("tracking", exc) from exc
        self.tracking_quality = TrackingQuality(*found) if found else None
        self.read_seconds = time.perf_counter() - started

    def _ball_distances(self):
        """Each identified player row's distance to the ball of its frame (m, float64; NaN: no ball)."""
        if self.ball_dist_m is None:
            people = self.people
            self.ball_dist_m = distance_to_ball(
                people["frame_id"].to_numpy(),
                people["x_m"].to_numpy(),
                people["y_m"].to_numpy(),
                self.ball.select("frame_id", "x_m", "y_m"),
            )
        return self.ball_dist_m

    def ball_state(self) -> Computed:
        started = time.perf_counter()
        frame = BallState.validate(
            ball_state_of(self.ball, self.people.select(PEOPLE_COLUMNS), self.fingerprint, self._ball_distances())
        )
        share = frame.filter(pl.col("possession_team").is_not_null())["possession_team"]
        return Computed(
            "ball_state",
            self.match_id,
            frame,
            self.fingerprint,
            started,
            facts={
                "in_play_share": round(float(frame["in_play"].mean() or 0.0), 4),
                "home_possession_share": round(float((share == 0).mean()), 4) if share.len() else None,
                # tracking's rows read once for this step's tables (match_quality's aggregates of them too)
                "read_tracking_seconds": round(self.read_seconds or 0.0, 3),
            },
        )

    def frame_state(self) -> Computed:
        """frame_state with its checks (covers_tracking refuses it) and its picture (average positions and speed
        per half)."""
        started = time.perf_counter()
        starts = clock.period_starts(self.period_firsts, self.feed.get("period_start_ms"))
        frame = frame_state_of(
            self.people,
            self.ball.select("frame_id", "x_m", "y_m"),
            starts,
            self.fps,
            self.fingerprint,
            self.match_id,
            self._ball_distances(),
        )
        computed = time.perf_counter()
        covers = outcome(COVERS_TRACKING, quality.frame_state_covers(frame.height, self.people.height))
        self.people = self.ball = self.ball_dist_m = None  # done with tracking's rows (peak memory)
        self.state = frame  # intervals and match_quality take it from memory
        _return_freed_heap()
        frame = FrameState.validate(frame)
        validated = time.perf_counter()
        if covers.refuses:  # audited before the commit: the table is not written, nothing more is computed
            return Computed("frame_state", self.match_id, frame, self.fingerprint, started, checks=(covers,))
        frames = frame["frame_id"].n_unique()
        title = f"{self.match_id} ({self.feed['format']}): {frames:,} frames, {self.feed['fps']} fps"
        png = render_picture(
            *picture_aggregates(frame), title, (self.feed["pitch_length_m"], self.feed["pitch_width_m"])
        )
        speeds = outcome(SPEEDS_PLAUSIBLE, quality.speeds_plausible(frame))
        return Computed(
            "frame_state",
            self.match_id,
            frame,
            self.fingerprint,
            started,
            picture=png,
            checks=(speeds, covers),
            facts={
                "frames": frames,
                "players": frame["player_id"].n_unique(),
                "fps": self.fps,
                "top_speed_mps": float(frame.select(pl.col("speed_mps").filter(pl.col("valid")).max()).item() or 0.0),
                "invalid_frames": int((~frame["valid"]).sum()),
                "fingerprint": self.fingerprint,
                "compute_seconds": round(computed - started, 3),
                "validate_seconds": round(validated - computed, 3),
                "checks_picture_seconds": round(time.perf_counter() - validated, 3),
            },
        )

    def _state_columns(self, columns: list[str]) -> tuple[pl.DataFrame, str]:
        """frame_state's ``columns`` of the match and the delivery they come from: from memory when this step
        computed it, else read from the lake (its fingerprint must agree with tracking's)."""
        if self.state is not None:
            return self.state.select(columns), self.fingerprint
        fingerprint = delivery_of(self.lake, self.match_id, ["frame_state"])
        return read_table(
            self.lake, "frame_state", self.match_id, fingerprint, columns=columns, allow_empty=True
        ), fingerprint

    def intervals(self) -> Computed:
        started = time.perf_counter()
        catalog = load_catalog()
        state, fingerprint = self._state_columns(intervals_state_columns())
        starts = clock.starts_from_clock(state)
        found = catalog_intervals(state, self.fps, catalog)
        frame = Intervals.validate(intervals_table(self.match_id, found, fingerprint, starts))
        counts = dict(frame.group_by("definition").len().iter_rows()) if frame.height else {}
        return Computed(
            "intervals",
            self.match_id,
            frame,
            fingerprint,
            started,
            facts={f"count_{d.name}": int(counts.get(d.name, 0)) for d in catalog},
        )

    def match_quality(self) -> Computed:
        if self.state is not None:
            # match_quality reads all of tracking's rows: only the few frame_state columns it needs are kept (the
            # same buffers, no copy; reading them back from the lake allocated as much again)
            self.state = self.state.select(QUALITY_STATE_COLUMNS)
        started = time.perf_counter()
        state, fingerprint = self._state_columns(QUALITY_STATE_COLUMNS)
        tracking = self.tracking_quality
        if tracking is None:  # tracking was not read by this step: its rows, from the lake
            tracking = read_table(self.lake, "tracking", self.match_id, fingerprint, columns=QUALITY_TRACKING_COLUMNS)
        frame = build_match_quality(tracking, state, self.fps, self._pitch(), self.match_id, fingerprint)
        frame = MatchQuality.validate(frame)
        whole = frame.filter(pl.col("team").is_null() & pl.col("player_id").is_null())  # one row per period
        unidentified = (whole["unidentified_share"] * whole["rows"]).sum() / max(int(whole["rows"].sum()), 1)
        return Computed(
            "match_quality",
            self.match_id,
            frame,
            fingerprint,
            started,
            facts={
                "invalid_frames": int(whole["invalid_frames"].sum()),
                "dropouts": int(whole["dropouts"].sum()),
                "unidentified_share": round(float(unidentified), 4),
            },
        )
