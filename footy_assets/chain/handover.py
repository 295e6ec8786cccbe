"""The tracking rows a match's ingest has just committed, handed to the metrics step of the same run in the same
process, which then reads none of them back from the lake.

Keyed by the lake, the match and the delivery's fingerprint: the metrics step takes exactly the rows of the
delivery it computes from (the one ``inputs.delivery_of`` names), else it reads the lake as before. At most one
match's rows are held, and the runner drops them after the match's run (taken or not), so memory stays what one
match needs. A process running several matches at once keeps one match in hand; the others read the lake.
Only runs whose steps share a process benefit (the command line's); a multiprocess run's metrics step reads the
lake as before.
"""

from __future__ import annotations

import polars as pl

from footy_assets.chain.prefetch import OneHeld
from footy_assets.lake.store import Lake

_held = OneHeld()


def leave(lake: Lake, match_id: str, fingerprint: str, tracking: pl.DataFrame) -> None:
    """Hold ``tracking`` (the rows just committed of that delivery) for the run's metrics step; drops any other."""
    _held.put((lake.uri, match_id, fingerprint), tracking)


def take(lake: Lake, match_id: str, fingerprint: str) -> pl.DataFrame | None:
    """The rows held for exactly this delivery, no longer held here; None if there are none."""
    return _held.take((lake.uri, match_id, fingerprint))


def discard() -> None:
    """Drop whatever is held."""
    _held.clear()
