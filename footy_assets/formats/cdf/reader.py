"""cdf: Common Data Format tracking (``*.jsonl``, one frame per line) and meta (``*.json``).

The Common Data Format: metres, origin at the centre, the home team attacks left to
right for the whole match (so no rotation is needed). Both v0.2 key names (``ball_status`` at the top
level, periods with ``start_frame_id``, ``referees``) and v0.3 ones (``ball.status``, ``frame_id_start``,
``officials``) are read.
fps and pitch size come from the meta; jersey numbers and goal keepers from the meta's team sheets
(a goal keeper is a player whose ``position`` is ``GK`` in the frame or on the team sheet).
A player whose id is not on the team sheet is kept as unidentified (jersey and player_id null).
An object with null x/y in a frame has no row in that frame. Frames with no period are outside play.
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from footy_assets.core import canonical
from footy_assets.core.contracts.checks import once_per_frame
from footy_assets.core.contracts.validation import passes
from footy_assets.formats.cdf.contract import PERIODS, CdfFrames, CdfObjects
from footy_assets.formats.common import (
    Delivery,
    FeedError,
    FeedInfo,
    ReadResult,
    each_line_opens_an_object,
    excerpt,
    first_bad_line,
    load_json_document,
    max_line_bytes,
    scan_line_starts,
    validate_vendor_rows,
)

FORMAT = "cdf"
_PLAYER = pl.Struct({"id": pl.String, "x": pl.Float64, "y": pl.Float64, "position": pl.String})
_TEAM = pl.Struct({"id": pl.String, "players": pl.List(_PLAYER)})
FRAME_SCHEMA = {
    "frame_id": pl.Int64,
    "timestamp": pl.String,
    "period": pl.String,
    "ball_status": pl.Boolean,
    "teams": pl.Struct({"home": _TEAM, "away": _TEAM}),
    "referees": pl.List(pl.Struct({"id": pl.String, "x": pl.Float64, "y": pl.Float64})),  # v0.2
    "officials": pl.List(pl.Struct({"id": pl.String, "x": pl.Float64, "y": pl.Float64})),  # v0.3
    "ball": pl.Struct({"x": pl.Float64, "y": pl.Float64, "z": pl.Float64, "status": pl.Boolean}),
}

if TYPE_CHECKING:  # numpy is imported where it is used, on the hot paths only
    import numpy as np


# Files of a CDF match folder that are not its tracking or meta: event data and the match sheet (read by
# ``formats.cdf.events``), and an optional pitch size.
OTHER_FILES = ("events.jsonl", "match.json", "pitch.json")


def _only_file(delivery: Delivery, suffix: str, what: str, name: str) -> str:
    """The folder's file ``name`` (``tracking.jsonl``, ``meta.json``), else its only other ``*suffix`` file that is
    not event data or a match sheet (a single unnamed pair, as vendors name them: ``1925299_tracking.jsonl``)."""
    names = sorted(f for f in delivery.names if f.endswith(suffix) and f not in OTHER_FILES)
    if names == [name] or (name not in names and len(names) == 1):
        return names[0]
    found = ", ".join(sorted(delivery.names)) or "nothing"
    expected = f"{name}, or exactly one {what} (*{suffix}) beside {' / '.join(OTHER_FILES)}"
    raise FeedError(delivery.match_id, f"expected {expected}; found: {found}")


def _type_error(value, dtype: pl.DataType, path: str) -> str | None:
    """Why a parsed JSON ``value`` does not fit ``dtype`` of FRAME_SCHEMA (None when it does); error path only."""
    if value is None:
        return None
    if isinstance(dtype, pl.Struct):
        if not isinstance(value, dict):
            return f"{path}: expected an object, found {type(value).__name__}"
        for field in dtype.fields:
            if field.name in value:
                problem = _type_error(value[field.name], field.dtype, f"{path}.{field.name}" if path else field.name)
                if problem:
                    return problem
        return None
    if isinstance(dtype, pl.List):
        if not isinstance(value, list):
            return f"{path}: expected a list, found {type(value).__name__}"
        for i, item in enumerate(value):
            problem = _type_error(item, dtype.inner, f"{path}[{i}]")
            if problem:
                return problem
        return None
    if dtype == pl.Boolean and not isinstance(value, bool):
        return f"{path}: expected true or false, found {json.dumps(value)[:40]}"
    if dtype == pl.Int64 and (isinstance(value, bool) or not isinstance(value, int)):
        return f"{path}: expected a whole number, found {json.dumps(value)[:40]}"
    if dtype == pl.Float64 and (
        isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
    ):
        return f"{path}: expected a finite number, found {json.dumps(value)[:40]}"
    if dtype == pl.String and (isinstance(value, bool) or not isinstance(value, (str, int))):
        return f"{path}: expected a string, found {json.dumps(value)[:40]}"
    return None


def first_type_error(lines: list[str]) -> tuple[int, str] | None:
    """The first line whose frame has a value of the wrong JSON type for FRAME_SCHEMA, with what is wrong."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except ValueError:
            continue  # a syntax error: first_bad_line reports it
        problem = _type_error(doc, pl.Struct(FRAME_SCHEMA), "")
        if problem:
            return number, problem
    return None


def _number(doc: dict, file: str, paths: tuple[str, ...], low: float, high: float, default: float | None):
    value = _get(doc, *paths)
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise FeedError(file, f"{paths[0]} must be a number in {low:g}..{high:g}, found {json.dumps(value)[:40]}")
    return float(value)


def _get(doc: dict, *paths: str):
    """The first of several dotted paths that exists in ``doc`` (for v0.2 / v0.3 key names)."""
    for path in paths:
        node = doc
        for key in path.split("."):
            node = node.get(key) if isinstance(node, dict) else None
            if node is None:
                break
        if node is not None:
            return node
    return None


def read_meta(delivery: Delivery, file: str) -> dict:
    """fps, pitch size, team sheets and period frame ranges from a CDF meta file."""
    try:  # strictly: a key twice (which would the reader take?), NaN, 1e999 refused with their line
        doc = load_json_document(delivery.read_bytes(file), file)
    except RecursionError:
        raise FeedError(file, "nested too deeply to be a CDF meta file") from None
    if not isinstance(doc, dict):
        raise FeedError(file, "expected a JSON object")
    fps = _get(doc, "meta.tracking.fps")
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 1 <= fps <= 100:
        raise FeedError(file, f"meta.tracking.fps must be a frame rate in 1..100, found {json.dumps(fps)[:40]}")
    length = _number(doc, file, ("stadium.pitch_length", "venue.pitch_length"), 50, 130, canonical.DEFAULT_PITCH[0])
    width = _number(doc, file, ("stadium.pitch_width", "venue.pitch_width"), 30, 100, canonical.DEFAULT_PITCH[1])
    sheet = []
    for side, team in (("home", 0), ("away", 1)):
        players = _get(doc, f"teams.{side}.players")
        if not isinstance(players, list):
            raise FeedError(file, f"teams.{side}.players (the team sheet) is missing")
        for p in players:
            jersey = p.get("jersey_number") if isinstance(p, dict) else None
            if (
                not isinstance(p, dict)
                or not isinstance(p.get("id"), (str, int))
                or isinstance(p.get("id"), bool)
                or isinstance(jersey, bool)
                or not isinstance(jersey, int)
                or not 0 <= jersey <= 999
            ):
                raise FeedError(
                    file,
                    f"teams.{side}.players has an entry without an id and a jersey_number in "
                    f"0..999: {json.dumps(p)[:80]}",
                )
            if any(e["object_id"] == str(p["id"]) and e["team"] == team for e in sheet):
                raise FeedError(file, f"teams.{side}.players lists id {excerpt(str(p['id']))} twice")
            sheet.append(
                {
                    "side": side,
                    "object_id": str(p["id"]),
                    "team": team,
                    "sheet_jersey": p["jersey_number"],
                    "sheet_position": p.get("position"),
                }
            )
    period_starts, period_ends = {}, {}
    periods = _get(doc, "match.periods") or []
    if not isinstance(periods, list):
        raise FeedError(file, "match.periods must be a list")
    for period in periods:
        if not isinstance(period, dict):
            raise FeedError(file, f"match.periods has an entry that is not an object: {json.dumps(period)[:60]}")
        number = PERIODS.get(period.get("period")) if isinstance(period.get("period"), str) else None
        start = period.get("frame_id_start", period.get("start_frame_id"))
        if number is not None and isinstance(start, int) and not isinstance(start, bool):
            period_starts[number] = start
        end = period.get("frame_id_end", period.get("end_frame_id"))
        if number is not None and isinstance(end, int) and not isinstance(end, bool):
            period_ends[number] = end
    return {
        "fps": round(fps),
        "length": float(length),
        "width": float(width),
        "sheet": pl.DataFrame(sheet, schema_overrides={"team": pl.Int8, "sheet_jersey": pl.Int16}),
        "period_starts": period_starts,
        "period_ends": period_ends,
    }


def _arrow_type(dtype: pl.DataType):
    """The pyarrow type of a FRAME_SCHEMA type (plain lists and strings: the JSON reader has no large ones)."""
    import pyarrow as pa

    if isinstance(dtype, pl.Struct):
        return pa.struct([(f.name, _arrow_type(f.dtype)) for f in dtype.fields])
    if isinstance(dtype, pl.List):
        return pa.list_(_arrow_type(dtype.inner))
    return {pl.Int64: pa.int64(), pl.Float64: pa.float64(), pl.Boolean: pa.bool_(), pl.String: pa.string()}[dtype]


def arrow_frame_schema():
    """FRAME_SCHEMA as the pyarrow schema its JSON reader is given (what bench/readers.py parses alone too)."""
    import pyarrow as pa

    return pa.schema([(n, _arrow_type(d)) for n, d in FRAME_SCHEMA.items()])


ARROW_BLOCK_BYTES = 16 << 20  # the bytes pyarrow's JSON reader parses at a time (each block on a thread)


def _parse_with_arrow(data: bytes):
    """The frames parsed by pyarrow's JSON reader (several times faster than polars' on nested lines, and
    leaner), or None where it refuses the file: then polars' reader, the reference, parses it or says which
    line is wrong (pyarrow is stricter: an integer id where a string is declared, for one). pyarrow also takes
    NaN, Infinity and numbers past float range, which JSON has not: ``_frames`` sends a table holding one to
    the reference too. Called only on lines that each begin with ``{`` (``each_line_opens_an_object``)."""
    import pyarrow as pa
    import pyarrow.json as pajson

    try:
        return pajson.read_json(
            pa.py_buffer(data),
            # a block holds the longest line allowed: a line past two blocks is an error of pyarrow's after which
            # the process may abort when it exits
            read_options=pajson.ReadOptions(block_size=max(ARROW_BLOCK_BYTES, max_line_bytes() + 2)),
            parse_options=pajson.ParseOptions(
                explicit_schema=arrow_frame_schema(),
                unexpected_field_behavior="ignore",
                newlines_in_values=False,
            ),
        )
    except (pa.ArrowException, ValueError):
        return None


KINDS = ["home", "away", "referee", "ball"]  # an entry's ``kind`` is its index here: which list it came from
HOME, AWAY, REFEREE, BALL = range(4)
CHUNK_ROWS = 500_000  # canonical rows built at a time


@dataclass
class _Entries:
    """Every player, referee and ball entry of the frames, list by list (home players, away players, referees,
    officials, balls: ``PART_KINDS``), as the parse left them: ``rows`` holds one row per entry, the lists one
    after the other (the code of its id in ``ids``, x, y, z, whether its position is ``GK``); ``counts`` the
    number of entries of each frame in each list."""

    rows: pl.DataFrame
    counts: list[np.ndarray]
    ids: pl.Series  # the distinct ids; an entry's ``code`` is its id's index here

    def finite(self) -> bool:
        """Whether no position is NaN or infinite (pyarrow reads them; JSON has no such number): a sum is finite
        only then (one pass, no mask). A sum past float range (values near 1e308) also says "not finite": the
        reference reader decides those."""
        return self.rows.select(pl.all_horizontal(pl.col("x", "y", "z").sum().is_finite())).item()


PART_KINDS = (HOME, AWAY, REFEREE, REFEREE, BALL)  # the lists of a frame, in the order their entries are written


def _lists(batch) -> list:
    """The entry lists of a batch of frames (``PART_KINDS`` but the ball, one entry a frame)."""
    import pyarrow.compute as pc

    teams = batch.column("teams")
    return [
        pc.struct_field(teams, ["home", "players"]),
        pc.struct_field(teams, ["away", "players"]),
        batch.column("referees"),
        batch.column("officials"),
    ]


def _entries(table) -> _Entries:
    """The entries of the parsed frames, list by list (no copy of the parsed positions: Arrow's flattened
    lists); ids dictionary-encoded once, so the checks and look-ups after work on small integers, not on
    millions of strings."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    fields: list[list[dict]] = [[] for _ in PART_KINDS]  # per list, per batch: its entries' fields
    counts: list[list[np.ndarray]] = [[] for _ in PART_KINDS]
    for batch in table.to_batches():
        for part, lists in enumerate(_lists(batch)):
            counts[part].append(pc.list_value_length(lists).fill_null(0).to_numpy().astype(np.int64))
            values = pc.list_flatten(lists)  # skips null lists; a null entry stays, with null fields
            fields[part].append({f.name: child for f, child in zip(values.type, values.flatten())})  # nulls applied
        ball = batch.column("ball")
        counts[-1].append(np.ones(batch.num_rows, dtype=np.int64))
        fields[-1].append({f.name: child for f, child in zip(ball.type, ball.flatten())})
    chunks = [chunk for part in fields for chunk in part]  # list after list

    def column(chunk: dict, name: str, dtype):
        return chunk[name].cast(dtype) if name in chunk else pa.nulls(len(next(iter(chunk.values()))), dtype)

    # one dictionary of ids for every list and batch: the codes of one id are the same everywhere
    encoded = pa.chunked_array(
        [pc.dictionary_encode(column(chunk, "id", pa.string())) for chunk in chunks],
        pa.dictionary(pa.int32(), pa.string()),
    ).unify_dictionaries()
    ids = pl.Series("id", encoded.chunk(0).dictionary if encoded.num_chunks else pa.array([], pa.string()))
    rows = pl.concat(
        [
            pl.from_arrow(
                pa.table(
                    {
                        "code": codes.indices.cast(pa.uint32()),  # polars' row index type: gathers by it as is
                        "x": column(chunk, "x", pa.float64()),
                        "y": column(chunk, "y", pa.float64()),
                        "z": column(chunk, "z", pa.float64()),
                        # the position matters only as "goal keeper" (roles come from the team sheet otherwise)
                        "position_gk": pc.equal(column(chunk, "position", pa.string()), "GK"),
                    }
                )
            )
            for chunk, codes in zip(chunks, encoded.chunks)
        ],
        rechunk=False,
    )
    return _Entries(rows, [np.concatenate(c) if c else np.zeros(0, np.int64) for c in counts], ids)


def _frames(delivery: Delivery, file: str):
    """(the frames as an Arrow table of FRAME_SCHEMA, their entries, the line number of each frame). The
    file's bytes are released by the delivery once parsed (a few hundred MB of a full match)."""
    data = delivery.read_bytes(file)
    numbers, starts = scan_line_starts(data, file)  # refuses over-long lines and bytes that are not UTF-8
    if not numbers.size:
        raise FeedError(file, "is empty: no frames")
    # pyarrow's reader only where each line opens an object: a block of its that starts with ``null`` crashes the
    # process (the first line, or one after a carriage return at a block's edge: it ends lines at \r too)
    table = _parse_with_arrow(data) if each_line_opens_an_object(data, starts) else None
    entries = _entries(table) if table is not None and table.num_rows == numbers.size else None
    if entries is None or not entries.finite():
        del table, entries
        try:
            table = pl.read_ndjson(io.BytesIO(data), schema=FRAME_SCHEMA).to_arrow()
        except (Exception, pl.exceptions.PanicException) as exc:  # noqa: BLE001  locate the line only on the error path
            text_lines = data.decode("utf-8", "replace").split("\n")
            bad = first_bad_line(text_lines) or first_type_error(text_lines)
            if bad:
                raise FeedError(file, bad[1], line=bad[0]) from None
            raise FeedError(file, f"could not read frames ({str(exc).splitlines()[0][:120]})") from None
        # the readers skip blank lines: number the frames by their real line numbers
        if numbers.size != table.num_rows:
            raise FeedError(file, f"{numbers.size} non-blank lines but {table.num_rows} frames were read")
        entries = _entries(table)
    del data
    delivery.release(file)
    return table, entries, numbers


def period_of(name: str) -> pl.Expr:
    """The period number of a CDF period name (null for a frame outside play)."""
    return pl.col(name).replace_strict(PERIODS, default=None, return_dtype=pl.Int8).alias("period")


def _frame_order(counts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(order, row, kind) of the entries in frame order, each frame's lists in their order (``PART_KINDS``):
    ``order`` the index of each entry in the rows of the lists (list after list), ``row`` its frame, ``kind``
    its list's kind. From each frame's count of entries in each list: the blocks of (frame, list) are laid out
    one after the other (no sort, no scatter)."""
    import numpy as np

    frames = counts[0].size
    lengths = np.stack(counts, axis=1)  # (frame, list): the entries of the frame in the list
    list_start = np.cumsum([0] + [int(c.sum()) for c in counts[:-1]])  # the list's first row
    first = np.stack([np.cumsum(c) - c for c in counts], axis=1)  # the frame's first entry in the list
    block_start = (list_start[None, :] + first).ravel()  # the rows of block (frame, list) start here...
    block_len = lengths.ravel()
    slot = np.cumsum(block_len) - block_len  # ... and go there, in frame order
    # in polars' 32-bit row indices from the start (smaller temporaries: a full match has 3 M entries); the
    # block's offset may be negative: modulo 2**32, the sums wrap to the right indices
    order = np.repeat((block_start - slot).astype(np.uint32), block_len)
    order += np.arange(order.size, dtype=np.uint32)
    row = np.repeat(np.arange(frames, dtype=np.uint32), lengths.sum(axis=1))
    kind = np.repeat(np.tile(np.array(PART_KINDS, dtype=np.int8), frames), block_len)
    return order, row, kind


def _objects(entries: _Entries, frames: pl.DataFrame) -> pl.DataFrame:
    """One row per player, referee and ball of every frame, in frame order (home, away, referees, ball), with
    its frame (``row`` of ``frames``) and the frame's period number and ball status, and the entry's id as text
    and as its code in ``entries.ids``. Put in order with one gather of each column. The frame's line and
    frame_id are the frame's, taken where needed (``_with_frame``), not copied for every entry."""
    order, row, kind = _frame_order(entries.counts)
    rows = entries.rows.rechunk()  # one gather from contiguous columns is cheaper than from the parse's chunks
    # An entry that is null, or whose position the feed gives as null, has no row in that frame:
    # left out of the gather rather than filtered after it (one copy of the rows, not two).
    if rows["x"].null_count() or rows["y"].null_count():
        placed = rows.select(pl.col("x").is_not_null() & pl.col("y").is_not_null()).to_series().to_numpy()[order]
        order, row, kind = order[placed], row[placed], kind[placed]
    # the frame's period as its number (null outside play): one byte an entry, not the name's sixteen
    per_frame = frames.select(period_of("period"), "in_play")
    gathered = rows.select(pl.all().gather(pl.Series(order)))
    del rows
    at_frame = pl.Series("row", row)
    return pl.DataFrame(
        [
            *per_frame.select(pl.all().gather(at_frame)),
            pl.Series("kind", kind),  # the list's code (KINDS): one byte a row, not a name
            entries.ids.gather(gathered["code"]).alias("object_id"),
            *gathered.select("x", "y", "z", "position_gk", "code"),
            at_frame,
        ]
    )


FRAME_COLUMNS = ("line", "frame_id")  # CdfObjects' columns that are the frame's


def _with_frame(objects: pl.DataFrame, frames: pl.DataFrame) -> pl.DataFrame:
    """``objects`` with their frame's line and frame_id, in CdfObjects' order (the rows the contract reads)."""
    at = pl.col("row")
    return objects.select(*[pl.lit(frames[name]).gather(at).alias(name) for name in FRAME_COLUMNS], pl.all())


def _validate_objects(objects: pl.DataFrame, frames: pl.DataFrame, file: str) -> None:
    """Refuse ``objects`` that fail CdfObjects, naming the first bad line. Its checks are on each value of a
    column: the frame's columns hold for every entry exactly when they hold for each frame that has entries, so
    they are checked on those frames, and the entries' columns on the entries. Where either fails (or is for
    pandera to decide), the contract runs on every entry with its frame's columns, for pandera's own error."""
    schema = CdfObjects.to_schema()
    own = [name for name in schema.columns if name not in FRAME_COLUMNS]
    framed = frames.filter(pl.col("rows") > 0).select(*FRAME_COLUMNS)
    if (
        not schema.checks
        and passes(schema.select_columns(list(FRAME_COLUMNS)), framed)
        and passes(schema.select_columns(own), objects)
    ):
        return
    validate_vendor_rows(_with_frame(objects, frames), CdfObjects, file, "line")


def _once_per_frame(objects: pl.DataFrame, ids: int, frames: int) -> bool:
    """Whether no id is twice in one frame: each (frame, id code) counted at once where the counts are a few
    times the rows (a match's few dozen ids), else by ``once_per_frame`` (rows in frame order)."""
    import numpy as np

    named = objects.select("row", "code").filter(pl.col("code").is_not_null())
    if frames * ids > 4 * objects.height + (1 << 20):
        return (
            once_per_frame(named.lazy().with_columns(pl.col("row").cast(pl.Int64)), "code", frame="row")
            .collect()
            .item()
        )
    key = named["row"].cast(pl.Int64).to_numpy() * ids + named["code"].to_numpy()
    return bool(np.bincount(key).max(initial=0) <= 1)


def parse(delivery: Delivery, file: str) -> tuple[pl.DataFrame, pl.DataFrame, pl.Series]:
    """(frames, objects, ids): one row per frame (with its count of ``objects``), one per player, referee or
    ball per frame, and the distinct ids (an object's ``code`` is its id's index there)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    table, entries, numbers = _frames(delivery, file)
    if table.num_rows == 0:
        raise FeedError(file, "holds no frames")
    frames = pl.from_arrow(table.select(["frame_id", "period", "timestamp"])).select(
        line=pl.Series(numbers),
        frame_id="frame_id",
        period="period",
        timestamp="timestamp",
        in_play=pl.from_arrow(
            pc.coalesce(table.column("ball_status"), pc.struct_field(table.column("ball").combine_chunks(), "status"))
        ),
    )
    del table  # the entries hold what is still needed of it
    missing_id = frames.filter(pl.col("frame_id").is_null())
    if missing_id.height:
        raise FeedError(file, "a frame without frame_id", line=missing_id["line"][0])
    dup = frames.filter(pl.col("frame_id").is_duplicated())
    if dup.height:
        raise FeedError(file, f"frame_id {dup['frame_id'][0]} appears twice", line=dup["line"][1])
    validate_vendor_rows(frames.select("line", period_name="period"), CdfFrames, file, "line")
    objects, ids = _objects(entries, frames), entries.ids
    del entries
    # Arrow's allocator keeps freed pages for reuse; the parsed frames (a few hundred MB) are not needed again
    pa.default_memory_pool().release_unused()
    frames = frames.with_columns(rows=pl.Series(np.bincount(objects["row"].to_numpy(), minlength=frames.height)))
    _validate_objects(objects, frames, file)
    # within +-100 m (the contract): the canonical Float32 now, so the canonical rows share these columns
    objects = objects.with_columns(pl.col("x", "y", "z").cast(pl.Float32))
    unnamed = objects.filter((pl.col("kind") != BALL) & pl.col("object_id").is_null())
    if unnamed.height:
        line = frames["line"][unnamed["row"][0]]
        raise FeedError(file, f"a {KINDS[unnamed['kind'][0]]} entry without id", line=line)
    if not _once_per_frame(objects, ids.len(), frames.height):
        dup = _with_frame(objects, frames).filter(
            pl.col("object_id").is_not_null() & pl.struct("line", "object_id").is_duplicated()
        )
        raise FeedError(file, f"object {excerpt(dup['object_id'][0])} appears twice in one frame", line=dup["line"][0])
    return frames, objects, ids


def check_fps_against_timestamps(frames: pl.DataFrame, fps: int, meta_file: str, tracking_file: str) -> None:
    """Refuse a meta whose fps contradicts the frames' own timestamps (where the frames carry them): the median
    step between consecutive frame_ids of one period must be 1000 / fps ms, within 2 %."""
    steps = (
        frames.sort("frame_id")
        .with_columns(t=pl.col("timestamp").str.to_datetime(time_zone="UTC", strict=False).dt.epoch("ms"))
        .select(
            step=pl.col("t").diff(),
            dframe=pl.col("frame_id").diff(),
            same=pl.col("period") == pl.col("period").shift(1),
        )
        .filter((pl.col("dframe") == 1) & pl.col("same") & (pl.col("step") > 0))
    )
    if steps.height < 2:
        return
    median_ms = float(steps["step"].median())
    timestamp_fps = 1000.0 / median_ms
    if abs(timestamp_fps - fps) > max(0.5, 0.02 * fps):
        raise FeedError(
            meta_file,
            f"meta.tracking.fps = {fps} contradicts the timestamps of {tracking_file}: "
            f"consecutive frames are {median_ms:g} ms apart ({timestamp_fps:.3g} fps)",
        )


ROLES_BY_CODE = pl.Series(["player", "goal_keeper", "referee", "ball"])  # role_code's names


def _sheet_slot(ordered: pl.DataFrame, ids: pl.Series) -> pl.Expr:
    """The row of ``ordered`` (the team sheets, home then away) of each entry: by its id, on its own team's
    sheet; null for the ball, referees and ids on no sheet. Each distinct id (``ids``) is looked up on each
    sheet once, and an entry takes the slot of its id's ``code`` (its index in ``ids``)."""
    slot = None
    for kind in (HOME, AWAY):
        sheet = ordered.with_row_index("slot").filter(pl.col("team") == kind)
        by_code = ids.replace_strict(sheet["object_id"], sheet["slot"], default=None, return_dtype=pl.UInt32)
        here = pl.lit(by_code).gather(pl.col("code"))
        slot = (pl.when(pl.col("kind") == kind) if slot is None else slot.when(pl.col("kind") == kind)).then(here)
    return slot


def _canonical_rows(sheet: pl.DataFrame, ids: pl.Series, clock: pl.DataFrame) -> tuple[pl.Expr, dict[str, pl.Expr]]:
    """(``slot``, the canonical columns of ``objects`` rows given ``slot``). An entry of a team's
    list is found on that team's sheet by its id: its row of the sheet (``slot``) gives jersey, player_id and
    the sheet's position, each taken from the few sheet rows by index, as is the role's name from its code,
    rather than joined, formatted or spelled out for millions of rows; the clock (``clock``: timestamp_ms and
    frame_id of each frame) is taken from its frame's."""
    ordered = pl.concat([sheet.filter(pl.col("team") == kind) for kind in (HOME, AWAY)])

    def of_sheet(values: pl.Series) -> pl.Expr:
        return pl.lit(values).gather(pl.col("slot"))

    player_id = ordered.select(pl.format("{}-{}", "team", "sheet_jersey")).to_series()
    is_gk = pl.col("position_gk") | of_sheet(ordered["sheet_position"].cast(pl.String) == "GK")
    # the referee's and the ball's codes are their kinds'; a player is a goal keeper (1) or not (0)
    role_code = pl.when(pl.col("kind") >= REFEREE).then(pl.col("kind")).otherwise(is_gk.fill_null(False).cast(pl.Int8))
    return _sheet_slot(ordered, ids).alias("slot"), {
        "timestamp_ms": pl.lit(clock["timestamp_ms"]).gather(pl.col("row")),
        "period": "period",
        "role": pl.lit(ROLES_BY_CODE).gather(role_code),
        "team": pl.when(pl.col("kind").is_in([HOME, AWAY])).then(pl.col("kind")).cast(pl.Int8),  # HOME is team 0
        "jersey": of_sheet(ordered["sheet_jersey"]),
        "player_id": of_sheet(player_id),  # "{team}-{jersey}" of the sheet row; null off the sheet
        "track_id": "object_id",
        # the canonical types already (finalise would cast a second copy): a full match is 3 M rows
        "x_m": pl.col("x").cast(pl.Float32),
        "y_m": pl.col("y").cast(pl.Float32),
        "z_m": pl.col("z").cast(pl.Float32),
        "in_play": "in_play",
        "frame_id": pl.lit(clock["frame_id"]).gather(pl.col("row")),
    }


IDENTITIES = ("role", "team", "jersey", "player_id")  # the canonical columns an entry's kind, id and position give


def _by_identity(rows: int, ids: pl.Series, slot: pl.Expr, canonical_rows: dict) -> tuple[pl.Expr, dict] | None:
    """(``identity``, ``IDENTITIES`` taken by it) for ``rows`` objects: each (kind, id, goal keeper position or
    not) numbered, their canonical columns worked out once with the expressions of ``canonical_rows`` (a few
    hundred, not millions) and each row taking its own by index. None where the ids are so many that the
    combinations would outnumber the rows."""
    import numpy as np

    n = ids.len()
    combinations = len(KINDS) * (n + 1) * 2  # an id or none (the ball), a position of "GK" or not
    if combinations > max(rows, 1 << 16):
        return None
    grid = pl.DataFrame(
        {
            "kind": np.repeat(np.arange(len(KINDS), dtype=np.int8), (n + 1) * 2),
            "code": np.tile(np.repeat(np.arange(n + 1, dtype=np.uint32), 2), len(KINDS)),
            "position_gk": np.tile([False, True], len(KINDS) * (n + 1)),
        }
    ).with_columns(code=pl.when(pl.col("code") < n).then(pl.col("code")))
    table = grid.with_columns(slot).select(**{name: canonical_rows[name] for name in IDENTITIES})
    # a position that is not given reads as not "GK" (the role's goal keeper test fills it with False)
    identity = (pl.col("kind").cast(pl.UInt32) * (n + 1) + pl.col("code").fill_null(n)) * 2 + pl.col(
        "position_gk"
    ).fill_null(False).cast(pl.UInt32)
    return identity.alias("identity"), {name: pl.lit(table[name]).gather(pl.col("identity")) for name in IDENTITIES}


def read(delivery: Delivery) -> ReadResult:
    """Read one CDF match folder into canonical tracking rows."""
    tracking_file = _only_file(delivery, ".jsonl", "tracking file", "tracking.jsonl")
    meta_file = _only_file(delivery, ".json", "meta file", "meta.json")
    meta = read_meta(delivery, meta_file)
    frames, objects, ids = parse(delivery, tracking_file)
    fps = meta["fps"]
    check_fps_against_timestamps(frames, fps, meta_file, tracking_file)
    if objects["period"].null_count():  # frames outside play (no period): filtered only where there are some
        objects = objects.filter(pl.col("period").is_not_null())
    # the frames of those rows: the clock is worked out on them (a row a frame, not one an entry)
    played = frames.select("line", "frame_id", period_of("period")).filter(
        pl.col("period").is_not_null() & (frames["rows"] > 0)
    )
    if played.height == 0:
        raise FeedError(tracking_file, "no frame has a period (first_half, second_half, ...)")
    # Clock: ms since the first frame of period 1 (the meta's start frame, else the first frame seen).
    first_period = 1 if (played["period"] == 1).any() else int(played["period"].min())
    f0 = meta["period_starts"].get(first_period)
    if f0 is None or f0 > played.filter(pl.col("period") == first_period)["frame_id"].min():
        f0 = int(played.filter(pl.col("period") == first_period)["frame_id"].min())
    early = played.filter(pl.col("frame_id") < f0)
    if early.height:
        raise FeedError(
            tracking_file, f"frame {early['frame_id'][0]} comes before kick-off frame {f0}", line=early["line"][0]
        )
    # A period starts at the meta's start frame (a clip may begin later), believed only where the period's
    # frames lie within the meta's start and end frames.
    seen = {
        p: (lo, hi)
        for p, lo, hi in played.group_by("period")
        .agg(pl.col("frame_id").min().alias("lo"), pl.col("frame_id").max().alias("hi"))
        .iter_rows()
    }
    clock = frames.select(timestamp_ms=((pl.col("frame_id") - f0) * 1000.0 / fps).round(0).cast(pl.Int64)).with_columns(
        canonical.frame_id_expr(fps)
    )
    slot, canonical_rows = _canonical_rows(meta["sheet"], ids, clock)
    by_identity = _by_identity(objects.height, ids, slot, canonical_rows)
    if by_identity is not None:  # the identity columns taken from those of the few (kind, id, position) there are
        slot, taken = by_identity
        canonical_rows = {**canonical_rows, **taken}
    frame = pl.concat(
        [
            objects.slice(start, CHUNK_ROWS).lazy().with_columns(slot).select(**canonical_rows).collect()
            # a slice of rows at a time: the columns of a whole match at once were a few hundred MB more
            for start in range(0, objects.height, CHUNK_ROWS)
        ],
        rechunk=False,
    )
    del objects
    # each id is once per frame (parse): two rows of one player in a frame need two ids with one team and
    # jersey on the sheet, so the rows are searched only when the sheet has such a pair
    shared = meta["sheet"].select(pl.struct("team", "sheet_jersey").is_duplicated().any()).item()
    dup = canonical.duplicate_players(frame) if shared else frame.clear().select("frame_id", "player_id")
    if dup.height:
        raise FeedError(
            meta_file,
            f"two players share jersey {dup['player_id'][0]} in frame {dup['frame_id'][0]}: check the team sheet",
        )
    # CDF is standardised (home attacks left to right in every period): nothing to rotate.
    tracking = canonical.finalise(frame, delivery.match_id, FORMAT, delivery.fingerprint)
    period_start_ms = {
        str(p): round((start - f0) * 1000 / fps)
        for p, start in meta["period_starts"].items()
        if p in seen and f0 <= start <= seen[p][0] and seen[p][1] <= meta["period_ends"].get(p, seen[p][1])
    }
    info = FeedInfo(
        format=FORMAT,
        files=[tracking_file, meta_file],
        fps=fps,
        pitch_length_m=meta["length"],
        pitch_width_m=meta["width"],
        vendor_rows=frames.height,
        frames_outside_play=int(frames["period"].replace_strict(PERIODS, default=None).is_null().sum()),
        period_start_ms=period_start_ms,
    )
    return ReadResult(tracking, info)
