"""Reading a landed delivery: its files opened safely, read and hashed once, and handed to its format's reader."""

from __future__ import annotations

import hashlib
from dataclasses import replace

from footy_assets.formats import Delivery, FeedError, ReadResult, read_files
from footy_assets.formats.common import max_file_bytes
from footy_assets.lake.landing import CDF_EVENT_FILES, LandedFile, LandedMatch, is_event_file
from footy_assets.lake.store import Lake, UnsafeEntry


def read_match(lake: Lake, landed: LandedMatch) -> ReadResult:
    """Read a landed match with the reader of its format; every failure is a ``FeedError``. ``result.landed`` is
    the delivery as read: its fingerprint is the hash of the bytes parsed."""
    read, delivery = read_delivery(lake, landed)
    result = read_files(landed.format, delivery)
    result.landed = read
    return result


def read_delivery(lake: Lake, landed: LandedMatch) -> tuple[LandedMatch, Delivery]:
    """The tracking files of ``landed`` read once, and the tracking delivery as read: its fingerprint is the sha256
    of exactly the bytes the reader will parse (a file written to after planning hashed it is parsed and
    fingerprinted as read, never one and the other). Locally the match folder is opened once without following
    links and each file relative to it (``Lake.open_folder``); a link, a FIFO or a hard link found then is
    refused, named. Memory stays bounded: a file over ``FOOTY_MAX_FILE_BYTES`` is refused before it is opened, or
    when it grew past it. The event data (``CDF_EVENT_FILES`` of the folder, the events folder's files) is not read
    here (``read_events_delivery``)."""
    contents, files = _read_files(lake, landed.uri, landed.tracking_files)
    read = replace(landed, files=_replaced(landed.files, files))
    # read once: a reader lets go of a file's bytes once it has parsed them (the peak of a full match's read)
    return read, Delivery(read.match_id, read.fingerprint, contents, read_once=True)


def _replaced(files: tuple[LandedFile, ...], read: tuple[LandedFile, ...]) -> tuple[LandedFile, ...]:
    """``files`` with those of ``read`` (the same names, as read) in their place."""
    by_name = {f.name: f for f in read}
    return tuple(by_name.get(f.name, f) for f in files)


def event_file_names(landed: LandedMatch) -> tuple[str, ...]:
    """The names of the match's event delivery among its folder's files (CDF events.jsonl + match.json, meta.json
    for the clock), or its events folder's files; empty when the match has no event data."""
    if landed.event_files:
        return tuple(f.name for f in landed.event_files)
    names = {f.name for f in landed.files}
    if landed.format != "cdf" or not names & set(CDF_EVENT_FILES):
        return ()
    return tuple(n for n in (*CDF_EVENT_FILES, "meta.json") if n in names)


def read_events_delivery(
    lake: Lake, landed: LandedMatch, read: Delivery | None = None
) -> tuple[LandedMatch, Delivery | None, str]:
    """(``landed`` with its event files as read, the event delivery: events.jsonl, match.json and meta.json by
    name, or None when the match has no event data, the folder they come from). The event files are read and
    hashed here, so ``events_fingerprint`` of the match returned is the hash of the bytes parsed; a meta.json of
    the match folder (a tracking file) is taken from ``read`` (the tracking delivery already read) when given.
    The delivery's fingerprint is the match's ``events_fingerprint``."""
    names = event_file_names(landed)
    where = (landed.events_uri if landed.event_files else landed.uri)[len(lake.uri) + 1 :]
    if not names:
        return landed, None, where
    if landed.event_files:
        contents, files = _read_files(lake, landed.events_uri, landed.event_files)
        landed = replace(landed, event_files=files)
    else:
        own = tuple(f for f in landed.files if f.name in names and (read is None or f.name not in read.contents))
        contents, files = _read_files(lake, landed.uri, own)
        contents.update({n: read.contents[n] for n in names if read is not None and n in read.contents})
        landed = replace(landed, files=_replaced(landed.files, files))
    return landed, Delivery(landed.match_id, landed.events_fingerprint, contents), where


def current_events_delivery(lake: Lake, record: dict) -> tuple[LandedMatch, Delivery | None, str]:
    """The match's event data as landed now, on the tracking delivery raw_feed recorded (``record``): (the match
    with its files as read, the event delivery or None when it has none, the folder it comes from). Only the
    event files are read (the tracking files whose size and modification time are those recorded are not), so
    an event-only re-delivery costs the events alone. ``FeedError`` when the match's tracking files are no longer
    those recorded (the tracking changed: the whole chain runs again), or the landing folder cannot be used."""
    from footy_assets.lake.landing import LandingError, find_match_known

    match_id = record["match_id"]
    recorded = {
        f["name"]: (int(f["size_bytes"]), int(f.get("mtime_ns") or 0), f["sha256"])
        for f in record["files"]
        if isinstance(f, dict) and {"name", "size_bytes", "sha256"} <= set(f)
    }
    folder = f"landing/{record['format']}/{match_id}"
    try:
        landed = find_match_known(lake, match_id, recorded)
    except LandingError as exc:
        raise FeedError(folder, str(exc)) from None
    if landed.format != record["format"] or landed.fingerprint != record["fingerprint"]:
        raise FeedError(
            f"landing/{landed.format}/{match_id}",
            "its tracking files changed since raw_feed read them: materialise raw_feed (the whole chain) again",
        )
    landed, delivery, where = read_events_delivery(lake, landed)
    for f in landed.files:  # a tracking file read here (meta.json) must be the one tracking was made of
        if f.name in recorded and not is_event_file(f.name, landed.format) and f.sha256 != recorded[f.name][2]:
            raise FeedError(
                f"{folder}/{f.name}",
                "changed since raw_feed read the delivery: materialise raw_feed (the whole chain) again",
            )
    return landed, delivery, where


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


__all__ = ["current_events_delivery", "event_file_names", "read_delivery", "read_events_delivery", "read_match"]
