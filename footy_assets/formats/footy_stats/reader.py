"""footy_stats: the vendor's tracking download, ``tracking.parquet`` or ``tracking.json``.

The vendor's tracking-download API: ``timestamp`` (ms, the vendor's own clock), ``role``,
``player_id`` (``team-jersey`` or null when the jersey was not read), ``player_id_conf``, ``x``/``y`` in
centimetres with the origin at the bottom-left corner, ``bbox_x``/``bbox_y`` in pixels. There is no
period column: a gap of 300 s or more without frames starts a new period. fps comes from the clock.
"""

from __future__ import annotations

import io
import json
import re

import polars as pl

from footy_assets.core import canonical
from footy_assets.formats.common import (
    Delivery,
    FeedError,
    FeedInfo,
    ReadResult,
    excerpt,
    json_kind,
    load_json_document,
    max_line_bytes,
    read_pitch_json,
    read_vendor_parquet,
    refuse_implausible_rows,
    strip_bom,
    validate_vendor_rows,
)
from footy_assets.formats.footy_stats.contract import FootyStatsRows

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
JSON_CHUNK_BYTES = 4 << 20  # a few MB: below the C allocator's threshold for a mapping of its own, reused
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
        wrong = (
            (not (have.is_numeric() or have == pl.Null))
            if dtype.is_numeric()
            else have not in (pl.String, pl.Categorical, pl.Null) and not isinstance(have, pl.Enum)
        )
        if wrong:  # booleans cast to 0/1 (every x on the goal line), lists and text are not the vendor's types
            first = frame[name].is_not_null().arg_true()
            kind = "a number" if dtype.is_numeric() else "text"
            raise FeedError(
                file,
                f"column {name} is stored as {have}, not {kind} (the download holds numbers, and text for ids "
                "and roles)",
                row=int(first[0]) if first.len() else None,
            )
        if dtype.is_integer() and have.is_float():
            # Centimetres are integers in the vendor schema; a fractional value is a broken file.
            bad = frame.select(pl.arg_where((pl.col(name) != pl.col(name).round(0)).fill_null(False)).first())
            index = bad.item()
            if index is not None:
                raise FeedError(file, f"{name} = {frame[name][index]} is not a whole number", row=int(index))
        exprs.append(pl.col(name).cast(dtype, strict=False))
    out = frame.with_row_index("row").select(pl.col("row").cast(pl.Int64), *exprs)
    for name in COLUMNS:  # noqa: PLC0206  a cast that produced null from a non-null value is a type error
        if name in frame.columns and frame[name].dtype != out[name].dtype:
            lost = out[name].is_null() & frame[name].is_not_null()
            index = lost.arg_true()
            if index.len():
                i = int(index[0])
                raise FeedError(file, f"{name} = {excerpt(frame[name][i])} is not a {COLUMNS[name]}", row=i)
    return out


def _read_parquet(delivery: Delivery, file: str) -> pl.DataFrame:
    return _conform(read_vendor_parquet(delivery, file), file)


def _ndjson_chunks(source, chunk_bytes: int = JSON_CHUNK_BYTES, file: str = "tracking.json"):
    """Turn a JSON array of flat row objects (bytes, or a stream of them) into newline-delimited JSON, chunk by
    chunk.

    Rows of the download are flat objects (no nested braces), so the array is cut at ``}`` + ``,`` + ``{``
    boundaries. The bytes are read ``chunk_bytes`` at a time, as from a stream: each chunk ends at its last ``}``
    and the unfinished object is carried over to the next (refused past ``max_line_bytes()``: a row that long is
    not a row). Only one chunk of rows is made at a time, each with one copy of its bytes (the file's bytes are
    looked at in place). Yields (ndjson bytes, rows before this chunk).
    """
    whole = source if isinstance(source, bytes) else source.read()
    view, size = memoryview(whole), len(whole)
    start = end = rows_before = 0  # the bytes at hand: whole[start:end], the carried ones and the block just read
    opened = False
    while True:
        block, first = end < size, end == 0  # whether a block was read (a stream's read returned bytes)
        end = min(end + chunk_bytes, size)
        if not opened:
            if first:  # a UTF-8 BOM at the start of the first block is skipped; UTF-16/32 refused
                head = bytes(view[: min(end, 64)])
                start += len(head) - len(strip_bom(head, file))
            lead = _first_non_blank(whole, start, end)
            if lead == end and block:  # only whitespace so far
                start = end
                continue
            if lead == end or whole[lead] != ord("["):
                raise ValueError("expected a JSON array of row objects ([{...}, {...}])")
            start, opened = lead + 1, True
        if block:
            cut = whole.rfind(b"}", start, end) + 1  # keep the unfinished object for the next block
            rows_end = cut if cut > 0 else start
            if end - rows_end > max_line_bytes():  # one "row" this long is not a row: never grow without bound
                raise ValueError(f"a row object longer than {max_line_bytes():,} bytes (FOOTY_MAX_LINE_BYTES)")
        else:
            rows_end = start + len(bytes(view[start:end]).rstrip())
            if rows_end == start or whole[rows_end - 1] != ord("]"):
                raise ValueError("the JSON array is not closed with ']' (truncated file?)")
            rows_end -= 1
        ndjson, rows = _rows_as_lines(view[start:rows_end])
        if rows:
            yield ndjson, rows_before
            rows_before += rows
        if not block:
            return
        start = rows_end


_NOT_BLANK = re.compile(rb"[^ \t\n\r\x0b\x0c]")  # bytes.strip()'s whitespace
_COMMAS = re.compile(rb",*")


def _first_non_blank(data: bytes | memoryview, start: int, end: int) -> int:
    """The offset of the first byte of ``data[start:end]`` that is not ASCII whitespace (``end`` if none)."""
    found = _NOT_BLANK.search(data, start, end)
    return found.start() if found else end


def _end_non_blank(data: memoryview, start: int) -> int:
    """The offset after the last byte of ``data[start:]`` that is not ASCII whitespace (``start`` if none): its
    last 64 bytes looked at, the whole only when they are all whitespace."""
    tail = max(start, len(data) - 64)
    kept = len(data[tail:].tobytes().rstrip())
    return tail + kept if kept or tail == start else start + len(data[start:].tobytes().rstrip())


_BLANKS = (b" ", b"\t", b"\r", b"\x0b", b"\x0c")  # ASCII whitespace but the line break


def _rows_as_lines(data: memoryview) -> tuple[bytes, int]:
    """(the row objects of ``data``, a piece of the array cut after a ``}``, one a line; how many lines): every line
    break and carriage return a space, the piece stripped of whitespace and of the ``,`` before its first row, and
    each ``}`` + ``,`` + ``{`` between two rows (whitespace around the comma allowed) made ``}`` + line break + ``{``.
    A download written a row a line with no other whitespace (each line break between ``},`` and ``{``, one
    ``}`` a row) has the commas before its line breaks made spaces, in place in one copy of the piece (numpy, no
    search of the text); any other goes through regular expressions. The rows are the same either way."""
    import numpy as np

    # the piece: stripped, its leading commas, stripped again (bytes.strip and lstrip, on offsets)
    first = _first_non_blank(data, _COMMAS.match(data, _first_non_blank(data, 0, len(data))).end(), len(data))
    piece = bytearray(data[first : max(first, _end_non_blank(data, first))])
    if piece and not any(c in piece for c in _BLANKS):  # only line breaks are whitespace in the fast case
        text = np.frombuffer(piece, dtype=np.uint8)
        breaks = np.flatnonzero(text == ord("\n"))
        if (
            (not breaks.size or (breaks[0] >= 2 and breaks[-1] < text.size - 1))
            and (text[breaks - 2] == ord("}")).all()
            and (text[breaks - 1] == ord(",")).all()
            and (text[breaks + 1] == ord("{")).all()
            # a "}" a row, the last of each: no "},{" between two rows on one line (nor in a text)
            and np.count_nonzero(text == ord("}")) == breaks.size + 1
        ):
            text[breaks - 1] = ord(" ")  # "}, " + line break + "{"
            return bytes(piece), breaks.size + 1
    piece = data.tobytes().replace(b"\n", b" ").replace(b"\r", b" ").strip().lstrip(b",").strip()
    if not piece:
        return b"", 0
    ndjson = _OBJECT_BOUNDARY.sub(b"}\n{", piece)
    return ndjson, ndjson.count(b"\n") + 1


def _count(data: bytes, byte: bytes) -> int:
    """How many times ``byte`` is in ``data`` (numpy: a few times faster than ``bytes.count``)."""
    import numpy as np

    return int(np.count_nonzero(np.frombuffer(data, dtype=np.uint8) == ord(byte)))


_NUMBER_FIELDS = {"timestamp", "player_id_conf", "x", "y", "bbox_x", "bbox_y"}
_TEXT_FIELDS = {"role", "player_id"}
_KEY = re.compile(r'"((?:[^"\\]|\\.)*)"\s*:')


def _first_bad_row(lines: list[bytes]) -> tuple[int, str] | None:
    """(0-based index, what is wrong) of the first row object that is not strict JSON (duplicate keys, NaN,
    ``1e999``, a 20-digit number) or holds a value of the wrong JSON type (``true`` for a number, a list, a
    number for text). The error path only, after a vectorised parse failed or a count said to look."""
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            doc = load_json_document(line, "")
        except FeedError as exc:
            return index, exc.what
        if not isinstance(doc, dict):
            return index, f"expected a JSON object, found {json_kind(doc)}"
        for key, value in doc.items():
            if value is None:
                continue
            if key in _NUMBER_FIELDS and (isinstance(value, bool) or not isinstance(value, (int, float))):
                return index, f"{key} = {json.dumps(value)[:60]} is not a number"
            if key in _NUMBER_FIELDS and isinstance(value, int) and not -(2**63) <= value < 2**63:
                return index, f"{key} = {excerpt(value)} is past a 64-bit integer"
            if key in _TEXT_FIELDS and not isinstance(value, str):
                return index, f"{key} = {json.dumps(value)[:60]} is not text"
    return None


def _duplicate_key_row(ndjson: bytes, rows: int) -> tuple[int, str] | None:
    """A row object of this chunk that names a key twice (JSON leaves it to the reader which one wins), with
    the duplicated key. Cheap when there is none: the count of ``:`` in the chunk is compared with the keys a
    row has (one pass in C); only a chunk whose rows differ in their keys, or that escapes characters
    (``\\u0078`` is ``x``), is looked at row by row (vectorised: the keys of every line, then their count)."""
    first = ndjson[: ndjson.find(b"\n") if b"\n" in ndjson else len(ndjson)]
    keys = len(_KEY.findall(first.decode("utf-8", "replace")))
    if b"\\" not in ndjson and _count(ndjson, b":") == keys * rows:
        return None
    lines = pl.Series(ndjson.decode("utf-8", "replace").split("\n"))
    found = (
        pl.DataFrame({"keys": lines.str.extract_all(_KEY.pattern)})
        .with_row_index("i")
        .filter((pl.col("keys").list.n_unique() < pl.col("keys").list.len()) | lines.str.contains("\\", literal=True))
    )
    for index in found["i"].to_list():  # rows that may repeat a key: the strict parser decides
        bad = _first_bad_row([lines[index].encode()])
        if bad is not None:
            return index, bad[1]
    return None


def _read_json(delivery: Delivery, file: str) -> pl.DataFrame:
    # Parse wide (Int64/Float64) and let _conform check ranges and cast: narrow ints panic polars' ndjson.
    wide = {pl.Int16: pl.Int64, pl.Float32: pl.Float64}
    schema = {k: (pl.Float64 if k in ("x", "y") else wide.get(v, v)) for k, v in COLUMNS.items()}

    def rows_of(chunk: tuple[bytes, int]) -> pl.DataFrame:
        ndjson, rows_before = chunk
        try:
            rows = pl.read_ndjson(io.BytesIO(ndjson), schema=schema)
        except (Exception, pl.exceptions.PanicException) as exc:  # noqa: BLE001  locate the bad object
            bad = _first_bad_row(ndjson.split(b"\n"))
            if bad is None:
                raise FeedError(file, f"could not read rows: {str(exc)[:200]}") from None
            number, what = bad
            raise FeedError(file, f"row object {what}", row=rows_before + number) from None
        dup = _duplicate_key_row(ndjson, rows.height)
        if dup is not None:
            number, what = dup
            raise FeedError(file, f"row object {what}", row=rows_before + number) from None
        return rows

    try:  # (polars reads each chunk on both cores already)
        parts = [rows_of(chunk) for chunk in _ndjson_chunks(delivery.read_bytes(file), file=file)]
    except FeedError:
        raise
    except ValueError as exc:
        raise FeedError(file, str(exc)) from None
    delivery.release(file)  # parsed: the rows are all that is needed of it
    frame = pl.concat(parts) if parts else pl.DataFrame(schema=schema)
    return _conform(frame, file)


def parse(delivery: Delivery) -> tuple[pl.DataFrame, str]:
    """The vendor rows of a footy_stats match folder, validated; and the name of the file read."""
    names = set(delivery.names)
    present = [n for n in ("tracking.parquet", "tracking.json") if n in names]
    if not present:
        raise FeedError(delivery.match_id, f"no tracking.parquet or tracking.json (found: {', '.join(sorted(names))})")
    if len(present) > 1:
        raise FeedError("tracking.parquet", "both tracking.parquet and tracking.json are landed: keep one")
    file = present[0]
    reader = _read_parquet if file.endswith(".parquet") else _read_json
    rows = reader(delivery, file)
    if rows.height == 0:
        raise FeedError(file, "holds no rows")
    # "team-jersey" in ASCII digits: the contract's \\d also takes other scripts' digits ("0-١٠"), which no
    # cast to a jersey number reads
    ids = rows["player_id"].unique().drop_nulls()  # a few dozen values: the regex runs on those
    wrong = ids.filter(~ids.str.contains(r"^[01]-[0-9]{1,3}$"))
    if wrong.len():
        odd = rows.select(pl.arg_where(pl.col("player_id").is_in(wrong.implode())).first()).item()
        raise FeedError(
            file,
            f"player_id = {excerpt(rows['player_id'][odd])} is not team-jersey (0 or 1, a dash, "
            'a jersey number of 1-3 ASCII digits: "0-10")',
            row=int(rows["row"][odd]),
        )
    rows = validate_vendor_rows(rows, FootyStatsRows, file, "row", unit="row")
    return rows, file


MAX_GAP_MS = 3 * 3600 * 1000  # a gap longer than this between two frames: not one match (half time is ~15 min)
MIN_PERIOD_MS = 10_000  # a period (after a gap of 300 s) spanning less than this is not a period


def check_clock(rows: pl.DataFrame, file: str) -> int:
    """The frame rate, after refusing a clock that is not one match's: a gap of more than 3 hours between frames
    (a 40-billion-ms step, a row 23 days late), a "period" spanning less than 10 s of frames once the clock has
    more than one (a lone row after a 300 s gap), timestamps stepping by something no whole frame rate gives
    (714 ms is 1.4 fps: rounded it would merge frames). Vectorised over the distinct timestamps."""
    times = (
        rows.lazy()
        .group_by("timestamp")
        .agg(pl.col("row").min())
        .sort("timestamp")
        .with_columns(step=pl.col("timestamp").diff())
        .collect()
    )
    far = times.filter(pl.col("step") > MAX_GAP_MS).head(1)
    if far.height:
        step = int(far["step"][0])
        raise FeedError(
            file,
            f"timestamp {far['timestamp'][0]} comes {step:,} ms ({step / 86_400_000:.1f} days) after "
            "the frame before it: more than 3 hours without a frame is not one match's clock",
            row=int(far["row"][0]),
        )
    periods = (
        times.with_columns(period=canonical.periods_from_gaps(pl.col("timestamp")))
        .group_by("period")
        .agg(
            span=pl.col("timestamp").max() - pl.col("timestamp").min(),
            frames=pl.len(),
            first=pl.col("timestamp").min(),
            row=pl.col("row").first(),
        )
        .sort("period")
    )
    short = periods.filter(pl.col("span") < MIN_PERIOD_MS).head(1) if periods.height > 1 else periods.clear()
    if short.height:
        p = short.row(0, named=True)
        raise FeedError(
            file,
            f"the frames from timestamp {p['first']} make a period (after a gap of 300 s or more) of "
            f"{p['frames']} frame{'s' if p['frames'] != 1 else ''} over {p['span']:,} ms: a period spans "
            "at least 10 s, so the clock is not one match's",
            row=int(p["row"]),
        )
    try:
        fps = canonical.estimate_fps(rows["timestamp"])
    except ValueError as exc:
        raise FeedError(file, str(exc)) from None
    steps = times["step"].drop_nulls()
    median = float(steps.filter(steps > 0).median())
    if abs(median - 1000.0 / fps) > 1.0:  # the clock is in whole ms: 33/34 ms steps are 30 fps
        raise FeedError(
            file,
            f"timestamps step by {median:g} ms, {1000.0 / median:.2f} frames per second: not a whole "
            "frame rate (fps is stored as an integer and numbers the frames; rounded, frames would merge)",
        )
    return fps


def _identities(rows: pl.DataFrame) -> pl.DataFrame:
    """team, jersey and canonical player_id for each distinct vendor player_id (a few dozen, not millions)."""
    parts = pl.col("player_id").str.split_exact("-", 1)
    return (
        rows.select(pl.col("player_id").unique().drop_nulls())
        .with_columns(
            team=parts.struct.field("field_0").cast(pl.Int8), jersey=parts.struct.field("field_1").cast(pl.Int16)
        )
        .with_columns(canonical_id=pl.format("{}-{}", "team", "jersey"))
    )


def read(delivery: Delivery) -> ReadResult:
    """Read one footy_stats match folder into canonical tracking rows."""
    rows, file = parse(delivery)
    length, width = read_pitch_json(delivery)
    fps = check_clock(rows, file)
    ids = _identities(rows)
    # each row's vendor id looked up once (its index in ``ids``); team, jersey and id are then taken by index
    code = pl.col("player_id").replace_strict(ids["player_id"], pl.int_range(ids.height, eager=True), default=None)
    lookup = {name: pl.lit(ids[name]).gather(pl.col("code")) for name in ("team", "jersey", "canonical_id")}
    located = rows.lazy().filter(pl.col("x").is_not_null() & pl.col("y").is_not_null())
    frame = (
        canonical.in_time_order(located, "timestamp")
        .with_columns(code=code.cast(pl.UInt32))
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
    rows = rows.select("row", "timestamp", "player_id")  # what a duplicate player's message needs (peak memory)
    periods = frame["period"].max()
    if periods is None:
        raise FeedError(file, "no row has a position (x and y are null everywhere)")
    refuse_implausible_rows(frame, file, "row", unit="row")
    if periods > 5:
        raise FeedError(file, "more than 5 periods found from gaps of 300 s: the clock is not one match")
    flips = canonical.home_flip_by_period(frame)
    tracking = canonical.finalise(canonical.orient(frame, flips), delivery.match_id, FORMAT, delivery.fingerprint)
    del frame  # its source rows and unrotated positions: not needed again (peak memory)
    dup = canonical.duplicate_players(tracking)
    if dup is not None and dup.height:
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
