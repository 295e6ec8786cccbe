"""Reading a landed delivery: its files opened safely, read and hashed once, and handed to its format's reader."""

from __future__ import annotations

import hashlib
from dataclasses import replace

from footy_assets.formats import Delivery, FeedError, ReadResult, read_files
from footy_assets.formats.common import max_file_bytes
from footy_assets.lake.landing import CDF_EVENT_FILES, EVENT_PREFIX, EVENTS, LandedFile, LandedMatch
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
    grew past it. The events folder's files (``landed.event_files``) are not read here
    (``read_events_delivery``)."""
    contents, files = _read_files(lake, landed.uri, landed.files)
    read = replace(landed, files=files)
    return read, Delivery(read.match_id, read.fingerprint, contents)


def event_file_names(landed: LandedMatch) -> tuple[str, ...]:
    """The names of the match's event delivery among its folder's files (CDF events.jsonl + match.json, meta.json
    for the clock), or its events folder's files; empty when the match has no event data."""
    if landed.event_files:
        return tuple(f.name for f in landed.event_files)
    names = {f.name for f in landed.files}
    if not names & set(CDF_EVENT_FILES):
        return ()
    return tuple(n for n in (*CDF_EVENT_FILES, "meta.json") if n in names)


def read_events_delivery(
    lake: Lake, landed: LandedMatch, read: Delivery | None = None
) -> tuple[LandedMatch, Delivery | None, str]:
    """(``landed`` with its events folder's files as read, the event delivery: events.jsonl, match.json and
    meta.json by name, or None when the match has no event data, the folder they come from). Files of the match
    folder are taken from ``read`` (the tracking delivery already read) when given; its fingerprint is the
    match's."""
    names = event_file_names(landed)
    where = (landed.events_uri if landed.event_files else landed.uri)[len(lake.uri) + 1 :]
    if not names:
        return landed, None, where
    if landed.event_files:
        contents, files = _read_files(lake, landed.events_uri, landed.event_files)
        landed = replace(landed, event_files=files)
    elif read is not None:
        contents = {n: read.contents[n] for n in names}
    else:
        contents, _ = _read_files(lake, landed.uri, tuple(f for f in landed.files if f.name in names))
    return landed, Delivery(landed.match_id, landed.fingerprint, contents), where


def recorded_events_delivery(lake: Lake, record: dict) -> tuple[str, Delivery] | None:
    """(the folder it comes from, the event delivery) of the delivery raw_feed recorded (``record``), read again
    from the landing zone; None when that delivery has no event data. A file whose bytes are not those recorded
    is refused (``FeedError``): the events are computed from the delivery the other tables hold, or not at all."""
    match_id = record["match_id"]
    files = {f["name"]: f for f in record["files"]}
    in_folder = {n[len(EVENT_PREFIX) :]: f for n, f in files.items() if n.startswith(EVENT_PREFIX)}
    if in_folder:
        uri, wanted = lake.landing_uri(EVENTS, match_id), in_folder
    elif set(CDF_EVENT_FILES) & set(files):
        uri = lake.landing_uri(record["format"], match_id)
        wanted = {n: files[n] for n in (*CDF_EVENT_FILES, "meta.json") if n in files}
    else:
        return None
    where = uri[len(lake.uri) + 1 :]
    contents, read = _read_files(
        lake, uri, tuple(LandedFile(n, int(f["size_bytes"]), f["sha256"]) for n, f in wanted.items())
    )
    for f in read:
        if f.sha256 != wanted[f.name]["sha256"]:
            raise FeedError(
                f"{where}/{f.name}",
                "changed since raw_feed read the delivery: materialise raw_feed (the whole chain) again",
            )
    return where, Delivery(match_id, record["fingerprint"], contents)


def _read_files(
    lake: Lake, uri: str, wanted: tuple[LandedFile, ...]
) -> tuple[dict[str, bytes], tuple[LandedFile, ...]]:
    """({name: bytes}, the files as read) of ``wanted`` in the folder ``uri``, each read once and hashed.
    Locally the folder is opened once without following links and each file relative to it
    (``Lake.open_folder``); a link, a FIFO or a hard link found then is refused, named. A file over
    ``FOOTY_MAX_FILE_BYTES`` is refused before it is opened, or when it grew past it."""
    limit = max_file_bytes()
    for f in wanted:
        if f.size_bytes > limit:
            raise _too_large(f.name, f.size_bytes, limit)
    where = uri[len(lake.uri) + 1 :]
    contents, files = {}, []
    try:
        with lake.open_folder(uri) as folder:
            for f in wanted:
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
    except UnsafeEntry as exc:  # the folder (or a folder above it) is no longer a folder of the lake
        raise FeedError(where, f"{exc.strerror}: refused, not followed") from None
    except FileNotFoundError:
        raise FeedError(where, "is gone (removed while it was read)") from None
    return contents, tuple(files)


def _too_large(name: str, size: int, limit: int, more: str = "") -> FeedError:
    return FeedError(name, f"{size:,} bytes {more}is over the limit of {limit:,} bytes (FOOTY_MAX_FILE_BYTES)")


__all__ = ["event_file_names", "read_delivery", "read_events_delivery", "read_match"]
