"""The events step of one match, without Dagster: the match's event data (CDF ``events.jsonl`` + ``match.json``) read,
synchronised with the match's tracking rows, validated and checked, ready to be written as the ``events`` and
``lineups`` tables.

The event data is a delivery of its own on top of the tracking's: the step reads it as landed now (only the event
files: the tracking's are known by the record raw_feed wrote), audits it (a bad line refuses it before anything is
written), and its rows carry the fingerprint of the tracking and the event files together (``events_fingerprint``):
they are written beside the published ones, and ``record_delivery`` tells the steps after it (the summaries that show
names, matches) which event delivery to work on. A re-delivery of the event data alone thus runs this step and
those after it, never the tracking's. A match without event data gets no rows (an empty table is valid).
"""

from __future__ import annotations

import json
import time

import polars as pl

from footy_assets.chain.checks import BALL_EVENTS_SYNCED, EVENTS_IN_TRACKING, MAX_UNMATCHED_SHARE, outcome
from footy_assets.chain.inputs import delivery_of, feed_record, tracking_scan
from footy_assets.chain.metrics import Computed
from footy_assets.core.canonical import fingerprint_column
from footy_assets.core.contracts.events import Events, Lineups
from footy_assets.core.contracts.validation import dtypes
from footy_assets.core.sync import SYNC_SCHEMA, ball_event_kind, synchronise
from footy_assets.formats.cdf import events as cdf_events
from footy_assets.formats.common import Delivery, FeedError
from footy_assets.lake.delivery import current_events_delivery
from footy_assets.lake.matches import raw_feed_record_uri, record_fingerprints, with_event_files
from footy_assets.lake.store import Lake, unreadable

EVENTS_SCHEMA: dict[str, pl.DataType] = dtypes(Events)
LINEUPS_SCHEMA: dict[str, pl.DataType] = dtypes(Lineups)
SYNC_COLUMNS = [c for c in SYNC_SCHEMA if c not in ("match_id", "event_id")]
# tracking's columns the synchroniser reads
TRACKING_COLUMNS = ["frame_id", "period", "role", "player_id", "x_m", "y_m", "z_m", "in_play"]


def read_event_data(
    delivery: Delivery, where: str, clock: cdf_events.EventClock | None = None
) -> cdf_events.EventsRead:
    """The events and lineups of an event delivery; a ``FeedError`` names the file under ``where`` (its folder in the
    lake) and the line."""
    try:
        return cdf_events.read(delivery, clock=clock)
    except FeedError as exc:
        file = f"{where}/{exc.file}" if exc.file in delivery.contents else exc.file
        raise FeedError(file, exc.what, exc.line, exc.row) from None


def tracking_clock(read: cdf_events.EventsRead, period_first_ms: dict[int, int]) -> cdf_events.EventClock:
    """For events delivered without a CDF meta: each period starts at its first event (UTC) and at its first
    tracking frame on the tracking's timeline (``period_first_ms``: {period: ms}); the sync removes what is left."""
    first_utc = read.events.group_by("period").agg(pl.col("time").min().dt.epoch("ms"))
    start_utc = {int(p): int(t) for p, t in first_utc.iter_rows() if int(p) in period_first_ms}
    return cdf_events.EventClock(start_utc, {p: period_first_ms[p] for p in start_utc}, "tracking")


def events_in_tracking(events: pl.DataFrame, periods: pl.DataFrame) -> tuple[bool, dict]:
    """Every event lies inside a period of the tracking (its clock frame between the period's first and last frame,
    offset removed). ``periods``: period, first_frame, last_frame of tracking."""
    joined = events.join(periods, on="period", how="left")
    outside = joined.filter(
        pl.col("clock_frame_id").is_null()
        | pl.col("first_frame").is_null()
        | (pl.col("clock_frame_id") < pl.col("first_frame"))
        | (pl.col("clock_frame_id") > pl.col("last_frame"))
    )
    examples = outside.head(3).select("event_id", "period", "type", "timestamp_ms").to_dicts()
    return outside.height == 0, {"events": events.height, "outside_tracking": outside.height, "examples": examples}


def ball_events_synced(events: pl.DataFrame, max_unmatched: float = MAX_UNMATCHED_SHARE) -> tuple[bool, dict]:
    """The share of ball events (``core.sync.ball_event_kind``) left unmatched is at most ``max_unmatched``."""
    ball = events.filter(ball_event_kind(events).is_not_null()) if events.height else events
    unmatched = ball.filter(pl.col("sync_status") != "synced")
    share = unmatched.height / ball.height if ball.height else 0.0
    reasons = dict(unmatched.group_by("sync_status").len().iter_rows()) if unmatched.height else {}
    return share <= max_unmatched, {
        "ball_events": ball.height,
        "synced": ball.height - unmatched.height,
        "unmatched_share": round(share, 4),
        "reasons": reasons,
    }


def synced_events(
    read: cdf_events.EventsRead, tracking: pl.DataFrame, fps: int, fingerprint: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(the events table's rows, the sync's periods: kick-off frame and offset removed) of one match."""
    events = read.events
    if events.height == 0:
        return pl.DataFrame(schema=EVENTS_SCHEMA), pl.DataFrame()
    result = synchronise(events, tracking, fps)
    rows = events.drop("fingerprint").join(
        result.events.select("event_id", *SYNC_COLUMNS), on="event_id", how="left", maintain_order="left"
    )
    rows = rows.sort("event_index").with_columns(fingerprint=fingerprint_column(fingerprint))
    return rows.select(list(EVENTS_SCHEMA)).cast(EVENTS_SCHEMA), result.periods


PREVIEW_ROWS = 30  # events shown in the UI (the asset's metadata stays a few kB)
PREVIEW_CELL_CHARS = 32  # a free string (type, sub_type, a name) is cut there


def events_preview(events: pl.DataFrame, lineups: pl.DataFrame | None, rows: int = PREVIEW_ROWS) -> pl.DataFrame:
    """The first ``rows`` events of a match as a reader scans them: UTC time of day, period, match minute, type,
    sub_type, the player (the lineup's short name where it has him, null otherwise), the tracking frame and the
    sync status; strings cut to ``PREVIEW_CELL_CHARS`` and a table separator ('|') replaced, so a markdown table of
    it stays bounded and whole."""
    head = events.head(rows).select(
        "event_index", "time", "period", "match_minute", "type", "sub_type", "player_id", "frame_id", "sync_status"
    )
    names = (
        lineups.filter(pl.col("player_id").is_not_null())
        .select("player_id", player_name="short_name")
        .unique("player_id")
        if lineups is not None and lineups.height
        else pl.DataFrame(schema={"player_id": pl.String, "player_name": pl.String})
    )
    head = head.join(names, on="player_id", how="left").sort("event_index")

    def cut(column: str) -> pl.Expr:
        text = pl.col(column).cast(pl.String).str.replace_all("|", "/", literal=True)
        return (
            pl.when(text.str.len_chars() > PREVIEW_CELL_CHARS)
            .then(text.str.slice(0, PREVIEW_CELL_CHARS - 1) + "…")
            .otherwise(text)
            .alias(column)
        )

    return head.select(
        time=pl.col("time").dt.strftime("%H:%M:%S%.3f"),
        period="period",
        minute="match_minute",
        type=cut("type"),
        sub_type=cut("sub_type"),
        player_id=cut("player_id"),
        player_name=cut("player_name"),
        frame_id="frame_id",
        sync_status=cut("sync_status"),
    )


def sync_counts(events: pl.DataFrame) -> dict:
    """{"events_synced": events synced with a frame, "events_unmatched": {reason: events}} over every event."""
    status = events["sync_status"] if events.height else pl.Series("sync_status", [], pl.String)
    unmatched = status.filter(status != "synced").str.strip_prefix("unmatched: ")
    return {
        "events_synced": int((status == "synced").sum()),
        "events_unmatched": {str(k): int(v) for k, v in unmatched.value_counts(sort=True).iter_rows()},
    }


class EventsStep:
    """The events and lineups of one match (``events()`` first, then ``lineups()``, then ``record_delivery()``),
    from the event data landed now on the tracking delivery raw_feed recorded last: tracking must hold it. A
    ``FeedError`` when the event data cannot be read or the tracking files changed since (the whole chain runs
    again)."""

    def __init__(self, lake: Lake, match_id: str):
        self.lake, self.match_id = lake, match_id
        self.tracking_fingerprint = delivery_of(lake, match_id, ["tracking"])
        self.record = feed_record(lake, match_id)
        self.fps = int(self.record["feed"]["fps"])
        self.landed, self.delivery, self.where = current_events_delivery(lake, self.record)
        # the delivery of the event tables: the tracking's and the event files together
        self.fingerprint = self.landed.events_fingerprint
        self.read: cdf_events.EventsRead | None = None
        self.preview = events_preview(pl.DataFrame(schema=EVENTS_SCHEMA), None)  # (set by events())

    def record_delivery(self) -> None:
        """Record the event delivery the step wrote (its files and fingerprint) in raw_feed's record, once its
        tables are written: the summaries and matches work on it from then on."""
        updated = with_event_files(self.record, self.landed)
        if (updated["files"], updated["events_fingerprint"]) != (
            self.record["files"],
            record_fingerprints(self.record)[1],
        ):
            self.lake.write_bytes_atomic(
                raw_feed_record_uri(self.lake, self.match_id), json.dumps(updated, indent=1).encode()
            )
        self.record = updated

    def _tracking(self) -> pl.DataFrame:
        scan = tracking_scan(self.lake, self.match_id, self.tracking_fingerprint)
        try:
            return scan.select(TRACKING_COLUMNS).collect()
        except Exception as exc:  # a data file missing or damaged: one line naming the table
            raise unreadable("tracking", exc) from exc

    def events(self) -> Computed:
        """The events table's rows with their checks (warnings); no rows when the delivery has no event data."""
        started = time.perf_counter()
        if self.delivery is None:
            frame = Events.validate(pl.DataFrame(schema=EVENTS_SCHEMA))
            return Computed(
                "events",
                self.match_id,
                frame,
                self.fingerprint,
                started,
                facts={"events": 0, "event_data": "none delivered"},
            )
        tracking = self._tracking()
        read = read_event_data(self.delivery, self.where)
        if "meta.json" not in self.delivery.contents:  # placed on the tracking's timeline by its periods
            firsts = self._period_firsts()
            read = read_event_data(self.delivery, self.where, tracking_clock(read, firsts))
        self.read = read
        frame, periods = synced_events(read, tracking, self.fps, self.fingerprint)
        frame = Events.validate(frame)
        bounds = tracking.group_by("period").agg(
            first_frame=pl.col("frame_id").min(), last_frame=pl.col("frame_id").max()
        )
        found = (
            outcome(EVENTS_IN_TRACKING, events_in_tracking(frame, bounds)),
            outcome(BALL_EVENTS_SYNCED, ball_events_synced(frame)),
        )
        synced = found[1].metadata
        facts = {
            "events": frame.height,
            "ball_events": synced["ball_events"],
            "synced": synced["synced"],
            "synced_share": round(synced["synced"] / synced["ball_events"], 4) if synced["ball_events"] else None,
            "offsets_ms": {str(p): o for p, o in periods.select("period", "offset_ms").iter_rows()},
            "event_files": self.where,
            "fingerprint": self.fingerprint,
            "tracking_fingerprint": self.tracking_fingerprint,
            **sync_counts(frame),
        }
        self.preview = events_preview(frame, read.lineups)
        return Computed("events", self.match_id, frame, self.fingerprint, started, facts=facts, checks=found)

    def _period_firsts(self) -> dict[int, int]:
        scan = tracking_scan(self.lake, self.match_id, self.tracking_fingerprint)
        firsts = scan.group_by("period").agg(pl.col("timestamp_ms").min()).collect()
        return {int(p): int(t) for p, t in firsts.iter_rows()}

    def lineups(self) -> Computed:
        """The lineups table's rows (players, coaches and officials of the match sheet); none without event data."""
        started = time.perf_counter()
        if self.delivery is None:
            frame = pl.DataFrame(schema=LINEUPS_SCHEMA)
        else:
            if self.read is None:
                self.read = read_event_data(self.delivery, self.where)
            frame = self.read.lineups.with_columns(fingerprint=fingerprint_column(self.fingerprint))
            frame = frame.select(list(LINEUPS_SCHEMA)).cast(LINEUPS_SCHEMA)
        frame = Lineups.validate(frame)
        players = frame.filter(pl.col("role") == "player")
        return Computed(
            "lineups",
            self.match_id,
            frame,
            self.fingerprint,
            started,
            facts={"players": players.height, "others": frame.height - players.height},
        )


__all__ = [
    "MAX_UNMATCHED_SHARE",
    "EventsStep",
    "ball_events_synced",
    "events_in_tracking",
    "events_preview",
    "read_event_data",
    "sync_counts",
]
