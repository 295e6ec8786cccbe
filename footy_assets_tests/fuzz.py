"""A seeded mutation fuzzer for the readers: every mutant either reads to valid canonical rows or raises a
``FeedError`` that names one of the match's files (or the match); never another exception, a hang, or rows
with non-finite values. Some operators must be refused: a Parquet bomb, a sidecar's colliding track keys, and
a landed file that is a hard link to a copy outside the lake (refused naming the file, its content unquoted).

    python -m footy_assets_tests.fuzz --mutants 200 --seed 1      # what the test suite runs
    make fuzz                                                      # 10x more, a new seed each time

Bases: the real samples (SportVU, also with a ``pitch.json``; three CDF files) and small synthetic deliveries of
every format (footy_stats as JSON and Parquet). Operators work on bytes, lines, numbers and JSON values: truncation,
deleted / duplicated / swapped lines, hostile numbers (NaN, inf, 1e308, values past float32 or int16),
wrong JSON types, invalid UTF-8, an empty file, a contradicting fps in a CDF meta; and
Parquet decompression bombs (rows repeated past the row bound, which the fuzzer lowers to 200,000), columns
stored as booleans, lists or text, sidecar track keys that Python's int() reads ("01", "1_0", Arabic-Indic
digits) or that repeat, duplicate JSON keys, booleans where numbers belong, a BOM or UTF-16 text, a JSON-lines
line that is not an object (``null`` first: it must be refused, not crash a parser); and hard links.

Event data (CDF ``events.jsonl`` + ``match.json``) is fuzzed on four more bases: the real CDF folders with events
(footovision_h1, sportec_snippet) and events delivered on their own in ``landing/events/<match_id>/`` beside a match
of another format (footovision's beside synthetic footy_stats; sportec's, in v0.2 key names, beside the SportVU
sample). Their mutants go through the chain's audit (tracking and events read together: a bad line refuses the
whole delivery) and, once read, through what the events step does after tracking is written (the clock, the sync,
the events and lineups contracts): a failure there is a partial delivery. The byte operators above change their
files too, and every 4th mutant is one of the event classes in turn (``EVENT_OPERATORS``): an event id twice, a
person on no sheet or on the other team's, times shifted by minutes or by days, unknown and other periods, v0.2 and
v0.3 names of one field in one line (agreeing or not), related ids of no event, long and over-long lines, deep
nesting, a player dropped from the sheet, sheet times and meta period starts days away. ``MUST_REFUSE`` and
``MUST_READ`` say which classes must be refused (the reason given) or read; any refusal must be one line naming a
file of the delivery, and for an event file the line where the fault is one.

    python -m footy_assets_tests.fuzz --mutants 600 --seed 7 --publish 40   # 40 event mutants through the chain

``--publish N``: the first N event mutants also go through the real chain (Dagster, a temporary instance) on a lake
where their base is published: read, the mutant is published whole; refused, the lake's published delivery, events
and lineup stay as they were (a few seconds a mutant, so not in the suite's run).
Prints one JSON summary: counts per operator and outcome (read / refused / failure), also as a text table (on
stderr too), the same per format and per event file, the chain's verdicts (``published``), and every failure with
its seed.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import numpy as np
import polars as pl

from footy_assets.chain.audit import audit_delivery
from footy_assets.chain.events import (
    LINEUPS_SCHEMA,
    TRACKING_COLUMNS,
    ball_events_synced,
    events_in_tracking,
    read_event_data,
    synced_events,
    tracking_clock,
)
from footy_assets.core.canonical import fingerprint_column
from footy_assets.core.contracts.events import Events, Lineups
from footy_assets.core.contracts.tracking import Tracking
from footy_assets.formats import FeedError, synthetic
from footy_assets.formats.cdf.contract import PERIODS
from footy_assets.formats.cdf.events import EVENTS_FILE, MATCH_FILE, META_FILE
from footy_assets.formats.common import max_line_bytes
from footy_assets.lake.delivery import read_events_delivery, read_match
from footy_assets.lake.landing import LandingError, find_match
from footy_assets.lake.store import Lake

SAMPLES = Path(__file__).resolve().parent / "samples"
EVENT_SAMPLES = SAMPLES / "cdf_events"
HOSTILE_NUMBERS = [
    "NaN",
    "Infinity",
    "-Infinity",
    "1e308",
    "-1e308",
    "1e39",
    "3.5e38",
    "99999999999999999999",
    "40000",
    "-40000",
    "-1",
    "0",
    "2147483648",
    "1e-320",
    '"7"',
    "null",
    "true",
    "[]",
    "{}",
    '"abc"',
    "- 1",
    "",
    "0x10",
    "1.5",
]
HOSTILE_JSON = [
    float("nan"),
    float("inf"),
    -float("inf"),
    1e308,
    1e39,
    2**63,
    40000,
    -1,
    "",
    "abc",
    None,
    True,
    [],
    {},
    [1, 2],
    3.5,
]
NUMBER = re.compile(rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
MAX_SECONDS_PER_MUTANT = 20.0


# -- bases ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Base:
    """A delivery the mutants start from: ``folder`` lands as ``landing/<fmt>/fuzz``; ``events`` (a folder with
    events.jsonl + match.json), when given, lands beside it as ``landing/events/fuzz``."""

    fmt: str
    folder: Path
    events: Path | None = None

    @property
    def has_events(self) -> bool:
        return self.events is not None or (self.folder / EVENTS_FILE).exists()

    @property
    def event_files(self) -> list[str]:
        """The files the event mutants change, each as often as it is drawn (the events most, then the sheet; a CDF
        folder's meta.json too: it gives the events' clock)."""
        meta = ["meta.json"] if self.events is None and (self.folder / "meta.json").exists() else []
        return [EVENTS_FILE] * 3 + [MATCH_FILE] * 2 + meta

    @property
    def name(self) -> str:
        return self.folder.name + (f"+events/{self.events.name}" if self.events is not None else "")


def _v02(source: Path, target: Path) -> Path:
    """The event files of ``source`` with v0.2 key names (``outcome``, ``outcome_detailed``; ``referees`` with
    ``official_type`` on the sheet)."""
    target.mkdir(parents=True)
    text = (source / EVENTS_FILE).read_text()
    text = text.replace('"is_successful":', '"outcome":').replace('"outcome_type":', '"outcome_detailed":')
    (target / EVENTS_FILE).write_text(text)
    sheet = json.loads((source / MATCH_FILE).read_text())
    sheet["referees"] = [
        {**{k: v for k, v in o.items() if k != "type"}, "official_type": o["type"]} for o in sheet.pop("officials")
    ]
    (target / MATCH_FILE).write_text(json.dumps(sheet, indent=1))
    return target


def _bases(workdir: Path) -> list[Base]:
    """Every base delivery (``Base.has_events``: the event bases)."""
    bases = [Base("sportvu", SAMPLES / "sportvu" / "statsperform_ma25")]
    pitched = workdir / "bases" / "sportvu_pitch" / "statsperform_ma25"  # the optional pitch.json, mutated too
    shutil.copytree(bases[0].folder, pitched)
    (pitched / "pitch.json").write_text('{\n "length": 105,\n "width": 68\n}\n')
    bases.append(Base("sportvu", pitched))
    bases += [
        Base("cdf", SAMPLES / "cdf" / name) for name in ("skillcorner_1925299", "validator_v0_2_3", "validator_v0_3_2")
    ]
    spec = synthetic.MatchSpec("fuzzbase", half_seconds=20.0, fps=10, seed=5)
    truth = synthetic.generate_truth(spec)
    for fmt, kw in (
        ("footy_stats", {"file_format": "json"}),
        ("footy_stats", {}),
        ("sportvu", {}),
        ("cdf", {}),
        ("footy_track", {}),
        ("footy_track", {"homography": False}),
    ):
        root = workdir / "bases" / f"{fmt}_{len(bases)}"
        folder = synthetic.write_match(root, fmt, spec, truth=truth, **kw)
        bases.append(Base(fmt, folder))
    # event data: in a CDF match folder, and on its own beside a match of another format (v0.3.2 and v0.2 names)
    bases += [Base("cdf", EVENT_SAMPLES / name) for name in ("footovision_h1", "sportec_snippet")]
    alone = workdir / "bases" / "events" / "footovision_h1"
    alone.mkdir(parents=True)
    for name in (EVENTS_FILE, MATCH_FILE):
        shutil.copyfile(EVENT_SAMPLES / "footovision_h1" / name, alone / name)
    parquet = next(b for b in bases if b.fmt == "footy_stats" and (b.folder / "tracking.parquet").exists())
    bases.append(Base("footy_stats", parquet.folder, alone))
    v02 = _v02(EVENT_SAMPLES / "sportec_snippet", workdir / "bases" / "events" / "sportec_snippet_v0_2")
    bases.append(Base("sportvu", SAMPLES / "sportvu" / "statsperform_ma25", v02))
    return bases


# -- operators ----------------------------------------------------------------------------------------------
def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def op_truncate(rng, data: bytes) -> bytes:
    return data[: rng.randrange(0, max(len(data), 1))]


def op_cut_last_line(rng, data: bytes) -> bytes:
    body = data.rstrip(b"\n")
    last = body.rfind(b"\n")
    return body[: last + 1 + rng.randrange(1, max(len(body) - last - 1, 2))]


def op_delete_line(rng, data: bytes) -> bytes:
    lines = _lines(data)
    del lines[rng.randrange(len(lines))]
    return b"\n".join(lines)


def op_duplicate_line(rng, data: bytes) -> bytes:
    lines = _lines(data)
    i = rng.randrange(len(lines))
    lines.insert(i, lines[i])
    return b"\n".join(lines)


def op_swap_lines(rng, data: bytes) -> bytes:
    lines = _lines(data)
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[i], lines[j] = lines[j], lines[i]
    return b"\n".join(lines)


def op_hostile_number(rng, data: bytes) -> bytes:
    found = list(NUMBER.finditer(data))
    if not found:
        return data + b"NaN"
    for _ in range(rng.choice([1, 1, 1, 3])):
        m = rng.choice(found)
        data = data[: m.start()] + rng.choice(HOSTILE_NUMBERS).encode() + data[m.end() :]
        found = list(NUMBER.finditer(data)) or found
    return data


def op_flip_byte(rng, data: bytes) -> bytes:
    if not data:
        return b"\x00"
    i = rng.randrange(len(data))
    return data[:i] + bytes([rng.randrange(256)]) + data[i + 1 :]


def op_invalid_utf8(rng, data: bytes) -> bytes:
    i = rng.randrange(len(data) + 1)
    return data[:i] + rng.choice([b"\xff\xfe", b"\xc3", b"\xed\xa0\x80", b"\x00"]) + data[i:]


def op_empty(rng, data: bytes) -> bytes:
    return rng.choice([b"", b"\n", b"   \n\n"])


def op_json_value(rng, data: bytes) -> bytes:
    """Parse a JSON (or JSON-lines) document, set one random leaf to a hostile value, write it back."""
    lines = _lines(data)
    candidates = [i for i, line in enumerate(lines) if line.strip()]
    if not candidates:
        return data
    whole = len(candidates) == 1 or data.lstrip().startswith(b"[")
    index = None if whole else rng.choice(candidates)
    try:
        doc = json.loads(data if whole else lines[index])
    except ValueError:
        return op_hostile_number(rng, data)
    leaves = []

    def walk(node, path):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, (*path, k))
        elif isinstance(node, list):
            for k, v in enumerate(node):
                walk(v, (*path, k))
        else:
            leaves.append(path)
        if len(leaves) > 5000:
            return

    walk(doc, ())
    if not leaves:
        return data
    path = rng.choice(leaves)
    node = doc
    for key in path[:-1]:
        node = node[key]
    if rng.random() < 0.15 and isinstance(node, dict):
        del node[path[-1]]
    else:
        node[path[-1]] = rng.choice(HOSTILE_JSON)
    text = json.dumps(doc, allow_nan=True).encode()
    if whole:
        return text
    lines[index] = text
    return b"\n".join(lines)


TEXT_OPERATORS = [
    op_truncate,
    op_cut_last_line,
    op_delete_line,
    op_duplicate_line,
    op_swap_lines,
    op_hostile_number,
    op_hostile_number,
    op_flip_byte,
    op_invalid_utf8,
    op_empty,
]
JSON_OPERATORS = [
    op_json_value,
    op_json_value,
    op_json_value,
    op_hostile_number,
    op_truncate,
    op_invalid_utf8,
    op_flip_byte,
    op_empty,
]


def op_parquet_values(rng, data: bytes) -> bytes:
    """Rewrite a tracking.parquet with hostile values in one column (typed as the file allows)."""
    frame = pl.read_parquet(io.BytesIO(data))
    column = rng.choice(frame.columns)
    n = frame.height
    rows = rng.sample(range(n), k=min(n, rng.choice([1, 3, 50])))
    mask = pl.Series(np.isin(np.arange(n), rows))
    dtype = frame.schema[column]
    if dtype.is_float():
        value = pl.lit(rng.choice([float("nan"), float("inf"), -float("inf"), 3e38, 1e308]))
        expr = pl.when(mask).then(value.cast(pl.Float64)).otherwise(pl.col(column).cast(pl.Float64))
    elif dtype.is_integer():
        expr = (
            pl.when(mask)
            .then(pl.lit(rng.choice([2**40, -(2**31), 40000, -1]), pl.Int64))
            .otherwise(pl.col(column).cast(pl.Int64))
        )
    else:
        expr = pl.when(mask).then(pl.lit(rng.choice(["", "x", "0-99999", "coach", "1-"]))).otherwise(pl.col(column))
    if rng.random() < 0.2:  # or the whole column as text / null
        expr = rng.choice([pl.col(column).cast(pl.String), pl.lit(None, pl.Null)])
    out = io.BytesIO()
    frame.with_columns(expr.alias(column)).write_parquet(out)
    return out.getvalue()


def op_parquet_bytes(rng, data: bytes) -> bytes:
    return rng.choice([op_truncate, op_flip_byte, op_empty])(rng, data)


def op_meta_fps(rng, data: bytes) -> bytes:
    """A CDF meta whose fps contradicts the frames' timestamps."""
    doc = json.loads(data)
    doc.setdefault("meta", {}).setdefault("tracking", {})["fps"] = rng.choice([1, 5, 50, 100, 25.5])
    return json.dumps(doc).encode()


FUZZ_MAX_PARQUET_ROWS = 200_000  # the bound the fuzzer reads with: a bomb of a small base stays cheap


def op_parquet_bomb(rng, data: bytes) -> bytes:
    """A decompression bomb: the file's rows repeated past the (lowered) row bound, zstd-compressed."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(data))
    copies = FUZZ_MAX_PARQUET_ROWS // max(table.num_rows, 1) + rng.choice([1, 2, 5])
    out = io.BytesIO()
    pq.write_table(pa.concat_tables([table] * copies), out, compression="zstd")
    return out.getvalue()


def op_parquet_types(rng, data: bytes) -> bytes:
    """One column stored as another type: booleans (every x on the goal line), a list, text, a fraction."""
    frame = pl.read_parquet(io.BytesIO(data))
    kind = rng.choice(["bool", "list", "text", "half"])
    numeric = [c for c, t in frame.schema.items() if t.is_numeric() or t == pl.Boolean]
    column = rng.choice(numeric if kind in ("bool", "half") and numeric else frame.columns)
    expr = {
        "bool": (pl.col(column).cast(pl.Float64, strict=False) > 1).fill_null(False),
        "list": pl.concat_list(column),
        "text": pl.col(column).cast(pl.String),
        "half": pl.col(column).cast(pl.Float64, strict=False) + 0.5,
    }[kind]
    out = io.BytesIO()
    frame.with_columns(expr.alias(column)).write_parquet(out)
    return out.getvalue()


SIDECAR_KEYS = ["0{}", "{}_0", "+{}", " {}", "{}.0", "\u0661{}", "{}\u0660"]


def op_sidecar_keys(rng, data: bytes) -> bytes:
    """A footy_track sidecar whose track keys collide once Python's int() reads them, or repeat."""
    doc = json.loads(data)
    tracks = doc.get("tracks")
    if not isinstance(tracks, dict) or not tracks:
        return op_duplicate_key(rng, data)
    key = rng.choice(list(tracks))
    if rng.random() < 0.3:  # the same key twice, as text
        text = data.decode()
        at = text.find("{", text.find('"tracks"')) + 1
        return (text[:at] + f'"{key}": {json.dumps(tracks[key])}, ' + text[at:]).encode()
    new = rng.choice(SIDECAR_KEYS).format(key)
    if rng.random() < 0.5:
        tracks[new] = tracks.pop(key)
    else:
        tracks[new] = dict(tracks[key])
    return json.dumps(doc, ensure_ascii=rng.random() < 0.5).encode()


def op_duplicate_key(rng, data: bytes) -> bytes:
    """One object names a key twice (the last would win silently)."""
    keys = list(re.finditer(rb'"([A-Za-z_]+)"\s*:\s*', data))
    if not keys:
        return data
    m = rng.choice(keys)
    value = rng.choice([b"1", b"true", b'"x"', b"null", b"0.5"])
    return data[: m.start()] + m.group(0) + value + b", " + data[m.start() :]


JSON_NUMBER = re.compile(rb"(?<=[:\[,])(\s*)(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(?=\s*[,}\]])")


def op_boolean_number(rng, data: bytes) -> bytes:
    """A boolean where a number belongs (true/false in place of a JSON number value, not of digits in a text)."""
    found = list(JSON_NUMBER.finditer(data))
    if not found:
        return data
    m = rng.choice(found)
    return data[: m.start(2)] + rng.choice([b"true", b"false"]) + data[m.end(2) :]


def op_line_not_an_object(rng, data: bytes) -> bytes:
    """A line of a JSON-lines file that is a JSON value but not an object (``null``, a list, a number, a string,
    ``true``): the first line half the time."""
    lines = _lines(data)
    candidates = [i for i, line in enumerate(lines) if line.strip()] or [0]
    index = candidates[0] if rng.random() < 0.5 else rng.choice(candidates)
    lines[index] = rng.choice([b"null", b"[]", b"[1, 2]", b"5", b'"frame"', b"true"])
    return b"\n".join(lines)


def op_encoding(rng, data: bytes) -> bytes:
    """A byte order mark, or the text re-encoded as UTF-16 / UTF-32."""
    choice = rng.choice(["bom", "utf-16", "utf-16-le", "utf-32"])
    if choice == "bom":
        return b"\xef\xbb\xbf" + data
    try:
        return data.decode("utf-8").encode(choice)
    except UnicodeDecodeError:
        return data


# -- event operators: they change the event delivery as a whole ({file: bytes} in, the files changed out) -------
def _event_lines(data: bytes) -> tuple[list[bytes], list[int], list[dict]]:
    """(the lines, the indices of the events among them, each event line parsed)."""
    lines = _lines(data)
    at = [i for i, line in enumerate(lines) if line.strip()]
    return lines, at, [json.loads(lines[i]) for i in at]


def _rewrite(files: dict[str, bytes], edit) -> dict[str, bytes]:
    """events.jsonl with ``edit(rng-chosen position, docs)`` applied: ``edit`` returns {position: new document}."""
    lines, at, docs = _event_lines(files[EVENTS_FILE])
    for k, doc in edit(docs).items():
        lines[at[k]] = json.dumps(doc, ensure_ascii=False).encode()
    return {EVENTS_FILE: b"\n".join(lines)}


def _sheet_players(files: dict[str, bytes]) -> dict[str, list[tuple[str, str]]]:
    """{team id: [(player id, team id), ...]} of the match sheet."""
    sheet = json.loads(files[MATCH_FILE])
    teams = sheet["teams"]
    return {teams[side]["id"]: [(p["id"], teams[side]["id"]) for p in teams[side]["players"]] for side in teams}


def _pick(rng, docs: list[dict], keep) -> int:
    """A random event position where ``keep(event)`` holds (any event when none does)."""
    found = [k for k, doc in enumerate(docs) if keep(doc["event"])]
    return rng.choice(found or list(range(len(docs))))


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def op_event_duplicate_id(rng, files):
    """One event takes the id of another."""

    def edit(docs):
        i, j = rng.sample(range(len(docs)), 2)
        docs[j]["event"]["id"] = docs[i]["event"]["id"]
        return {j: docs[j]}

    return _rewrite(files, edit)


PERSON_KEYS = ["player_id", "receiver_id", "official_id"]
UNKNOWN_PEOPLE = ["999999", "nobody", "0-1", "", " 8102", "DFL-OBJ-XXXXXX", "\u0661\u0662"]


def op_event_unknown_person(rng, files):
    """The acting player, the receiver or the official of one event is on no sheet: read, its lake id null."""
    key = rng.choice(PERSON_KEYS)

    def edit(docs):
        k = _pick(rng, docs, lambda e: e.get(key) is not None)
        event = docs[k]["event"]
        present = [name for name in PERSON_KEYS if event.get(name) is not None] or ["player_id"]
        event[key if key in present else rng.choice(present)] = rng.choice(UNKNOWN_PEOPLE)
        return {k: docs[k]}

    return _rewrite(files, edit)


def op_event_other_team(rng, files):
    """The acting player (or the receiver) of one event is on the sheet of the other team than the event's
    ``team_id`` (``receiver_team_id``) says."""
    players = _sheet_players(files)
    team_of = {pid: team for team, listed in players.items() for pid, _ in listed}
    key, team_key = rng.choice([("player_id", "team_id"), ("receiver_id", "receiver_team_id")])

    def edit(docs):
        keep = lambda e, k=key, t=team_key: e.get(k) in team_of and e.get(t) in players  # noqa: E731
        k = _pick(rng, docs, keep)
        event = docs[k]["event"]
        here, there = (key, team_key) if keep(event) else ("player_id", "team_id")
        if event.get(there) not in players:  # a referee event: give it a team and a player of the other one
            event[there] = next(iter(players))
        other = next(team for team in players if team != event[there])
        event[here] = rng.choice(players[other])[0]
        return {k: docs[k]}

    return _rewrite(files, edit)


def _shift(rng, files, deltas: list[timedelta], far: bool):
    def edit(docs):
        k = rng.randrange(len(docs))
        event = docs[k]["event"]
        if far and rng.random() < 0.3:  # a date-time far from the match, as text
            key = "receiver_time" if event.get("receiver_time") and rng.random() < 0.5 else "time"
            event[key] = rng.choice(FAR_TIMES)
            return {k: docs[k]}
        delta = rng.choice(deltas) * rng.choice([1, -1])
        keys = [rng.choice(["time", "receiver_time"])] if far else ["time", "receiver_time"]
        if not far and event.get("receiver_time") and rng.random() < 0.3:  # the reception alone: maybe before it
            keys = ["receiver_time"]
        for key in keys:
            if event.get(key):
                event[key] = _text(_utc(event[key]) + delta)
        if not any(event.get(key) for key in keys):
            event["time"] = _text(_utc(event["time"]) + delta)
        return {k: docs[k]}

    return _rewrite(files, edit)


def op_event_time_shift(rng, files):
    """One event (its time and receiver time, or its reception alone) moved by seconds to 20 minutes: outside its
    period or the tracking maybe, received before it is played maybe, still of this match: read (the sync and the
    checks deal with it)."""
    minutes = [timedelta(seconds=1), timedelta(seconds=30), timedelta(minutes=5), timedelta(minutes=20)]
    return _shift(rng, files, minutes, far=False)


FAR = [timedelta(days=3), timedelta(days=400), timedelta(days=80 * 365)]  # past the reader's 48 hours
FAR_TIMES = ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z", "1970-01-01T00:00:00Z"]


def op_event_time_far(rng, files):
    """One event's time (or receiver time) days to centuries away, or at 0001, 1970 or 9999: not of this match."""
    return _shift(rng, files, FAR, far=True)


UNKNOWN_PERIODS = ["third_half", "First_Half", "first half", "", "1", "half_time", "second_half ", "extra_time"]


def op_event_unknown_period(rng, files):
    """One event in a period CDF does not name."""

    def edit(docs):
        k = rng.randrange(len(docs))
        docs[k]["event"]["period"] = rng.choice(UNKNOWN_PERIODS)
        return {k: docs[k]}

    return _rewrite(files, edit)


def op_event_other_period(rng, files):
    """One event in another period CDF names (its time unchanged): read, placed by that period's clock."""

    def edit(docs):
        k = rng.randrange(len(docs))
        event = docs[k]["event"]
        event["period"] = rng.choice([p for p in PERIODS if p != event["period"]])
        return {k: docs[k]}

    return _rewrite(files, edit)


VERSION_PAIRS = [("is_successful", "outcome"), ("outcome_type", "outcome_detailed")]


def _versions(rng, files, agree: bool):
    def named(event) -> list[tuple[str, str]]:  # (the name given, the other version's name) of each field named
        given = [(a, b) for a, b in VERSION_PAIRS if event.get(a) is not None]
        return given + [(b, a) for a, b in VERSION_PAIRS if event.get(a) is None and event.get(b) is not None]

    def edit(docs):
        k = _pick(rng, docs, lambda e: bool(named(e)))
        event = docs[k]["event"]
        given, other = rng.choice(named(event) or [("is_successful", "outcome")])
        if event.get(given) is None:
            event[given] = True
        value = event[given]
        if agree and rng.random() < 0.3:  # the line names the field by the other version's name only
            event[other] = event.pop(given)
        elif agree:
            event[other] = value
        else:
            event[other] = (not value) if isinstance(value, bool) else f"not {value}"
        return {k: docs[k]}

    return _rewrite(files, edit)


def op_event_versions_agree(rng, files):
    """One line names a field by its v0.2 and its v0.3.2 name with one value (or by the other version's name
    only): read."""
    return _versions(rng, files, agree=True)


def op_event_versions_contradict(rng, files):
    """One line gives ``is_successful`` and ``outcome`` (or ``outcome_type`` and ``outcome_detailed``) different
    values: which one holds is not for the reader to guess."""
    return _versions(rng, files, agree=False)


def op_event_related_nowhere(rng, files):
    """One event's related ids name events not in the file (or itself): read, kept as delivered (a delivery may be
    a window of a match)."""

    def edit(docs):
        k = rng.randrange(len(docs))
        event = docs[k]["event"]
        other = docs[rng.randrange(len(docs))]["event"]["id"]
        event["related_event_ids"] = rng.choice([["nowhere"], [event["id"]], [other, "gone-1", "gone-2"], []])
        return {k: docs[k]}

    return _rewrite(files, edit)


def _long_text(rng, size: int) -> str:
    """A text of ``size`` bytes (about) once written in a JSON line, escapes included."""
    unit = rng.choice(["x", "\u00e9", "\u2603", 'ab\\"'])
    return unit * (size // (len(json.dumps(unit, ensure_ascii=False).encode()) - 2))


def op_event_long_line(rng, files):
    """One line of hundreds of kB, under the line bound: a long vendor string in a kept or an ignored field."""
    limit = max_line_bytes()

    def edit(docs):
        k = rng.randrange(len(docs))
        event = docs[k]["event"]
        room = limit - len(json.dumps(docs[k], ensure_ascii=False).encode()) - 64
        text = _long_text(rng, min(rng.choice([10_000, 200_000, 900_000]), room))
        event[rng.choice(["sub_type", "vendor_note", "id", "match_clock"])] = text
        return {k: docs[k]}

    return _rewrite(files, edit)


def op_event_huge_line(rng, files):
    """One line over the line bound (``FOOTY_MAX_LINE_BYTES``): refused before it is parsed."""
    limit = max_line_bytes()

    def edit(docs):
        k = rng.randrange(len(docs))
        docs[k]["event"][rng.choice(["sub_type", "vendor_note"])] = "x" * rng.choice([limit + 1, 3 * limit])
        return {k: docs[k]}

    return _rewrite(files, edit)


def op_deep_nesting(rng, files):
    """A value nested tens to a hundred thousand levels deep, in the events (a kept or an ignored field, or the
    whole line) or in the match sheet."""
    depth = rng.choice([20, 200, 990, 5000, 100_000])
    opened, closed = rng.choice([("[", "]"), ('{"a":', "}")])
    deep = opened * depth + "1" + closed * depth
    if rng.random() < 0.35:
        text = files[MATCH_FILE].decode()
        key = rng.choice(['"teams"', '"match"', '"events"', '"officials"'])
        at = text.find(key)
        if at < 0 or rng.random() < 0.3:  # a new field on the sheet
            at = text.find("{") + 1
            return {MATCH_FILE: (text[:at] + f'"vendor_extra": {deep}, ' + text[at:]).encode()}
        colon = text.index(":", at) + 1  # the deep value takes the key, its value moves to another
        return {MATCH_FILE: (text[:colon] + f' {deep}, "was_{key.strip(chr(34))}":' + text[colon:]).encode()}
    lines, at, _ = _event_lines(files[EVENTS_FILE])
    i = rng.choice(at)
    line = lines[i].decode()
    where = rng.choice(['"related_event_ids":', '"x":', '"event":', '"match":', "note", "line"])
    if where == "line":
        lines[i] = deep.encode()
    elif where == "note" or where not in line:
        lines[i] = (line[: line.rindex("}")] + f', "vendor_note": {deep}' + line[line.rindex("}") :]).encode()
    else:
        at_key = line.index(where) + len(where)
        lines[i] = (line[:at_key] + deep + ", " + f'"was_{where.strip(":").strip(chr(34))}":' + line[at_key:]).encode()
    return {EVENTS_FILE: b"\n".join(lines)}


def op_sheet_drop_player(rng, files):
    """A player whom the sheet's goals, substitutions and cards do not name is dropped from it: his events are read,
    his lake id null (as a person on no sheet)."""
    sheet = json.loads(files[MATCH_FILE])
    named = set(re.findall(r'"(?:player_id|assist_id|in_player_id|out_player_id)":\s*"([^"]*)"', json.dumps(sheet)))
    teams = sheet["teams"]
    listed = [(side, i) for side in teams for i, p in enumerate(teams[side]["players"]) if p["id"] not in named]
    side, i = rng.choice(listed)
    del sheet["teams"][side]["players"][i]
    return {MATCH_FILE: json.dumps(sheet, indent=rng.choice([None, 1])).encode()}


def op_sheet_time_far(rng, files):
    """A goal's, a substitution's or a card's time on the sheet days to centuries away: not of this match."""
    sheet = json.loads(files[MATCH_FILE])
    entries = [
        (entry, key)
        for kind, keys in (("goals", ["time"]), ("substitutions", ["in_time", "out_time"]), ("cards", ["time"]))
        for entry in sheet.get("events", {}).get(kind, [])
        for key in keys
        if entry.get(key)
    ]
    entry, key = rng.choice(entries)
    if rng.random() < 0.3:
        entry[key] = rng.choice(FAR_TIMES)
    else:
        entry[key] = _text(_utc(entry[key]) + rng.choice(FAR) * rng.choice([1, -1]))
    return {MATCH_FILE: json.dumps(sheet, indent=1).encode()}


def op_meta_time_far(rng, files):
    """A period's start in the CDF meta (its start_time, or the start whistle) days to centuries away: not of this
    match (the events' clock would put every event years into its period)."""
    meta = json.loads(files[META_FILE])
    match = meta["match"]
    starts = [(p, "start_time") for p in match.get("periods", []) if p.get("start_time")]
    starts += [(w, "time") for w in match.get("whistles", []) if w.get("sub_type") == "start" and w.get("time")]
    entry, key = rng.choice(starts)
    if rng.random() < 0.3:
        entry[key] = rng.choice(FAR_TIMES)
    else:
        entry[key] = _text(_utc(entry[key]) + rng.choice(FAR) * rng.choice([1, -1]))
    return {META_FILE: json.dumps(meta, indent=1).encode()}


EVENT_OPERATORS = [
    op_event_duplicate_id,
    op_event_unknown_person,
    op_event_other_team,
    op_event_time_shift,
    op_event_time_far,
    op_event_unknown_period,
    op_event_other_period,
    op_event_versions_agree,
    op_event_versions_contradict,
    op_event_related_nowhere,
    op_event_long_line,
    op_event_huge_line,
    op_deep_nesting,
    op_sheet_drop_player,
    op_sheet_time_far,
    op_meta_time_far,
]
NEEDS_META = {op_meta_time_far}  # drawn on the bases whose events come with a CDF meta
EVENT_EVERY = 4  # every 4th mutant is an event class (in turn), on an event base


def event_file_operators(file: str) -> list:
    """The byte operators for a file of an event delivery: those of any file of its name (``operators_for``)."""
    return operators_for(file)


def operators_for(file: str) -> list:
    """The byte operators for a file of this name (the hard links are drawn apart: they work on the folder)."""
    if file.endswith(".parquet"):
        return [
            op_parquet_values,
            op_parquet_values,
            op_parquet_values,
            op_parquet_bytes,
            op_parquet_bomb,
            op_parquet_types,
            op_parquet_types,
        ]
    if file.endswith((".json", ".jsonl")):
        extra = [op_meta_fps] if file == "meta.json" else []  # a CDF meta
        extra += [op_sidecar_keys, op_sidecar_keys] if file == "tracks_meta.json" else []
        extra += [op_duplicate_key, op_boolean_number, op_encoding]
        extra += [op_line_not_an_object] if file.endswith(".jsonl") else []
        return [*JSON_OPERATORS, *TEXT_OPERATORS[:5], *extra]
    return TEXT_OPERATORS


HARD_LINK_SHARE = 0.08  # of the mutants: a landed file replaced by a hard link, before the scan or after it
HARD_LINKS = ("op_hard_link", "op_hard_link_after_scan")
OPERATOR_NAMES = sorted(
    {
        op.__name__
        for name in ("a.parquet", "a.json", "tracks_meta.json", "meta.json", "a.txt", EVENTS_FILE)
        for op in [*operators_for(name), *event_file_operators(name)]
    }
    | set(HARD_LINKS)
    | {op.__name__ for op in EVENT_OPERATORS}
)
# Mutants nothing may read (the reason a refusal must give): a JSON-lines line that is not an object, more rows
# than the bound, track keys that collide or repeat (every one of SIDECAR_KEYS fails the ASCII-decimal rule), a
# file that is also a name of a file outside the lake; and of the event data (formats/cdf/events.py's rules): an
# id twice, a player on the other team's sheet than the event's team, a time days from the match, a period CDF
# does not name, a field's v0.2 and v0.3.2 names with different values, a line over the bound.
MUST_REFUSE = {
    "op_line_not_an_object": "expected a JSON object",
    "op_parquet_bomb": "over the limit",
    "op_sidecar_keys": "",
    "op_hard_link": "hard link",
    "op_hard_link_after_scan": "hard link",
    "op_event_duplicate_id": "appears twice",
    "op_event_other_team": "sheet",
    "op_event_time_far": "not of this match",
    "op_event_unknown_period": "is not a period",
    "op_event_versions_contradict": "contradicts",
    "op_event_huge_line": "over the limit",
    "op_sheet_time_far": "not of this match",
    "op_meta_time_far": "not of this match",
}
# Event mutants that must be read (the reader's rules keep them): a person on no sheet (lake id null), times
# minutes off, another period CDF names, both versions' names of a field agreeing, related ids of no event, a line
# under the bound, a player on no goal, substitution or card dropped from the sheet.
MUST_READ = {
    "op_event_unknown_person",
    "op_event_time_shift",
    "op_event_other_period",
    "op_event_versions_agree",
    "op_event_related_nowhere",
    "op_event_long_line",
    "op_sheet_drop_player",
}
# refusals of a whole event file, that have no line to name
FILE_LEVEL = re.compile(
    r"is empty|over the limit of [\d,]+ bytes|hard link|expected (events\.jsonl|match\.json)|refused, not|is gone"
)
OUTCOMES = ("read", "refused", "failure")


def hard_link(target: Path, file: str, outside: Path) -> str:
    """Replace the landed ``file`` by a hard link to a copy of it in ``outside`` (a folder outside the lake):
    the file is then a second name of a file the lake does not own. Returns the text a refusal must not quote:
    the head of the file's first line with some text."""
    shutil.rmtree(outside, ignore_errors=True)
    outside.mkdir(parents=True)
    shutil.copy2(target / file, outside / file)
    (target / file).unlink()
    os.link(outside / file, target / file)
    lines = (outside / file).read_bytes().decode("utf-8", "replace").splitlines()
    return next((line.strip()[:40] for line in lines if len(line.strip()) >= 8), "")


# -- the check ----------------------------------------------------------------------------------------------
def check_rows(tracking: pl.DataFrame) -> str | None:
    """Why canonical rows are not acceptable (None when they are)."""
    try:
        Tracking.validate(tracking)
    except Exception as exc:  # noqa: BLE001  a reader must never produce rows its own contract rejects
        return f"contract: {str(exc).splitlines()[0][:300]}"
    floats = [c for c, t in tracking.schema.items() if t.is_float()]
    bad = tracking.select([(~pl.col(c).is_finite()).sum() for c in floats]).row(0)
    if any(bad):
        return f"non-finite values in {dict(zip(floats, bad))}"
    return None


def events_step(lake: Lake, audit) -> tuple[str | None, int]:
    """What the chain does with the event data once the audit passed and tracking is written
    (``chain.events.EventsStep`` without the lake's records): the event files read again, placed on the
    tracking's clock (from its periods when no CDF meta comes with them), synchronised with the tracking rows, and
    the events and lineups validated by their contracts. Returns why that failed (None when it did not: the
    delivery would be half written, tracking and its tables stored, its events refused or crashed) and how many
    events were read."""
    try:
        tracking = audit.take_tracking()
        landed, delivery, where = read_events_delivery(lake, audit.landed)
        read = read_event_data(delivery, where)
        if META_FILE not in delivery.contents:
            firsts = tracking.group_by("period").agg(pl.col("timestamp_ms").min())
            clock = tracking_clock(read, {int(p): int(t) for p, t in firsts.iter_rows()})
            read = read_event_data(delivery, where, clock)
        fingerprint = landed.fingerprint
        frame, _ = synced_events(read, tracking.select(TRACKING_COLUMNS), audit.info.fps, fingerprint)
        frame = Events.validate(frame)
        bounds = tracking.group_by("period").agg(
            first_frame=pl.col("frame_id").min(), last_frame=pl.col("frame_id").max()
        )
        events_in_tracking(frame, bounds)
        ball_events_synced(frame)
        lineups = read.lineups.with_columns(fingerprint=fingerprint_column(fingerprint))
        Lineups.validate(lineups.select(list(LINEUPS_SCHEMA)).cast(LINEUPS_SCHEMA))
    except Exception as exc:  # noqa: BLE001 - the point of the fuzzer
        first = (str(exc).splitlines() or [""])[0][:300]
        return f"after the audit passed (tracking written): {type(exc).__name__}: {first}", 0
    return ("after the audit passed: no events" if frame.height == 0 else None), frame.height


def _judge_refusal(name: str, file: str, names: set[str], exc: Exception, secret: str) -> tuple[str, str]:
    """(outcome, detail) of a mutant refused with ``exc``; ``names``: the names a refusal may give (the delivery's
    files, bare or by their path in the lake, and the match)."""
    message = str(exc)
    if "\n" in message:
        return "failure", f"{file}: a refusal of more than one line: {message[:300]!r}"
    if name in HARD_LINKS:  # refused on the scan (LandingError) or on the open file (FeedError), by path
        if file not in message or "hard link" not in message:
            return "failure", f"{file}: a hard link refused without naming it as one: {message[:300]}"
        if secret and secret in message:
            return "failure", f"{file}: the refusal of a hard link quotes the file's content: {message[:300]}"
        return "refused", f"{file}: {message}"[:300]
    if not isinstance(exc, FeedError):
        return "failure", f"{file}: {type(exc).__name__} instead of a FeedError: {message[:300]}"
    if exc.file not in names:
        return "failure", f"FeedError names {exc.file!r}, not a file of {sorted(names)}: {message[:300]}"
    if exc.file.endswith((EVENTS_FILE, MATCH_FILE)) and exc.line is None and not FILE_LEVEL.search(exc.what):
        return "failure", f"{file}: an event file refused without the line: {message[:300]}"
    if MUST_REFUSE.get(name, "") not in message:
        return "failure", f"{file}: refused for another reason than {MUST_REFUSE[name]!r}: {message[:300]}"
    if name in MUST_READ:
        return "failure", f"{file}: refused, where it must be read ({name}): {message[:300]}"
    return "refused", f"{file}: {message}"[:300]


def _land(lake: Lake, base: Base) -> dict[str, Path]:
    """Land ``base`` as match ``fuzz`` (alone: the landing zone is emptied first); returns {file: its folder}."""
    landing = Path(lake.uri) / "landing"
    shutil.rmtree(landing, ignore_errors=True)
    shutil.copytree(base.folder, landing / base.fmt / "fuzz")
    folders = {p.name: p.parent for p in (landing / base.fmt / "fuzz").iterdir() if p.is_file()}
    if base.events is not None:
        shutil.copytree(base.events, landing / "events" / "fuzz")
        folders.update({p.name: p.parent for p in (landing / "events" / "fuzz").iterdir() if p.is_file()})
    return folders


class Mutant(NamedTuple):
    operator: str  # format:operator (format "events" for the event bases)
    outcome: str  # one of OUTCOMES
    detail: str
    events: int = 0  # the events read (event bases)


def run_one(lake: Lake, base: Base, rng: random.Random, outside: Path, event_class=None) -> Mutant:
    """Land one mutant of ``base`` as match ``fuzz`` and judge it. ``outside``: a folder outside the lake on the
    same file system (for the hard links); ``event_class``: the event operator to apply (else a byte operator or a
    hard link on a file drawn at random)."""
    folders = _land(lake, base)
    files = sorted(folders)
    file = rng.choice(base.event_files if base.has_events else files)
    secret = ""
    if event_class is not None:
        name = event_class.__name__
        current = {f: (folders[f] / f).read_bytes() for f in (EVENTS_FILE, MATCH_FILE, META_FILE) if f in folders}
        changed = event_class(rng, current)
        for f, data in changed.items():
            (folders[f] / f).write_bytes(data)
        file = ",".join(sorted(changed))
    elif rng.random() < HARD_LINK_SHARE:
        name = rng.choice(HARD_LINKS)
        if name == "op_hard_link":
            secret = hard_link(folders[file], file, outside)
    else:
        operator = rng.choice(event_file_operators(file) if base.has_events else operators_for(file))
        name = operator.__name__
        data = (folders[file] / file).read_bytes()
        (folders[file] / file).write_bytes(operator(rng, data))
    root = Path(lake.uri)
    names = {*files, "fuzz"} | {str((folders[f] / f).relative_to(root)) for f in files}
    names |= {str(folder.relative_to(root)) for folder in folders.values()}
    started, events, refused_by = time.perf_counter(), 0, []
    try:
        landed = find_match(lake, "fuzz")
        if name == "op_hard_link_after_scan":  # the same bytes, hashed as one name, read as one of two
            secret = hard_link(folders[file], file, outside)
        if base.has_events:  # the chain's audit: tracking and events read together, then the tracking checked
            audit = audit_delivery(lake, landed)
            tracking, refused_by = audit.tracking, [o.name for o in audit.refused]
        else:
            tracking = read_match(lake, landed).tracking
    except (FeedError, LandingError) as exc:
        outcome, detail = _judge_refusal(name, file, names, exc, secret)
    except Exception as exc:  # noqa: BLE001 - the point of the fuzzer
        outcome, detail = "failure", f"{file}: {type(exc).__name__}: {str(exc)[:300]} | {traceback.format_exc()[-600:]}"
    else:
        problem = check_rows(tracking)
        if problem is None and refused_by:  # a blocking tracking check: the chain refuses it, nothing written
            outcome, detail = "refused", f"{file}: the tracking checks refuse it: {', '.join(refused_by)}"
            if name in MUST_READ:
                outcome, detail = "failure", f"{detail}, where it must be read ({name})"
            elif MUST_REFUSE.get(name):
                outcome, detail = "failure", f"{detail}, not for {MUST_REFUSE[name]!r} ({name})"
        else:
            if problem is None and base.has_events:
                problem, events = events_step(lake, audit)
            if problem is None and name in MUST_REFUSE:
                problem = f"read, where it must be refused ({name})"
            outcome, detail = ("failure", f"{file}: {problem}") if problem else ("read", file)
    seconds = time.perf_counter() - started
    if seconds > MAX_SECONDS_PER_MUTANT:
        outcome, detail = "failure", f"{file}: took {seconds:.1f} s (hang?)"
    return Mutant(f"{'events' if base.has_events else base.fmt}:{name}", outcome, detail, events)


class Publisher:
    """The real chain (``materialize_lake``: Dagster, a temporary instance) on a lake of each event base, its
    plain delivery published first: a mutant landed there must publish (read) or leave the published delivery, its
    events and its lineup exactly as they were (refused), as the fuzzer's own verdict says."""

    def __init__(self, workdir: Path):
        import dagster as dg

        self.workdir, self.lakes = workdir, {}
        self._instance = dg.instance_for_test()
        self.instance = self._instance.__enter__()

    def close(self) -> None:
        self._instance.__exit__(None, None, None)

    def _materialize(self, lake: Lake):
        from footy_assets.orchestration.runner import materialize_lake

        return materialize_lake(lake, self.instance, ["fuzz"], progress=lambda line: None)

    def _state(self, lake: Lake) -> tuple:
        from footy_assets.lake.publish import published_fingerprint
        from footy_assets.lake.sql import run_sql

        counts = [
            run_sql(lake, f"SELECT count(*) FROM {t} WHERE match_id = 'fuzz'").item() for t in ("events", "lineups")
        ]
        return published_fingerprint(lake, "fuzz"), *counts

    def lake_for(self, base: Base) -> Lake:
        """The publishing lake of ``base``, its plain delivery published (once)."""
        if base not in self.lakes:
            lake = Lake.from_env(str(self.workdir / "publish" / str(len(self.lakes))))
            _land(lake, base)
            outcomes = self._materialize(lake)
            if not all(o.ok for o in outcomes):
                raise RuntimeError(f"the base {base.name} does not publish: {[o.error for o in outcomes]}")
            self.lakes[base] = lake
        return self.lakes[base]

    def check(self, base: Base, landing: Path, mutant: Mutant) -> str | None:
        """Land the mutant (the landing zone ``landing``) on ``base``'s lake and materialise it; why the chain
        disagrees with the verdict, or published part of a delivery (None when it does neither)."""
        lake = self.lake_for(base)
        before = self._state(lake)
        shutil.rmtree(Path(lake.uri) / "landing")
        shutil.copytree(landing, Path(lake.uri) / "landing")
        outcomes = self._materialize(lake)
        after = self._state(lake)
        errors = [o.error or "" for o in outcomes if not o.ok]
        if mutant.outcome == "read":
            landed = find_match(lake, "fuzz").fingerprint
            if errors or after[0] != landed or after[1] != mutant.events:
                return f"read, but the chain: {errors[:1]}, published {after} (the delivery {landed[:12]})"
            return None
        if not errors or any("\n" in e for e in errors):
            return f"refused, but the chain: ok={not errors}, errors {errors[:1]}"
        if after != before:
            return f"refused, but the lake changed: {before} -> {after} ({errors[0][:200]})"
        return None


def table(by_operator: dict[str, dict[str, int]]) -> list[str]:
    """The per-operator counts as fixed-width lines (to quote as they are)."""
    width = max(len(name) for name in by_operator)
    lines = [f"{'operator':<{width}}  " + "  ".join(f"{o:>7}" for o in OUTCOMES)]
    for name, counts in by_operator.items():
        lines.append(f"{name:<{width}}  " + "  ".join(f"{counts[o]:>7}" for o in OUTCOMES))
    return lines


def fuzz(mutants: int, seed: int, publish: int = 0, only: int | None = None) -> dict:
    """Run ``mutants`` mutants of seed ``seed``: every ``EVENT_EVERY``-th one an event class (in turn) on an
    event base, the others a byte operator or a hard link on any base. ``publish``: how many of the event mutants
    (the first ones, hard links left out) also go through the real chain (``Publisher``, a few seconds each).
    ``only``: run mutant number ``only`` of the seed alone (a failure's ``mutant``: the same files, the same
    outcome). Returns the summary (see the module)."""
    workdir = Path(tempfile.mkdtemp(prefix="footy-fuzz-"))
    saved = os.environ.get("FOOTY_MAX_PARQUET_ROWS")
    os.environ["FOOTY_MAX_PARQUET_ROWS"] = str(FUZZ_MAX_PARQUET_ROWS)  # the bombs stay small
    try:
        lake = Lake.from_env(str(workdir / "lake"))
        bases = _bases(workdir)
        with_events = [b for b in bases if b.has_events]
        with_meta = [b for b in with_events if META_FILE in b.event_files]
        counts: Counter = Counter()
        per_event_file: Counter = Counter()
        failures = []
        published: Counter = Counter()
        publisher = Publisher(workdir) if publish else None
        started = time.perf_counter()
        for number in range(mutants) if only is None else [only]:
            rng = random.Random(seed * 1_000_003 + number)
            event_class = None
            if number % EVENT_EVERY == EVENT_EVERY - 1:
                event_class = EVENT_OPERATORS[(number // EVENT_EVERY + seed) % len(EVENT_OPERATORS)]
                base = rng.choice(with_meta if event_class in NEEDS_META else with_events)
            else:
                base = rng.choice(bases)
            mutant = run_one(lake, base, rng, workdir / "outside", event_class)
            operator, outcome, detail = mutant.operator, mutant.outcome, mutant.detail
            name = operator.split(":", 1)[1]
            chained = base.has_events and name not in HARD_LINKS and outcome != "failure"
            if publisher and chained and sum(published.values()) < publish:
                problem = publisher.check(base, Path(lake.uri) / "landing", mutant)
                published[outcome if problem is None else "failure"] += 1
                if problem is not None:
                    outcome, detail = "failure", f"{detail[:200]} | published: {problem}"
            counts[(operator, outcome)] += 1
            if base.has_events:
                per_event_file[(detail.split(":", 1)[0], operator.split(":", 1)[1], outcome)] += 1
            if outcome == "failure":
                failures.append(
                    {"mutant": number, "seed": seed, "base": base.name, "operator": operator, "detail": detail}
                )
        by_outcome = {o: sum(n for (_, outcome), n in counts.items() if outcome == o) for o in OUTCOMES}
        by_operator = {name: dict.fromkeys(OUTCOMES, 0) for name in OPERATOR_NAMES}  # one that never ran shows 0
        by_format = {}
        for (operator, outcome), n in sorted(counts.items()):
            by_operator[operator.split(":", 1)[1]][outcome] += n
            by_format.setdefault(operator, dict.fromkeys(OUTCOMES, 0))[outcome] += n
        by_event_file = {}
        for (file, operator, outcome), n in sorted(per_event_file.items()):
            by_event_file.setdefault(file, {}).setdefault(operator, dict.fromkeys(OUTCOMES, 0))[outcome] += n
        return {
            "mutants": mutants,
            "seed": seed,
            "seconds": round(time.perf_counter() - started, 1),
            "outcomes": by_outcome,
            "by_operator": by_operator,
            "table": table(by_operator),
            "by_format": by_format,
            "by_event_file": by_event_file,
            "event_classes": [op.__name__ for op in EVENT_OPERATORS],
            "published": {o: published[o] for o in OUTCOMES},
            "failures": failures,
        }
    finally:
        if publish and publisher is not None:
            publisher.close()
        if saved is None:
            os.environ.pop("FOOTY_MAX_PARQUET_ROWS", None)
        else:
            os.environ["FOOTY_MAX_PARQUET_ROWS"] = saved
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", type=int, default=200, help="how many mutants (default 200)")
    parser.add_argument("--seed", type=int, default=None, help="the seed (default: a new one, printed)")
    parser.add_argument(
        "--publish", type=int, default=0, help="how many event mutants also go through the real chain (default 0)"
    )
    parser.add_argument(
        "--only", type=int, default=None, help="run one mutant of the seed: a failure's number (needs --seed)"
    )
    args = parser.parse_args(argv)
    if args.only is not None and args.seed is None:
        parser.error("--only needs the --seed the failure was found with")
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 1_000_000)
    summary = fuzz(args.mutants, seed, args.publish, args.only)
    print("\n".join(summary["table"]), file=sys.stderr)  # stdout stays one JSON document
    print(json.dumps(summary, indent=1))
    return 1 if summary["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
