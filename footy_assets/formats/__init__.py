"""One package per vendor format (its reader, vendor contract, export and synthetic writer), and the readers'
dispatch: a landed delivery's bytes -> canonical tracking rows. Pure: the lake reads the files (``lake.delivery``)."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from footy_assets.formats.cdf import reader as cdf_reader
from footy_assets.formats.common import Delivery, FeedError, FeedInfo, ReadResult
from footy_assets.formats.footy_stats import reader as footy_stats_reader
from footy_assets.formats.footy_track import reader as footy_track_reader
from footy_assets.formats.sportvu import reader as sportvu_reader

READERS: dict[str, Callable[[Delivery], ReadResult]] = {
    footy_stats_reader.FORMAT: footy_stats_reader.read,
    sportvu_reader.FORMAT: sportvu_reader.read,
    cdf_reader.FORMAT: cdf_reader.read,
    footy_track_reader.FORMAT: footy_track_reader.read,
}


def read_files(fmt: str, delivery: Delivery) -> ReadResult:
    """Canonical tracking rows of one delivery in format ``fmt``; every failure is a ``FeedError``."""
    reader = READERS.get(fmt)
    if reader is None:
        raise FeedError(delivery.match_id, f"the {fmt} format has no reader yet")
    try:
        result = reader(delivery)
    except FeedError:
        raise
    except (ValueError, pl.exceptions.PolarsError) as exc:  # e.g. an implausible frame rate found while normalising
        raise FeedError(delivery.match_id, str(exc).splitlines()[0][:300]) from None
    _check_finite(result, delivery.match_id)
    return result


def _check_finite(result: ReadResult, match_id: str) -> None:
    """Last line of defence: no NaN or infinity reaches the canonical table (a value past float32's range
    becomes infinity when cast). Readers bound their values with their vendor contract first, naming the line."""
    frame = result.tracking
    floats = [c for c, t in frame.schema.items() if t.is_float()]
    bad = frame.select([(~pl.col(c).is_finite()).sum().alias(c) for c in floats]).row(0, named=True)
    for column, count in bad.items():
        if count:
            raise FeedError(
                result.info.files[0] if result.info.files else match_id,
                f"{count} value(s) of {column} are not finite numbers (NaN, infinity, or past float32)",
            )


__all__ = ["READERS", "Delivery", "FeedError", "FeedInfo", "ReadResult", "read_files"]
