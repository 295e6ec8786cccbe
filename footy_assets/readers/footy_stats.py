"""footy_stats: the vendor's tracking download, ``tracking.parquet`` or ``tracking.json``.

Seed ``vendor-api-tracking-download.txt``: ``timestamp`` (ms, the vendor's own clock), ``role``,
``player_id`` (``team-jersey`` or null when the jersey was not read), ``player_id_conf``, ``x``/``y`` in
centimetres with the origin at the bottom-left corner, ``bbox_x``/``bbox_y`` in pixels. There is no
period column: a gap of 300 s or more without frames starts a new period. fps comes from the clock.
"""

from __future__ import annotations

import io
import re

import polars as pl

from footy_assets import canonical
from footy_assets.contracts.footy_stats import FootyStatsRows
from footy_assets.lake import Lake
from footy_assets.landing import LandedMatch
from footy_assets.readers.common import (
    FeedError,
    FeedInfo,
    ReadResult,
    excerpt,
    first_bad_line,
    max_line_bytes,
    read_pitch_json,
    refuse_implausible_rows,
    validate_vendor_rows,
)

FORMAT = "footy_stats"
COLUMNS: dict[str, pl.DataType] = {
    "timestamp": pl.Int64,
    "role": pl.String,
    "player_id": pl.String,
    "player_id_conf": pl.Float32,
    "x": pl.Int32,
    "y": pl.Int32,
    "bbox_x": pl.Int16,
    "bbox_y": pl.Int16,
}
REQUIRED = ("timestamp", "role", "player_id", "x", "y")
JSON_CHUNK_BYTES = 32 << 20
_OBJECT_BOUNDARY = re.compile(rb"\}\s*,\s*\{")


def _conform(frame: pl.DataFrame, file: str) -> pl.DataFrame:
    """Check the required columns are there, add optional ones as null, cast to the vendor types."""
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise FeedError(file, f"missing column(s) {', '.join(missing)}; found {', '.join(frame.columns)}")
    exprs = []
    for name, dtype in COLUMNS.items():
        if name not in frame.columns:
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
            continue
        have = frame.schema[name]
        if dtype.is_integer() and have.is_float():
            # Centimetres are integers in the vendor schema; a fractional value is a broken file.
            bad = frame.select(pl.arg_where((pl.col(name) != pl.col(name).round(0)).fill_null(False)).first())
            index = bad.item()
            if index is not None:
                raise FeedError(file, f"{name} = {frame[name][index]} is not a whole number", row=int(index))
        exprs.append(pl.col(name).cast(dtype, strict=False))
    out = frame.with_row_index("row").select(pl.col("row").cast(pl.Int64), *exprs)
    for name in COLUMNS:  # a cast that produced null from a non-null value is a type error
        if name in frame.columns and frame[name].dtype != out[name].dtype:
            lost = out[name].is_null() & frame[name].is_not_null()
            index = lost.arg_true()
            if index.len():
                i = int(index[0])
                raise FeedError(file, f"{name} = {excerpt(frame[name][i])} is not a {COLUMNS[name]}", row=i)
    return out


def _read_parquet(lake: Lake, uri: str, file: str) -> pl.DataFrame:
    # polars reads the file itself (float16 included): no Arrow copy of 3 M rows on the way. It reads the bytes
    # read_delivery hashed (read_match), never the name again.
    try:
        with lake.open_regular(uri) as stream:
            frame = pl.read_parquet(stream)
    except (pl.exceptions.ComputeError, OSError, pl.exceptions.PolarsError) as exc:
        raise FeedError(file, f"not a readable Parquet file ({str(exc).splitlines()[0][:200]})") from None
    return _conform(frame, file)


def _ndjson_chunks(stream, chunk_bytes: int = JSON_CHUNK_BYTES):
    """Turn a streamed JSON array of flat row objects into newline-delimited JSON, chunk by chunk.

    Rows of the download are flat objects (no nested braces), so the array is cut at ``}`` + ``,`` + ``{``
    boundaries. Only one chunk (plus the unfinished object carried over) is in memory at a time, so files
    of hundreds of MB are read in bounded memory. Yields (ndjson bytes, rows before this chunk).
    """
    carry, rows_before, opened, closed = b"", 0, False, False
    while True:
        block = stream.read(chunk_bytes)
        data = carry + block
        if not opened:
            stripped = data.lstrip()
            if not stripped and block:
                carry = b""
                continue
            if not stripped.startswith(b"["):
                raise ValueError("expected a JSON array of row objects ([{...}, {...}])")
            data, opened = stripped[1:], True
        if block:
            cut = data.rfind(b"}")  # keep the unfinished object for the next block
            carry, data = (data[cut + 1 :], data[: cut + 1]) if cut >= 0 else (data, b"")
            if len(carry) > max_line_bytes():  # one "row" this long is not a row: never grow without bound
                raise ValueError(f"a row object longer than {max_line_bytes():,} bytes (FOOTY_MAX_LINE_BYTES)")
        else:
            carry = b""
            tail = data.rstrip()
            if not tail.endswith(b"]"):
                raise ValueError("the JSON array is not closed with ']' (truncated file?)")
            data, closed = tail[:-1], True
        piece = data.replace(b"\n", b" ").replace(b"\r", b" ").strip().lstrip(b",").strip()
        if piece:
            ndjson = _OBJECT_BOUNDARY.sub(b"}\n{", piece)
            yield ndjson, rows_before
            rows_before += ndjson.count(b"\n") + 1
        if closed:
            return


def _read_json(lake: Lake, uri: str, file: str) -> pl.DataFrame:
    # Parse wide (Int64/Float64) and let _conform check ranges and cast: narrow ints panic polars' ndjson.
    wide = {pl.Int16: pl.Int64, pl.Float32: pl.Float64}
    schema = {k: (pl.Float64 if k in ("x", "y") else wide.get(v, v)) for k, v in COLUMNS.items()}
    parts = []
    try:
        with lake.open_regular(uri) as stream:
            for ndjson, rows_before in _ndjson_chunks(stream):
                try:
                    parts.append(pl.read_ndjson(io.BytesIO(ndjson), schema=schema))
                except (Exception, pl.exceptions.PanicException) as exc:  # locate the bad object
                    bad = first_bad_line(ndjson.decode("utf-8", "replace").split("\n"))
                    if bad is None:
                        raise FeedError(file, f"could not read rows: {exc}") from None
                    number, what = bad
                    raise FeedError(file, f"row object {what}", row=rows_before + number - 1) from None
    except FeedError:
        raise
    except ValueError as exc:
        raise FeedError(file, str(exc)) from None
    frame = pl.concat(parts) if parts else pl.DataFrame(schema=schema)
    return _conform(frame, file)


def parse(lake: Lake, landed: LandedMatch) -> tuple[pl.DataFrame, str]:
    """The vendor rows of a footy_stats match folder, validated; and the name of the file read."""
    names = {f.name for f in landed.files}
    present = [n for n in ("tracking.parquet", "tracking.json") if n in names]
    if not present:
        raise FeedError(
            landed.uri.rsplit("/", 1)[-1], f"no tracking.parquet or tracking.json (found: {', '.join(sorted(names))})"
        )
    if len(present) > 1:
        raise FeedError("tracking.parquet", "both tracking.parquet and tracking.json are landed: keep one")
    file = present[0]
    reader = _read_parquet if file.endswith(".parquet") else _read_json
    rows = reader(lake, landed.file_uri(file), file)
    if rows.height == 0:
        raise FeedError(file, "holds no rows")
    rows = validate_vendor_rows(rows, FootyStatsRows, file, "row", unit="row")
    return rows, file


def _identities(rows: pl.DataFrame) -> pl.DataFrame:
    """team, jersey and canonical player_id for each distinct vendor player_id (a few dozen, not millions)."""
    parts = pl.col("player_id").str.split_exact("-", 1)
    return (
        rows.select(pl.col("player_id").unique().drop_nulls())
        .with_columns(team=parts.struct.field("field_0").cast(pl.Int8),
                      jersey=parts.struct.field("field_1").cast(pl.Int16))
        .with_columns(canonical_id=pl.format("{}-{}", "team", "jersey"))
    )


def read(lake: Lake, landed: LandedMatch) -> ReadResult:
    """Read one footy_stats match folder into canonical tracking rows (CONTRACTS 2, 3)."""
    rows, file = parse(lake, landed)
    length, width = read_pitch_json(lake, landed)
    fps = canonical.estimate_fps(rows["timestamp"])
    ids = _identities(rows)
    lookup = {name: pl.col("player_id").replace_strict(ids["player_id"], ids[name], default=None)
              for name in ("team", "jersey", "canonical_id")}
    located = rows.lazy().filter(pl.col("x").is_not_null() & pl.col("y").is_not_null())
    frame = (
        canonical.in_time_order(located, "timestamp")
        .select(
            "row",
            timestamp_ms=pl.col("timestamp"),
            period=canonical.periods_from_gaps(pl.col("timestamp")),
            role=pl.col("role"),
            team=lookup["team"],
            jersey=lookup["jersey"],
            player_id=lookup["canonical_id"],
            # in the canonical type already: finalise would make a second copy of 3 M rows
            x_m=(pl.col("x") / 100.0 - length / 2).cast(pl.Float32),
            y_m=(pl.col("y") / 100.0 - width / 2).cast(pl.Float32),
            id_confidence=pl.col("player_id_conf"),
            bbox_x=pl.col("bbox_x"),
            bbox_y=pl.col("bbox_y"),
        )
        .with_columns(canonical.frame_id_expr(fps))
        .collect()  # once: the checks and steps below read it several times
    )
    periods = frame["period"].max()
    if periods is None:
        raise FeedError(file, "no row has a position (x and y are null everywhere)")
    refuse_implausible_rows(frame, file, "row", unit="row")
    if periods > 5:
        raise FeedError(file, "more than 5 periods found from gaps of 300 s: the clock is not one match")
    flips = canonical.home_flip_by_period(frame)
    tracking = canonical.finalise(canonical.orient(frame, flips), landed.match_id, FORMAT, landed.fingerprint)
    dup = canonical.duplicate_players(tracking)
    if dup.height:
        frame_id, player_id = dup.row(0)
        at = rows.filter((pl.col("player_id") == player_id) & (canonical.frame_id_expr(fps, "timestamp") == frame_id))
        raise FeedError(file, f"player {player_id} appears twice at timestamp {at['timestamp'][0]}", row=at["row"][1])
    info = FeedInfo(
        format=FORMAT,
        files=[file],
        fps=fps,
        pitch_length_m=length,
        pitch_width_m=width,
        vendor_rows=rows.height,
        flipped_periods=sorted(p for p, f in flips.items() if f),
    )
    return ReadResult(tracking, info)
