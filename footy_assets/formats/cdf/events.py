"""cdf: event data (``events.jsonl``, one event per line) and the match sheet (``match.json``).

Both v0.3 key names (``is_successful``, ``outcome_type``, ``official_id`` on referee events, ``officials`` on the
sheet) and v0.2 ones (``outcome``, ``outcome_detailed``, ``referees`` with ``official_type``) are read. ``type``,
``sub_type`` and ``outcome_type`` are free strings, kept as delivered.

Identity: ``team`` is 0 for the sheet's home team id and 1 for its away team id; ``player_id`` is the lake's
``"{team}-{jersey}"`` from the sheet's jersey numbers (null for a person on no team sheet, as tracking keeps an
unknown id unidentified); the vendor's own id is kept beside it. Coordinates: CDF event locations are metres from
the centre spot with the home team attacking +x in every period, which is the canonical frame: nothing to rotate.

Clock: ``timestamp_ms`` puts each event on the tracking's timeline (ms since the first frame of period 1, as
tracking's ``timestamp_ms`` of a CDF match): the period's start on that timeline (its ``frame_id_start`` in the
meta, at the meta's fps) plus the event's ``time`` minus the period's ``start_time``. The vendor's event clock is
not corrected here: ``core.sync`` measures and removes its offset.

Every value that cannot be read is refused with a ``FeedError`` naming the file and the line: lines are read as
strictly as the other JSON documents (a key twice, NaN, ``1e999`` refused), then decoded with one typed parse of
the whole file (a string where a number belongs is refused, not coerced). Refused too: an event id twice, a period
CDF does not name, a field's v0.2 and v0.3 names with different values on one line, a player (receiver) on the
sheet of the other team than the event's ``team_id`` (``receiver_team_id``: CDF's team of the person), and any
time (of an event, a reception, the sheet's goals, substitutions and cards, the meta's period starts) more than
``MAX_HOURS_FROM_MATCH`` from the events' median time: it is not of this match. Kept as delivered: a person on no
sheet (no lake id), related event ids naming no event of the file (a delivery may be a window of the match),
times minutes outside the periods (the sync measures the clock's offset; the checks warn).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import polars as pl

from footy_assets.core import canonical
from footy_assets.core.metrics import clock as period_clock
from footy_assets.formats.cdf.contract import PERIODS
from footy_assets.formats.common import (
    Delivery,
    FeedError,
    excerpt,
    first_bad_line,
    json_kind,
    load_json_document,
    strip_bom,
    text_lines,
)

EVENTS_FILE, MATCH_FILE, META_FILE = "events.jsonl", "match.json", "meta.json"
MAX_ABS_M = 100.0  # a location further than this from the centre spot is off any pitch (as tracking's contract)
CARD_TYPES = ("yellow_card", "red_card", "second_yellow_card")
BODY_PARTS = ("left_foot", "right_foot", "feet", "head", "hands", "upper_body", "lower_body", "body", "other")
SENT_OFF = ("red_card", "second_yellow_card")
UTC_FORMAT = "%Y-%m-%dT%H:%M:%S%.f%#z"  # RFC 3339: a zone (Z or +02:00) is required; fractions optional
# a time further than this from the events' median time is of another match (a match resumed the next day is within)
MAX_HOURS_FROM_MATCH = 48
_MAX_MS_FROM_MATCH = MAX_HOURS_FROM_MATCH * 3_600_000
VERSION_NAMES = (("is_successful", "outcome"), ("outcome_type", "outcome_detailed"))  # (v0.3 name, v0.2 name)

EVENT_FIELDS = {  # the event object's fields this reader takes (v0.3.2 and v0.2 names); others are ignored
    "id": "string",
    "time": "string",
    "period": "string",
    "type": "string",
    "sub_type": "string",
    "is_successful": "bool",
    "outcome_type": "string",
    "outcome": "bool",
    "outcome_detailed": "string",
    "player_id": "string",
    "team_id": "string",
    "official_id": "string",
    "receiver_id": "string",
    "receiver_time": "string",
    "receiver_team_id": "string",
    "x": "float64",
    "y": "float64",
    "x_end": "float64",
    "y_end": "float64",
    "body_part": "string",
    "related_event_ids": "list<string>",
}

EVENTS_SCHEMA: dict[str, pl.DataType] = {
    "match_id": pl.String,
    "event_id": pl.String,
    "event_index": pl.Int32,
    "period": pl.Int8,
    "time": pl.Datetime("ms", "UTC"),
    "timestamp_ms": pl.Int64,
    "period_time_s": pl.Float32,
    "match_minute": pl.Int16,
    "type": pl.String,
    "sub_type": pl.String,
    "is_successful": pl.Boolean,
    "outcome_type": pl.String,
    "team": pl.Int8,
    "player_id": pl.String,
    "vendor_person_id": pl.String,
    "receiver_id": pl.String,
    "vendor_receiver_id": pl.String,
    "receiver_time": pl.Datetime("ms", "UTC"),
    "receiver_timestamp_ms": pl.Int64,
    "x_m": pl.Float32,
    "y_m": pl.Float32,
    "x_end_m": pl.Float32,
    "y_end_m": pl.Float32,
    "body_part": pl.String,
    "related_event_ids": pl.List(pl.String),
    "fingerprint": pl.Categorical,
}

LINEUPS_SCHEMA: dict[str, pl.DataType] = {
    "match_id": pl.String,
    "team": pl.Int8,
    "team_name": pl.String,
    "role": pl.String,
    "player_id": pl.String,
    "vendor_person_id": pl.String,
    "first_name": pl.String,
    "last_name": pl.String,
    "short_name": pl.String,
    "jersey": pl.Int16,
    "position": pl.String,
    "position_group": pl.String,
    "is_starter": pl.Boolean,
    "has_played": pl.Boolean,
    "is_captain": pl.Boolean,
    "minute_on": pl.Int16,
    "minute_off": pl.Int16,
    "goals": pl.Int16,
    "own_goals": pl.Int16,
    "assists": pl.Int16,
    "yellow_cards": pl.Int8,
    "red_cards": pl.Int8,
    "fingerprint": pl.Categorical,
}


@dataclass(frozen=True)
class EventClock:
    """Where each period starts, in UTC (``start_utc_ms``: ms since the Unix epoch) and on the tracking's
    timeline (``start_ms``: ms since the first frame of period 1). ``source`` says where it came from."""

    start_utc_ms: dict[int, int]
    start_ms: dict[int, int]
    source: str = "meta"


@dataclass
class MatchSheet:
    """A parsed match sheet: the vendor's match id, the two team ids and names, everyone on it (``people``:
    role, team, vendor id, names, jersey, ...), and its goals, substitutions and cards (times in UTC ms);
    ``times``: (where in the sheet, UTC ms) of each of their times."""

    match_id: str | None
    team_ids: tuple[str, str]
    team_names: tuple[str | None, str | None]
    people: pl.DataFrame
    goals: list[dict] = field(default_factory=list)
    substitutions: list[dict] = field(default_factory=list)
    cards: list[dict] = field(default_factory=list)
    times: list[tuple[tuple, int]] = field(default_factory=list)


@dataclass
class EventsRead:
    events: pl.DataFrame
    lineups: pl.DataFrame
    clock: EventClock
    sheet: MatchSheet
    notes: list[str] = field(default_factory=list)


# -- locating a value of a JSON document (error path only) -----------------------------------------------------

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+')


def line_of(text: str, path: tuple) -> int | None:
    """The line (1-based) of the value at ``path`` (keys and list indices) in the JSON ``text``, or of its
    nearest enclosing value that exists (a missing key is reported where its object is). One scan of the
    tokens; used only to name the line of a value being refused."""
    best, stack = None, []  # stack entries: [kind, key or index, state]; state of an object: key/colon/value/after
    for m in _TOKEN.finditer(text):
        tok = m.group(0)
        top = stack[-1] if stack else None
        if top and top[0] == "obj" and top[2] == "key":
            if tok == "}":
                stack.pop()
                _after(stack)
            elif tok != ",":
                try:
                    top[1] = json.loads(tok)
                except ValueError:
                    top[1] = None
                top[2] = "colon"
            continue
        if top and top[0] == "obj" and top[2] == "colon":
            top[2] = "value"
            continue
        if tok == ",":
            if top and top[0] == "arr":
                top[1] += 1
            elif top:
                top[2] = "key"
            continue
        if tok in "]}":
            stack.pop()
            _after(stack)
            continue
        here = tuple(entry[1] for entry in stack)
        if path[: len(here)] == here:
            best = text.count("\n", 0, m.start()) + 1
            if here == tuple(path):
                return best
        if tok == "{":
            stack.append(["obj", None, "key"])
        elif tok == "[":
            stack.append(["arr", 0, None])
        elif top and top[0] == "obj":
            top[2] = "after"
    return best


def _after(stack: list) -> None:
    if stack and stack[-1][0] == "obj":
        stack[-1][2] = "after"


def _dotted(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_MISSING = object()


class _Document:
    """A strictly parsed JSON document whose refusals name the line of the value refused."""

    def __init__(self, data: bytes, file: str):
        self.file = file
        try:
            self.doc = load_json_document(data, file)
        except FeedError as exc:
            if exc.line is not None or "nested too deeply" not in exc.what:
                raise
            raise FeedError(file, exc.what, line=_deepest_line(strip_bom(data, file).decode("utf-8"))) from None
        self.text = strip_bom(data, file).decode("utf-8")

    def refuse(self, path: tuple, what: str):
        raise FeedError(self.file, f"{_dotted(path)} {what}", line=line_of(self.text, path))

    def get(self, path: tuple, default=_MISSING):
        node = self.doc
        for key in path:
            if (isinstance(key, int) and isinstance(node, list) and 0 <= key < len(node)) or (
                isinstance(key, str) and isinstance(node, dict) and key in node
            ):
                node = node[key]
            else:
                return default
        return node

    def string(self, path: tuple, required: bool = True) -> str | None:
        value = self.get(path, None)
        if value is None and not required:
            return None
        if not isinstance(value, str) or (required and not value):
            self.refuse(
                path,
                "must be a string" + (f", found {_json_excerpt(value)}" if value is not None else " and is missing"),
            )
        return value

    def boolean(self, path: tuple, required: bool = True) -> bool | None:
        value = self.get(path, None)
        if value is None and not required:
            return None
        if not isinstance(value, bool):
            self.refuse(
                path,
                "must be true or false"
                + (f", found {_json_excerpt(value)}" if value is not None else " and is missing"),
            )
        return value

    def integer(self, path: tuple, low: int, high: int, required: bool = True) -> int | None:
        value = self.get(path, None)
        if value is None and not required:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.refuse(path, f"must be a whole number in {low}..{high}, found {_json_excerpt(value)}")
        return value

    def utc_ms(self, path: tuple, required: bool = True) -> int | None:
        text = self.string(path, required)
        if text is None:
            return None
        ms = parse_utc_ms(pl.Series([text]))[0]
        if ms is None:
            self.refuse(path, f"{excerpt(text)} is not a date-time with a zone (e.g. 2020-06-05T18:30:00.210Z)")
        return ms

    def refuse_far(self, path: tuple, ms: int, centre_ms: int) -> None:
        """Refuse the time ``ms`` at ``path`` when it is not of the match whose events' median time is
        ``centre_ms``."""
        if abs(ms - centre_ms) > _MAX_MS_FROM_MATCH:
            self.refuse(path, f"{excerpt(self.get(path))} is {_far(ms, centre_ms)}")

    def period(self, path: tuple, required: bool = True) -> int | None:
        name = self.string(path, required)
        if name is None:
            return None
        if name not in PERIODS:
            self.refuse(path, f"{excerpt(name)} is not a period ({', '.join(sorted(set(PERIODS)))})")
        return PERIODS[name]

    def objects(self, path: tuple, required: bool = True) -> list:
        value = self.get(path, None)
        if value is None and not required:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.refuse(path, "must be a list of objects")
        return value


_BRACKETS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _deepest_line(text: str) -> int:
    """The line (1-based) where the JSON ``text`` is first nested deepest (error path only: a document nested too
    deeply for the parser)."""
    depth, deepest, at = 0, 0, 0
    for m in _BRACKETS.finditer(text):
        tok = m.group(0)
        if tok in "[{":
            depth += 1
            if depth > deepest:
                deepest, at = depth, m.start()
        elif tok in "]}":
            depth -= 1
    return text.count("\n", 0, at) + 1


def _far(ms: int, centre_ms: int) -> str:
    """How far the time ``ms`` is from the events' median time ``centre_ms``, as the end of a refusal."""
    hours = abs(ms - centre_ms) / 3_600_000
    span = f"{hours:,.0f} hours" if hours < 72 else f"{hours / 24:,.0f} days"
    centre = pl.select(pl.lit(centre_ms).cast(pl.Datetime("ms", "UTC")).dt.strftime("%Y-%m-%dT%H:%M:%SZ")).item()
    return f"{span} from the match's events (their median time is {centre}): not of this match"


def _json_excerpt(value, limit: int = 40) -> str:
    """A value as its JSON text, shortened and printable, for an error message."""
    if value is None:
        return "nothing"
    text = json.dumps(value)
    return "".join(ch if ch.isprintable() else "?" for ch in text[:limit]) + ("..." if len(text) > limit else "")


def parse_utc(column: pl.Expr) -> pl.Expr:
    """An RFC 3339 date-time string (a zone required: ``Z`` or ``+02:00``) as a UTC datetime (ms); null where it
    is not one."""
    return column.str.to_datetime(format=UTC_FORMAT, time_zone="UTC", strict=False, time_unit="ms")


def parse_utc_ms(values: pl.Series) -> list[int | None]:
    return pl.select(parse_utc(pl.lit(values)).dt.epoch("ms")).to_series().to_list()


# -- the match sheet ----------------------------------------------------------------------------------------------


def read_match_sheet(data: bytes, file: str = MATCH_FILE) -> MatchSheet:
    """The match sheet: teams and everyone on them, officials, goals, substitutions and cards, checked value by
    value (each refusal names the line)."""
    doc = _Document(data, file)
    if not isinstance(doc.doc, dict):
        raise FeedError(file, "expected a JSON object (a CDF match sheet)", line=1)
    match_id = doc.string(("match", "id"), required=False)
    team_ids = tuple(doc.string(("teams", side, "id")) for side in ("home", "away"))
    if team_ids[0] == team_ids[1]:
        doc.refuse(("teams", "away", "id"), f"{excerpt(team_ids[1])} is also the home team's id")
    team_names = tuple(
        doc.string(("teams", side, "short_name"), required=False) or doc.string(("teams", side, "name"), required=False)
        for side in ("home", "away")
    )
    people, seen = [], {}
    for team, side in enumerate(("home", "away")):
        jerseys = {}
        for i, _ in enumerate(doc.objects(("teams", side, "players"))):
            at = ("teams", side, "players", i)
            pid = doc.string(at + ("id",))
            if pid in seen:
                doc.refuse(at + ("id",), f"{excerpt(pid)} is listed twice (first at {_dotted(seen[pid])})")
            seen[pid] = at
            sheet_team = doc.string(at + ("team_id",), required=False)
            if sheet_team is not None and sheet_team != team_ids[team]:
                doc.refuse(
                    at + ("team_id",), f"{excerpt(sheet_team)} is not the {side} team's id {excerpt(team_ids[team])}"
                )
            jersey = doc.integer(at + ("jersey_number",), 0, 999)
            if jersey in jerseys:
                doc.refuse(
                    at + ("jersey_number",), f"{jersey} is also worn by {excerpt(jerseys[jersey])} of the {side} team"
                )
            jerseys[jersey] = pid
            people.append(
                {
                    "role": "player",
                    "team": team,
                    "vendor_person_id": pid,
                    "jersey": jersey,
                    **_names(doc, at),
                    "position": doc.string(at + ("position",), required=False),
                    "position_group": doc.string(at + ("position_group",), required=False),
                    "is_starter": doc.boolean(at + ("is_starter",)),
                    "has_played": doc.boolean(at + ("has_played",), required=False),
                    "is_captain": doc.boolean(at + ("is_captain",), required=False),
                }
            )
        for i, _ in enumerate(doc.objects(("teams", side, "coaches"), required=False)):
            at = ("teams", side, "coaches", i)
            people.append(
                {"role": "coach", "team": team, "vendor_person_id": doc.string(at + ("id",)), **_names(doc, at)}
            )
    officials_key = "officials" if doc.get(("officials",), None) is not None else "referees"  # v0.3 / v0.2
    for i, _ in enumerate(doc.objects((officials_key,), required=False)):
        at = (officials_key, i)
        role_key = "type" if doc.get(at + ("type",), None) is not None else "official_type"
        people.append(
            {
                "role": doc.string(at + (role_key,), required=False) or "official",
                "team": None,
                "vendor_person_id": doc.string(at + ("id",)),
                **_names(doc, at),
            }
        )
    sheet = MatchSheet(
        match_id,
        team_ids,
        team_names,
        pl.DataFrame(
            people,
            schema={
                "role": pl.String,
                "team": pl.Int8,
                "vendor_person_id": pl.String,
                "jersey": pl.Int16,
                "first_name": pl.String,
                "last_name": pl.String,
                "short_name": pl.String,
                "position": pl.String,
                "position_group": pl.String,
                "is_starter": pl.Boolean,
                "has_played": pl.Boolean,
                "is_captain": pl.Boolean,
            },
        ),
    )
    team_of = {p["vendor_person_id"]: p["team"] for p in people if p["role"] == "player"}

    def team_at(path: tuple) -> int:
        team_id = doc.string(path)
        if team_id not in team_ids:
            doc.refuse(
                path,
                f"{excerpt(team_id)} is neither the home team ({excerpt(team_ids[0])}) nor the away "
                f"team ({excerpt(team_ids[1])})",
            )
        return team_ids.index(team_id)

    def player_at(path: tuple, team: int | None, required: bool = True) -> str | None:
        pid = doc.string(path, required)
        if pid is None:
            return None
        if pid not in team_of or (team is not None and team_of[pid] != team):
            where = "on no team sheet" if pid not in team_of else "not on that team's sheet"
            doc.refuse(path, f"{excerpt(pid)} is {where}")
        return pid

    def time_at(path: tuple) -> int:
        ms = doc.utc_ms(path)
        sheet.times.append((path, ms))
        return ms

    for i, _ in enumerate(doc.objects(("events", "goals"), required=False)):
        at = ("events", "goals", i)
        team = team_at(at + ("team_id",))
        own = doc.boolean(at + ("is_own_goal",))
        sheet.goals.append(
            {
                "team": team,
                "time_ms": time_at(at + ("time",)),
                "period": doc.period(at + ("period",)),
                "player": player_at(at + ("player_id",), 1 - team if own else team),
                "assist": player_at(at + ("assist_id",), team, required=False),
                "own_goal": own,
                "penalty": doc.boolean(at + ("is_penalty",), required=False),
            }
        )
    for i, _ in enumerate(doc.objects(("events", "substitutions"), required=False)):
        at = ("events", "substitutions", i)
        team = team_at(at + ("team_id",))
        sheet.substitutions.append(
            {
                "team": team,
                "period": doc.period(at + ("period",)),
                "in": player_at(at + ("in_player_id",), team),
                "in_ms": time_at(at + ("in_time",)),
                "out": player_at(at + ("out_player_id",), team),
                "out_ms": time_at(at + ("out_time",)),
            }
        )
    for i, _ in enumerate(doc.objects(("events", "cards"), required=False)):
        at = ("events", "cards", i)
        team = team_at(at + ("team_id",))
        kind = doc.string(at + ("type",))
        if kind not in CARD_TYPES:
            doc.refuse(at + ("type",), f"{excerpt(kind)} is not a card ({', '.join(CARD_TYPES)})")
        sheet.cards.append(
            {
                "team": team,
                "time_ms": time_at(at + ("time",)),
                "period": doc.period(at + ("period",)),
                "player": player_at(at + ("player_id",), team),
                "type": kind,
            }
        )
    return sheet


def _names(doc: _Document, at: tuple) -> dict:
    return {key: doc.string(at + (key,), required=False) for key in ("first_name", "last_name", "short_name")}


def lineups(sheet: MatchSheet, clock: EventClock, match_id: str, fingerprint: str | None) -> pl.DataFrame:
    """One row per person on the match sheet (players, coaches, officials with their role), with the minute
    each player came on and went off (substitutions, a red card) and their goals, assists and cards.

    Minutes count as event data does (0 at kick-off, 45 at the second half's start); a minute is null where
    the sheet's time falls in a period whose start the clock does not know."""

    def minute(period: int, time_ms: int) -> int | None:
        start = clock.start_utc_ms.get(period)
        if start is None:
            return None
        return canonical.MINUTE_AT_PERIOD_START[period] + max(time_ms - start, 0) // 60_000

    on, off = {}, {}
    for sub in sheet.substitutions:
        on.setdefault(sub["in"], minute(sub["period"], sub["in_ms"]))
        off.setdefault(sub["out"], minute(sub["period"], sub["out_ms"]))
    for card in sorted(sheet.cards, key=lambda c: c["time_ms"]):
        if card["type"] in SENT_OFF:
            off.setdefault(card["player"], minute(card["period"], card["time_ms"]))

    def count(rows, key, keep=lambda r: True) -> dict:
        counts = {}
        for row in rows:
            if row[key] is not None and keep(row):
                counts[row[key]] = counts.get(row[key], 0) + 1
        return counts

    goals = count(sheet.goals, "player", lambda g: not g["own_goal"])
    own_goals = count(sheet.goals, "player", lambda g: g["own_goal"])
    assists = count(sheet.goals, "assist")
    yellow = count(sheet.cards, "player", lambda c: c["type"] == "yellow_card")
    red = count(sheet.cards, "player", lambda c: c["type"] in SENT_OFF)
    people = sheet.people
    ids = people["vendor_person_id"]
    is_player = pl.col("role") == "player"

    def per_player(values: dict, dtype, default=None) -> pl.Expr:
        column = pl.lit(pl.Series([values.get(i, default) for i in ids], dtype=dtype))
        return pl.when(is_player).then(column)

    starter_on = pl.when(is_player & pl.col("is_starter")).then(pl.lit(0, pl.Int16))
    names = {0: sheet.team_names[0], 1: sheet.team_names[1]}
    out = people.with_columns(
        match_id=pl.lit(match_id),
        team_name=pl.col("team").replace_strict(names, default=None, return_dtype=pl.String),
        player_id=pl.when(is_player).then(pl.format("{}-{}", "team", "jersey")),
        minute_on=starter_on.otherwise(per_player(on, pl.Int16)),
        minute_off=per_player(off, pl.Int16),
        goals=per_player(goals, pl.Int16, 0),
        own_goals=per_player(own_goals, pl.Int16, 0),
        assists=per_player(assists, pl.Int16, 0),
        yellow_cards=per_player(yellow, pl.Int8, 0),
        red_cards=per_player(red, pl.Int8, 0),
        fingerprint=canonical.fingerprint_column(fingerprint),
    )
    return out.select([pl.col(name).cast(dtype) for name, dtype in LINEUPS_SCHEMA.items()])


# -- the clock ------------------------------------------------------------------------------------------------


def read_clock(data: bytes, file: str = META_FILE, centre_ms: int | None = None) -> EventClock:
    """Each period's start in UTC and on the tracking's timeline, from a CDF meta file: ``start_time`` (else the
    period's start whistle) and ``frame_id_start`` (v0.2 ``start_frame_id``) at ``meta.tracking.fps``. A period
    without a start frame is placed by its UTC start (the tracking's clock runs with the wall clock).
    ``centre_ms``: the events' median time (UTC ms); a start time or start whistle further than
    ``MAX_HOURS_FROM_MATCH`` from it is refused on its line, used or not."""
    doc = _Document(data, file)
    if not isinstance(doc.doc, dict):
        raise FeedError(file, "expected a JSON object (a CDF meta file)", line=1)
    fps = doc.get(("meta", "tracking", "fps"), None)
    if fps is not None and (isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 1 <= fps <= 100):
        doc.refuse(("meta", "tracking", "fps"), f"must be a frame rate in 1..100, found {_json_excerpt(fps)}")
    whistles, times = {}, []  # times: (path, UTC ms) of every time read
    for i, _ in enumerate(doc.objects(("match", "whistles"), required=False)):
        at = ("match", "whistles", i)
        kind, sub = doc.get(at + ("type",), None), doc.get(at + ("sub_type",), None)
        if kind in PERIODS and sub == "start":
            times.append((at + ("time",), doc.utc_ms(at + ("time",))))
            whistles.setdefault(PERIODS[kind], times[-1])
    start_utc, start_frame = {}, {}
    for i, _ in enumerate(doc.objects(("match", "periods"), required=False)):
        at = ("match", "periods", i)
        period = doc.period(at + ("period",))
        utc = doc.utc_ms(at + ("start_time",), required=False)
        if utc is not None:
            times.append((at + ("start_time",), utc))
        else:
            utc = whistles.get(period, (None, None))[1]
        if utc is not None:
            start_utc[period] = utc
        key = "frame_id_start" if doc.get(at + ("frame_id_start",), None) is not None else "start_frame_id"
        frame = doc.integer(at + (key,), 0, 10**12, required=False)
        if frame is not None and fps is not None:
            start_frame[period] = frame
    for period, (_, utc) in whistles.items():
        start_utc.setdefault(period, utc)
    if centre_ms is not None:  # every start read, used or not (the whistle of a period with a start_time)
        for path, utc in times:
            doc.refuse_far(path, utc, centre_ms)
    return _clock(start_utc, start_frame, fps, "meta")


def _clock(start_utc: dict[int, int], start_frame: dict[int, int], fps: float | None, source: str) -> EventClock:
    """Timeline starts from UTC starts and (where known) start frames: the first period is at its start frame's
    place (0 when the first period's start frame is the first frame), the others at their start frames, or at
    their UTC distance from a period whose place is known."""
    if not start_utc:
        return EventClock({}, {}, source)
    periods = sorted(start_utc)
    first = periods[0]
    f0 = start_frame.get(first)
    start_ms = {}
    if f0 is not None:
        start_ms = {p: round((start_frame[p] - f0) * 1000 / fps) for p in periods if p in start_frame}
    if first not in start_ms:
        start_ms[first] = 0
    for p in periods:
        if p not in start_ms:
            anchor = max(q for q in start_ms if q < p) if any(q < p for q in start_ms) else first
            start_ms[p] = start_ms[anchor] + (start_utc[p] - start_utc[anchor])
    return EventClock(dict(start_utc), start_ms, source)


def complete_clock(clock: EventClock | None, first_event_utc: dict[int, int]) -> EventClock:
    """``clock`` with the periods it lacks started at their first event (``first_event_utc``: {period: UTC ms}),
    placed on the timeline by their UTC distance from a known period (or period 1 at 0 when none is known)."""
    clock = clock or EventClock({}, {}, "events")
    missing = {p: t for p, t in first_event_utc.items() if p not in clock.start_utc_ms}
    if not missing:
        return clock
    start_utc = {**clock.start_utc_ms, **missing}
    start_ms = dict(clock.start_ms)
    for p in sorted(missing):
        known = sorted(q for q in start_ms if q in start_utc)
        if known:
            anchor = min(known, key=lambda q: abs(q - p))
            start_ms[p] = start_ms[anchor] + (start_utc[p] - start_utc[anchor])
        else:
            start_ms[p] = 0
    source = clock.source if not clock.start_utc_ms else f"{clock.source}+events"
    return EventClock(start_utc, start_ms, source)


# -- the events -----------------------------------------------------------------------------------------------


def _arrow_schema():
    import pyarrow as pa

    types = {"string": pa.string(), "bool": pa.bool_(), "float64": pa.float64(), "list<string>": pa.list_(pa.string())}
    event = pa.struct([(name, types[kind]) for name, kind in EVENT_FIELDS.items()])
    return pa.schema([("match", pa.struct([("id", pa.string())])), ("event", event)])


_ARROW_MISMATCH = re.compile(r"Column\((/[^)]*)\) changed from (\w+) to (\w+) in row (\d+)")
_JSON_KINDS = {
    "number": "a number",
    "string": "a string",
    "boolean": "true or false",
    "object": "an object",
    "array": "a list",
    "null": "null",
}


def _strict_lines(lines: pl.DataFrame, file: str) -> None:
    """Read every line as strictly as a JSON document (a key twice, NaN, 1e999, a 21-digit integer refused),
    all at once: the lines become the items of one JSON array, each on its own line number plus one (the
    array's "[" has a line to itself), so a refusal names the event's line and column."""
    numbers = lines["line"]
    gaps = numbers.diff().fill_null(numbers[0])  # line breaks before each item: its line number, plus one
    separators = (
        pl.DataFrame({"gap": gaps})
        .select(
            pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("[")).otherwise(pl.lit(","))
            + pl.lit("\n").repeat_by("gap").list.join("")
        )
        .to_series()
    )
    document = (separators + lines["text"]).str.join("").item() + "]"
    try:
        items = load_json_document(document.encode("utf-8"), file)
    except FeedError as exc:
        line = None if exc.line is None else max(exc.line - 1, 1)
        # a syntax error may surface on a later line of the array (an object left open): the first line that is
        # not JSON on its own is the one to name
        full = [""] * int(numbers[-1])
        for number, text in zip(numbers, lines["text"]):
            full[number - 1] = text
        syntax = first_bad_line(full)
        if syntax is not None and (line is None or syntax[0] <= line):
            raise FeedError(file, syntax[1], line=syntax[0]) from None
        raise FeedError(file, exc.what, line=line) from None
    if len(items) != lines.height:  # a line holding two values ("{...}, {...}")
        bad = next((n for n, t in zip(numbers, lines["text"]) if not _one_value(t)), None)
        raise FeedError(file, "expected one JSON object per line", line=bad)
    not_object = [i for i, item in enumerate(items) if not isinstance(item, dict)]
    if not_object:
        found = json_kind(items[not_object[0]])
        raise FeedError(file, f"expected a JSON object, found {found}", line=int(numbers[not_object[0]]))


def _one_value(text: str) -> bool:
    try:
        json.loads(text)
        return True
    except ValueError:
        return False


def _decode(data: bytes, lines: pl.DataFrame, file: str) -> pl.DataFrame:
    """The lines decoded with one typed parse (pyarrow's JSON reader, whose types are strict: a string where a
    number is declared is an error, not a coercion), with each row's line number."""
    import pyarrow as pa
    import pyarrow.json as pajson

    try:
        table = pajson.read_json(
            pa.py_buffer(data),
            read_options=pajson.ReadOptions(block_size=max(len(data) + 1, 1 << 16)),
            parse_options=pajson.ParseOptions(
                explicit_schema=_arrow_schema(), unexpected_field_behavior="ignore", newlines_in_values=False
            ),
        )
    except (pa.ArrowInvalid, ValueError) as exc:
        found = _ARROW_MISMATCH.search(str(exc))
        row = int(found.group(4)) if found else None
        if found and row < lines.height:
            path = ".".join(part for part in found.group(1).strip("/").split("/") if part != "[]")
            listed = "[]" in found.group(1)
            what = (
                f"{path}{'[]' if listed else ''}: expected {_JSON_KINDS.get(found.group(2), found.group(2))}, "
                f"found {_JSON_KINDS.get(found.group(3), found.group(3))}"
            )
            raise FeedError(file, what, line=int(lines["line"][row])) from None
        raise FeedError(file, f"could not read the events ({str(exc).splitlines()[0][:160]})") from None
    if table.num_rows != lines.height:
        raise FeedError(file, f"{lines.height} non-blank lines but {table.num_rows} events were read")
    frame = pl.from_arrow(table)
    return frame.select(
        line=lines["line"],
        vendor_match_id=pl.col("match").struct.field("id"),
        has_event=pl.col("event").is_not_null(),
        event=pl.col("event"),
    ).unnest("event")


def _refuse_first(frame: pl.DataFrame, bad: pl.Expr, file: str, what) -> None:
    """Refuse the first row where ``bad`` holds: ``what(row)`` says why, on that row's line."""
    hit = frame.filter(bad.fill_null(False))
    if hit.height:
        row = hit.row(0, named=True)
        raise FeedError(file, what(row), line=row["line"])


def read_events(
    data: bytes,
    file: str,
    sheet: MatchSheet,
    clock: EventClock | None,
    match_id: str,
    fingerprint: str | None,
    vendor_match_ids: dict[str, str | None] | None = None,
) -> tuple[pl.DataFrame, EventClock]:
    """The events of ``data`` (a CDF events JSON-lines file) as rows of the events table, and the clock used
    (``clock`` completed by the events for periods it does not know). ``vendor_match_ids``: {file: the match id
    it gives}; every event must belong to the same match."""
    ev = parse_events(data, file, sheet, vendor_match_ids)
    return event_rows(ev, sheet, clock, match_id, fingerprint)


def parse_events(
    data: bytes, file: str, sheet: MatchSheet, vendor_match_ids: dict[str, str | None] | None = None
) -> pl.DataFrame:
    """The lines of ``data`` (a CDF events JSON-lines file) decoded and checked, one row per event with its
    ``line``, ``time_utc``, ``receiver_utc`` and ``period_n``: everything the reader refuses in the events alone
    is refused here (``event_rows`` places them on a clock)."""
    lines = text_lines(strip_bom(data, file), file)  # UTF-8, no over-long line, blank lines left out
    if lines.height == 0:
        raise FeedError(file, "is empty: no events")
    _strict_lines(lines, file)
    ev = _decode(strip_bom(data, file), lines, file)
    _refuse_first(ev, ~pl.col("has_event"), file, lambda r: "no event object")
    for key in ("id", "time", "period", "type"):
        _refuse_first(ev, pl.col(key).is_null(), file, lambda r, key=key: f"event.{key} is missing")
    _refuse_duplicate_ids(ev, file)
    _refuse_first(
        ev,
        ~pl.col("period").is_in(list(PERIODS)),
        file,
        lambda r: f"event.period {excerpt(r['period'])} is not a period ({', '.join(sorted(set(PERIODS)))})",
    )
    ev = ev.with_columns(
        time_utc=parse_utc(pl.col("time")),
        receiver_utc=parse_utc(pl.col("receiver_time")),
        period_n=pl.col("period").replace_strict(PERIODS, return_dtype=pl.Int8),
    )
    _refuse_first(
        ev,
        pl.col("time_utc").is_null(),
        file,
        lambda r: f"event.time {excerpt(r['time'])} is not a date-time with a zone (e.g. 2020-06-05T18:30:00.210Z)",
    )
    _refuse_first(
        ev,
        pl.col("receiver_time").is_not_null() & pl.col("receiver_utc").is_null(),
        file,
        lambda r: f"event.receiver_time {excerpt(r['receiver_time'])} is not a date-time with a zone",
    )
    centre = event_centre_ms(ev["time_utc"])
    for key, column in (("time", "time_utc"), ("receiver_time", "receiver_utc")):
        _refuse_first(
            ev,
            (pl.col(column).dt.epoch("ms") - centre).abs() > _MAX_MS_FROM_MATCH,
            file,
            lambda r, key=key, column=column: f"event.{key} {excerpt(r[key])} is {_far(_epoch_ms(r[column]), centre)}",
        )
    for new, old in VERSION_NAMES:  # v0.3 and v0.2 names of one field on one line: one value, or which is meant?
        _refuse_first(
            ev,
            pl.col(new).is_not_null() & pl.col(old).is_not_null() & (pl.col(new) != pl.col(old)),
            file,
            lambda r, new=new, old=old: (
                f"event.{old} {_json_excerpt(r[old])} contradicts event.{new} {_json_excerpt(r[new])}"
            ),
        )
    for key in ("x", "y", "x_end", "y_end"):
        _refuse_first(
            ev,
            pl.col(key).is_nan() | (pl.col(key).abs() > MAX_ABS_M),
            file,
            lambda r, key=key: (
                f"event.{key} = {r[key]:g} m is off any pitch (more than {MAX_ABS_M:g} m from the centre spot)"
            ),
        )
    _refuse_first(
        ev,
        pl.col("body_part").is_not_null() & ~pl.col("body_part").is_in(BODY_PARTS),
        file,
        lambda r: f"event.body_part {excerpt(r['body_part'])} is not a body part ({', '.join(BODY_PARTS)})",
    )
    _check_match_ids(ev, file, sheet, vendor_match_ids or {})
    referee = pl.col("type") == "referee"
    for key in ("player_id", "team_id"):
        _refuse_first(
            ev,
            ~referee & pl.col(key).is_null(),
            file,
            lambda r, key=key: f"event.{key} is missing (required on a {excerpt(r['type'])} event)",
        )
    home, away = sheet.team_ids
    for key in ("team_id", "receiver_team_id"):
        _refuse_first(
            ev,
            pl.col(key).is_not_null() & ~pl.col(key).is_in([home, away]),
            file,
            lambda r, key=key: (
                f"event.{key} {excerpt(r[key])} is neither the home team ({excerpt(home)}) "
                f"nor the away team ({excerpt(away)})"
            ),
        )
    _refuse_other_team(ev, file, sheet)
    return ev


def event_centre_ms(times: pl.Series) -> int:
    """The median of the events' times (UTC datetimes): the time every time of the match lies near."""
    return int(times.dt.epoch("ms").median())


def _epoch_ms(moment) -> int:
    return pl.select(pl.lit(moment, pl.Datetime("ms", "UTC")).dt.epoch("ms")).item()


def _refuse_other_team(ev: pl.DataFrame, file: str, sheet: MatchSheet) -> None:
    """Refuse the first event whose player (receiver) is on the sheet of the other team than its ``team_id``
    (``receiver_team_id``) names: CDF's team of the event is the team of its player."""
    players = sheet.people.filter(pl.col("role") == "player")
    ids, teams = players["vendor_person_id"], players["team"]
    sides = ("home", "away")
    for person, team_key in (("player_id", "team_id"), ("receiver_id", "receiver_team_id")):
        on_sheet = pl.col(person).replace_strict(ids, teams, default=None, return_dtype=pl.Int8)
        named = pl.col(team_key).replace_strict(sheet.team_ids, [0, 1], default=None, return_dtype=pl.Int8)
        _refuse_first(
            ev.with_columns(on_sheet=on_sheet),
            pl.col("on_sheet") != named,
            file,
            lambda r, person=person, team_key=team_key: (
                f"event.{person} {excerpt(r[person])} is on the {sides[r['on_sheet']]} team's sheet "
                f"({excerpt(sheet.team_ids[r['on_sheet']])}), but event.{team_key} {excerpt(r[team_key])} is "
                f"the {sides[1 - r['on_sheet']]} team's"
            ),
        )


def event_rows(
    ev: pl.DataFrame,
    sheet: MatchSheet,
    clock: EventClock | None,
    match_id: str,
    fingerprint: str | None,
) -> tuple[pl.DataFrame, EventClock]:
    """The events parsed by ``parse_events`` as rows of the events table, on the tracking's timeline by ``clock``
    (completed by the events for periods it does not know); returns the rows and the clock used."""
    home, away = sheet.team_ids
    first_utc = {
        int(p): int(t) for p, t in ev.group_by("period_n").agg(pl.col("time_utc").min().dt.epoch("ms")).iter_rows()
    }
    clock = complete_clock(clock, first_utc)
    periods = sorted(clock.start_ms)
    start_ms = pl.col("period_n").replace_strict(periods, [clock.start_ms[p] for p in periods], return_dtype=pl.Int64)
    start_utc = pl.col("period_n").replace_strict(
        periods, [clock.start_utc_ms[p] for p in periods], return_dtype=pl.Int64
    )

    def on_timeline(utc):
        return start_ms + (utc.dt.epoch("ms") - start_utc)

    players = sheet.people.filter(pl.col("role") == "player").select(
        id="vendor_person_id", sheet_id=pl.format("{}-{}", "team", "jersey")
    )
    ids = players["id"]

    def lake_id(column: str) -> pl.Expr:
        return pl.col(column).replace_strict(ids, players["sheet_id"], default=None, return_dtype=pl.String)

    team_codes = pl.col("team_id").replace_strict([home, away], [0, 1], default=None, return_dtype=pl.Int8)
    events = ev.select(
        match_id=pl.lit(match_id, pl.String),
        event_id="id",
        event_index=pl.int_range(pl.len(), dtype=pl.Int32),
        period="period_n",
        time="time_utc",
        timestamp_ms=on_timeline(pl.col("time_utc")),
        type="type",
        sub_type="sub_type",
        is_successful=pl.coalesce("is_successful", "outcome"),
        outcome_type=pl.coalesce("outcome_type", "outcome_detailed"),
        team=team_codes,
        player_id=lake_id("player_id"),
        vendor_person_id=pl.coalesce("player_id", "official_id"),
        receiver_id=lake_id("receiver_id"),
        vendor_receiver_id="receiver_id",
        receiver_time="receiver_utc",
        receiver_timestamp_ms=on_timeline(pl.col("receiver_utc")),
        x_m=pl.col("x").cast(pl.Float32),
        y_m=pl.col("y").cast(pl.Float32),
        x_end_m=pl.col("x_end").cast(pl.Float32),
        y_end_m=pl.col("y_end").cast(pl.Float32),
        body_part="body_part",
        related_event_ids="related_event_ids",
        fingerprint=canonical.fingerprint_column(fingerprint),
    )
    starts = {p: clock.start_ms[p] for p in periods}
    seconds = period_clock.period_time_s(starts)
    events = events.with_columns(
        period_time_s=seconds, match_minute=period_clock.match_minute(pl.max_horizontal(seconds, pl.lit(0.0)))
    )
    return events.select([pl.col(name).cast(dtype) for name, dtype in EVENTS_SCHEMA.items()]), clock


def _refuse_duplicate_ids(ev: pl.DataFrame, file: str) -> None:
    dup = ev.filter(pl.col("id").is_duplicated())
    if dup.height:
        first, second = dup.row(0, named=True), dup.filter(pl.col("id") == dup["id"][0]).row(1, named=True)
        raise FeedError(
            file, f"event.id {excerpt(first['id'])} appears twice (first on line {first['line']})", line=second["line"]
        )


def _check_match_ids(ev: pl.DataFrame, file: str, sheet: MatchSheet, others: dict[str, str | None]) -> None:
    """Every event names the same match, and it is the match of the sheet (and meta) delivered with it."""
    _refuse_first(ev, pl.col("vendor_match_id").is_null(), file, lambda r: "match.id is missing")
    first = ev["vendor_match_id"][0]
    _refuse_first(
        ev,
        pl.col("vendor_match_id") != first,
        file,
        lambda r: (
            f"match.id {excerpt(r['vendor_match_id'])} differs from line {ev['line'][0]}'s "
            f"{excerpt(first)}: one file holds one match's events"
        ),
    )
    for name, other in {MATCH_FILE: sheet.match_id, **others}.items():
        if other is not None and other != first:
            raise FeedError(
                file,
                f"the events are of match {excerpt(first)} but {name} is of match {excerpt(other)}",
                line=int(ev["line"][0]),
            )


def read(delivery: Delivery, clock: EventClock | None = None, fingerprint: str | None = None) -> EventsRead:
    """Read a delivery's ``events.jsonl`` and ``match.json`` (and ``meta.json`` where present, for the clock)
    into the events and lineups tables.

    ``clock``: where each period starts in UTC and on the tracking's timeline, for events delivered without a
    CDF meta (tracking in another format); by default the meta's, and for a period neither gives, the period's
    first event (the tracking is then assumed to run with the wall clock). ``fingerprint``: the fingerprint
    column's value (default: the delivery's)."""
    names = set(delivery.names)
    for required in (EVENTS_FILE, MATCH_FILE):
        if required not in names:
            raise FeedError(
                delivery.match_id,
                f"expected {required} in the event delivery, found: {', '.join(sorted(names)) or 'nothing'}",
            )
    fingerprint = delivery.fingerprint if fingerprint is None else fingerprint
    sheet_bytes = delivery.read_bytes(MATCH_FILE)
    sheet = read_match_sheet(sheet_bytes, MATCH_FILE)
    notes, others = [], {}
    meta_bytes = delivery.read_bytes(META_FILE) if clock is None and META_FILE in names else None
    if meta_bytes is not None:
        meta_id = _Document(meta_bytes, META_FILE).get(("match", "id"), None)
        others[META_FILE] = meta_id if isinstance(meta_id, str) else None
    ev = parse_events(delivery.read_bytes(EVENTS_FILE), EVENTS_FILE, sheet, others)
    centre = event_centre_ms(ev["time_utc"])  # every time of the match lies near it: the sheet's, the meta's
    for path, ms in sheet.times:
        if abs(ms - centre) > _MAX_MS_FROM_MATCH:  # its line found only then
            _Document(sheet_bytes, MATCH_FILE).refuse_far(path, ms, centre)
    if meta_bytes is not None:
        clock = read_clock(meta_bytes, META_FILE, centre)
    events, clock = event_rows(ev, sheet, clock, delivery.match_id, fingerprint)
    if "events" in clock.source:
        notes.append(
            "periods without a start in the meta start at their first event: "
            + ", ".join(str(p) for p in sorted(clock.start_ms))
        )
    return EventsRead(events, lineups(sheet, clock, delivery.match_id, fingerprint), clock, sheet, notes)
