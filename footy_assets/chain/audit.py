"""A landed delivery audited before anything of it is written: read by its vendor's reader (the
vendor's own schema), validated by the canonical ``Tracking`` contract, and put through the tracking checks.
Pure functions, no Dagster: the ingest asset audits its partition's delivery (``audited``), and the command line
audits the first match it will materialise ahead, on a thread, while Dagster starts (``audit_ahead``); the
asset then takes that audit (``prefetch``) instead of doing it again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import polars as pl

from footy_assets.chain import prefetch
from footy_assets.chain.checks import (
    BALL_TRACKED,
    NO_DUPLICATE_PLAYER_FRAMES,
    POSITIONS_ON_PITCH,
    TRACKING_CHECKS,
    Check,
    Outcome,
    outcome,
)
from footy_assets.chain.events import read_event_data
from footy_assets.core import quality
from footy_assets.core.canonical import TRACKING_SCHEMA
from footy_assets.core.contracts.tracking import Tracking
from footy_assets.formats import FeedInfo, read_files
from footy_assets.lake.delivery import read_delivery, read_events_delivery
from footy_assets.lake.landing import LandedMatch
from footy_assets.lake.matches import tracking_counts
from footy_assets.lake.store import Lake, StagedDelivery

# how each tracking check is run on the validated rows and what the reader found
_RUNS: dict[Check, Callable[[pl.DataFrame, FeedInfo], tuple[bool, dict]]] = {
    NO_DUPLICATE_PLAYER_FRAMES: lambda frame, info: quality.no_duplicate_player_frames(frame),
    POSITIONS_ON_PITCH: lambda frame, info: quality.positions_on_pitch(frame, info.pitch_length_m, info.pitch_width_m),
    BALL_TRACKED: lambda frame, info: quality.ball_tracked(frame),
}


@dataclass
class Audit:
    """One delivery's canonical rows (validated) and what was found: ``checks`` has the outcome of each tracking
    check, in ``TRACKING_CHECKS`` order; ``facts`` what the tracking asset reports of the rows; ``counts`` the rows'
    ``tracking_counts`` (recorded with the delivery for its ``matches`` row); seconds are wall time."""

    tracking: pl.DataFrame | None
    info: FeedInfo
    checks: list[Outcome]
    read_seconds: float
    validate_seconds: float
    landed: LandedMatch  # the delivery as read: publish under its fingerprint (the hash of the bytes parsed)
    facts: dict = field(default_factory=dict)
    counts: dict | None = None
    staged: StagedDelivery | None = None  # tracking's rows written ahead, uncommitted (``audit_ahead``)
    stage_seconds: float | None = None
    lake: Lake | None = None  # where ``staged`` was written

    def release(self) -> None:
        """Remove the staged file unless it was committed (nothing to do without one)."""
        if self.staged is not None and self.lake is not None:
            self.lake.drop_staged(self.staged)

    @property
    def refused(self) -> list[Outcome]:
        """The blocking checks that failed: nothing of the delivery may be written."""
        return [o for o in self.checks if o.refuses]

    def take_tracking(self) -> pl.DataFrame:
        """The validated rows, no longer held by the audit (the caller's reference is the only one: peak memory)."""
        frame, self.tracking = self.tracking, None
        return frame


def audit_delivery(lake: Lake, landed: LandedMatch) -> Audit:
    """Read, validate and check ``landed`` (a ``FeedError`` or pandera's error when it cannot be used; a check
    that fails is reported, not raised: the caller decides)."""
    started = time.perf_counter()
    read_landed, delivery = read_delivery(lake, landed)
    # the event data is part of the delivery: read (and hashed) with it, and a bad line refuses the whole delivery
    read_landed, events, where = read_events_delivery(lake, read_landed, delivery)
    if events is not None:
        read_event_data(events, where)
    delivery = replace(delivery, fingerprint=read_landed.fingerprint)
    result = read_files(read_landed.format, delivery)  # parses and validates the vendor rows, then normalises
    result.landed = read_landed
    del delivery
    read = time.perf_counter()
    frame = Tracking.validate(result.tracking)
    info, read_landed = result.info, result.landed
    del result  # the validated frame is all that is needed from here (peak memory)
    validated = time.perf_counter()
    checks = [outcome(check, _RUNS[check](frame, info)) for check in TRACKING_CHECKS]
    counts = tracking_counts(frame)
    facts = {
        "frames": counts["frames"],
        "fps": info.fps,
        "periods": [p["period"] for p in counts["periods"]],
        "fingerprint": read_landed.fingerprint,
    }
    return Audit(frame, info, checks, read - started, validated - read, read_landed, facts, counts)


def audit_and_stage(lake: Lake, landed: LandedMatch) -> Audit:
    """``audit_delivery``, then, when no check refuses the delivery, its tracking rows written ahead as the
    table's Parquet file, uncommitted (``Lake.stage_delivery``): the ingest step then only commits it. A staging
    that fails is left out (the step writes the rows itself and reports what went wrong)."""
    audit = audit_delivery(lake, landed)
    if audit.refused:
        return audit
    started = time.perf_counter()
    try:
        audit.staged = lake.stage_delivery(
            "tracking", audit.landed.match_id, audit.landed.fingerprint, audit.tracking, TRACKING_SCHEMA
        )
    except Exception:  # noqa: BLE001 — an optimisation only: the ingest step's own write decides and reports
        return audit
    audit.stage_seconds, audit.lake = time.perf_counter() - started, lake
    return audit


def audit_ahead(lake: Lake, landed: LandedMatch) -> None:
    """Start auditing ``landed`` on a thread, its tracking rows staged (``audit_and_stage``); the next ``audited``
    of the same delivery takes the result."""
    prefetch.start(lake, landed, audit_and_stage)


def audited(lake: Lake, landed: LandedMatch) -> Audit:
    """The audit of ``landed``: the one done ahead of exactly this delivery, else done now."""
    ahead = prefetch.take(lake, landed)
    return ahead.result() if ahead is not None else audit_delivery(lake, landed)
