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
from contextlib import contextmanager
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

_PACKAGE_PARENT = Path(__file__).resolve().parent.parent
# The project root when run from a checkout (editable install); else the working directory.
PROJECT_ROOT = _PACKAGE_PARENT if (_PACKAGE_PARENT / "pyproject.toml").exists() else Path.cwd()
DEFAULT_LAKE = PROJECT_ROOT / "data_lake"
LAKE_ENV = "FOOTY_DATA_LAKE"

MATCH_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
# delta-rs retries a commit that lost a race with another writer (distinct matches never conflict on
# data); its default of 15 was seen to give up under 4 concurrent writers on S3.
COMMIT_RETRIES = 50


class InvalidMatchId(ValueError):
    """A landing folder name that is not a valid match_id (CONTRACTS 1)."""


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
S3_CLIENT_DEFAULTS = {"AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
                      "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required"}


def storage_options_from_env(uri: str) -> dict[str, str]:
    """Storage options for deltalake: the usual ``AWS_*`` variables when the lake is on S3 (``AWS_ENDPOINT_URL``,
    ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_REGION``, ``AWS_ALLOW_HTTP``, ...)."""
    if not uri.startswith(("s3://", "s3a://")):
        return {}
    return {k: v for k, v in os.environ.items() if k.startswith("AWS_") and v and k not in S3_CLIENT_DEFAULTS}


class UnsafeEntry(OSError):
    """A landing entry that is not a regular file or folder inside the lake (a link, FIFO, device, socket)."""


@dataclass(frozen=True)
class Entry:
    """One entry of a lake folder, as it is (links are not followed): kind is file, dir, link or other."""

    name: str
    kind: str
    size_bytes: int = 0
    mtime_ns: int = 0


_STORE_KINDS = {pafs.FileType.File: "file", pafs.FileType.Directory: "dir"}  # an object store has no links


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    return "other"  # FIFO, device, socket: never opened


@dataclass(frozen=True)
class Lake:
    """A lake root URI with helpers for its landing zone, records and Delta tables."""

    uri: str

    @classmethod
    def from_env(cls, uri: str | None = None) -> "Lake":
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
        """The pyarrow filesystem of the lake and the lake root as a path within it."""
        if not self.is_local:
            for name, value in S3_CLIENT_DEFAULTS.items():
                os.environ.setdefault(name, value)
        return pafs.FileSystem.from_uri(self.uri if "://" in self.uri else Path(self.uri).as_posix())

    def fs_path(self, uri: str) -> str:
        """The filesystem path of a URI under this lake."""
        fs, root = self.filesystem()
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
            return [Entry(i.base_name, _STORE_KINDS.get(i.type, "other"), int(i.size or 0), int(i.mtime_ns or 0))
                    for i in self.list_dir(uri)]
        try:
            with os.scandir(self.fs_path(uri)) as found:
                out = []
                for entry in found:
                    info = entry.stat(follow_symlinks=False)
                    out.append(Entry(entry.name, _kind(info.st_mode), info.st_size, info.st_mtime_ns))
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
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # the name is a symbolic link
                raise UnsafeEntry(exc.errno, "a symbolic link (not followed)", path) from None
            raise
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise UnsafeEntry(0, "not a regular file", path)
        with os.fdopen(fd, "rb") as stream:
            yield stream

    def local_path_of_open(self, stream) -> str:
        """A path that names the already opened ``stream`` (for libraries that open paths themselves):
        ``/proc/self/fd/N`` refers to the checked descriptor, whatever the name points to now."""
        return f"/proc/self/fd/{stream.fileno()}" if os.path.isdir("/proc/self/fd") else stream.name

    def read_bytes(self, uri: str) -> bytes:
        with self.open_regular(uri) as stream:
            return stream.read()

    def _check_folder_inside(self, path: str) -> None:
        """Refuse a local path whose folder resolves outside the lake (a link on the way)."""
        root, folder = os.path.realpath(self.uri), os.path.realpath(os.path.dirname(path))
        if folder != root and not folder.startswith(root + os.sep):
            raise UnsafeEntry(0, "a folder that leads outside the lake (a link?)", os.path.dirname(path))

    def write_bytes_atomic(self, uri: str, data: bytes) -> None:
        """Write a small file so that readers see the old or the new content, never a half."""
        fs, _ = self.filesystem()
        path = self.fs_path(uri)
        fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
        if self.is_local:
            self._check_folder_inside(path)
            tmp = f"{path}.tmp-{os.getpid()}"
            with fs.open_output_stream(tmp) as out:
                out.write(data)
            os.replace(tmp, path)
        else:  # an object store PUT is atomic
            with fs.open_output_stream(path) as out:
                out.write(data)

    def read_json(self, uri: str) -> dict | None:
        try:
            return json.loads(self.read_bytes(uri))
        except FileNotFoundError:
            return None

    # -- Delta tables ----------------------------------------------------------------------------
    def open_table(self, table: str) -> DeltaTable | None:
        try:
            return DeltaTable(self.table_uri(table), storage_options=self.storage_options or None)
        except TableNotFoundError:
            return None

    def ensure_table(self, table: str, schema: pa.Schema) -> DeltaTable:
        """Create ``table`` empty, partitioned by match_id, unless it exists (CONTRACTS 1: create once).

        Creating before the first write matters: two first writes to a missing table race and lose data.
        """
        existing = self.open_table(table)
        if existing is not None:
            return existing
        try:
            return DeltaTable.create(
                self.table_uri(table),
                schema,
                mode="ignore",
                partition_by=["match_id"],
                storage_options=self.storage_options or None,
            )
        except Exception:
            # Another writer created it between our look and our create: use theirs.
            existing = self.open_table(table)
            if existing is None:
                raise
            return existing

    def write_match(self, table: str, match_id: str, frame: "pl.DataFrame",
                    schema: "dict[str, pl.DataType] | None" = None) -> int:
        """Replace exactly ``match_id``'s rows of ``table`` in one Delta commit; return the version it made.

        ``frame`` is cast to ``schema`` (the table's polars schema; default: the frame's own; a categorical
        column is stored as a plain string). Other matches are never touched; a failure leaves the table as it
        was (Delta commits are atomic). The rows go to Parquet written by polars and one deltalake commit
        (``delta_files``); a table written before a column was added (e.g. ``fingerprint``) gains it through
        ``write_deltalake``'s schema merge (older rows hold null there). The version returned is the commit
        this write made, not a later writer's.
        """
        import polars as pl

        from footy_assets.delta_files import write_partition

        check_match_id(match_id)
        schema = dict(schema or frame.schema)
        frame = frame.select([pl.col(name).cast(dtype) for name, dtype in schema.items()])
        arrow_schema = pl.DataFrame(schema={n: pl.String if d == pl.Categorical else d
                                            for n, d in schema.items()}).to_arrow().schema
        for attempt in range(3):
            dt = self.ensure_table(table, arrow_schema)
            try:
                if dt.schema() == DeltaSchema.from_arrow(arrow_schema):
                    fs, root = self.filesystem()
                    return write_partition(dt, fs, f"{root}/{table}", match_id, frame, arrow_schema, COMMIT_RETRIES)
                return self._write_merging_schema(dt, match_id, frame, schema)
            except CommitFailedError:
                # Only a concurrent change of the table's metadata (another process adding the same new
                # column) is not retried by delta-rs: reload the table and write again.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    def _write_merging_schema(dt: DeltaTable, match_id: str, frame: "pl.DataFrame", schema: dict) -> int:
        """The rare write to a table whose schema is not this code's (a column added since): delta-rs merges."""
        import polars as pl

        stored = set(dt.schema().to_arrow().names)
        # strings that repeat go dictionary-encoded: a few hundred MB less for a full match
        repeated = [name for name, dtype in schema.items() if dtype == pl.String and name != "match_id"]
        rows = frame.with_columns([pl.col(name).cast(pl.Categorical) for name in repeated]).to_arrow()
        write_deltalake(
            dt,
            rows,
            mode="overwrite",
            predicate=f"match_id = '{match_id}'",
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
        metrics = dt.delete(predicate=f"match_id = '{match_id}'",
                            commit_properties=CommitProperties(max_commit_retries=COMMIT_RETRIES))
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
        dt = self.open_table(table)
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

    def scan_match(self, table: str, match_id: str) -> "pl.LazyFrame | None":
        """A lazy polars scan of one match's rows (pruned to its partition; columns read only as selected).

        polars reads the Parquet files itself: several times less memory than going through Arrow tables.
        """
        import polars as pl

        check_match_id(match_id)
        dt = self.open_table(table)
        if dt is None:
            return None
        return pl.scan_delta(dt).filter(pl.col("match_id") == match_id)

    def table_version(self, table: str) -> int | None:
        dt = self.open_table(table)
        return None if dt is None else dt.version()
