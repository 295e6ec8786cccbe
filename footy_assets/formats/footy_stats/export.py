"""Canonical tracking -> the vendor's tracking download (the vendor's tracking-download API).

Columns and types exactly as the vendor's download: ``timestamp`` int32 (ms), ``role``, ``player_id`` (``"0-10"`` or
null), ``player_id_conf`` float16, ``x``/``y`` int16 centimetres from the bottom-left corner, ``bbox_x``/``bbox_y``
int16 pixels. Positions are the canonical ones (home attacking towards x = 105 m in every period): the
download does not promise a direction, and readers decide it from the goal keepers. Rows without a pitch
position are left out. A pitch other than 105 x 68 m goes out as ``pitch.json`` beside the file.

The file is made as a sequence of chunks from batches of tracking rows in frame order (``chunks``): the export
joins them into a file, the server (``footy_assets.server``) sends them as they come, so both give the same bytes
and neither holds a whole match. The bytes depend only on the rows, never on how they were batched: Parquet row
groups are cut every ``ROW_GROUP_ROWS`` rows of the download, the JSON array is one row object per line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

# Raised when the same rows would give other bytes (row groups, JSON layout): part of the download's ETag.
DOWNLOAD_VERSION = "2"  # 2: zstd, 16k-row groups
# rows per Parquet row group: a 90-minute match (~3 M rows) gives ~200 of about 120 kB each. The writer holds one
# row group's columns while it encodes them: with 65,536 rows twenty downloads at once held ~150 MB, with 16,384
# half that
ROW_GROUP_ROWS = 1 << 14
# zstd, and dictionaries for the two string columns only: 23 MB for a 90-minute match, where pyarrow's defaults
# (snappy, a dictionary for every column) gave 26 MB in 64k-row groups and 33 MB in 16k-row ones
WRITER_OPTIONS = {"compression": "zstd", "use_dictionary": ["role", "player_id"]}
FILE_FORMATS = ("parquet", "json")
# the canonical tracking columns a download is made from, in frame order (``frame_id``)
SOURCE_COLUMNS = ("frame_id", "timestamp_ms", "role", "player_id", "id_confidence", "x_m", "y_m", "bbox_x", "bbox_y")


@dataclass(frozen=True)
class Column:
    """One column of the download: its name, Parquet (Arrow) type, unit and meaning."""

    name: str
    type: pa.DataType
    unit: str | None
    description: str


COLUMNS = (
    Column("timestamp", pa.int32(), "ms", "time in milliseconds from the first period's start (tracking timestamp_ms)"),
    Column("role", pa.string(), None, "player, goal_keeper, ball or referee"),
    Column("player_id", pa.string(), None, "'team-jersey' (e.g. '0-10'); null for the ball and unidentified people"),
    Column("player_id_conf", pa.float16(), "0-1", "confidence of the player's identification; null where none"),
    Column("x", pa.int16(), "cm", "0 to the pitch length from the left goal line (origin bottom-left)"),
    Column("y", pa.int16(), "cm", "0 to the pitch width from the bottom touch line (origin bottom-left)"),
    Column("bbox_x", pa.int16(), "px", "centre of the bounding box in the video; null where the feed has none"),
    Column("bbox_y", pa.int16(), "px", "bottom of the bounding box in the video; null where the feed has none"),
)
SCHEMA = pa.schema([pa.field(c.name, c.type) for c in COLUMNS])


def file_name(file_format: str) -> str:
    """``tracking.parquet`` or ``tracking.json``."""
    if file_format not in FILE_FORMATS:
        raise ValueError(f"unknown tracking download format {file_format!r}; expected parquet or json")
    return f"tracking.{file_format}"


def rows(tracking: pl.DataFrame, match: dict) -> pl.DataFrame:
    """The download's rows (polars types; player_id_conf still float32: polars has no float16)."""
    length, width = float(match["pitch_length_m"]), float(match["pitch_width_m"])
    return tracking.filter(pl.col("x_m").is_not_null()).select(
        timestamp=pl.col("timestamp_ms").cast(pl.Int32),
        role="role",
        player_id="player_id",
        player_id_conf=pl.col("id_confidence").cast(pl.Float32),
        x=((pl.col("x_m").cast(pl.Float64) + length / 2) * 100).round(0).cast(pl.Int16),
        y=((pl.col("y_m").cast(pl.Float64) + width / 2) * 100).round(0).cast(pl.Int16),
        bbox_x="bbox_x",
        bbox_y="bbox_y",
    )


class _Pipe:
    """A write-only file for ``pq.ParquetWriter``: ``take()`` hands over what was written since the last call."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._written = 0
        self.closed = False

    def write(self, data) -> int:
        part = bytes(data)
        self._parts.append(part)
        self._written += len(part)
        return len(part)

    def tell(self) -> int:
        return self._written

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


def _parquet_chunks(frames: Iterable[pl.DataFrame]) -> Iterator[bytes]:
    pipe = _Pipe()
    writer = pq.ParquetWriter(pipe, SCHEMA, **WRITER_OPTIONS)
    waiting: list[pa.Table] = []
    held = 0

    def group(table: pa.Table) -> bytes:
        # one contiguous chunk per row group: the pages never depend on how the rows were batched
        writer.write_table(table.combine_chunks(), row_group_size=ROW_GROUP_ROWS)
        return pipe.take()

    yield pipe.take()  # the file's magic bytes
    for frame in frames:
        if frame.height == 0:
            continue
        waiting.append(frame.to_arrow().cast(SCHEMA))
        held += frame.height
        while held >= ROW_GROUP_ROWS:
            table = pa.concat_tables(waiting)
            yield group(table.slice(0, ROW_GROUP_ROWS))
            rest = table.slice(ROW_GROUP_ROWS)
            waiting, held = ([rest] if rest.num_rows else []), rest.num_rows
    if held:
        yield group(pa.concat_tables(waiting))
    writer.close()
    yield pipe.take()  # the footer


def _json_chunks(frames: Iterable[pl.DataFrame]) -> Iterator[bytes]:
    # an array of row objects, one per line: "[\n{...},\n{...}\n]\n"
    yield b"[\n"
    first = True
    for frame in frames:
        if frame.height == 0:
            continue
        body = frame.write_ndjson().rstrip("\n").replace("\n", ",\n")  # JSON strings hold no raw newline
        yield (body if first else ",\n" + body).encode()
        first = False
    yield b"\n]\n"


def chunks(batches: Iterable[pl.DataFrame], match: dict, file_format: str = "parquet") -> Iterator[bytes]:
    """The download file as a sequence of byte chunks, from batches of canonical tracking rows (``SOURCE_COLUMNS``)
    in frame order and the match's ``matches`` row (its pitch size); the same bytes however the rows are batched.
    Holds about one Parquet row group (``ROW_GROUP_ROWS`` rows) plus one batch at a time."""
    file_name(file_format)  # an unknown format is refused before anything is made
    frames = (rows(batch, match) for batch in batches)
    return _parquet_chunks(frames) if file_format == "parquet" else _json_chunks(frames)


def pitch_file(match: dict) -> bytes | None:
    """``pitch.json`` ({"length": m, "width": m}) for a pitch other than 105 x 68 m; None for that one."""
    length, width = float(match["pitch_length_m"]), float(match["pitch_width_m"])
    if (length, width) == (105.0, 68.0):
        return None
    return json.dumps({"length": length, "width": width}).encode()


def render(tracking: pl.DataFrame, match: dict, file_format: str = "parquet") -> dict[str, bytes]:
    """{file name: content} of the download of ``tracking`` (rows in frame order), the pitch file included."""
    files = {file_name(file_format): b"".join(chunks([tracking], match, file_format))}
    pitch = pitch_file(match)
    if pitch is not None:
        files["pitch.json"] = pitch
    return files
