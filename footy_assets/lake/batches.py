"""One delivery of a per-match table read in batches, in frame order, never whole.

A delivery's rows are one Parquet file per partition (``delta_files``), written in frame order; a compaction or a
merged-schema write may leave several. ``ordered_batches`` plans the read before it gives the first batch: the
delivery's files from the table's log, ordered by their first ``frame_id``, then one pass over the ``frame_id``
column alone (a few MB for a full match) checks that the files in that order are in frame order. Then the
columns asked for are read a batch at a time (``BATCH_ROWS``), so a full match's 3 M rows never sit in memory
together. Where the files are not in frame order (a table written by another tool) the delivery is read whole and
sorted once: the answer is the same, only its memory is a match's.

Planning before the first batch also means a damaged file of the delivery (an unreadable footer or frame_id) is
found before a caller has sent anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from footy_assets.lake.publish import published_rows
from footy_assets.lake.store import Lake, check_fingerprint, check_match_id, unreadable

BATCH_ROWS = 1 << 14  # rows per batch: about 0.6 MB of tracking columns
# Parquet read a column chunk's pages as they are decoded, through a small buffer: reading a row group's column
# chunks in advance (pyarrow's pre_buffer) held ~50 MB per reader on a full match, this ~5 MB
READ_OPTIONS = {"pre_buffer": False, "buffer_size": 1 << 16}
ORDER = "frame_id"


@dataclass(frozen=True)
class BatchPlan:
    """How one delivery of ``table`` is read: its files in frame order (paths in ``lake``'s filesystem), or none
    when it must be read whole (``whole``); ``rows`` the delivery's row count."""

    lake: Lake
    table: str
    match_id: str
    fingerprint: str
    columns: tuple[str, ...]
    schema: pa.Schema  # the columns' types in the table
    files: tuple[str, ...]
    rows: int
    whole: bool
    nulls: dict[str, int | None]  # per column, the nulls the files' statistics count (None where one has none)

    def batches(self, batch_rows: int = BATCH_ROWS) -> Iterator[pl.DataFrame]:
        """The delivery's rows (``columns``) in frame order, ``batch_rows`` at a time (the last one shorter)."""
        if self.whole:
            yield from _whole(self, batch_rows)
            return
        fs, _ = self.lake.filesystem()
        for path in self.files:
            try:
                source = pq.ParquetFile(fs.open_input_file(path), **READ_OPTIONS)
                present = [c for c in self.columns if c in source.schema_arrow.names]
                for batch in source.iter_batches(batch_size=batch_rows, columns=present, use_threads=False):
                    yield pl.from_arrow(_conform(pa.Table.from_batches([batch]), self.schema))
            except (OSError, pa.ArrowException) as exc:  # removed or damaged while read: one line naming the table
                raise unreadable(self.table, exc) from exc


def plan_batches(lake: Lake, table: str, match_id: str, fingerprint: str, columns: list[str]) -> BatchPlan:
    """Plan reading ``columns`` of the delivery (``match_id``, ``fingerprint``) of ``table`` in frame order (see the
    module's docstring); ``TableUnreadable`` when its log or a file cannot be read."""
    check_match_id(match_id)
    check_fingerprint(fingerprint)
    dt = lake.open_table(table)
    if dt is None:
        raise unreadable(table, FileNotFoundError(f"{lake.table_uri(table)} does not exist"))
    try:
        stored = pa.schema(dt.schema().to_arrow())
        schema = pa.schema([stored.field(c) for c in columns])
        actions = pa.table(dt.get_add_actions(flatten=True)).to_pylist()
        simple = dt.protocol().min_reader_version == 1  # no deletion vectors, no column mapping
    except KeyError as exc:
        raise unreadable(table, ValueError(f"no column {exc}")) from exc
    except Exception as exc:  # a log the reader cannot follow: one line naming the table
        raise unreadable(table, exc) from exc
    mine = [
        a for a in actions if a.get("partition.match_id") == match_id and a.get("partition.fingerprint") == fingerprint
    ]
    rows = sum(int(a.get("num_records") or 0) for a in mine)
    counted = [[a.get(f"null_count.{c}") for a in mine] for c in columns]
    nulls = {c: None if None in n else sum(n) for c, n in zip(columns, counted)}
    fs, root = lake.filesystem()
    plan = BatchPlan(lake, table, match_id, fingerprint, tuple(columns), schema, (), rows, True, nulls)
    if not simple or any(("://" in a["path"]) or a["path"].startswith("/") or "%" in a["path"] for a in mine):
        return plan
    # by first frame; a file without statistics goes where its log entry is (and the check below decides)
    ordered = sorted(mine, key=lambda a: (a.get(f"min.{ORDER}") is None, a.get(f"min.{ORDER}") or 0))
    paths = tuple(f"{root}/{table}/{a['path']}" for a in ordered)
    try:
        in_order = _in_frame_order(fs, paths)
    except (OSError, pa.ArrowException) as exc:  # a file missing or damaged: one line naming the table
        raise unreadable(table, exc) from exc
    return BatchPlan(lake, table, match_id, fingerprint, tuple(columns), schema, paths, rows, not in_order, nulls)


def _in_frame_order(fs, paths: tuple[str, ...]) -> bool:
    """Whether the files, one after the other, hold non-decreasing ``frame_id``s (read a column at a time)."""
    last = None
    for path in paths:
        source = pq.ParquetFile(fs.open_input_file(path), **READ_OPTIONS)
        if ORDER not in source.schema_arrow.names:
            return False
        for batch in source.iter_batches(batch_size=BATCH_ROWS * 8, columns=[ORDER], use_threads=False):
            frames = pl.from_arrow(batch.column(0))
            if frames.len() == 0:
                continue
            if frames.null_count() or (last is not None and frames[0] < last) or not frames.is_sorted():
                return False
            last = frames[-1]
    return True


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with exactly ``schema``'s columns and types: a column its file predates is null (as a Delta reader
    gives it), a dictionary-encoded string a plain one."""
    columns = [
        table[f.name].cast(f.type) if f.name in table.column_names else pa.nulls(table.num_rows, f.type) for f in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema)


def _whole(plan: BatchPlan, batch_rows: int) -> Iterator[pl.DataFrame]:
    frame = published_rows(plan.lake, plan.table, plan.match_id, plan.fingerprint, list(plan.columns))
    if frame.height == 0:
        return
    frame = frame.sort(ORDER, maintain_order=True)
    for start in range(0, frame.height, batch_rows):
        yield frame.slice(start, batch_rows)


__all__ = ["BATCH_ROWS", "BatchPlan", "plan_batches"]
