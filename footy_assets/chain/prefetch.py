"""Work on a delivery done ahead of its run, on a thread: the command line audits the first match it will
materialise (``audit.audit_ahead``: read, contract, checks) while Python imports Dagster and opens the instance
(about a second on one core), and that match's ingest then takes the result instead of doing it again.

Keyed by the lake, the match and the fingerprint of its landed files: a delivery that changed in between is
done afresh, and work that failed fails the same way when it is taken (the reader's ``FeedError``). Only one
result is held at a time, and ``discard`` drops it after the match's run (taken or not), so memory stays what
one match needs; what the work wrote ahead and the run did not use (a staged file) is removed then.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from concurrent.futures import Future

from footy_assets.lake.landing import LandedMatch
from footy_assets.lake.store import Lake


class OneHeld:
    """At most one value, under its key (lake, match, fingerprint), shared between threads: putting one drops any
    other, taking it removes it."""

    def __init__(self) -> None:
        self._held: dict[tuple[str, str, str], object] = {}
        self._lock = threading.Lock()

    def put(self, key: tuple[str, str, str], value: object) -> None:
        with self._lock:
            self._held.clear()
            self._held[key] = value

    def take(self, key: tuple[str, str, str]):
        """The value held under exactly ``key``, no longer held; None if there is none."""
        with self._lock:
            return self._held.pop(key, None)

    def peek(self, key: tuple[str, str, str]):
        """The value held under exactly ``key``, still held; None if there is none."""
        with self._lock:
            return self._held.get(key)

    def clear(self) -> list:
        """Hold nothing; the values that were held."""
        with self._lock:
            values = list(self._held.values())
            self._held.clear()
            return values

    def __len__(self) -> int:
        return len(self._held)


_pending = OneHeld()  # the work ahead: a Future


def _key(lake: Lake, landed: LandedMatch) -> tuple[str, str, str]:
    return lake.uri, landed.match_id, landed.fingerprint


def start(lake: Lake, landed: LandedMatch, work: Callable[[Lake, LandedMatch], object]) -> None:
    """Begin ``work(lake, landed)`` on a daemon thread (any earlier work ahead is dropped)."""
    future: Future = Future()

    def run() -> None:
        try:
            future.set_result(work(lake, landed))
        except BaseException as exc:  # noqa: BLE001 — handed to whoever takes it, raised there
            # the failed work's frames let go of their locals (a match's rows); the traceback still says where it
            # failed. Else the exception, its traceback and this frame hold each other, and the rows with them,
            # until the collector next passes: never, when this future was made before the process froze its
            # objects (footy_assets.long_lived_setup)
            traceback.clear_frames(exc.__traceback__)
            future.set_exception(exc)

    _pending.put(_key(lake, landed), future)
    threading.Thread(target=run, name=f"ahead-{landed.match_id}", daemon=True).start()


def take(lake: Lake, landed: LandedMatch) -> Future | None:
    """The work ahead on exactly this delivery, removed from the pending ones; None if there is none."""
    return _pending.take(_key(lake, landed))


def discard() -> None:
    """Forget any work ahead (its result is freed once its thread ends); a result that wrote something ahead
    which was not used lets it go (its ``release()``), now or when its thread ends."""
    for future in _pending.clear():
        future.add_done_callback(_release)


def _release(future: Future) -> None:
    if future.cancelled() or future.exception() is not None:
        return
    release = getattr(future.result(), "release", None)
    if release is not None:
        release()
