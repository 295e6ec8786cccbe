"""One match's rows into its Delta table partition: Parquet written by polars, committed by deltalake.

Why not ``write_deltalake`` for every write: on a full match (3 M rows, 20 columns) delta-rs's writer took
~1.2 s and ~600 MB above the rows themselves (it converts to Arrow and buffers the file); polars writes the
same Parquet in ~0.3 s with ~50 MB (bench/full_match.py). The commit is still deltalake's own transaction
(``create_write_transaction``): an overwrite of the match's partition with the same protocol, conflict
checks and retries as ``write_deltalake``, so readers (polars, DuckDB, Spark) see one atomic version.
A file written by a process killed before its commit is in no version; ``upkeep`` vacuums it once a day old.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from dataclasses import dataclass

import polars as pl
import pyarrow as pa
import pyarrow.fs as pafs
from deltalake import CommitProperties, DeltaTable
from deltalake.transaction import AddAction

FLOAT32_MAX = 3.4028234663852886e38


def file_stats(frame: pl.DataFrame) -> str:
    """The Delta ``stats`` of one file: row count, and per column null count and min/max — numbers, booleans and
    strings (whole: a truncated max would be below the real one), exact; a float column holding NaN or an infinity
    gets its type's whole range (JSON has neither). Every non-nested column that is not all null gets a min and a
    max: deltalake's Arrow dataset reads a missing one as null and then skips the file for any filter on the column
    (``WHERE valid = true`` found no row in files written without boolean statistics)."""
    nulls = frame.null_count().row(0, named=True)
    ranged = [
        name
        for name, dtype in frame.schema.items()
        if dtype.is_numeric() or dtype in (pl.String, pl.Categorical, pl.Boolean)
    ]
    floats = [name for name in ranged if frame.schema[name].is_float()]
    lows, highs = {}, {}
    if frame.height and ranged:
        values = [pl.col(n).cast(pl.String) if frame.schema[n] == pl.Categorical else pl.col(n) for n in ranged]
        found = frame.select(
            *[v.min().alias(f"lo{i}") for i, v in enumerate(values)],
            *[v.max().alias(f"hi{i}") for i, v in enumerate(values)],
            *[(~pl.col(n).is_finite()).any().alias(f"nf{i}") for i, n in enumerate(floats)],
        ).row(0)
        bounds, odd = found[: 2 * len(ranged)], dict(zip(floats, found[2 * len(ranged) :]))
        for name, low, high in zip(ranged, bounds[: len(ranged)], bounds[len(ranged) :]):
            if low is None or high is None:
                continue
            if odd.get(name):
                widest = FLOAT32_MAX if frame.schema[name] == pl.Float32 else sys.float_info.max
                low, high = -widest, widest
            lows[name], highs[name] = low, high
    return json.dumps({"numRecords": frame.height, "minValues": lows, "maxValues": highs, "nullCount": nulls})


@dataclass
class DataFile:
    """A Parquet file of one partition written into a table's folder and not committed yet: no version of the
    table holds it until ``commit_file`` (one a process killed in between leaves is vacuumed by ``upkeep``).
    ``relative`` is its path from the table's root; ``stats`` its Delta statistics (``file_stats``)."""

    relative: str
    size: int
    stats: str
    partition: dict[str, str]


def write_file(fs: pafs.FileSystem, table_path: str, partition: dict[str, str], frame: pl.DataFrame) -> DataFile:
    """Write ``frame`` (the table's columns, the partition columns included) as one Parquet file of the partition
    ``partition`` of the table at ``table_path`` in ``fs``, uncommitted."""
    body = frame.drop(*partition).with_columns(
        [_as_strings(frame[n]) for n, d in frame.schema.items() if d == pl.Categorical and n not in partition]
    )
    folders = "/".join(f"{name}={value}" for name, value in partition.items())
    relative = f"{folders}/part-00000-{uuid.uuid4()}-c000.snappy.parquet"
    path = f"{table_path}/{relative}"
    if fs.type_name == "local":  # an object store has no folders to make (and a marker object costs a request)
        fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
    with fs.open_output_stream(path) as out:
        body.write_parquet(out, compression="snappy", statistics=True)
        size = out.tell()  # the bytes written: no request to ask the store for the object's size
    return DataFile(relative, size, file_stats(body), dict(partition))


def commit_file(
    dt: DeltaTable, fs: pafs.FileSystem, table_path: str, written: DataFile, arrow_schema: pa.Schema, retries: int
) -> int:
    """Replace the partition ``written`` belongs to in the table ``dt`` (at ``table_path`` in ``fs``) with that one
    file, in one commit; the version that commit made. The commit's info in the log names the match
    (``match_id``), for the table's history."""
    partition = written.partition
    token = uuid.uuid4().hex
    add = AddAction(written.relative, written.size, dict(partition), int(time.time() * 1000), True, written.stats)
    before = dt.version()
    dt.create_write_transaction(
        [add],
        mode="overwrite",
        schema=arrow_schema,
        partition_by=list(partition),
        partition_filters=[(name, "=", value) for name, value in partition.items()],
        commit_properties=CommitProperties(
            custom_metadata={"footy_write": token, **partition}, max_commit_retries=retries
        ),
    )
    return _version_of_commit(fs, table_path, token, before + 1)


def write_partition(
    dt: DeltaTable,
    fs: pafs.FileSystem,
    table_path: str,
    partition: dict[str, str],
    frame: pl.DataFrame,
    arrow_schema: pa.Schema,
    retries: int,
) -> int:
    """Replace one partition of the table ``dt`` (at ``table_path`` in ``fs``) with ``frame`` (the table's columns,
    the partition columns included) in one commit; the version that commit made. ``partition``: the values of
    the table's partition columns, in their order ({"match_id": ...} or {"match_id": ..., "fingerprint": ...})."""
    return commit_file(dt, fs, table_path, write_file(fs, table_path, partition, frame), arrow_schema, retries)


def _as_strings(column: pl.Series) -> pl.Expr:
    """A categorical column as the plain strings Delta stores. One that holds a single value (a match's
    ``fingerprint``) becomes a constant column, which polars writes without materialising it (a cast would
    allocate a 64-character string per row)."""
    values = column.unique()
    if values.len() == 1:
        return pl.lit(values[0], dtype=pl.String).alias(column.name)
    return pl.col(column.name).cast(pl.String)


def _version_of_commit(fs: pafs.FileSystem, table_path: str, token: str, first: int) -> int:
    """The version whose commit carries ``token``, looked for from ``first`` on (the table object is not
    refreshed by the commit, and another writer may have committed before ours): reading the log's files
    one by one from the version after ours was read costs one request where there was no other writer, instead
    of listing the log first (``DeltaTable.history`` was seen numbering concurrent commits wrongly)."""
    version = first
    while True:
        try:
            with fs.open_input_stream(f"{table_path}/_delta_log/{version:020d}.json") as stream:
                if token.encode() in stream.read():
                    return version
        except FileNotFoundError:
            raise RuntimeError(
                f"{table_path}: the commit {token} is not in versions {first}..{version - 1} of the log"
            ) from None
        version += 1
