"""Reading a landed delivery: its files opened safely, read and hashed once, and handed to its format's reader."""

from __future__ import annotations

import hashlib
from dataclasses import replace

from footy_assets.formats import Delivery, FeedError, ReadResult, read_files
from footy_assets.formats.common import max_file_bytes
from footy_assets.lake.landing import LandedFile, LandedMatch
from footy_assets.lake.store import Lake, UnsafeEntry


def read_match(lake: Lake, landed: LandedMatch) -> ReadResult:
    """Read a landed match with the reader of its format; every failure is a ``FeedError``. ``result.landed`` is
    the delivery as read: its fingerprint is the hash of the bytes parsed."""
    read, delivery = read_delivery(lake, landed)
    result = read_files(landed.format, delivery)
    result.landed = read
    return result


def read_delivery(lake: Lake, landed: LandedMatch) -> tuple[LandedMatch, Delivery]:
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
                    raise FeedError(
                        f"{where}/{f.name}",
                        exc.strerror if "refused" in exc.strerror else f"{exc.strerror}: refused, not read",
                    ) from None
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
    return read, Delivery(read.match_id, read.fingerprint, contents)


def _too_large(name: str, size: int, limit: int, more: str = "") -> FeedError:
    return FeedError(name, f"{size:,} bytes {more}is over the limit of {limit:,} bytes (FOOTY_MAX_FILE_BYTES)")


__all__ = ["read_delivery", "read_match"]
