"""A landed delivery audited before anything of it is written: read by its vendor's reader (the
vendor's own schema), validated by the canonical ``Tracking`` contract, and put through the tracking checks.
Pure functions, no Dagster: the ingest asset audits its partition's delivery (``audited``), and the command line
audits the first match it will materialise ahead, on a thread, while Dagster starts (``audit_ahead``); the
asset then takes that audit (``prefetch``) instead of doing it again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import polars as pl

from footy_assets.chain import prefetch
from footy_assets.core import quality
from footy_assets.core.contracts.tracking import Tracking
from footy_assets.lake.store import Lake
from footy_assets.lake.landing import LandedMatch
from footy_assets.formats import FeedInfo
from footy_assets.lake.delivery import read_match

# the tracking checks, in the order the asset declares and reports them (assets/ingest.py: TRACKING_CHECKS)
TRACKING_CHECK_NAMES = ("no_duplicate_player_frames", "positions_on_pitch", "ball_tracked")


@dataclass
class Audit:
    """One delivery's canonical rows (validated) and what was found: ``checks`` is (name, passed, metadata)
    per tracking check, in ``TRACKING_CHECK_NAMES`` order; seconds are wall time."""

    tracking: pl.DataFrame
    info: FeedInfo
    checks: list[tuple[str, bool, dict]]
    read_seconds: float
    validate_seconds: float
    landed: LandedMatch  # the delivery as read: publish under its fingerprint (the hash of the bytes parsed)


def audit_delivery(lake: Lake, landed: LandedMatch) -> Audit:
    """Read, validate and check ``landed`` (a ``FeedError`` or pandera's error when it cannot be used; a check
    that fails is reported, not raised: the caller decides)."""
    started = time.perf_counter()
    result = read_match(lake, landed)  # parses and validates the vendor rows, then normalises
    read = time.perf_counter()
    frame = Tracking.validate(result.tracking)
    info, read_landed = result.info, result.landed
    del result  # the validated frame is all that is needed from here (peak memory)
    validated = time.perf_counter()
    outcomes = (quality.no_duplicate_player_frames(frame),
                quality.positions_on_pitch(frame, info.pitch_length_m, info.pitch_width_m),
                quality.ball_tracked(frame))
    checks = [(name, passed, metadata) for name, (passed, metadata) in zip(TRACKING_CHECK_NAMES, outcomes)]
    return Audit(frame, info, checks, read - started, validated - read, read_landed)


def audit_ahead(lake: Lake, landed: LandedMatch) -> None:
    """Start auditing ``landed`` on a thread; the next ``audited`` of the same delivery takes the result."""
    prefetch.start(lake, landed, audit_delivery)


def audited(lake: Lake, landed: LandedMatch) -> Audit:
    """The audit of ``landed``: the one done ahead of exactly this delivery, else done now."""
    ahead = prefetch.take(lake, landed)
    return ahead.result() if ahead is not None else audit_delivery(lake, landed)
