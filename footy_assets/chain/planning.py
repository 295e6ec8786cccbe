"""Which matches need work, decided from the lake alone (no Dagster): the CLI, the landing sensor and the
backfill schedule share it.

A match needs work when it is new (no ``matches`` row), when its landed tracking files' fingerprint differs from
the one stored (changed: the whole chain), when the code versions stored differ from the current ones (stale: the
whole chain), or when only its event data changed (added, corrected or removed: ``events_changed``; only the
``EVENT_ASSETS`` run, tracking and what is computed from it alone stay as they are). A fresh Dagster instance or a
copied lake can therefore never make a match be skipped wrongly.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from footy_assets.chain.versions import CODE_VERSIONS
from footy_assets.lake.landing import LandedMatch, scan_landing
from footy_assets.lake.matches import read_matches
from footy_assets.lake.publish import EVENT_TABLES, EVENTS_KEY
from footy_assets.lake.store import Lake, check_match_id

# What an event-only re-delivery runs: the tables computed from the event data, then matches (the publish marker)
EVENT_ASSETS = (*EVENT_TABLES, "matches")


@dataclass
class MatchPlan:
    match_id: str
    format: str | None
    fingerprint: str | None  # the landed tracking files'
    status: str  # new | changed | stale | events_changed | unchanged | refused
    reason: str = ""
    landed: LandedMatch | None = field(default=None, compare=False, repr=False)  # its files, as planned
    events_fingerprint: str | None = None  # the landed tracking and event files' together
    # when the plan was made (ms since the epoch): a match published after it was decided without that publish
    planned_at_ms: int = field(default_factory=lambda: int(time.time() * 1000), compare=False, repr=False)

    @property
    def needs_work(self) -> bool:
        return self.status in ("new", "changed", "stale", "events_changed")

    @property
    def assets(self) -> tuple[str, ...] | None:
        """The assets the match's run materialises: ``EVENT_ASSETS`` when only its event data changed, else None
        (the whole chain)."""
        return EVENT_ASSETS if self.status == "events_changed" else None

    @property
    def delivery(self) -> str | None:
        """What identifies the delivery the run is for (its run key, its tag): the fingerprint of every landed file,
        which changes with the tracking and with the event data."""
        return self.events_fingerprint or self.fingerprint


@dataclass
class MatchOutcome:
    plan: MatchPlan
    ok: bool
    seconds: float = 0.0
    rows: int | None = None
    frames: int | None = None
    error: str | None = None
    events: int | None = None  # rows of the events table written (None: events not materialised)


def plan_matches(
    lake: Lake, match_ids: Iterable[str] | None = None, rehash: bool | Callable[[str], bool] = False
) -> list[MatchPlan]:
    """The status of every landed match (or of ``match_ids``), decided from the lake alone.

    A landed file whose size and modification time are those recorded is taken as unchanged without being read;
    ``rehash`` (True, or a predicate on the match_id) hashes the files of those matches again, so a change that
    kept the size and restored the modification time (``rsync -a``, ``cp -p``, ``tar x``) is seen as "changed".
    """
    wanted = None if match_ids is None else {check_match_id(m) for m in match_ids}
    stored = {row["match_id"]: row for row in read_matches(lake).iter_rows(named=True)}
    verify = rehash if callable(rehash) else (lambda match_id: bool(rehash))
    known = {m: recorded_files(row) for m, row in stored.items() if not verify(m)}  # none known: every file read
    scan = scan_landing(lake, only=wanted, known=known)
    plans = []
    for key, reason in sorted(scan.refused.items()):
        if wanted is None or key in wanted:
            plans.append(MatchPlan(key, None, None, "refused", reason))
    for match_id in sorted(wanted or ()):
        if match_id not in scan.matches and match_id not in scan.refused:
            plans.append(MatchPlan(match_id, None, None, "refused", f"match {match_id!r} is not landed"))
    for match_id, landed in sorted(scan.matches.items()):
        status, reason = stored_status(stored.get(match_id), landed.fingerprint, landed.events_fingerprint)
        plans.append(
            MatchPlan(match_id, landed.format, landed.fingerprint, status, reason, landed, landed.events_fingerprint)
        )
    return plans


VERIFY_DAYS_ENV = "FOOTY_VERIFY_EVERY_DAYS"


def verify_every_days() -> int:
    """Days over which the nightly backfill re-hashes every landed match once (``FOOTY_VERIFY_EVERY_DAYS``,
    default 7: a rolling seventh each night; 1: all of them every night; 0: never)."""
    given = os.environ.get(VERIFY_DAYS_ENV, "7").strip()
    if not given.isdigit():
        raise ValueError(f"{VERIFY_DAYS_ENV}={given!r} is not a whole number of days (0 turns verification off)")
    return int(given)


def verified_on(day: date, every_days: int | None = None) -> Callable[[str], bool]:
    """Whether a match's files are re-hashed on ``day``: its share of the rolling verification, chosen by its
    match_id (a sha256 bucket, the same in every process), so every match is verified once every ``every_days``."""
    every = verify_every_days() if every_days is None else every_days
    if every <= 0:
        return lambda match_id: False
    tonight = day.toordinal() % every
    return lambda match_id: int(hashlib.sha256(match_id.encode()).hexdigest()[:8], 16) % every == tonight


def recorded_files(row: dict) -> dict[str, tuple[int, int, str]]:
    """{file name: (size, mtime_ns, sha256)} of the delivery a ``matches`` row publishes (files recorded before
    modification times were kept have none: they are hashed again once)."""
    try:
        files = json.loads(row.get("files") or "[]")
    except json.JSONDecodeError:
        return {}
    return {
        f["name"]: (int(f["size_bytes"]), int(f.get("mtime_ns") or 0), f["sha256"])
        for f in files
        if isinstance(f, dict) and {"name", "size_bytes", "sha256"} <= set(f)
    }


def stored_status(row: dict | None, fingerprint: str, events_fingerprint: str | None = None) -> tuple[str, str]:
    """new | changed | stale | events_changed | unchanged, from a match's ``matches`` row and its landed
    fingerprints: of the tracking files, and of the tracking and event files together (None: no event data).

    The one notion of "needs work" shared by the CLI, the landing sensor and the backfill schedule. A row written
    before the event data had a fingerprint of its own names one fingerprint over every file: a match landed with
    event data then reads as changed once (the whole chain runs, the row then names both), one without as before.
    """
    if row is None:
        return "new", "not in the lake yet"
    if row["fingerprint"] != fingerprint:
        return "changed", "the landed tracking files changed"
    if json.loads(row["code_versions"]) != CODE_VERSIONS:
        return "stale", "the code that produced it changed"
    if (row.get(EVENTS_KEY) or row["fingerprint"]) != (events_fingerprint or fingerprint):
        return "events_changed", "only the event data changed (added, corrected or removed)"
    return "unchanged", "same files, same code"


def default_workers() -> int:
    """Worker processes for ``materialize``: one per core, as many as memory allows (a full match needs about
    2 GB at its peak)."""
    cores = os.cpu_count() or 1
    try:
        with open("/proc/meminfo") as meminfo:
            available_kb = next(int(line.split()[1]) for line in meminfo if line.startswith("MemAvailable:"))
    except (OSError, StopIteration, ValueError):
        return cores
    return max(1, min(cores, available_kb // (2 * 1024 * 1024)))
