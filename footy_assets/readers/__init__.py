"""One reader per vendor format, each turning a landed match folder into canonical tracking rows."""

from __future__ import annotations

from collections.abc import Callable

from footy_assets.lake import Lake
from footy_assets.landing import LandedMatch
from footy_assets.readers import cdf, footy_stats, sportvu
from footy_assets.readers.common import FeedError, FeedInfo, ReadResult

READERS: dict[str, Callable[[Lake, LandedMatch], ReadResult]] = {
    footy_stats.FORMAT: footy_stats.read,
    sportvu.FORMAT: sportvu.read,
    cdf.FORMAT: cdf.read,
}


def read_match(lake: Lake, landed: LandedMatch) -> ReadResult:
    """Read a landed match with the reader of its format; every failure is a ``FeedError``."""
    reader = READERS.get(landed.format)
    if reader is None:
        raise FeedError(landed.match_id, f"the {landed.format} format has no reader yet")
    try:
        return reader(lake, landed)
    except FeedError:
        raise
    except ValueError as exc:  # e.g. an implausible frame rate found while normalising
        raise FeedError(landed.match_id, str(exc)) from exc


__all__ = ["READERS", "FeedError", "FeedInfo", "ReadResult", "read_match"]
