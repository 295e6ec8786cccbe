"""The lake: where it is, its tables, and the one way a match's rows are written.

The lake root is a URI (``FOOTY_DATA_LAKE``, default ``data_lake/`` in the project root): a local path or
``s3://bucket/prefix``. Files (the landing zone, small JSON records) go through ``pyarrow.fs`` and Delta
tables through ``deltalake``, so the same code runs on a laptop and on object storage.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.fs as pafs
from deltalake import CommitProperties, DeltaTable, write_deltalake
from deltalake import Schema as DeltaSchema
from deltalake.exceptions import CommitFailedError, TableNotFoundError

if TYPE_CHECKING:
    import polars as pl

_PACKAGE_PARENT = Path(__file__).resolve().parents[2]
# The project root when run from a checkout (editable install); else the working directory.
PROJECT_ROOT = _PACKAGE_PARENT if (_PACKAGE_PARENT / "pyproject.toml").exists() else Path.cwd()
DEFAULT_LAKE = PROJECT_ROOT / "data_lake"
LAKE_ENV = "FOOTY_DATA_LAKE"

MATCH_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
# delta-rs retries a commit that lost a race with another writer (distinct matches never conflict on
# data); its default of 15 was seen to give up under 4 concurrent writers on S3.
COMMIT_RETRIES = 50
# The per-match tables keep each delivery in a partition of its own, so the published one stays whole while a new
# one is written beside it; ``matches`` (one row per match, the publish marker) is partitioned by match only.
MATCH_PARTITION = ("match_id",)
DELIVERY_PARTITIONS = ("match_id", "fingerprint")
FINGERPRINT_PATTERN = re.compile(r"^[0-9A-Za-z_-]{1,128}$")


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_BACKTRACE_LINE = re.compile(r"^(\d+: |at |Backtrace|Stack backtrace)")


def one_line(exc: BaseException, limit: int = 300) -> str:
    """An error as one line for the user: its message without the Rust backtrace Delta errors append (numbered
    frames, ``at file:line``), its cause chain (``↳`` lines) joined, colours removed, at most ``limit``
    characters."""
    parts = []
    for line in _ANSI.sub("", str(exc)).splitlines():
        line = line.strip().lstrip("↳").strip()
        if not line:
            continue
        if _BACKTRACE_LINE.match(line):
            break
        parts.append(line)
    text = " ".join(parts) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


class SettingError(ValueError):
    """An environment setting that cannot be used (not a number, out of range): one line naming it; exit 2."""


class TableUnreadable(RuntimeError):
    """A table that cannot be read (a damaged log, a missing data file): one line naming it."""


def unreadable(table: str, exc: BaseException) -> TableUnreadable:
    """The one-line error of a table that could not be read, pointing at the command that diagnoses it."""
    return TableUnreadable(
        f"table {table} cannot be read: {one_line(exc)} (footy-assets doctor says what is wrong and how to repair it)"
    )


class LakeWriteError(RuntimeError):
    """A write to a table or a file of the lake that failed (nothing committed): one line naming it and the cause."""


class LayoutError(RuntimeError):
    """A table whose partitioning is not the one this code writes (a lake from an older footy_assets)."""


def check_fingerprint(fingerprint: str) -> str:
    """Return ``fingerprint`` if it can name a partition (a sha256 in hex; letters, digits, '_', '-'), else raise
    ``ValueError``: it becomes a folder name and a predicate value."""
    if not isinstance(fingerprint, str) or not FINGERPRINT_PATTERN.fullmatch(fingerprint):
        raise ValueError(f"invalid delivery fingerprint {fingerprint!r}")
    return fingerprint


class InvalidMatchId(ValueError):
    """A landing folder name that is not a valid match_id."""


def check_match_id(match_id: str) -> str:
    """Return ``match_id`` if it matches the contract pattern, else raise ``InvalidMatchId``.

    The pattern keeps every name inside its folder: no separators, no dots, no leading dash.
    """
    if not isinstance(match_id, str) or not MATCH_ID_PATTERN.fullmatch(match_id):
        raise InvalidMatchId(
            f"invalid match_id {match_id!r}: a match folder name must match {MATCH_ID_PATTERN.pattern} "
            "(letters, digits, '_' and '-', at most 64 characters, starting with a letter or digit)"
        )
    return match_id


# S3 servers other than AWS (Ceph's RADOS Gateway among them) refuse the request checksums newer AWS SDKs send
# by default: pyarrow's multipart UploadPart gets "HTTP 411 MissingContentLength". Checksums only where an
# operation requires them work everywhere, AWS included; a value the user sets wins. deltalake's own client is
# not affected. Set before pyarrow creates an S3 client (it reads them then).
S3_CLIENT_DEFAULTS = {
    "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
    "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
}


# Every S3 request is bounded: a gateway that accepts connections and never answers must give an error, not hold
# `sql` or `materialize` silently. Seconds; retries after the first attempt.
S3_CONNECT_TIMEOUT_ENV, S3_REQUEST_TIMEOUT_ENV, S3_RETRIES_ENV = (
    "FOOTY_S3_CONNECT_TIMEOUT_S",
    "FOOTY_S3_REQUEST_TIMEOUT_S",
    "FOOTY_S3_RETRIES",
)


def s3_timeouts() -> tuple[float, float, int]:
    """(connect timeout s, request timeout s, retries) for S3 requests: ``FOOTY_S3_CONNECT_TIMEOUT_S`` (default 10),
    ``FOOTY_S3_REQUEST_TIMEOUT_S`` (default 60: a full match's largest file is ~100 MB), ``FOOTY_S3_RETRIES``
    (default 3)."""

    def number(name: str, default: float) -> float:
        text = os.environ.get(name, "")
        try:
            value = float(text) if text else default
        except ValueError:
            raise SettingError(f"{name}={text!r} is not a number of seconds") from None
        if not value >= (0 if name == S3_RETRIES_ENV else 1e-3) or value == float("inf"):
            raise SettingError(f"{name}={text!r} must be a positive number")
        return value

    return number(S3_CONNECT_TIMEOUT_ENV, 10.0), number(S3_REQUEST_TIMEOUT_ENV, 60.0), int(number(S3_RETRIES_ENV, 3))


def storage_options_from_env(uri: str) -> dict[str, str]:
    """Storage options for deltalake: the usual ``AWS_*`` variables when the lake is on S3 (``AWS_ENDPOINT_URL``,
    ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_REGION``, ``AWS_ALLOW_HTTP``, ...), and the request
    bounds of ``s3_timeouts`` (object_store's ``connect_timeout``, ``timeout``, ``retry_timeout``)."""
    if not uri.startswith(("s3://", "s3a://")):
        return {}
    connect_s, request_s, retries = s3_timeouts()
    # (no max_retries: polars reads the same options and wants it as an integer, deltalake as a string; the
    # retry_timeout bounds the retries of one request instead)
    bounds = {
        "connect_timeout": f"{connect_s:g}s",
        "timeout": f"{request_s:g}s",
        "retry_timeout": f"{(connect_s + request_s) * (retries + 1):g}s",
    }
    return {
        **bounds,
        **{k: v for k, v in os.environ.items() if k.startswith("AWS_") and v and k not in S3_CLIENT_DEFAULTS},
    }


class UnsafeEntry(OSError):
    """A landing entry that is not a regular file or folder inside the lake (a link, FIFO, device, socket)."""


@dataclass(frozen=True)
class Entry:
    """One entry of a lake folder, as it is (links are not followed): kind is file, dir, link or other."""

    name: str
    kind: str
    size_bytes: int = 0
    mtime_ns: int = 0
    links: int = 1  # names of the file (st_nlink): more than one is a hard link, maybe to a file outside the lake


_STORE_KINDS = {pafs.FileType.File: "file", pafs.FileType.Directory: "dir"}  # an object store has no links


_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def _checked_regular(fd: int, path: str) -> os.stat_result:
    """The stat of an open descriptor that is a regular file with one name; else it is closed and refused: a
    FIFO or device, or a hard link (a second name of a file that may be outside the lake)."""
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise UnsafeEntry(0, "not a regular file", path)
    if info.st_nlink > 1:
        os.close(fd)
        raise UnsafeEntry(0, f"a hard link ({info.st_nlink} names for one file): refused, not read", path)
    return info


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    return "other"  # FIFO, device, socket: never opened


class Folder:
    """One folder of the lake, opened once (``Lake.open_folder``)."""

    def __init__(self, lake: Lake, uri: str, fd: int | None):
        self.lake, self.uri, self.fd = lake, uri, fd

    def read(self, name: str, limit: int) -> tuple[bytes, int]:
        """(at most ``limit + 1`` bytes of the file ``name``, its modification time in ns before the read, 0 on a
        store). Locally the file is opened relative to the folder without following a link, and refused unless
        the open descriptor is a regular file with one name (``UnsafeEntry``)."""
        path = f"{self.uri}/{name}"
        if self.fd is None:
            fs, _ = self.lake.filesystem()
            with fs.open_input_stream(self.lake.fs_path(path)) as stream:
                return _read_bounded(stream, limit, int(fs.get_file_info(self.lake.fs_path(path)).size or 0)), 0
        if "/" in name or name in (".", ".."):
            raise UnsafeEntry(0, "not a file name", path)
        try:
            fd = os.open(name, _OPEN_FLAGS | os.O_NONBLOCK, dir_fd=self.fd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise UnsafeEntry(exc.errno, "a symbolic link (not followed)", path) from None
            raise
        # the time before the read: a write during it leaves the file newer than recorded, so it is hashed again
        info = _checked_regular(fd, path)
        with os.fdopen(fd, "rb") as stream:
            return _read_bounded(stream, limit, info.st_size), info.st_mtime_ns


def _read_bounded(stream, limit: int, expected: int, chunk_bytes: int = 64 << 20) -> bytes:
    """The bytes of ``stream`` up to ``limit + 1`` (one more tells a file over the limit): the ``expected`` size
    in one read (one copy in memory), then chunks while it grows; a read of ``limit`` bytes at once would
    reserve that much memory whatever the file's size."""
    chunks, total, size = [], 0, min(expected + 1, limit + 1)
    while total <= limit and (chunk := stream.read(size)):
        size = min(chunk_bytes, limit + 1 - total - len(chunk))
        chunks.append(chunk)
        total += len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _delivery_partition(match_id: str, fingerprint: str) -> dict[str, str]:
    """The partition values of one delivery of a per-match table, both checked."""
    return {"match_id": check_match_id(match_id), "fingerprint": check_fingerprint(fingerprint)}


@dataclass
class StagedDelivery:
    """One delivery's rows of a per-match table written ahead as a Parquet file, not committed
    (``Lake.stage_delivery``): the table, the schema and Arrow schema it was written for, the file, and the rows
    as cast (for a write again if the table's schema changed in between)."""

    table: str
    schema: dict
    arrow_schema: pa.Schema
    written: object  # delta_files.DataFile
    frame: object  # polars DataFrame, None once dropped
    committed: bool = False
    dropped: bool = False
    # a commit naming the file was sent and did not fail as refused: a version may name it though no version number
    # came back, so it is never removed here (in no version, upkeep's vacuum removes it)
    offered: bool = False


@dataclass(frozen=True)
class Lake:
    """A lake root URI with helpers for its landing zone, records and Delta tables."""

    uri: str

    @classmethod
    def from_env(cls, uri: str | None = None) -> Lake:
        """The lake named by ``uri``, else ``$FOOTY_DATA_LAKE``, else ``data_lake/`` in the project root."""
        uri = uri or os.environ.get(LAKE_ENV) or str(DEFAULT_LAKE)
        if "://" not in uri:
            uri = str(Path(uri).expanduser().resolve())
        return cls(uri.rstrip("/"))

    # -- paths -----------------------------------------------------------------------------------
    @property
    def is_local(self) -> bool:
        return "://" not in self.uri or self.uri.startswith("file://")

    @property
    def storage_options(self) -> dict[str, str]:
        return storage_options_from_env(self.uri)

    def join(self, *parts: str) -> str:
        return "/".join([self.uri, *parts])

    def table_uri(self, table: str) -> str:
        return self.join(table)

    def landing_uri(self, fmt: str | None = None, match_id: str | None = None) -> str:
        parts = ["landing"]
        if fmt:
            parts.append(fmt)
        if match_id:
            parts.append(check_match_id(match_id))
        return self.join(*parts)

    # -- files -----------------------------------------------------------------------------------
    def filesystem(self) -> tuple[pafs.FileSystem, str]:
        """The pyarrow filesystem of the lake and the lake root as a path within it. On S3 every request is bounded
        in time and retried (``s3_timeouts``): a gateway that hangs gives an error, not a wait without end."""
        if self.is_local:
            return pafs.FileSystem.from_uri(self.uri if "://" in self.uri else Path(self.uri).as_posix())
        for name, value in S3_CLIENT_DEFAULTS.items():
            os.environ.setdefault(name, value)
        fs, root = pafs.FileSystem.from_uri(self.uri)
        if isinstance(fs, pafs.S3FileSystem):
            connect_s, request_s, retries = s3_timeouts()
            options = {
                **fs.__reduce__()[1][0],
                "connect_timeout": connect_s,
                "request_timeout": request_s,
                "retry_strategy": pafs.AwsStandardS3RetryStrategy(max_attempts=retries + 1),
            }
            fs = pafs.S3FileSystem(**options)
        return fs, root

    def fs_path(self, uri: str) -> str:
        """The filesystem path of a URI under this lake."""
        _fs, root = self.filesystem()
        assert uri.startswith(self.uri), uri
        return root + uri[len(self.uri) :]

    def list_dir(self, uri: str) -> list[pafs.FileInfo]:
        """Entries directly in ``uri`` (empty when it does not exist), sorted by name."""
        fs, _ = self.filesystem()
        selector = pafs.FileSelector(self.fs_path(uri), allow_not_found=True, recursive=False)
        return sorted(fs.get_file_info(selector), key=lambda info: info.base_name)

    def entries(self, uri: str) -> list[Entry]:
        """Entries directly in ``uri`` (empty when it does not exist), sorted by name, links not followed.

        On a local lake a symbolic link, FIFO or device is reported as such (kind ``link``/``other``) and never
        opened; an object store has only files and prefixes.
        """
        if not self.is_local:
            return [
                Entry(i.base_name, _STORE_KINDS.get(i.type, "other"), int(i.size or 0), int(i.mtime_ns or 0))
                for i in self.list_dir(uri)
            ]
        try:
            with os.scandir(self.fs_path(uri)) as found:
                out = []
                for entry in found:
                    info = entry.stat(follow_symlinks=False)
                    out.append(Entry(entry.name, _kind(info.st_mode), info.st_size, info.st_mtime_ns, info.st_nlink))
        except (FileNotFoundError, NotADirectoryError):
            return []
        return sorted(out, key=lambda e: e.name)

    def kind_of(self, uri: str) -> str | None:
        """file, dir, link or other for ``uri`` itself (links not followed); None when it does not exist."""
        if not self.is_local:
            fs, _ = self.filesystem()
            info = fs.get_file_info(self.fs_path(uri))
            return _STORE_KINDS.get(info.type)
        try:
            return _kind(os.lstat(self.fs_path(uri)).st_mode)
        except FileNotFoundError:
            return None

    @contextmanager
    def open_regular(self, uri: str):
        """A binary stream of a regular file of the lake. On a local lake the file is opened without following
        a link (``O_NOFOLLOW``) and checked to be a regular file on the open descriptor, so a name swapped for a
        link or a FIFO after listing is refused (``UnsafeEntry``) and never read."""
        if not self.is_local:
            fs, _ = self.filesystem()
            with fs.open_input_stream(self.fs_path(uri)) as stream:
                yield stream
            return
        path = self.fs_path(uri)
        try:
            fd = os.open(path, _OPEN_FLAGS | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # the name is a symbolic link
                raise UnsafeEntry(exc.errno, "a symbolic link (not followed)", path) from None
            raise
        _checked_regular(fd, path)
        with os.fdopen(fd, "rb") as stream:
            yield stream

    @contextmanager
    def open_folder(self, uri: str):
        """A ``Folder`` of the lake whose files are read relative to it. On a local lake every component from the
        lake root is opened without following a link (``O_DIRECTORY | O_NOFOLLOW``) and the files relative to the
        folder's descriptor: a folder swapped for a link after listing is refused, and all files come from the
        one folder opened. An object store has no links: the files are read by name."""
        if not self.is_local:
            yield Folder(self, uri, None)
            return
        root, path = self.fs_path(self.uri), self.fs_path(uri)
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
        try:
            for part in path[len(root) :].strip("/").split("/"):
                if part in ("", ".", ".."):
                    raise UnsafeEntry(0, "not a folder name of the lake", path)
                try:
                    inner = os.open(part, _OPEN_FLAGS | os.O_DIRECTORY, dir_fd=fd)
                except OSError as exc:
                    if exc.errno in (errno.ELOOP, errno.ENOTDIR):  # a link (or a file) where a folder was listed
                        raise UnsafeEntry(exc.errno, "a symbolic link or not a folder (not followed)", path) from None
                    raise
                os.close(fd)
                fd = inner
            yield Folder(self, uri, fd)
        finally:
            os.close(fd)

    def local_path_of_open(self, stream) -> str:
        """A path that names the already opened ``stream`` (for libraries that open paths themselves):
        ``/proc/self/fd/N`` refers to the checked descriptor, whatever the name points to now."""
        return f"/proc/self/fd/{stream.fileno()}" if os.path.isdir("/proc/self/fd") else stream.name

    def read_bytes(self, uri: str) -> bytes:
        with self.open_regular(uri) as stream:
            return stream.read()

    def check_inside(self, path: str) -> None:
        """Refuse (``UnsafeEntry``) a local path whose folder resolves outside the lake (a link on the way); object
        stores have no links."""
        if self.is_local:
            self._check_folder_inside(path)

    def _check_folder_inside(self, path: str) -> None:
        """Refuse a local path whose folder resolves outside the lake (a link on the way)."""
        root, folder = os.path.realpath(self.uri), os.path.realpath(os.path.dirname(path))
        if folder != root and not folder.startswith(root + os.sep):
            raise UnsafeEntry(0, "a folder that leads outside the lake (a link?)", os.path.dirname(path))

    def write_bytes_atomic(self, uri: str, data: bytes, exclusive: bool = False) -> None:
        """Write a small file so that readers see the old or the new content, never a half. ``exclusive``: never
        over an existing file (``FileExistsError``; on an object store checked just before the PUT)."""
        fs, _ = self.filesystem()
        path = self.fs_path(uri)
        try:
            fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
            if self.is_local:
                self._check_folder_inside(path)
                folder, name = os.path.split(path)
                tmp = os.path.join(folder, f".{name}.tmp-{os.getpid()}")  # hidden: never taken for a landed file
                try:
                    with fs.open_output_stream(tmp) as out:
                        out.write(data)
                    if exclusive:
                        os.link(tmp, path)  # fails if the name exists: nobody's file is replaced
                    else:
                        os.replace(tmp, path)
                finally:
                    if os.path.lexists(tmp):
                        os.unlink(tmp)
            else:  # an object store PUT is atomic
                if exclusive and fs.get_file_info(path).type != pafs.FileType.NotFound:
                    raise FileExistsError(errno.EEXIST, "exists", path)
                with fs.open_output_stream(path) as out:
                    out.write(data)
        except (UnsafeEntry, FileExistsError):
            raise
        except Exception as exc:  # a full disk, a read-only folder: one line naming the file
            raise LakeWriteError(f"{uri}: not written: {one_line(exc)}") from exc

    def read_json(self, uri: str) -> dict | None:
        try:
            return json.loads(self.read_bytes(uri))
        except FileNotFoundError:
            return None

    # -- Delta tables ----------------------------------------------------------------------------
    def open_table(self, table: str) -> DeltaTable | None:
        """The Delta table ``table`` at its newest version; None when it does not exist; ``TableUnreadable`` (one
        line naming the table) when its log cannot be read."""
        options = self.storage_options or None  # (a bad setting is the user's, not the table's: raised as it is)
        try:
            return DeltaTable(self.table_uri(table), storage_options=options)
        except TableNotFoundError:
            return None
        except Exception as exc:  # a damaged checkpoint or commit, a store that does not answer
            raise unreadable(table, exc) from exc

    def ensure_table(
        self, table: str, schema: pa.Schema, partition_by: tuple[str, ...] = MATCH_PARTITION
    ) -> DeltaTable:
        """Create ``table`` empty, partitioned by ``partition_by``, unless it exists (tables are created once,
        before any write);
        an existing table partitioned otherwise is refused (``LayoutError``).

        Creating before the first write matters: two first writes to a missing table race and lose data.
        """
        existing = self.open_table(table)
        if existing is None:
            try:
                existing = DeltaTable.create(
                    self.table_uri(table),
                    schema,
                    mode="ignore",
                    partition_by=list(partition_by),
                    storage_options=self.storage_options or None,
                )
            except Exception:
                # Another writer created it between our look and our create: use theirs.
                existing = self.open_table(table)
                if existing is None:
                    raise
        found = tuple(existing.metadata().partition_columns)
        if found != tuple(partition_by):
            raise LayoutError(
                f"table {table}: partitioned by {', '.join(found) or 'nothing'}, this code writes it partitioned "
                f"by {', '.join(partition_by)} (a lake written by an older footy_assets): run "
                "`footy-assets doctor --repair` to migrate it"
            )
        return existing

    def write_match(
        self, table: str, match_id: str, frame: pl.DataFrame, schema: dict[str, pl.DataType] | None = None
    ) -> int:
        """Replace exactly ``match_id``'s rows of a table partitioned by match only (``matches``) in one Delta
        commit; return the version it made. See ``write_delivery`` for the per-match tables."""
        return self._write(table, {"match_id": check_match_id(match_id)}, frame, schema)

    def write_delivery(
        self,
        table: str,
        match_id: str,
        fingerprint: str,
        frame: pl.DataFrame,
        schema: dict[str, pl.DataType] | None = None,
        staged: StagedDelivery | None = None,
    ) -> int:
        """Replace the rows of one delivery (``match_id``, ``fingerprint``) of a per-match table in one Delta
        commit; return the version it made. Rows of the match's other deliveries are untouched: readers keep
        seeing the published one whole while a new one is written beside it (``publish``).

        ``frame`` is cast to ``schema`` (the table's polars schema; default: the frame's own; a categorical
        column is stored as a plain string) and its ``fingerprint`` column is set to ``fingerprint``. Other
        matches are never touched; a failure leaves the table as it was (Delta commits are atomic). The rows go
        to Parquet written by polars and one deltalake commit (``delta_files``); a table written before a
        column was added gains it through ``write_deltalake``'s schema merge (older rows hold null there). The
        version returned is the commit this write made, not a later writer's.

        ``staged``: the same rows written ahead by ``stage_delivery``; only its commit is left to make (when the
        table's schema is still the one it was written for; else its rows, as staged, are written again and it is
        dropped). ``frame`` and ``schema`` are then not used: the rows are the staged ones.
        """
        import polars as pl

        partition = _delivery_partition(match_id, fingerprint)
        if staged is not None:
            if (staged.table, staged.written.partition) != (table, partition):
                raise ValueError(f"table {table}: the rows staged are {staged.table}'s of {staged.written.partition}")
            try:
                return self._write(table, partition, None, staged.schema, staged)
            finally:
                self.drop_staged(staged)  # committed (nothing to do) or not (its file goes)
        frame = frame.with_columns(fingerprint=pl.lit(fingerprint, dtype=pl.String))
        return self._write(table, partition, frame, schema)

    def stage_delivery(
        self,
        table: str,
        match_id: str,
        fingerprint: str,
        frame: pl.DataFrame,
        schema: dict[str, pl.DataType] | None = None,
    ) -> StagedDelivery:
        """Write the Parquet file ``write_delivery`` would write for these rows, without committing it: no version
        of the table holds it, so no reader sees it. The table is created if missing (as a first write would).
        ``write_delivery(..., staged=...)`` then only commits it; ``drop_staged`` removes it when it will not be.
        The command line writes tracking's rows this way on the read-ahead thread, while Dagster starts."""
        import polars as pl

        from footy_assets.lake.delta_files import write_file

        partition = _delivery_partition(match_id, fingerprint)
        frame = frame.with_columns(fingerprint=pl.lit(fingerprint, dtype=pl.String))
        frame, arrow_schema, schema = self._prepared(partition, frame, schema)
        try:
            self.ensure_table(table, arrow_schema, tuple(partition))
            fs, root = self.filesystem()
            written = write_file(fs, f"{root}/{table}", partition, frame)
        except LayoutError:
            raise
        except Exception as exc:  # a full disk, a read-only folder, a store that refuses: one line, named
            raise LakeWriteError(f"table {table}: {match_id}'s rows not written: {one_line(exc)}") from exc
        return StagedDelivery(table, schema, arrow_schema, written, frame)

    def drop_staged(self, staged: StagedDelivery) -> None:
        """Remove a staged file that was not committed (nothing if it was, or may have been: it belongs to the table
        then)."""
        staged.frame = None  # the rows are not needed again either way
        if staged.committed or staged.offered or staged.dropped:
            return
        staged.dropped = True
        with suppress(OSError):  # else left for upkeep's vacuum: in no version, it is never read
            self.delete_path(self.join(staged.table, staged.written.relative))

    @staticmethod
    def _prepared(
        partition: dict[str, str], frame: pl.DataFrame, schema
    ) -> tuple[pl.DataFrame, pa.Schema, dict[str, pl.DataType]]:
        """``frame`` cast to ``schema`` (default: its own) in its order, the Arrow schema the table stores, and the
        schema (with the partition's string columns)."""
        import polars as pl

        schema = dict(schema or frame.schema)
        if "fingerprint" in partition:
            schema["fingerprint"] = pl.String
        frame = frame.select([pl.col(name).cast(dtype) for name, dtype in schema.items()])
        arrow_schema = (
            pl.DataFrame(schema={n: pl.String if d == pl.Categorical else d for n, d in schema.items()})
            .to_arrow()
            .schema
        )
        return frame, arrow_schema, schema

    def _write(
        self,
        table: str,
        partition: dict[str, str],
        frame: pl.DataFrame | None,
        schema,
        staged: StagedDelivery | None = None,
    ) -> int:
        from footy_assets.lake.delta_files import commit_file, write_partition

        if staged is not None:
            frame, arrow_schema = staged.frame, staged.arrow_schema
        else:
            frame, arrow_schema, schema = self._prepared(partition, frame, schema)
        for attempt in range(3):
            try:
                dt = self.ensure_table(table, arrow_schema, tuple(partition))
                if dt.schema() == DeltaSchema.from_arrow(arrow_schema):
                    fs, root = self.filesystem()
                    if staged is not None and not staged.dropped:
                        staged.offered = True
                        version = commit_file(dt, fs, f"{root}/{table}", staged.written, arrow_schema, COMMIT_RETRIES)
                        staged.committed = True
                        return version
                    return write_partition(dt, fs, f"{root}/{table}", partition, frame, arrow_schema, COMMIT_RETRIES)
                return self._write_merging_schema(dt, partition, frame, schema)
            except CommitFailedError as exc:
                if staged is not None:
                    staged.offered = False  # refused: no version names the file
                # Only a concurrent change of the table's metadata (another process adding the same new
                # column) is not retried by delta-rs: reload the table and write again.
                if attempt == 2:
                    raise LakeWriteError(
                        f"table {table}: {partition['match_id']}'s rows not written: {one_line(exc)}"
                    ) from exc
            except LayoutError:
                raise
            except Exception as exc:  # a full disk, a read-only folder, a store that refuses: one line, named
                raise LakeWriteError(
                    f"table {table}: {partition['match_id']}'s rows not written: {one_line(exc)}"
                ) from exc
        raise AssertionError("unreachable")

    @staticmethod
    def _write_merging_schema(dt: DeltaTable, partition: dict[str, str], frame: pl.DataFrame, schema: dict) -> int:
        """The rare write to a table whose schema is not this code's (a column added since): delta-rs merges."""
        import polars as pl

        stored = set(dt.schema().to_arrow().names)
        # strings that repeat go dictionary-encoded: a few hundred MB less for a full match
        repeated = [name for name, dtype in schema.items() if dtype == pl.String and name not in partition]
        rows = frame.with_columns([pl.col(name).cast(pl.Categorical) for name in repeated]).to_arrow()
        write_deltalake(
            dt,
            rows,
            mode="overwrite",
            predicate=" AND ".join(f"{name} = '{value}'" for name, value in partition.items()),
            schema_mode="merge" if set(schema) - stored else None,
            commit_properties=CommitProperties(max_commit_retries=COMMIT_RETRIES),
        )
        return dt.version()  # the table object is at the commit this write made

    def delete_match(self, table: str, match_id: str) -> int:
        """Delete ``match_id``'s rows of ``table`` in one Delta commit (other matches untouched); the number of
        rows deleted (0 when the table or the match is absent: nothing is committed)."""
        check_match_id(match_id)
        dt = self.open_table(table)
        if dt is None:
            return 0
        metrics = dt.delete(
            predicate=f"match_id = '{match_id}'", commit_properties=CommitProperties(max_commit_retries=COMMIT_RETRIES)
        )
        return int(metrics.get("num_deleted_rows", 0) or 0)

    def delete_path(self, uri: str) -> bool:
        """Remove a file or a folder (with its content) of the lake; False when absent. Never follows a link out
        of the lake: a link is removed itself, not what it points to."""
        fs, _ = self.filesystem()
        path = self.fs_path(uri)
        if self.is_local:
            self._check_folder_inside(path)
            if os.path.islink(path):
                os.unlink(path)
                return True
        info = fs.get_file_info(path)
        if info.type == pafs.FileType.NotFound:
            return False
        if info.type == pafs.FileType.Directory:
            fs.delete_dir(path)
        else:
            fs.delete_file(path)
        return True

    def dataset(self, table: str):
        """A pyarrow dataset of ``table`` read through a native pyarrow filesystem, or None when absent.

        deltalake's own ``to_pyarrow_dataset()`` wraps its store in a Python-implemented filesystem; Arrow's
        thread pool can drop the last reference to it while the interpreter exits, which aborts the
        process ("terminate called without an active exception", exit 134). A native filesystem has no
        Python objects to release, so every command exits with its own status.
        """
        return self.dataset_of(table, self.open_table(table))

    def dataset_of(self, table: str, dt: DeltaTable | None):
        """``dataset`` of an already opened table (None for None)."""
        if dt is None:
            return None
        fs, root = self.filesystem()
        return dt.to_pyarrow_dataset(filesystem=pafs.SubTreeFileSystem(f"{root}/{table}", fs))

    def read_match(self, table: str, match_id: str, columns: list[str] | None = None) -> pa.Table | None:
        """The rows of one match (partition pruning on match_id), or None when the table does not exist."""
        import pyarrow.dataset as pads

        check_match_id(match_id)
        dataset = self.dataset(table)
        if dataset is None:
            return None
        return dataset.to_table(columns=columns, filter=pads.field("match_id") == match_id)

    def scan_match(self, table: str, match_id: str, fingerprint: str | None = None) -> pl.LazyFrame | None:
        """A lazy polars scan of one match's rows (pruned to its partition; columns read only as selected), of
        one delivery when ``fingerprint`` is given (a per-match table may hold the published delivery and a new
        one being written).

        polars reads the Parquet files itself: several times less memory than going through Arrow tables.
        """
        import polars as pl

        check_match_id(match_id)
        dt = self.open_table(table)
        if dt is None:
            return None
        scan = pl.scan_delta(dt).filter(pl.col("match_id") == match_id)
        return scan if fingerprint is None else scan.filter(pl.col("fingerprint") == check_fingerprint(fingerprint))

    def deliveries(self, table: str, match_id: str) -> dict[str, int]:
        """{fingerprint: newest file's modification time (Unix ms)} of the deliveries ``table`` holds for
        ``match_id``, from the table's log alone (no data file is read); empty when the table is absent."""
        check_match_id(match_id)
        return _deliveries_of(self.open_table(table), match_id)

    def drop_deliveries(self, table: str, match_id: str, keep: set[str]) -> list[str]:
        """Remove, in one commit, the rows of ``match_id``'s deliveries other than ``keep`` from a per-match table
        (only the log changes: whole partitions are dropped, their files stay until vacuumed); the fingerprints
        dropped (nothing is committed when there are none)."""
        dt = self.open_table(table)
        drop = sorted(set(_deliveries_of(dt, check_match_id(match_id))) - set(keep))
        if not drop:
            return []
        dt.create_write_transaction(
            [],
            mode="overwrite",
            schema=pa.schema(dt.schema().to_arrow()),
            partition_by=list(DELIVERY_PARTITIONS),
            partition_filters=[("match_id", "=", match_id), ("fingerprint", "in", drop)],
            commit_properties=CommitProperties(
                custom_metadata={"match_id": match_id, "footy_drop": ",".join(drop)}, max_commit_retries=COMMIT_RETRIES
            ),
        )
        return drop

    def drop_match(self, table: str, match_id: str) -> None:
        """Remove every file of ``match_id``'s partition from a table partitioned by match (``matches``) in one
        log-only commit, without reading them (a damaged file cannot be read; ``delete_match`` would)."""
        dt = self.open_table(table)
        dt.create_write_transaction(
            [],
            mode="overwrite",
            schema=pa.schema(dt.schema().to_arrow()),
            partition_by=list(dt.metadata().partition_columns),
            partition_filters=[("match_id", "=", check_match_id(match_id))],
            commit_properties=CommitProperties(
                custom_metadata={"match_id": match_id, "footy_drop": "all"}, max_commit_retries=COMMIT_RETRIES
            ),
        )

    def table_version(self, table: str) -> int | None:
        dt = self.open_table(table)
        return None if dt is None else dt.version()


def _deliveries_of(dt: DeltaTable | None, match_id: str) -> dict[str, int]:
    """{fingerprint: newest file's modification time (Unix ms)} of ``match_id``'s partitions in ``dt``."""
    if dt is None or "fingerprint" not in dt.metadata().partition_columns:
        return {}
    actions = pa.table(dt.get_add_actions(flatten=True))
    if "partition.fingerprint" not in actions.column_names:  # no file yet
        return {}
    found: dict[str, int] = {}
    for match, fingerprint, modified in zip(
        actions["partition.match_id"].to_pylist(),
        actions["partition.fingerprint"].to_pylist(),
        actions["modification_time"].to_pylist(),
    ):
        if match == match_id and fingerprint is not None:
            found[fingerprint] = max(found.get(fingerprint, 0), int(modified or 0))
    return found
