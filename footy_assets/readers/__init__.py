"""One reader per vendor format, each turning a landed match folder into canonical tracking rows."""

from __future__ import annotations

from collections.abc import Callable

from footy_assets.lake import Lake
from footy_assets.landing import LandedMatch
import polars as pl

from footy_assets.readers import cdf, footy_stats, footy_track, sportvu
from footy_assets.readers.common import FeedError, FeedInfo, ReadResult, max_file_bytes

READERS: dict[str, Callable[[Lake, LandedMatch], ReadResult]] = {
    footy_stats.FORMAT: footy_stats.read,
    sportvu.FORMAT: sportvu.read,
    cdf.FORMAT: cdf.read,
    footy_track.FORMAT: footy_track.read,
}


def read_match(lake: Lake, landed: LandedMatch) -> ReadResult:
    """Read a landed match with the reader of its format; every failure is a ``FeedError``."""
    reader = READERS.get(landed.format)
    if reader is None:
        raise FeedError(landed.match_id, f"the {landed.format} format has no reader yet")
    limit = max_file_bytes()
    for f in landed.files:  # memory stays bounded: an oversized file is refused before it is opened
        if f.size_bytes > limit:
            raise FeedError(f.name, f"{f.size_bytes:,} bytes is over the limit of {limit:,} bytes "
                            "(FOOTY_MAX_FILE_BYTES)")
    try:
        result = reader(lake, landed)
    except FeedError:
        raise
    except (ValueError, pl.exceptions.PolarsError) as exc:  # e.g. an implausible frame rate found while normalising
        raise FeedError(landed.match_id, str(exc).splitlines()[0][:300]) from None
    _check_finite(result, landed)
    return result


def _check_finite(result: ReadResult, landed: LandedMatch) -> None:
    """Last line of defence: no NaN or infinity reaches the canonical table (a value past float32's range
    becomes infinity when cast). Readers bound their values with their vendor contract first, naming the line."""
    frame = result.tracking
    floats = [c for c, t in frame.schema.items() if t.is_float()]
    bad = frame.select([(~pl.col(c).is_finite()).sum().alias(c) for c in floats]).row(0, named=True)
    for column, count in bad.items():
        if count:
            raise FeedError(result.info.files[0] if result.info.files else landed.match_id,
                            f"{count} value(s) of {column} are not finite numbers (NaN, infinity, or past float32)")


__all__ = ["READERS", "FeedError", "FeedInfo", "ReadResult", "read_match"]
