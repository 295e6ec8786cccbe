"""One writer per match, whoever starts it: the CLI, the landing sensor, the UI, a backfill, ``dg launch``, upkeep
and forget.

A claim is a small JSON record in the lake, ``_claims/<match_id>.json``, naming its holder: a Dagster run (every
step of the run claims the match before it writes; the claim is the run's until the run ends, so two runs never
interleave their steps, whatever executor runs them), or an upkeep or forget process. A claim whose holder is gone
is taken over: a run is gone once the instance says it ended (a killed CLI's run is marked failed by the next
``footy-assets`` process or the daemon's sensor), a process once its pid is gone from its host (other hosts:
after ``STALE_CLAIM_HOURS``). The second claimant waits for the first (one line), at most ``FOOTY_MATCH_WAIT_S``
seconds, then is refused with one line naming the holder.

On a local lake a claim is taken under an flock (exact); on an object store, which has no lock, it is written,
left to settle and read back: of two claimants writing at once, the one whose record is read back holds it.
Dagster-free (the storage layer): the shell passes how to tell whether a run holder still runs.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from footy_assets.lake.locks import exclusive, process_alive, process_start_time
from footy_assets.lake.store import Lake, check_match_id

CLAIMS_DIR = "_claims"
WAIT_ENV = "FOOTY_MATCH_WAIT_S"
STALE_CLAIM_HOURS = 6.0  # a claim of a process on another host (not visible from here) is taken over after this
SETTLE_S = 0.5  # object stores: how long a written claim is left before it is read back


class MatchBusy(RuntimeError):
    """Another live holder kept the match past the wait: one line naming it."""


@dataclass(frozen=True)
class Holder:
    """Who holds a match: ``id`` a Dagster run id or ``<kind>-<uuid>``; ``kind`` run | upkeep | forget."""

    id: str
    kind: str
    host: str
    pid: int
    pid_start: str
    since_ms: int

    def describe(self) -> str:
        what = f"run {self.id}" if self.kind == "run" else f"footy-assets {self.kind}"
        return f"{what} (pid {self.pid} on {self.host}, since {time.strftime('%H:%M:%S', time.localtime(self.since_ms / 1000))})"  # noqa: E501


def this_process(kind: str, holder_id: str | None = None) -> Holder:
    """A holder for this process: a run (``holder_id`` its run id) or an upkeep/forget of its own."""

    return Holder(
        holder_id or f"{kind}-{uuid.uuid4().hex[:12]}",
        kind,
        socket.gethostname(),
        os.getpid(),
        str(process_start_time(os.getpid()) or ""),
        int(time.time() * 1000),
    )


def wait_seconds() -> float:
    """How long a claimant waits for the holder (``FOOTY_MATCH_WAIT_S``, default 900 s)."""
    text = os.environ.get(WAIT_ENV, "")
    try:
        return max(0.0, float(text)) if text else 900.0
    except ValueError:
        raise ValueError(f"{WAIT_ENV}={text!r} is not a number of seconds") from None


def process_is_live(holder: Holder) -> bool:
    """An upkeep or forget holder still runs: its pid on this host, else younger than ``STALE_CLAIM_HOURS``."""

    if holder.host == socket.gethostname():
        # without a start time a reused pid (pid 1 is always alive) cannot be told from the holder: not trusted
        return bool(holder.pid_start) and process_alive(holder.pid, holder.pid_start)
    return time.time() * 1000 - holder.since_ms < STALE_CLAIM_HOURS * 3600 * 1000


def _uri(lake: Lake, match_id: str) -> str:
    return lake.join(CLAIMS_DIR, f"{check_match_id(match_id)}.json")


def current_holder(lake: Lake, match_id: str) -> Holder | None:
    """The match's claim as recorded (live or not); None when unclaimed or unreadable."""
    try:
        record = lake.read_json(_uri(lake, match_id))
        return Holder(**record) if record else None
    except (ValueError, TypeError, OSError):
        return None  # a damaged or half-written record claims nothing


@contextmanager
def _serialised(lake: Lake, match_id: str) -> Iterator[None]:
    if not lake.is_local:
        yield
        return

    lock = Path(lake.uri) / CLAIMS_DIR / f"{check_match_id(match_id)}.lock"
    lake.check_inside(str(lock))  # _claims/ swapped for a link out of the lake: refused, nothing created there
    with exclusive(lock):
        yield


def claim(
    lake: Lake,
    match_id: str,
    holder: Holder,
    is_live: Callable[[Holder], bool],
    wait_s: float | None = None,
    on_wait: Callable[[Holder], None] | None = None,
) -> None:
    """Make ``holder`` the match's holder (already it: nothing to do), waiting while another live holder has it;
    ``MatchBusy`` after ``wait_s`` seconds (default ``wait_seconds()``)."""
    deadline = time.monotonic() + (wait_seconds() if wait_s is None else wait_s)
    told = False
    while True:
        with _serialised(lake, match_id):
            other = current_holder(lake, match_id)
            if other is not None and other.id == holder.id:
                return
            free = other is None or not is_live(other)
            if free:
                if lake.kind_of(_uri(lake, match_id)) not in (None, "file"):  # a folder or a link where a claim goes
                    lake.delete_path(_uri(lake, match_id))
                lake.write_bytes_atomic(_uri(lake, match_id), json.dumps(asdict(holder)).encode())
                if lake.is_local:
                    return
        if free:  # an object store: the record read back after settling wins
            time.sleep(SETTLE_S)
            now = current_holder(lake, match_id)
            if now is not None and now.id == holder.id:
                return
            other = now
        if time.monotonic() >= deadline:
            raise MatchBusy(
                f"{match_id}: {other.describe() if other else 'another writer'} is writing this match; "
                f"refused after waiting {wait_seconds() if wait_s is None else wait_s:g} s "
                f"({WAIT_ENV})"
            )
        if not told and on_wait is not None and other is not None:
            on_wait(other)
            told = True
        time.sleep(0.5)


def wait_until_free(
    lake: Lake,
    match_id: str,
    is_live: Callable[[Holder], bool],
    wait_s: float | None = None,
    on_wait: Callable[[Holder], None] | None = None,
) -> bool:
    """Wait while a live holder has the match (without claiming it); whether it waited. ``MatchBusy`` after
    ``wait_s`` seconds (default ``wait_seconds()``)."""
    limit = wait_seconds() if wait_s is None else wait_s
    deadline = time.monotonic() + limit
    waited = False
    while (other := current_holder(lake, match_id)) is not None and is_live(other):
        if time.monotonic() >= deadline:
            raise MatchBusy(
                f"{match_id}: {other.describe()} is writing this match; refused after waiting {limit:g} s ({WAIT_ENV})"
            )
        if not waited and on_wait is not None:
            on_wait(other)
        waited = True
        time.sleep(0.5)
    return waited


def release(lake: Lake, match_id: str, holder_id: str) -> None:
    """Give the match up if ``holder_id`` holds it (a claim taken over meanwhile is left alone)."""
    with _serialised(lake, match_id):
        held = current_holder(lake, match_id)
        if held is not None and held.id == holder_id:
            lake.delete_path(_uri(lake, match_id))


@contextmanager
def claimed(
    lake: Lake,
    match_id: str,
    holder: Holder,
    is_live: Callable[[Holder], bool],
    on_wait: Callable[[Holder], None] | None = None,
) -> Iterator[None]:
    """Hold the match for the ``with`` block (upkeep's compaction, forget)."""
    claim(lake, match_id, holder, is_live, on_wait=on_wait)
    try:
        yield
    finally:
        release(lake, match_id, holder.id)


def holder_is_live(run_is_live: Callable[[str], bool] | None) -> Callable[[Holder], bool]:
    """The liveness test of any holder: a run by ``run_is_live(run_id)`` (the Dagster instance's view; without an
    instance, like a process on another host), upkeep and forget by their process."""

    def is_live(holder: Holder) -> bool:
        if holder.kind == "run":
            if run_is_live is not None:
                return run_is_live(holder.id)
            return time.time() * 1000 - holder.since_ms < STALE_CLAIM_HOURS * 3600 * 1000
        return process_is_live(holder)

    return is_live


__all__ = [
    "Holder",
    "MatchBusy",
    "claim",
    "claimed",
    "current_holder",
    "holder_is_live",
    "release",
    "this_process",
    "wait_seconds",
    "wait_until_free",
]
