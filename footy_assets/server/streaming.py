"""The tracking download sent as it is made, with the validators a cache needs.

The file is made chunk by chunk (``lake.downloads``) in a small pool of threads of its own and each chunk is sent
before the next is made: a client that reads slowly holds its download's few MB (the chunk being sent, the row
group being made) and no thread, so others are not held up. A few threads, always the same ones: Arrow's and
polars' allocators keep memory per thread, and forty threads of a general pool held hundreds of MB between them.
The ETag names the bytes (the delivery, the code that wrote its rows
and the code that encodes them): the same ETag, the same bytes, so a client may keep the file and ask again with
``If-None-Match`` (304, nothing sent).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from concurrent.futures import Executor

import anyio
from polars.exceptions import PanicException
from starlette.responses import Response, StreamingResponse

from footy_assets.lake.downloads import TrackingDownload
from footy_assets.lake.store import TableUnreadable, one_line
from footy_assets.server.settings import Settings

log = logging.getLogger("footy_assets.server")
# a new delivery of the match changes the answer at the same address: keep the file, ask again with its ETag
CACHE_CONTROL = "private, no-cache"


class Downloads:
    """The downloads being sent now, at most ``limit`` at once (each holds a few MB while it lasts)."""

    def __init__(self, limit: int):
        self.limit = limit
        self.active = 0

    @property
    def full(self) -> bool:
        return self.active >= self.limit


class DownloadStopped(RuntimeError):
    """A download cut off after it started (its time limit, a file gone): the connection is closed mid-body, so
    the client sees an incomplete answer, never a shorter file that looks whole."""


def etag(download: TrackingDownload) -> str:
    return f'"{download.tag[:40]}"'


def matches(if_none_match: str | None, tag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``tag`` (``*``, a list, weak or strong: a weak comparison)."""
    if not if_none_match:
        return False
    for part in if_none_match.split(","):
        part = part.strip()
        if part == "*" or part.removeprefix("W/") == tag:
            return True
    return False


def headers(download: TrackingDownload) -> dict[str, str]:
    # the match_id is checked (letters, digits, '_' and '-'): nothing to quote in the file name
    return {
        "ETag": etag(download),
        "Cache-Control": CACHE_CONTROL,
        "Content-Disposition": f'attachment; filename="{download.match_id}_{download.file_name}"',
    }


def not_modified(download: TrackingDownload) -> Response:
    return Response(status_code=304, headers=headers(download))


def stream(download: TrackingDownload, settings: Settings, downloads: Downloads, pool: Executor) -> StreamingResponse:
    """The download as a streamed answer (chunked), its chunks made in ``pool``; ``downloads`` counts it while it
    is sent."""
    return StreamingResponse(
        _body(download, settings, downloads, pool), media_type=download.media_type, headers=headers(download)
    )


async def _body(
    download: TrackingDownload, settings: Settings, downloads: Downloads, pool: Executor
) -> AsyncIterator[bytes]:
    downloads.active += 1
    chunks = download.chunks()
    deadline = anyio.current_time() + settings.download_timeout_s
    making = None
    try:
        while True:
            # made in the pool; sent from here, so a slow reader waits without holding a thread
            making = pool.submit(next, chunks, None)
            try:
                chunk = await asyncio.wrap_future(making)
            except (TableUnreadable, OSError, PanicException) as exc:  # a file vacuumed or damaged since planned
                log.error("%s: download stopped: %s", download.match_id, one_line(exc))
                raise DownloadStopped(f"{download.match_id}: the download stopped: {one_line(exc)}") from None
            if chunk is None:
                return
            if anyio.current_time() > deadline:
                log.warning("%s: download stopped after %.0f s", download.match_id, settings.download_timeout_s)
                raise DownloadStopped(f"{download.match_id}: the download took longer than its time limit")
            if chunk:
                yield chunk
    finally:
        downloads.active -= 1
        if making is not None and not making.done():  # the client left while a chunk was being made
            making.add_done_callback(lambda _: chunks.close())
        else:
            chunks.close()  # its open files


__all__ = ["CACHE_CONTROL", "DownloadStopped", "Downloads", "etag", "matches", "not_modified", "stream"]
