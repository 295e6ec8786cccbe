"""One reader per vendor format, each turning a landed match folder into canonical tracking rows."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from footy_assets.lake import Lake, UnsafeEntry
from footy_assets.landing import LandedFile, LandedMatch
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
    read, files = read_delivery(lake, landed)
    try:
        result = reader(files, read)
    except FeedError:
        raise
    except (ValueError, pl.exceptions.PolarsError) as exc:  # e.g. an implausible frame rate found while normalising
        raise FeedError(landed.match_id, str(exc).splitlines()[0][:300]) from None
    _check_finite(result, read)
    result.landed = read
    return result


def read_delivery(lake: Lake, landed: LandedMatch) -> tuple[LandedMatch, "DeliveryFiles"]:
    """The files of ``landed`` read once, and the delivery as read: its fingerprint is the sha256 of exactly the
    bytes the reader will parse (a file written to after planning hashed it is parsed and fingerprinted as
    read, never one and the other). Locally the match folder is opened once without following links and each
    file relative to it (``Lake.open_folder``); a link, a FIFO or a hard link found then is refused, named.
    Memory stays bounded: a file over ``FOOTY_MAX_FILE_BYTES`` is refused before it is opened, or when it
    grew past it."""
    limit = max_file_bytes()
    for f in landed.files:
        if f.size_bytes > limit:
            raise _too_large(f.name, f.size_bytes, limit)
    where = landed.uri[len(lake.uri) + 1 :]
    contents, files = {}, []
    try:
        with lake.open_folder(landed.uri) as folder:
            for f in landed.files:
                try:
                    data, mtime_ns = folder.read(f.name, limit)
                except UnsafeEntry as exc:
                    raise FeedError(f"{where}/{f.name}", f"{exc.strerror}: refused, not read") from None
                except OSError as exc:
                    raise FeedError(f"{where}/{f.name}", f"cannot be read ({exc.strerror or exc})") from None
                if len(data) > limit:
                    raise _too_large(f.name, len(data), limit, "or more ")
                contents[f.name] = data
                files.append(LandedFile(f.name, len(data), hashlib.sha256(data).hexdigest(), mtime_ns))
    except UnsafeEntry as exc:  # the match folder (or a folder above it) is no longer a folder of the lake
        raise FeedError(where, f"{exc.strerror}: refused, not followed") from None
    except FileNotFoundError:
        raise FeedError(where, "is gone (removed while it was read)") from None
    read = replace(landed, files=tuple(files))
    return read, DeliveryFiles(lake.uri, read.uri, contents)


def _too_large(name: str, size: int, limit: int, more: str = "") -> FeedError:
    return FeedError(name, f"{size:,} bytes {more}is over the limit of {limit:,} bytes (FOOTY_MAX_FILE_BYTES)")


@dataclass(frozen=True)
class DeliveryFiles(Lake):
    """The lake as a reader sees it: the files of one delivery, served from the bytes ``read_delivery`` read
    and hashed (a reader never opens a name again)."""

    folder_uri: str = ""
    contents: dict[str, bytes] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def _content(self, uri: str) -> bytes:
        folder, _, name = uri.rpartition("/")
        if folder != self.folder_uri or name not in self.contents:
            raise UnsafeEntry(0, "not a file of the delivery read", uri)
        return self.contents[name]

    @contextmanager
    def open_regular(self, uri: str):
        yield io.BytesIO(self._content(uri))

    def read_bytes(self, uri: str) -> bytes:
        return self._content(uri)


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


__all__ = ["READERS", "DeliveryFiles", "FeedError", "FeedInfo", "ReadResult", "read_delivery", "read_match"]
