"""The tracking download sent as it is made, with the validators a cache needs.

The file is made chunk by chunk (``lake.downloads``) in a small pool of threads of its own and each chunk is sent
before the next is made: a client that reads slowly holds its download's few MB (the chunk being sent, the row
group being made) and no thread, so others are not held up. A few threads, always the same ones: Arrow's and
polars' allocators keep memory per thread, and forty threads of a general pool held hundreds of MB between them.
The ETag names the bytes (the delivery, the code that wrote its rows
and the code that encodes them): the same ETag, the same bytes, so a client may keep the file and ask again with
``If-None-Match`` (304, nothing sent).

Many clients asking for the same file (a new match everybody opens) share one making of it: ``MadeFiles`` writes
the chunks once to a file of the server's own cache folder, named by the ETag, and every client reads that file
as it grows, then whole once made. The server's memory is then that of one file being made, whatever the number
of clients; the folder keeps the files last asked for up to its size.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import AsyncIterator
from concurrent.futures import Executor
from pathlib import Path

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
        """Whether ``limit`` downloads (a count) are being sent now."""
        return self.active >= self.limit


class DownloadStopped(RuntimeError):
    """A download cut off after it started (its time limit, a file gone): the connection is closed mid-body, so
    the client sees an incomplete answer, never a shorter file that looks whole."""


def etag(download: TrackingDownload) -> str:
    """The download's ETag header value: the first 40 hex digits of its tag, quoted (a strong validator)."""
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
    """The headers of a download's answer, 200 or 304: ETag, Cache-Control, Content-Disposition."""
    # the match_id is checked (letters, digits, '_' and '-'): nothing to quote in the file name
    return {
        "ETag": etag(download),
        "Cache-Control": CACHE_CONTROL,
        "Content-Disposition": f'attachment; filename="{download.match_id}_{download.file_name}"',
    }


def not_modified(download: TrackingDownload) -> Response:
    """The 304 answer (no body) for a client that holds the file ``download`` names."""
    return Response(status_code=304, headers=headers(download))


def stream(
    download: TrackingDownload,
    settings: Settings,
    downloads: Downloads,
    pool: Executor,
    made: MadeFiles | None = None,
) -> StreamingResponse:
    """The download as a streamed answer (chunked), its chunks made in ``pool`` (through ``made``, the cache of
    made files, when there is one); ``downloads`` counts it while it is sent."""
    body = _body(download, settings, downloads, pool) if made is None else made.body(download, settings, downloads)
    return StreamingResponse(body, media_type=download.media_type, headers=headers(download))


READ_BYTES = 256 * 1024  # what a client's read of a made file takes at once
WAIT_S = 0.02  # how often a client at the end of a file being made looks for more


class Making:
    """One file being made into the cache folder: how many bytes are written, and whether it is done (or failed:
    ``error``)."""

    def __init__(self, part: Path, final: Path):
        self.part, self.final = part, final
        self.written = 0
        self.done = False
        self.error: str | None = None


class MadeFiles:
    """The server's cache of made downloads: a folder of its own (made at first use, ``mkdtemp``: only this user
    reads it; removed when the process ends) holding files named by their ETag, at most ``max_bytes`` of them
    (the files asked for longest ago go first). One making per file at a time, in ``pool``."""

    def __init__(self, max_bytes: int, pool: Executor, max_makings: int = 4):
        self.max_bytes, self.pool, self.max_makings = max_bytes, pool, max_makings
        self._root: Path | None = None
        self._making: dict[str, Making] = {}
        self._lock = threading.RLock()  # root, admits, _open and _trim nest

    @property
    def root(self) -> Path:
        with self._lock:
            if self._root is None:
                self._root = Path(tempfile.mkdtemp(prefix="footy-serve-"))
                atexit.register(shutil.rmtree, self._root, True)
            return self._root

    def _file(self, download: TrackingDownload) -> Path:
        # the tag is a sha256 in hex: nothing of the request reaches the file name
        return self.root / f"{download.tag}.{download.file_format}"

    def admits(self, download: TrackingDownload) -> bool:
        """Whether ``download`` can be sent now: its file is made or being made, or fewer than ``max_makings`` are
        being made (each a thread's work to its end, whether its clients stay or not)."""
        with self._lock:
            return download.tag in self._making or self._file(download).exists() or len(self._making) < self.max_makings

    def _make(self, download: TrackingDownload, making: Making) -> None:
        chunks = download.chunks()
        try:
            with open(making.part, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
                    out.flush()  # readers follow the file as it grows
                    making.written += len(chunk)
            os.replace(making.part, making.final)
        except (TableUnreadable, OSError, PanicException) as exc:  # a file vacuumed or damaged, a full disk
            making.error = one_line(exc)
            log.error("%s: download stopped: %s", download.match_id, making.error)
            making.part.unlink(missing_ok=True)
        except BaseException as exc:  # whatever it was, readers must not wait for ever
            making.error = f"{exc.__class__.__name__}"
            making.part.unlink(missing_ok=True)
            raise
        finally:
            chunks.close()
            making.done = True
            with self._lock:
                self._making.pop(download.tag, None)
            self._trim()

    def _trim(self) -> None:
        """Remove the made files asked for longest ago while the folder holds more than ``max_bytes``."""
        made = []
        for path in self.root.glob("*"):
            if path.suffix == ".part":
                continue
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            made.append((stat.st_mtime, stat.st_size, path))
        total = sum(size for _, size, _ in made)
        with self._lock:  # never between a reader finding a made file and opening it
            for _, size, path in sorted(made):
                if total <= self.max_bytes:
                    break
                path.unlink(missing_ok=True)  # a client reading it keeps its open file
                total -= size

    def _open(self, download: TrackingDownload):
        """(the file to read, its making: None when it is made already). Decided under the lock that trimming
        takes too: a made file is never removed between being found and being opened."""
        final = self._file(download)
        start = False
        with self._lock:
            making = self._making.get(download.tag)
            if making is None:
                try:
                    return self._read(final), None
                except FileNotFoundError:  # not made yet, or removed since: made (again)
                    making = Making(final.with_name(final.name + ".part"), final)
                    making.part.write_bytes(b"")  # there before the making starts: its readers open it and wait
                    self._making[download.tag] = making
                    start = True
            try:
                handle = self._read(making.part)
            except FileNotFoundError:  # made (renamed) or failed in between
                if making.error is not None:
                    raise DownloadStopped(f"{download.match_id}: the download stopped: {making.error}") from None
                handle = self._read(making.final)
        if start:
            self.pool.submit(self._make, download, making)
        return handle, making

    @staticmethod
    def _read(path: Path):
        handle = open(path, "rb")  # noqa: SIM115 - closed by the body that reads it
        if path.suffix != ".part":
            os.utime(handle.fileno())  # asked for now: the last to be removed
        return handle

    async def body(self, download: TrackingDownload, settings: Settings, downloads: Downloads) -> AsyncIterator[bytes]:
        downloads.active += 1
        deadline = anyio.current_time() + settings.download_timeout_s
        try:
            handle, making = self._open(download)
            with handle:
                position = 0
                while True:
                    if making is not None and making.error is not None:
                        raise DownloadStopped(f"{download.match_id}: the download stopped: {making.error}")
                    chunk = await asyncio.to_thread(handle.read, READ_BYTES)
                    if chunk:
                        position += len(chunk)
                        if anyio.current_time() > deadline:
                            log.warning(
                                "%s: download stopped after %.0f s", download.match_id, settings.download_timeout_s
                            )
                            raise DownloadStopped(f"{download.match_id}: the download took longer than its time limit")
                        yield chunk
                    elif making is None or (making.done and position >= making.written):
                        if making is not None and making.error is not None:
                            raise DownloadStopped(f"{download.match_id}: the download stopped: {making.error}")
                        return
                    else:  # at the end of a file still being made
                        await asyncio.sleep(WAIT_S)
        finally:
            downloads.active -= 1


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


__all__ = ["CACHE_CONTROL", "DownloadStopped", "Downloads", "MadeFiles", "etag", "matches", "not_modified", "stream"]
