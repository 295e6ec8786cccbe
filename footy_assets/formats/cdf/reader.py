"""cdf: Common Data Format tracking (``*.jsonl``, one frame per line) and meta (``*.json``).

The Common Data Format specification: metres, origin at the centre, the home team attacks left to
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
from typing import TYPE_CHECKING

import polars as pl

from footy_assets.core import canonical
from footy_assets.core.contracts.checks import once_per_frame
from footy_assets.formats.cdf.contract import PERIODS, CdfFrames, CdfObjects
from footy_assets.formats.common import (
    Delivery,
    FeedError,
    FeedInfo,
    ReadResult,
    excerpt,
    first_bad_line,
    load_json_document,
    scan_lines,
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


def _parse_with_arrow(data: bytes):
    """The frames parsed by pyarrow's JSON reader (several times faster than polars' on nested lines, and
    leaner), or None where it refuses the file: then polars' reader, the reference, parses it or says which
    line is wrong (pyarrow is stricter: an integer id where a string is declared, for one)."""
    import pyarrow as pa
    import pyarrow.json as pajson

    try:
        table = pajson.read_json(
            pa.py_buffer(data),
            read_options=pajson.ReadOptions(block_size=16 << 20),
            parse_options=pajson.ParseOptions(
                explicit_schema=pa.schema([(n, _arrow_type(d)) for n, d in FRAME_SCHEMA.items()]),
                unexpected_field_behavior="ignore",
                newlines_in_values=False,
            ),
        )
    except (pa.ArrowException, ValueError):
        return None
    # pyarrow also takes NaN, Infinity and numbers past float range, which JSON has not: the reference says which
    if any(_non_finite(chunk) for name in table.column_names for chunk in table.column(name).chunks):
        return None
    return table


def _non_finite(values) -> bool:
    """Whether a (nested) Arrow array holds a float that is NaN or infinite."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_struct(values.type):
        return any(_non_finite(child) for child in values.flatten())
    if pa.types.is_list(values.type):
        return _non_finite(pc.list_flatten(values))
    if pa.types.is_floating(values.type):
        return not pc.all(pc.is_finite(values)).as_py() if values.null_count < len(values) else False
    return False


def _frames(delivery: Delivery, file: str):
    """(the frames as an Arrow table of FRAME_SCHEMA, the line number of each frame)."""
    data = delivery.read_bytes(file)
    numbers = scan_lines(data, file)  # refuses over-long lines and bytes that are not UTF-8
    if not numbers.size:
        raise FeedError(file, "is empty: no frames")
    table = _parse_with_arrow(data)
    if table is None or table.num_rows != numbers.size:
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
    return table, numbers


KINDS = ["home", "away", "referee", "ball"]  # an entry's ``kind`` is its index here: which list it came from
HOME, AWAY, REFEREE, BALL = range(4)
CHUNK_ROWS = 500_000  # canonical rows built at a time


def period_of(name: str) -> pl.Expr:
    """The period number of a CDF period name (null for a frame outside play)."""
    return pl.col(name).replace_strict(PERIODS, default=None, return_dtype=pl.Int8).alias("period")


def _entries(batches: list, lists_of) -> tuple:
    """(frame row of each entry, {field: values}) of a list column, ``lists_of(batch)``: the entries of every
    frame, in order. Batch by batch (row numbers offset by the batches before): combining the chunks of the
    parsed nested columns first copied all of them (a few hundred MB of a full match)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    rows, fields, offset = [], {}, 0
    for batch in batches:
        lists = lists_of(batch)
        values = pc.list_flatten(lists)  # skips null lists; a null entry stays, with null fields
        rows.append(pc.list_parent_indices(lists).to_numpy() + offset)
        for field, child in zip(values.type, values.flatten()):  # the entry's nulls applied
            fields.setdefault(field.name, []).append(child)
        offset += batch.num_rows
    chunked = {name: pa.chunked_array(chunks) for name, chunks in fields.items()}
    return (np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)), chunked


def _frame_order(part_rows: list) -> np.ndarray:
    """Where each entry of the parts goes (concatenated), to put them in frame order with the parts in their
    order within a frame: the stable sort by frame row, computed in one pass from counts (no sort)."""
    import numpy as np

    frames = max((int(rows.max()) + 1 for rows in part_rows if rows.size), default=0)
    counts = [np.bincount(rows, minlength=frames) for rows in part_rows]
    frame_start = np.concatenate([[0], np.cumsum(sum(counts))[:-1]])  # first slot of each frame
    dest, before = [], np.zeros(frames, dtype=np.int64)  # ``before``: slots taken in the frame by earlier parts
    for rows, count in zip(part_rows, counts):
        first_of_frame = np.concatenate([[0], np.cumsum(count)[:-1]])  # the part's first entry of each frame
        dest.append(frame_start[rows] + before[rows] + np.arange(rows.size) - first_of_frame[rows])
        before += count
    return np.concatenate(dest) if dest else np.zeros(0, dtype=np.int64)


def _objects(table, frames: pl.DataFrame) -> pl.DataFrame:
    """One row per player, referee and ball of every frame, in frame order (home, away, referees, ball), with
    the frame's line, frame_id, period name and ball status (from ``frames``, a row per frame of ``table``).
    Built from Arrow's flattened lists (no copy of the nested frames) and put in order with one gather."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    batches = table.to_batches()
    balls = [batch.column("ball").flatten() for batch in batches]  # each batch's ball fields (no copy)
    parts = [
        (0, *_entries(batches, lambda b: pc.struct_field(b.column("teams"), ["home", "players"]))),
        (1, *_entries(batches, lambda b: pc.struct_field(b.column("teams"), ["away", "players"]))),
        (2, *_entries(batches, lambda b: b.column("referees"))),
        (2, *_entries(batches, lambda b: b.column("officials"))),
        (
            3,
            np.arange(table.num_rows),
            {
                field.name: pa.chunked_array([fields[i] for fields in balls], field.type)
                for i, field in enumerate(table.schema.field("ball").type)
            },
        ),
    ]

    def column(fields: dict, name: str, dtype, size: int):
        return fields[name].cast(dtype) if name in fields else pa.nulls(size, dtype)

    entries = pl.concat(
        [
            pl.from_arrow(
                pa.table(
                    {
                        "row": pa.array(rows, pa.int64()),
                        "kind": pa.array(np.full(rows.size, code, dtype=np.int8)),
                        "object_id": column(fields, "id", pa.string(), rows.size),
                        "x": column(fields, "x", pa.float64(), rows.size),
                        "y": column(fields, "y", pa.float64(), rows.size),
                        "z": column(fields, "z", pa.float64(), rows.size),
                        # the position matters only as "goal keeper" (roles come from the team sheet otherwise)
                        "position_gk": pc.equal(column(fields, "position", pa.string(), rows.size), "GK"),
                    }
                )
            )
            for code, rows, fields in parts
        ],
        rechunk=False,
    )
    dest = _frame_order([rows for _, rows, _ in parts])
    order = np.empty_like(dest)
    order[dest] = np.arange(dest.size)
    # the frame's period as its number (null outside play): one byte an entry, not the name's sixteen
    per_frame = frames.select("line", "frame_id", period_of("period"), "in_play")
    # An entry that is null, or whose position the feed gives as null, has no row in that frame:
    # left out of the gather rather than filtered after it (one copy of the rows, not two).
    placed = entries.select(pl.col("x").is_not_null() & pl.col("y").is_not_null()).to_series().to_numpy()
    order = order[placed[order]]
    row = pl.col("row")
    return (
        entries.lazy()
        .select(pl.all().gather(pl.Series(order)))
        .select(
            *[pl.lit(per_frame[name]).gather(row).alias(name) for name in per_frame.columns],
            "kind",  # the part's code (KINDS): one byte a row, not a name
            "object_id",
            "x",
            "y",
            "z",
            "position_gk",
        )
        .collect()
    )


def parse(delivery: Delivery, file: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(frames, objects): one row per frame, and one per player, referee or ball per frame."""
    import pyarrow as pa
    import pyarrow.compute as pc

    table, numbers = _frames(delivery, file)
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
    missing_id = frames.filter(pl.col("frame_id").is_null())
    if missing_id.height:
        raise FeedError(file, "a frame without frame_id", line=missing_id["line"][0])
    dup = frames.filter(pl.col("frame_id").is_duplicated())
    if dup.height:
        raise FeedError(file, f"frame_id {dup['frame_id'][0]} appears twice", line=dup["line"][1])
    validate_vendor_rows(frames.select("line", period_name="period"), CdfFrames, file, "line")
    objects = _objects(table, frames)
    del table
    # Arrow's allocator keeps freed pages for reuse; the parsed frames (a few hundred MB) are not needed again
    pa.default_memory_pool().release_unused()
    objects = validate_vendor_rows(objects, CdfObjects, file, "line")
    # within +-100 m (the contract): the canonical Float32 now, so the canonical rows share these columns
    objects = objects.with_columns(pl.col("x", "y", "z").cast(pl.Float32))
    unnamed = objects.filter((pl.col("kind") != BALL) & pl.col("object_id").is_null())
    if unnamed.height:
        raise FeedError(file, f"a {KINDS[unnamed['kind'][0]]} entry without id", line=unnamed["line"][0])
    if not once_per_frame(objects.lazy(), "object_id", frame="line").collect().item():  # rows in frame order
        dup = objects.filter(pl.col("object_id").is_not_null() & pl.struct("line", "object_id").is_duplicated())
        raise FeedError(file, f"object {excerpt(dup['object_id'][0])} appears twice in one frame", line=dup["line"][0])
    return frames, objects


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


def _sheet_slot(ordered: pl.DataFrame) -> pl.Expr:
    """The row of ``ordered`` (the team sheets, home then away) of each entry: by its id, on its own team's
    sheet; null for the ball, referees and ids on no sheet. One lookup of the ids where they are unique across
    the two sheets (the team of the row found must be the entry's), else one per team."""
    if not ordered["object_id"].is_duplicated().any():
        any_team = pl.col("object_id").replace_strict(
            ordered["object_id"], pl.int_range(ordered.height, eager=True), default=None, return_dtype=pl.Int32
        )
        return pl.when(pl.lit(ordered["team"]).gather(any_team) == pl.col("kind")).then(any_team)
    slot, offset = None, 0
    for kind in (HOME, AWAY):
        ids = ordered.filter(pl.col("team") == kind)["object_id"]
        here = pl.col("object_id").replace_strict(
            ids, pl.int_range(offset, offset + ids.len(), eager=True), default=None, return_dtype=pl.Int32
        )
        slot = (pl.when(pl.col("kind") == kind) if slot is None else slot.when(pl.col("kind") == kind)).then(here)
        offset += ids.len()
    return slot


def _canonical_rows(sheet: pl.DataFrame, f0: int, fps: int) -> tuple[pl.Expr, dict[str, pl.Expr]]:
    """(``slot``, the canonical columns of ``objects`` rows given ``slot``). An entry of a team's
    list is found on that team's sheet by its id: its row of the sheet (``slot``) gives jersey, player_id and
    the sheet's position, each taken from the few sheet rows by index, as is the role's name from its code,
    rather than joined, formatted or spelled out for millions of rows."""
    ordered = pl.concat([sheet.filter(pl.col("team") == kind) for kind in (HOME, AWAY)])

    def of_sheet(values: pl.Series) -> pl.Expr:
        return pl.lit(values).gather(pl.col("slot"))

    player_id = ordered.select(pl.format("{}-{}", "team", "sheet_jersey")).to_series()
    is_gk = pl.col("position_gk") | of_sheet(ordered["sheet_position"].cast(pl.String) == "GK")
    role_code = (
        pl.when(pl.col("kind") == BALL)
        .then(3)
        .when(pl.col("kind") == REFEREE)
        .then(2)
        .when(is_gk.fill_null(False))
        .then(1)
        .otherwise(0)
    )
    return _sheet_slot(ordered).alias("slot"), {
        "timestamp_ms": ((pl.col("frame_id") - f0) * 1000.0 / fps).round(0).cast(pl.Int64),
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
    }


def read(delivery: Delivery) -> ReadResult:
    """Read one CDF match folder into canonical tracking rows."""
    tracking_file = _only_file(delivery, ".jsonl", "tracking file", "tracking.jsonl")
    meta_file = _only_file(delivery, ".json", "meta file", "meta.json")
    meta = read_meta(delivery, meta_file)
    frames, objects = parse(delivery, tracking_file)
    fps = meta["fps"]
    check_fps_against_timestamps(frames, fps, meta_file, tracking_file)
    if objects["period"].null_count():  # frames outside play (no period): filtered only where there are some
        objects = objects.filter(pl.col("period").is_not_null())
    if objects.height == 0:
        raise FeedError(tracking_file, "no frame has a period (first_half, second_half, ...)")
    # Clock: ms since the first frame of period 1 (the meta's start frame, else the first frame seen).
    first_period = 1 if (objects["period"] == 1).any() else int(objects["period"].min())
    f0 = meta["period_starts"].get(first_period)
    if f0 is None or f0 > objects.filter(pl.col("period") == first_period)["frame_id"].min():
        f0 = int(objects.filter(pl.col("period") == first_period)["frame_id"].min())
    early = objects.filter(pl.col("frame_id") < f0)
    if early.height:
        raise FeedError(
            tracking_file, f"frame {early['frame_id'][0]} comes before kick-off frame {f0}", line=early["line"][0]
        )
    # A period starts at the meta's start frame (a clip may begin later), believed only where the period's
    # frames lie within the meta's start and end frames.
    seen = {
        p: (lo, hi)
        for p, lo, hi in objects.group_by("period")
        .agg(pl.col("frame_id").min().alias("lo"), pl.col("frame_id").max().alias("hi"))
        .iter_rows()
    }
    slot, canonical_rows = _canonical_rows(meta["sheet"], f0, fps)
    frame = pl.concat(
        [
            objects.slice(start, CHUNK_ROWS)
            .lazy()
            .with_columns(slot)
            .select(**canonical_rows)
            .with_columns(canonical.frame_id_expr(fps))
            .collect()
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
