"""What every reader returns and how it reports bad input."""

from __future__ import annotations

import io
import json
import math
import os
import re
from dataclasses import asdict, dataclass, field
from functools import cache

import pandera.polars as pa
import polars as pl

DEFAULT_MAX_FILE_BYTES = 8 << 30  # a 90-minute match is 0.1-2 GB in any format
DEFAULT_MAX_LINE_BYTES = 1 << 20  # a CDF frame is ~3 KB, a SportVU message ~1 KB


def max_file_bytes() -> int:
    """The largest landed file a reader opens (``FOOTY_MAX_FILE_BYTES``, default 8 GiB)."""
    return int(os.environ.get("FOOTY_MAX_FILE_BYTES", DEFAULT_MAX_FILE_BYTES))


def max_line_bytes() -> int:
    """The longest line (or JSON row object) a reader accepts (``FOOTY_MAX_LINE_BYTES``, default 1 MiB)."""
    return int(os.environ.get("FOOTY_MAX_LINE_BYTES", DEFAULT_MAX_LINE_BYTES))


def excerpt(value, limit: int = 60) -> str:
    """A short, printable excerpt of a vendor value or line for an error message (never a whole line):
    text is quoted, numbers are not."""
    text = value if isinstance(value, str) else str(value)
    text = "".join(ch if ch.isprintable() else "?" for ch in text[: limit + 1])
    text = text[:limit] + ("..." if len(text) > limit else "")
    return repr(text) if isinstance(value, str) else text


def decode_utf8(data: bytes, file: str) -> str:
    """``data`` as text, or a FeedError naming the file and the line of the first byte that is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - data.rfind(b"\n", 0, exc.start)
        raise FeedError(file, f"not UTF-8 text (byte 0x{data[exc.start]:02x} at column {column})", line=line) from None


def check_line_lengths(data: bytes, file: str) -> None:
    """Refuse a line longer than ``max_line_bytes()``: one backward search for a line break per window of that
    many bytes (a few hundred for a full match), never a look at every line."""
    limit = max_line_bytes()
    pos, size = 0, len(data)
    while size - pos > limit:  # the rest could hold a line over the limit
        last = data.rfind(b"\n", pos, pos + limit + 1)
        if last == -1:  # limit + 1 bytes from a line's start without a line break
            length = (data.find(b"\n", pos) if data.find(b"\n", pos) != -1 else size) - pos
            raise FeedError(
                file,
                f"a line of {length:,} bytes is over the limit of {limit:,} (FOOTY_MAX_LINE_BYTES)",
                line=data.count(b"\n", 0, pos) + 1,
            )
        pos = last + 1


_WHITESPACE = (9, 10, 11, 12, 13, 32)  # bytes.strip()'s: a line of nothing else is blank


def _line_layout(data: bytes, chunk_bytes: int = 4 << 20):
    """(start offset, blank?) of every line of ``data``, vectorised over chunks of the bytes (numpy views, no copy
    of the text): a file of hundreds of MB costs a few MB beyond itself. A line is looked at byte by byte only in
    a chunk where some line starts with whitespace (an empty line, an indented one); elsewhere its first byte
    says it is not blank."""
    import numpy as np

    whole = np.frombuffer(data, dtype=np.uint8)
    ends, blank = [], []
    start = 0
    while start < whole.size:  # per chunk of bytes (a few per file), ending after a newline
        stop = min(start + chunk_bytes, whole.size)
        cut = data.rfind(b"\n", start, stop) + 1 if stop < whole.size else stop
        cut = cut if cut > start else data.find(b"\n", stop) + 1 or whole.size  # a line longer than a chunk
        chunk = whole[start:cut]
        newline = np.flatnonzero(chunk == 10)
        line_ends = (
            newline
            if cut < whole.size or (newline.size and newline[-1] == chunk.size - 1)
            else np.append(newline, chunk.size)
        )
        first = np.concatenate([[0], line_ends[:-1] + 1])
        if not np.isin(chunk[first], _WHITESPACE).any():  # each line starts with a byte that is not whitespace
            blank.append(np.zeros(line_ends.size, dtype=bool))
        else:  # a line is blank when it holds nothing but whitespace
            content = np.cumsum(~np.isin(chunk, _WHITESPACE), dtype=np.int32)
            before = np.where(first > 0, content[np.maximum(first - 1, 0)], 0)
            at_end = content[np.minimum(line_ends, chunk.size - 1)]
            blank.append(at_end - before == 0)
        ends.append(line_ends.astype(np.int64) + start)
        start = cut
    ends = np.concatenate(ends) if ends else np.zeros(0, np.int64)
    blank = np.concatenate(blank) if blank else np.zeros(0, bool)
    starts = np.concatenate([[0], ends[:-1] + 1]).astype(np.int64) if ends.size else ends
    return starts, blank


def check_utf8(data: bytes, file: str) -> None:
    """Refuse bytes that are not UTF-8, naming the line and column of the first; Arrow checks them in place
    (no decoded copy of the text)."""
    import numpy as np
    import pyarrow as pa

    try:
        offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64).tobytes())
        pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)]).validate(full=True)
    except pa.ArrowInvalid:
        decode_utf8(data, file)  # names the line and column of the first bad byte
        raise


def scan_lines(data: bytes, file: str, chunk_bytes: int = 4 << 20):
    """The 1-based numbers of the non-blank lines of ``data`` (a numpy array), after refusing a line over
    ``max_line_bytes()`` and bytes that are not UTF-8. Vectorised over chunks of the bytes (``_line_layout``)."""
    return scan_line_starts(data, file, chunk_bytes)[0]


def scan_line_starts(data: bytes, file: str, chunk_bytes: int = 4 << 20):
    """(the 1-based numbers of the non-blank lines, the byte offset where each of them starts): ``scan_lines``
    with the offsets (numpy arrays)."""
    import numpy as np

    check_utf8(data, file)
    check_line_lengths(data, file)
    starts, blank = _line_layout(data, chunk_bytes)
    kept = np.flatnonzero(~blank)
    return kept + 1, starts[kept]


def each_line_opens_an_object(data: bytes, starts) -> bool:
    """Whether every line starting at ``starts`` (byte offsets, from ``scan_line_starts``) begins with ``{``, as a
    JSON object does when its line is not indented (one byte looked at a line), and no carriage return but one
    before a line feed splits a line: some parsers (pyarrow's) end a line at either."""
    import numpy as np

    whole = np.frombuffer(data, dtype=np.uint8)
    if not (whole[starts] == ord("{")).all():
        return False
    if b"\r" not in data:  # the usual case, at the speed of a byte search
        return True
    after = np.flatnonzero(whole == ord("\r")) + 1
    return bool((whole[after[after < whole.size]] == ord("\n")).all())


def text_lines(data: bytes, file: str) -> pl.DataFrame:
    """``line`` (1-based) and ``text`` (without its line break) of every non-blank line of ``data``, after the
    checks of ``scan_lines``. The lines are cut from the bytes in place (one copy, into polars), not decoded
    into Python strings first."""
    import numpy as np
    import pyarrow as pa

    check_utf8(data, file)
    check_line_lengths(data, file)
    starts, blank = _line_layout(data)
    offsets = np.append(starts, len(data))  # each line with its line break: offsets must be contiguous
    lines = pa.Array.from_buffers(pa.large_string(), starts.size, [None, pa.py_buffer(offsets), pa.py_buffer(data)])
    keep = np.flatnonzero(~blank)
    if keep.size < starts.size:  # blank lines are left out (a copy); usually there are none
        lines = lines.take(pa.array(keep))
    return pl.DataFrame({"line": keep + 1, "text": pl.from_arrow(lines).str.strip_chars_end("\r\n")})


@dataclass(frozen=True)
class Delivery:
    """One landed match as a reader sees it: the bytes of its files, read (and hashed) once by the lake. A reader
    opens names of the delivery, never a path, so what it parses is exactly what was fingerprinted."""

    match_id: str
    fingerprint: str
    contents: dict[str, bytes | None] = field(repr=False)
    # made to be read once (the lake's, ``lake.delivery.read_delivery``): ``release`` lets go of a parsed file
    read_once: bool = False

    @property
    def names(self) -> list[str]:
        """The delivery's file names, in landing order."""
        return list(self.contents)

    def read_bytes(self, name: str) -> bytes:
        if name not in self.contents:
            raise FeedError(name, f"not a file of {self.match_id}'s delivery")
        data = self.contents[name]
        if data is None:
            raise FeedError(name, f"already parsed: its bytes were released (read {self.match_id}'s delivery again)")
        return data

    def open(self, name: str) -> io.BytesIO:
        """A binary stream over one file's bytes (no copy)."""
        return io.BytesIO(self.read_bytes(name))

    def release(self, name: str) -> None:
        """Let go of the bytes of ``name``, parsed by a reader that needs them no more, where the delivery is read
        once (``read_once``): they are freed as soon as the reader drops its own reference, not when the read
        ends (a full match's file is 0.1-0.4 GB of the read's peak). Any other delivery keeps them."""
        if self.read_once and name in self.contents:
            self.contents[name] = None  # the name stays listed


class FeedError(ValueError):
    """A vendor file that cannot be read: names the file, the line or row, and what was wrong."""

    def __init__(self, file: str, what: str, line: int | None = None, row: int | None = None):
        self.file, self.what, self.line, self.row = file, what, line, row
        where = f", line {line}" if line is not None else (f", row {row}" if row is not None else "")
        super().__init__(f"{file}{where}: {what}")


class ExportError(ValueError):
    """A match that cannot be exported in the format asked for (not published, no positions, not footy_track)."""


@dataclass
class FeedInfo:
    """Facts a reader learned about a match's feed, recorded in ``matches`` and in asset metadata."""

    format: str
    files: list[str]
    fps: int
    pitch_length_m: float
    pitch_width_m: float
    vendor_rows: int  # rows (objects x frames) or messages the vendor file held, before normalisation
    frames_outside_play: int = 0  # frames/messages outside any period (pre-match, breaks), not in tracking
    flipped_periods: list[int] = field(default_factory=list)  # periods rotated so home attacks +x
    # {period: its start in ms on the canonical clock} where the feed says (CDF meta start frames, SportVU's
    # game clock); keys are strings, as in the JSON record. Periods missing here start at their first frame.
    period_start_ms: dict[str, int] = field(default_factory=dict)
    vendor_rows_dropped: int = 0  # vendor rows left out of tracking (footy_track: labels without a role, extra balls)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


@dataclass
class ReadResult:
    tracking: pl.DataFrame
    info: FeedInfo
    landed: object | None = None  # set by the lake: the delivery as read (its fingerprint hashes the bytes parsed)


PARSE_THREADS = 2  # chunks of a file parsed at once (polars works without the GIL): the machine's 2 cores


def in_file_order(work, chunks: list) -> list:
    """``[work(chunk) for chunk in chunks]``, ``PARSE_THREADS`` chunks at a time (polars' string work on one chunk
    runs mostly on one core), the results in order. The first chunk's error in file order is raised, as the loop
    would; the chunks not started yet are dropped."""
    from concurrent.futures import ThreadPoolExecutor

    if len(chunks) < 2:
        return [work(chunk) for chunk in chunks]
    with ThreadPoolExecutor(max_workers=PARSE_THREADS) as pool:
        futures = [pool.submit(work, chunk) for chunk in chunks]
        try:
            return [future.result() for future in futures]
        finally:
            for future in futures:
                future.cancel()


def player_id_expr() -> pl.Expr:
    """``canonical.player_id_expr()`` (``"{team}-{jersey}"`` where both are known, else null) for rows whose
    ``team`` is 0, 1 or null and ``jersey`` 0-32767 or null: the pair's text is taken by index from the formatted
    pairs, not formatted for millions of rows. Another team or a negative jersey is an error, not a wrong id."""
    key = pl.col("team").cast(pl.UInt32) * JERSEYS + pl.col("jersey").cast(pl.UInt32)
    return pl.lit(_player_ids()).gather(key).alias("player_id")


JERSEYS = 1 << 15  # an Int16 jersey that is not negative


@cache
def _player_ids() -> pl.Series:
    """``"{team}-{jersey}"`` of team 0 and 1 and every jersey 0-32767, formatted as the canonical expression does
    (at index team * 32768 + jersey)."""
    from footy_assets.core import canonical

    grid = pl.DataFrame(
        {
            "team": pl.Series([0, 1], dtype=pl.Int8).repeat_by(JERSEYS).explode(),
            "jersey": pl.concat([pl.int_range(JERSEYS, eager=True).cast(pl.Int16)] * 2),
        }
    )
    return grid.select(canonical.player_id_expr()).to_series()


def refuse_implausible_rows(frame, file: str, locator: str, unit: str = "line") -> None:
    """Refuse a delivery whose canonical rows the contract would reject, naming the source line or row:
    a position more than 100 m from the centre spot, a second ball in one frame."""
    from footy_assets.core import canonical

    where = (lambda row: {"line": row[locator]}) if unit == "line" else (lambda row: {"row": row[locator]})
    far = canonical.first_out_of_bounds(frame, locator)
    if far:
        raise FeedError(
            file, f"position ({far['x_m']:.1f}, {far['y_m']:.1f}) m from the centre spot is off any pitch", **where(far)
        )
    extra = canonical.first_extra_ball(frame, locator)
    if extra:
        raise FeedError(file, f"a second ball in frame {extra['frame_id']}", **where(extra))


def validate_vendor_rows(
    rows: pl.DataFrame, schema: type[pa.DataFrameModel], file: str, locator: str, unit: str = "line"
) -> pl.DataFrame:
    """Validate parsed vendor rows with ``schema``; on failure raise a ``FeedError`` naming the first bad row.

    ``locator`` is the column holding the source line (text formats) or row number (tabular formats).
    """
    try:
        return schema.validate(rows, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        first = None
        if "index" in cases.columns:
            located = cases.filter(pl.col("index").is_not_null()).sort("index")
            if located.height:
                first = located.row(0, named=True)
        if first is None:
            first = cases.row(0, named=True)
            raise FeedError(file, f"column {first['column']}: failed {first['check']}") from None
        where = int(rows[locator][int(first["index"])])
        what = f"{first['column']} = {excerpt(first['failure_case'])} fails {first['check']}"
        more = cases.height - 1
        if more:
            what += f" ({more} more problem{'s' if more > 1 else ''} in this file)"
        kwargs = {"line": where} if unit == "line" else {"row": where}
        raise FeedError(file, what, **kwargs) from None


def read_pitch_json(delivery: Delivery) -> tuple[float, float]:
    """Pitch size from an optional ``pitch.json`` (``{"length": 105, "width": 68}``), else 105 x 68."""
    if "pitch.json" not in delivery.names:
        return 105.0, 68.0
    doc = load_json_document(delivery.read_bytes("pitch.json"), "pitch.json")  # strict, BOM skipped
    try:
        # JSON numbers only: float() would also take "105", "1_05" or other scripts' digits written as text
        if any(isinstance(doc[k], bool) or not isinstance(doc[k], (int, float)) for k in ("length", "width")):
            raise TypeError("a size must be a JSON number")
        length, width = float(doc["length"]), float(doc["width"])
    except (KeyError, TypeError, ValueError):
        raise FeedError("pitch.json", 'expected {"length": <metres>, "width": <metres>}') from None
    if not (50 <= length <= 130 and 30 <= width <= 100):  # (NaN fails both)
        raise FeedError("pitch.json", f"implausible pitch size {length} x {width} m")
    return length, width


def _not_json(name: str):
    raise ValueError(f"{name} is not a JSON number")


def first_bad_line(text_lines: list[str], start: int = 0) -> tuple[int, str] | None:
    """The first line (1-based) of a JSON-lines text that is not a JSON object, with the parser's message.

    Only used on the error path, after a vectorised parse has failed, to name the line.
    """
    for number, line in enumerate(text_lines[start:], start=start + 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line, parse_constant=_not_json)
        except json.JSONDecodeError as exc:
            return number, f"not valid JSON ({exc.msg} at column {exc.colno})"
        except ValueError as exc:
            return number, f"not valid JSON ({exc})"
        except RecursionError:
            return number, "not valid JSON (nested too deeply)"
        if not isinstance(value, dict):
            return number, f"expected a JSON object, found {json_kind(value)}"
    return None


def json_kind(value) -> str:
    """What a parsed JSON value is, in JSON's words (``null``, ``a list``), for an error message."""
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "true or false", type(None): "null"}
    return kinds.get(type(value), "a number")


# -- byte order marks, strict JSON documents, Parquet decompression bounds ------------------------
DEFAULT_MAX_PARQUET_ROWS = 20_000_000  # a full match is ~3.3 M rows (footy_stats) / ~3.4 M detections (footy_track)
DEFAULT_MAX_PARQUET_BYTES = 1 << 30  # ... and 30-100 MB uncompressed: 1 GiB is room for 10x that
# the values' bytes in memory allowed per byte of that bound: a repeated value or null compresses to nothing on
# disk, and a million rows of 100 such columns is gigabytes once read
MEMORY_PER_DECOMPRESSED_BYTE = 4


def max_parquet_rows() -> int:
    """The most rows a Parquet file may hold (``FOOTY_MAX_PARQUET_ROWS``, default 20 M)."""
    return int(os.environ.get("FOOTY_MAX_PARQUET_ROWS", DEFAULT_MAX_PARQUET_ROWS))


def max_parquet_bytes() -> int:
    """The most bytes a Parquet file's data may decompress to (``FOOTY_MAX_PARQUET_BYTES``, default 1 GiB)."""
    return int(os.environ.get("FOOTY_MAX_PARQUET_BYTES", DEFAULT_MAX_PARQUET_BYTES))


def check_parquet_bounds(data: bytes, file: str) -> None:
    """Refuse a Parquet file (``data``, its bytes) whose metadata says it decompresses to more rows than
    ``max_parquet_rows()`` or more bytes than ``max_parquet_bytes()`` (a decompression bomb: a few MB of zstd that
    read as 60 M rows), from its footer and page headers, before a single page is decompressed; and one whose claims
    are impossible (a count below zero, a page past its column chunk: ``formats.parquet_layout``), on which a
    Parquet library would end the process."""
    from footy_assets.formats.parquet_layout import MalformedParquet, parquet_layout

    try:
        layout = parquet_layout(
            data, max_rows=max_parquet_rows(), max_memory_bytes=MEMORY_PER_DECOMPRESSED_BYTE * max_parquet_bytes()
        )
    except MalformedParquet as exc:
        raise FeedError(file, f"not a readable Parquet file ({exc})") from None
    rows = max(layout.rows, layout.group_rows)
    if rows > max_parquet_rows():
        raise FeedError(
            file,
            f"holds {rows:,} rows, over the limit of {max_parquet_rows():,} (FOOTY_MAX_PARQUET_ROWS; "
            "a 90-minute match is ~3.4 M)",
        )
    if layout.decompressed_bytes > max_parquet_bytes():
        raise FeedError(
            file,
            f"decompresses to {layout.decompressed_bytes:,} bytes, over the limit of {max_parquet_bytes():,} "
            "(FOOTY_MAX_PARQUET_BYTES; a 90-minute match is ~100 MB)",
        )
    if layout.memory_bytes > MEMORY_PER_DECOMPRESSED_BYTE * max_parquet_bytes():
        raise FeedError(
            file,
            f"would take {layout.memory_bytes:,} bytes in memory, over {MEMORY_PER_DECOMPRESSED_BYTE} times the limit "
            f"of {max_parquet_bytes():,} (FOOTY_MAX_PARQUET_BYTES; a 90-minute match takes ~0.3 GB)",
        )


def read_vendor_parquet(delivery: Delivery, file: str) -> pl.DataFrame:
    """A Parquet file of ``delivery``, read by polars once ``check_parquet_bounds`` has passed it. polars reads the
    bytes the lake hashed itself (float16 included: no Arrow copy of millions of rows on the way). Any error of
    its, a panic on a page it cannot decode too, is the file's ``FeedError``."""
    data = delivery.read_bytes(file)
    check_parquet_bounds(data, file)
    try:
        return pl.read_parquet(io.BytesIO(data))
    except (OSError, pl.exceptions.PolarsError, pl.exceptions.PanicException) as exc:
        raise FeedError(file, f"not a readable Parquet file ({str(exc).splitlines()[0][:200]})") from None


def strip_bom(data: bytes, file: str) -> bytes:
    """``data`` without a UTF-8 byte order mark; UTF-16 or UTF-32 text (a BOM, or NUL bytes among the first
    ones) is refused as not UTF-8, naming the encoding, rather than failing later as "not JSON"."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:]
    for bom, name in (
        (b"\x00\x00\xfe\xff", "UTF-32"),
        (b"\xff\xfe\x00\x00", "UTF-32"),
        (b"\xfe\xff", "UTF-16"),
        (b"\xff\xfe", "UTF-16"),
    ):
        if data.startswith(bom):
            raise FeedError(file, f"is {name} text (byte order mark {bom.hex(' ').upper()}): save it as UTF-8", line=1)
    head = data[:64]
    if len(head) >= 2 and head.count(0) * 3 >= len(head):
        raise FeedError(
            file,
            "is UTF-16 or UTF-32 text without a byte order mark (NUL bytes between the characters): save it as UTF-8",
            line=1,
        )
    return data


MAX_JSON_INT_DIGITS = 20  # an int64 has 19 digits


class _JsonValueError(ValueError):
    def __init__(self, what: str, pattern: str, nth: int = 1, key: str | None = None):
        super().__init__(what)
        self.pattern, self.nth, self.key = pattern, nth, key  # where: the first match (nth=2: key's second use)


def _json_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_JSON_INT_DIGITS:
        raise _JsonValueError(f"a {digits:,}-digit integer ({excerpt(text, 20)})", re.escape(text[:40]))
    return int(text)


def _json_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _JsonValueError(f"{text[:20]} is past the largest number (it reads as infinity)", re.escape(text[:40]))
    return value


def _json_constant(name: str):
    raise _JsonValueError(f"{name} is not a JSON number", r"(?<![\w\"])" + re.escape(name))


def _no_duplicate_keys(pairs: list) -> dict:
    doc = dict(pairs)
    if len(doc) != len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise _JsonValueError(
                    f"the key {excerpt(key)} appears twice in one object (the last would win)",
                    re.escape(json.dumps(key)) + r"\s*:",
                    nth=2,
                    key=key,
                )
            seen.add(key)
    return doc


_JSON_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"(\s*:)?|[{}\[\]]')


def _second_key_at(text: str, key: str) -> int | None:
    """Where ``key`` is used a second time in one object of ``text`` (the error path: one scan of the tokens,
    keys compared after unescaping, so ``"\\u0078"`` is ``"x"``)."""
    stack, seen, next_id = [], set(), 0
    for m in _JSON_TOKEN.finditer(text):
        token = m.group(0)
        if token in "{[":
            stack.append(next_id if token == "{" else -1)
            next_id += 1
        elif token in "}]":
            if stack:
                stack.pop()
        elif m.group(2) and stack and stack[-1] >= 0:
            try:
                name = json.loads(f'"{m.group(1)}"')
            except ValueError:
                continue
            if name == key:
                if stack[-1] in seen:
                    return m.start()
                seen.add(stack[-1])
    return None


def load_json_document(data: bytes, file: str):
    """A small JSON document (a sidecar, a meta file), strictly: UTF-8 (a BOM is skipped; UTF-16 refused),
    no duplicate keys, no NaN/Infinity, no number that overflows (``1e999``) and no integer of more than
    20 digits. Every refusal is a FeedError naming the file and the line."""
    text = decode_utf8(strip_bom(data, file), file)
    decoder = json.JSONDecoder(
        object_pairs_hook=_no_duplicate_keys,
        parse_int=_json_int,
        parse_float=_json_float,
        parse_constant=_json_constant,
    )
    try:
        doc, end = decoder.raw_decode(text, len(text) - len(text.lstrip()))
    except json.JSONDecodeError as exc:
        raise FeedError(file, f"not valid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno) from None
    except _JsonValueError as exc:
        at = (
            _second_key_at(text, exc.key)
            if exc.nth == 2
            else next((m.start() for m in re.finditer(exc.pattern, text)), None)
        )
        line = None if at is None else text.count("\n", 0, at) + 1
        raise FeedError(file, f"not valid JSON: {exc}", line=line) from None
    except RecursionError:
        raise FeedError(file, "not valid JSON (nested too deeply)") from None
    if text[end:].strip():
        raise FeedError(
            file,
            "not valid JSON: extra data after the document",
            line=text.count("\n", 0, end + len(text[end:]) - len(text[end:].lstrip())) + 1,
        )
    return doc
