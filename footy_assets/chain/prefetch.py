"""Work on a delivery done ahead of its run, on a thread: the command line audits the first match it will
materialise (``audit.audit_ahead``: read, contract, checks) while Python imports Dagster and opens the instance
(about a second on one core), and that match's ingest then takes the result instead of doing it again.

Keyed by the lake, the match and the fingerprint of its landed files: a delivery that changed in between is
done afresh, and work that failed fails the same way when it is taken (the reader's ``FeedError``). Only one
result is held at a time, and ``discard`` drops it after the match's run (taken or not), so memory stays what
one match needs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future

from footy_assets.lake.landing import LandedMatch
from footy_assets.lake.store import Lake

_pending: dict[tuple[str, str, str], Future] = {}
_lock = threading.Lock()


def _key(lake: Lake, landed: LandedMatch) -> tuple[str, str, str]:
    return lake.uri, landed.match_id, landed.fingerprint


def start(lake: Lake, landed: LandedMatch, work: Callable[[Lake, LandedMatch], object]) -> None:
    """Begin ``work(lake, landed)`` on a daemon thread (any earlier work ahead is dropped)."""
    future: Future = Future()

    def run() -> None:
        try:
            future.set_result(work(lake, landed))
        except BaseException as exc:  # noqa: BLE001 — handed to whoever takes it, raised there
            future.set_exception(exc)

    with _lock:
        _pending.clear()
        _pending[_key(lake, landed)] = future
    threading.Thread(target=run, name=f"ahead-{landed.match_id}", daemon=True).start()


def take(lake: Lake, landed: LandedMatch) -> Future | None:
    """The work ahead on exactly this delivery, removed from the pending ones; None if there is none."""
    with _lock:
        return _pending.pop(_key(lake, landed), None)


def discard() -> None:
    """Forget any work ahead (its result is freed once its thread ends)."""
    with _lock:
        _pending.clear()
