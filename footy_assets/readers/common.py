"""What every reader returns and how it reports bad input."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import pandera.polars as pa
import polars as pl

from footy_assets.lake import Lake
from footy_assets.landing import LandedMatch


class FeedError(ValueError):
    """A vendor file that cannot be read: names the file, the line or row, and what was wrong."""

    def __init__(self, file: str, what: str, line: int | None = None, row: int | None = None):
        self.file, self.what, self.line, self.row = file, what, line, row
        where = f", line {line}" if line is not None else (f", row {row}" if row is not None else "")
        super().__init__(f"{file}{where}: {what}")


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
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


@dataclass
class ReadResult:
    tracking: pl.DataFrame
    info: FeedInfo


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
        what = f"{first['column']} = {first['failure_case']!r} fails {first['check']}"
        more = cases.height - 1
        if more:
            what += f" ({more} more problem{'s' if more > 1 else ''} in this file)"
        kwargs = {"line": where} if unit == "line" else {"row": where}
        raise FeedError(file, what, **kwargs) from None


def read_pitch_json(lake: Lake, landed: LandedMatch) -> tuple[float, float]:
    """Pitch size from an optional ``pitch.json`` (``{"length": 105, "width": 68}``), else 105 x 68."""
    names = {f.name for f in landed.files}
    if "pitch.json" not in names:
        return 105.0, 68.0
    try:
        doc = json.loads(lake.read_bytes(landed.file_uri("pitch.json")))
        length, width = float(doc["length"]), float(doc["width"])
    except json.JSONDecodeError as exc:
        raise FeedError("pitch.json", f"not valid JSON: {exc.msg}", line=exc.lineno) from None
    except (KeyError, TypeError, ValueError):
        raise FeedError("pitch.json", 'expected {"length": <metres>, "width": <metres>}') from None
    if not (50 <= length <= 130 and 30 <= width <= 100):
        raise FeedError("pitch.json", f"implausible pitch size {length} x {width} m")
    return length, width


def first_bad_line(text_lines: list[str], start: int = 0) -> tuple[int, str] | None:
    """The first line (1-based) of a JSON-lines text that is not a JSON object, with the parser's message.

    Only used on the error path, after a vectorised parse has failed, to name the line.
    """
    for number, line in enumerate(text_lines[start:], start=start + 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            return number, f"not valid JSON ({exc.msg} at column {exc.colno})"
        if not isinstance(value, dict):
            return number, f"expected a JSON object, found {type(value).__name__}"
    return None
