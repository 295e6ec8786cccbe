"""The CDF event data and match sheet reader on the real samples (samples/cdf_events/README.md's facts), on v0.2
key names, and on hostile lines: every bad value refused with its file and line."""

from __future__ import annotations

import json
from datetime import datetime

import polars as pl
import pytest
from pandera.errors import SchemaError

from footy_assets.core.contracts.events import DeliveredEvents as Events
from footy_assets.core.contracts.events import Lineups
from footy_assets.formats.cdf import events as cdf_events
from footy_assets.formats.common import Delivery, FeedError
from footy_assets_tests.helpers import SAMPLES

FOLDER = SAMPLES / "cdf_events"
FINGERPRINT = "f" * 64


def delivery(name: str, *files: str, replace: dict[str, bytes] | None = None) -> Delivery:
    files = files or ("events.jsonl", "match.json", "meta.json")
    contents = {f: (FOLDER / name / f).read_bytes() for f in files}
    contents.update(replace or {})
    return Delivery(name, FINGERPRINT, contents)


def read(name: str, **kw) -> cdf_events.EventsRead:
    return cdf_events.read(delivery(name, **kw))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text)  # Python 3.11 reads the Z as UTC


FOOTOVISION_TYPES = {
    ("misc", "footovision_930_1005"): 61,
    ("misc", "footovision_930"): 23,
    ("pass", None): 18,
    ("defending", "pressing"): 12,
    ("misc", "footovision_1005"): 11,
    ("misc", "carry"): 10,
    ("misc", "footovision_15_418"): 8,
    ("misc", "footovision_931"): 8,
    ("misc", "footovision_931_933"): 8,
    ("misc", "footovision_5"): 6,
    ("misc", "footovision_775"): 5,
    ("misc", "footovision_15_418_541"): 4,
    ("misc", "footovision_932"): 4,
    ("misc", "footovision_933"): 4,
    ("misc", "recovery"): 3,
    ("misc", "ball_out"): 2,
    ("misc", "footovision_531_765_921"): 2,
    ("pass", "throw_in"): 2,
    ("referee", "period_start"): 2,
    ("misc", "footovision_505_520_521_530_531_543_548_682_688_748"): 1,
    ("misc", "footovision_514_531_547_920_921"): 1,
    ("misc", "footovision_582"): 1,
    ("misc", "footovision_593_604_670_710"): 1,
    ("misc", "footovision_602_619_1006"): 1,
    ("misc", "footovision_641"): 1,
    ("misc", "footovision_689_695"): 1,
    ("misc", "footovision_779_941"): 1,
    ("misc", "footovision_823_832"): 1,
    ("pass", "kick_off"): 1,
}

SPORTEC_TYPES = {
    ("shot", None): 6,
    ("pass", "kick_off"): 3,
    ("misc", "ground_duel"): 2,
    ("referee", "final_whistle"): 2,
    ("referee", "foul"): 2,
    ("defending", "interception"): 1,
    ("misc", "chance_without_shot"): 1,
    ("misc", "nutmeg"): 1,
    ("misc", "other_ball_action"): 1,
    ("pass", None): 1,
    ("pass", "corner_kick"): 1,
    ("pass", "cross"): 1,
    ("pass", "free_kick"): 1,
    ("pass", "goal_kick"): 1,
    ("pass", "throw_in"): 1,
    ("referee", "caution"): 1,
    ("referee", "goal_disallowed"): 1,
    ("referee", "offside"): 1,
}


def type_counts(events: pl.DataFrame) -> dict:
    return {(t, s): n for t, s, n in events.group_by("type", "sub_type").len().iter_rows()}


def test_footovision_events_facts():
    result = read("footovision_h1")
    ev = result.events
    assert ev.height == 203
    assert ev["period"].unique().to_list() == [1]
    assert ev["time"].min() == utc("2026-03-21T12:45:00.000Z")
    assert ev["time"].max() == utc("2026-03-21T12:46:39.280Z")
    teams = dict(ev.group_by("team").len().iter_rows())
    assert teams == {0: 97, 1: 104, None: 2}  # Brighton (414) home, Liverpool (78) away, two referee events
    assert type_counts(ev) == FOOTOVISION_TYPES
    # one clock: the events' ms since the period's start whistle are the tracking's timeline (frame 0 = kick-off)
    start = utc("2026-03-21T12:45:00.000Z")
    expected = ev.select(((pl.col("time") - pl.lit(start)).dt.total_milliseconds()).alias("ms"))["ms"]
    assert (ev["timestamp_ms"] == expected).all()
    assert ev["period_time_s"].max() == pytest.approx(99.28)
    assert ev["match_minute"].max() == 1
    kick_off = ev.filter(pl.col("event_id") == "6742527193").row(0, named=True)
    assert (kick_off["type"], kick_off["sub_type"], kick_off["timestamp_ms"]) == ("pass", "kick_off", 0)
    assert (kick_off["x_m"], kick_off["y_m"]) == (0.0, 0.0)
    assert (kick_off["x_end_m"], kick_off["y_end_m"]) == (pytest.approx(-41.69), 34.0)
    assert (kick_off["team"], kick_off["vendor_person_id"], kick_off["player_id"]) == (1, "8102", "1-8")
    assert (kick_off["is_successful"], kick_off["outcome_type"], kick_off["body_part"]) == (
        False,
        "unsuccessful",
        "feet",
    )
    referee = ev.filter(pl.col("type") == "referee")
    assert referee["vendor_person_id"].to_list() == ["17341", "17341"]  # official_id
    assert referee["player_id"].null_count() == 2
    # a completed pass names its receiver in both forms; vendor id "0" is on no sheet: no player_id
    passes = ev.filter((pl.col("type") == "pass") & pl.col("receiver_id").is_not_null())
    assert passes.height == 14 and passes["receiver_id"].str.contains(r"^[01]-\d+$").all()
    assert ev.filter(pl.col("vendor_person_id") == "0")["player_id"].null_count() == 5
    assert ev["event_index"].to_list() == list(range(203))
    Events.validate(ev)


def test_footovision_lineups_facts():
    result = read("footovision_h1")
    lineups = result.lineups
    players = lineups.filter(pl.col("role") == "player")
    assert dict(players.group_by("team").len().iter_rows()) == {0: 16, 1: 15}
    assert players["has_played"].all()
    assert players["goals"].sum() == 3
    welbeck = players.filter(pl.col("vendor_person_id") == "628").row(0, named=True)
    assert (welbeck["player_id"], welbeck["last_name"], welbeck["goals"], welbeck["yellow_cards"]) == (
        "0-18",
        "WELBECK",
        2,
        1,
    )
    assert welbeck["minute_off"] == 82  # off for Rutter at 14:27:44, 37 min into the second half
    assert players["minute_on"].is_not_null().sum() == 11 + 11 + 9  # starters at 0 and nine substitutes
    assert players.filter(~pl.col("is_starter"))["minute_on"].sort().to_list() == [7, 62, 75, 75, 75, 75, 82, 82, 90]
    assert players["minute_off"].is_not_null().sum() == 9
    assert players["yellow_cards"].sum() == 10 and players["red_cards"].sum() == 0
    assert players["assists"].sum() == 2
    officials = lineups.filter(pl.col("team").is_null())
    assert officials.select("role", "vendor_person_id", "last_name").rows() == [("main_referee", "17341", "ENGLAND")]
    assert lineups["team_name"].drop_nulls().unique().sort().to_list() == ["BRIGHTON", "LIVERPOOL"]
    Lineups.validate(lineups)


def test_sportec_facts():
    result = read("sportec_snippet")
    ev = result.events
    assert ev.height == 28
    assert type_counts(ev) == SPORTEC_TYPES
    assert dict(ev.group_by("period").len().iter_rows()) == {1: 23, 2: 5}
    # each period's start on the tracking's timeline: its first frame (0 and 90000 at 25 fps)
    assert result.clock.start_ms == {1: 0, 2: 3_600_000}
    kick_offs = ev.filter(pl.col("sub_type") == "kick_off").sort("event_index")
    # 18:30:00.210 is 2.37 s after the first frame (18:29:57.840); 19:33:27.010 is 2.09 s after 19:33:24.920
    assert kick_offs["timestamp_ms"].to_list()[:2] == [2370, 3_602_090]
    assert kick_offs["match_minute"].to_list()[:2] == [0, 45]
    assert ev.filter(pl.col("type") == "referee")["team"].null_count() == 7
    lineups = result.lineups
    assert set(lineups["role"]) == {"player", "coach", "main_referee", "assistant_referee", "fourth_official"}
    assert lineups.filter(pl.col("role") == "coach")["last_name"].sort().to_list() == ["Rose", "Streich"]
    assert lineups.filter(pl.col("vendor_person_id") == "DFL-OBJ-0000IU")["goals"].to_list() == [1]
    assert lineups.filter(pl.col("vendor_person_id") == "DFL-OBJ-00021Q")["yellow_cards"].to_list() == [1]
    Events.validate(ev)
    Lineups.validate(lineups)


def test_v02_key_names():
    """v0.2 events say ``outcome`` and ``outcome_detailed``; its match sheet lists ``referees`` with
    ``official_type``: the same rows come out."""
    text = (FOLDER / "footovision_h1" / "events.jsonl").read_text()
    v02 = text.replace('"is_successful":', '"outcome":').replace('"outcome_type":', '"outcome_detailed":')
    sheet = json.loads((FOLDER / "footovision_h1" / "match.json").read_text())
    sheet["referees"] = [
        {**{k: v for k, v in o.items() if k != "type"}, "official_type": o["type"]} for o in sheet.pop("officials")
    ]
    result = read("footovision_h1", replace={"events.jsonl": v02.encode(), "match.json": json.dumps(sheet).encode()})
    expected = read("footovision_h1")
    assert result.events.equals(expected.events)
    assert result.lineups.equals(expected.lineups)
    assert result.events["is_successful"].null_count() == 0


def test_without_meta_the_periods_start_at_their_first_event():
    """Events delivered for tracking of another format (no CDF meta): each period starts at its first event,
    unless the caller gives the clock."""
    result = cdf_events.read(delivery("sportec_snippet", "events.jsonl", "match.json"))
    ev = result.events.sort("event_index")
    assert ev.filter(pl.col("period") == 1)["timestamp_ms"].min() == 0
    assert result.clock.source == "events"
    clock = cdf_events.EventClock({1: int(utc("2020-06-05T18:30:00.000Z").timestamp() * 1000)}, {1: 10_000})
    given = cdf_events.read(delivery("sportec_snippet", "events.jsonl", "match.json"), clock=clock).events
    assert given.sort("event_index")["timestamp_ms"][0] == 10_210
    # the second half, unknown to the clock, starts at its first event, placed by its UTC distance
    assert given.filter(pl.col("period") == 2)["period_time_s"].min() == 0.0


def test_a_delivery_without_the_match_sheet_is_refused():
    with pytest.raises(FeedError, match=r"expected match\.json"):
        cdf_events.read(delivery("footovision_h1", "events.jsonl", "meta.json"))


LINE = 5  # the hostile value goes into the 5th event (line 5)
PASS_LINE = 15  # a completed pass (receiver, receiver time and receiver team given), by Liverpool


@pytest.mark.parametrize(
    "old,new,what",
    [
        ('"match_clock":"00:01.48"}}', '"match_clock":"00:01.48"}', "not valid JSON"),
        ('"type":"misc"', '"type":"misc","type":"pass"', "the key 'type' appears twice"),
        ('"x":-4.3', '"x":NaN', "NaN is not a JSON number"),
        ('"x":-4.3', '"x":1e999', "past the largest number"),
        ('"x":-4.3', '"x":"-4.3"', "event.x: expected a number, found a string"),
        ('"type":"misc"', '"type":true', "event.type: expected a string"),
        ('"id":"6742539218"', '"id":6742539218', "event.id: expected a string, found a number"),
        ('"period":"first_half"', '"period":"third_half"', "'third_half' is not a period"),
        ("2026-03-21T12:45:01.480Z", "2026-03-21 12:45:01", "is not a date-time with a zone"),
        ('"team_id":"78"', '"team_id":"99"', "'99' is neither the home team"),
        ('"x":-4.3', '"x":-140.3', "off any pitch"),
        ('"match":{"id":"28116"}', '"match":{"id":"1"}', "match.id '1' differs from line 1's"),
        ('"type":"misc",', "", "event.type is missing"),
        ('"related_event_ids":null', '"related_event_ids":["a",1]', "related_event_ids[]: expected a string"),
        ('"body_part":null', '"body_part":"elbow"', "'elbow' is not a body part"),
    ],
)
def test_hostile_lines_are_refused_with_file_and_line(old, new, what):
    lines = (FOLDER / "footovision_h1" / "events.jsonl").read_text().splitlines()
    assert old in lines[LINE - 1]
    lines[LINE - 1] = lines[LINE - 1].replace(old, new)
    with pytest.raises(FeedError) as caught:
        read("footovision_h1", replace={"events.jsonl": ("\n".join(lines) + "\n").encode()})
    assert (caught.value.file, caught.value.line) == ("events.jsonl", LINE)
    assert what in caught.value.what


def test_hostile_line_shapes():
    lines = (FOLDER / "footovision_h1" / "events.jsonl").read_text().splitlines()

    def refused(*replacements) -> FeedError:
        edited = list(lines)
        for number, text in replacements:
            edited[number - 1] = text
        with pytest.raises(FeedError) as caught:
            read("footovision_h1", replace={"events.jsonl": ("\n".join(edited) + "\n").encode()})
        return caught.value

    assert (refused((3, "[1, 2]")).line, refused((3, "[1, 2]")).what) == (3, "expected a JSON object, found a list")
    assert refused((3, lines[2] + ", " + lines[3])).line == 3
    assert refused((7, lines[5])).what == "event.id '6742539219' appears twice (first on line 6)"
    assert refused((9, '{"match":{"id":"28116"},"meta":{"is_synced":false}}')).what == "no event object"
    # blank lines and a byte order mark are not errors; line numbers count the blank lines
    spaced = b"\xef\xbb\xbf" + "\n\n".join(lines).encode() + b"\n"
    assert read("footovision_h1", replace={"events.jsonl": spaced}).events.height == 203
    assert '"x":-3.05' in lines[3]
    spaced_bad = "\n\n".join(lines[:3] + [lines[3].replace('"x":-3.05', '"x":"a"')] + lines[4:]).encode()
    with pytest.raises(FeedError) as caught:
        read("footovision_h1", replace={"events.jsonl": spaced_bad})
    assert caught.value.line == 7  # the 4th event, after three blank lines


@pytest.mark.parametrize(
    "old,new,path,what",
    [
        (
            '"jersey_number": 5,',
            '"jersey_number": "5",',
            '"jersey_number": "5",',
            'teams.home.players[1].jersey_number must be a whole number in 0..999, found "5"',
        ),
        (
            '"in_player_id": "8300"',
            '"in_player_id": "999"',
            '"in_player_id": "999"',
            "events.substitutions[0].in_player_id '999' is on no team sheet",
        ),
        ('"type": "yellow_card"', '"type": "blue_card"', '"type": "blue_card"', "is not a card"),
        (
            '"is_starter": true,',
            '"is_starter": true, "is_starter": false,',
            '"is_starter": false',
            "the key 'is_starter' appears twice",
        ),
    ],
)
def test_hostile_match_sheet_values_name_their_line(old, new, path, what):
    text = json.dumps(json.loads((FOLDER / "footovision_h1" / "match.json").read_text()), indent=1)
    edited = text.replace(old, new, 1)
    with pytest.raises(FeedError) as caught:
        read("footovision_h1", replace={"match.json": edited.encode()})
    assert caught.value.file == "match.json" and what in caught.value.what
    assert path in edited.splitlines()[caught.value.line - 1]


def test_contracts_refuse_bad_rows():
    ev = read("footovision_h1").events
    with pytest.raises(SchemaError, match="player_id"):
        Events.validate(ev.with_columns(player_id=pl.lit("home-8")))
    lineups = read("footovision_h1").lineups
    with pytest.raises(SchemaError, match="player_id"):
        Lineups.validate(
            lineups.with_columns(player_id=pl.when(pl.col("role") == "player").then(pl.lit("0-1")).otherwise(None))
        )


def test_line_of_locates_nested_values():
    text = '{\n "a": [\n  {"b": 1},\n  {"b": [2,\n 3]}\n ],\n "c": {"d": null}\n}'
    assert cdf_events.line_of(text, ("a", 1, "b", 1)) == 5
    assert cdf_events.line_of(text, ("a", 0, "b")) == 3
    assert cdf_events.line_of(text, ("c", "d")) == 7
    assert cdf_events.line_of(text, ("c", "missing")) == 7  # where its object is


def _edit_line(number: int, edit) -> bytes:
    """footovision's events with ``edit(event)`` applied to the event on line ``number``."""
    lines = (FOLDER / "footovision_h1" / "events.jsonl").read_text().splitlines()
    doc = json.loads(lines[number - 1])
    edit(doc["event"])
    lines[number - 1] = json.dumps(doc)
    return ("\n".join(lines) + "\n").encode()


def _refusal(**replace) -> FeedError:
    with pytest.raises(FeedError) as caught:
        read("footovision_h1", replace=replace)
    return caught.value


@pytest.mark.parametrize(
    "key,value",
    [
        ("time", "9999-12-31T23:59:59.999Z"),  # found by the fuzzer: match_minute overflowed int16, a polars error
        ("time", "0001-01-01T00:00:00Z"),
        ("time", "2026-03-24T12:45:01.480Z"),  # three days after the match: read before
        ("receiver_time", "2106-03-21T12:45:01.480Z"),
    ],
)
def test_an_event_time_days_from_the_match_is_refused_with_its_line(key, value):
    """A time days from the other events' is not of this match: refused on its line (it broke the minute's int16
    or went unnoticed); times minutes off are kept for the sync to correct."""
    line = PASS_LINE if key == "receiver_time" else LINE
    events = _edit_line(line, lambda e: e.__setitem__(key, value))
    assert key != "receiver_time" or json.loads(events.splitlines()[line - 1])["event"]["type"] == "pass"
    exc = _refusal(**{"events.jsonl": events})
    assert (exc.file, exc.line) == ("events.jsonl", line), str(exc)
    assert exc.what.startswith(f"event.{key} {value!r} is ") and "not of this match" in exc.what, exc.what
    near = _edit_line(LINE, lambda e: e.__setitem__("time", "2026-03-21T13:05:01.480Z"))  # 20 minutes off
    assert read("footovision_h1", replace={"events.jsonl": near}).events.height == 203


def test_a_sheet_time_days_from_the_match_is_refused_with_its_line():
    """Found by the fuzzer: a substitution in 9999 made the lineup's minute overflow int16 (a TypeError); a card
    years away was read."""
    sheet = json.loads((FOLDER / "footovision_h1" / "match.json").read_text())
    for entry, key in ((sheet["events"]["substitutions"][0], "in_time"), (sheet["events"]["cards"][0], "time")):
        before = entry[key]
        entry[key] = "9999-01-01T00:00:00Z"
        text = json.dumps(sheet, indent=1)
        exc = _refusal(**{"match.json": text.encode()})
        assert exc.file == "match.json" and "not of this match" in exc.what, str(exc)
        assert '"9999-01-01T00:00:00Z"' in text.splitlines()[exc.line - 1]
        entry[key] = before


def test_a_meta_period_start_days_from_the_match_is_refused_with_its_line():
    """Found by the fuzzer: a period starting in year 1 put every event 2025 years into it (the minute overflowed
    int16, a polars error). A start whistle the clock does not use (its period has a start_time) is checked too."""
    meta = (FOLDER / "footovision_h1" / "meta.json").read_text()
    for old, new in (
        ('"start_time": "2026-03-21T12:45:00.000Z"', '"start_time": "0001-03-21T12:45:00.000Z"'),
        ('"time": "2026-03-21T13:50:20.240Z"', '"time": "9999-03-21T12:45:00.000Z"'),  # the 2nd half's whistle
        ('"time": "2026-03-21T12:45:00.000Z"', '"time": "1970-01-01T00:00:00.000Z"'),  # the 1st's, unused
    ):
        edited = meta.replace(old, new)
        exc = _refusal(**{"meta.json": edited.encode()})
        assert exc.file == "meta.json" and "not of this match" in exc.what, str(exc)
        assert new in edited.splitlines()[exc.line - 1]


@pytest.mark.parametrize(
    "new,old,value,other",
    [("is_successful", "outcome", True, False), ("outcome_type", "outcome_detailed", "unknown", "successful")],
)
def test_the_v02_and_v03_names_of_one_field_must_agree(new, old, value, other):
    """Found by the fuzzer: a line giving both names of a field with different values was read, the v0.3 one
    silently kept. With one value, or one name only, the line reads as before."""
    assert (
        json.loads((FOLDER / "footovision_h1" / "events.jsonl").read_text().splitlines()[LINE - 1])["event"][new]
        == value
    )
    exc = _refusal(**{"events.jsonl": _edit_line(LINE, lambda e: e.__setitem__(old, other))})
    assert (exc.file, exc.line) == ("events.jsonl", LINE)
    assert exc.what == f"event.{old} {json.dumps(other)} contradicts event.{new} {json.dumps(value)}", exc.what
    agreeing = read("footovision_h1", replace={"events.jsonl": _edit_line(LINE, lambda e: e.__setitem__(old, value))})
    assert agreeing.events.equals(read("footovision_h1").events)


@pytest.mark.parametrize(
    "person,team,line", [("player_id", "team_id", LINE), ("receiver_id", "receiver_team_id", PASS_LINE)]
)
def test_a_person_on_the_other_teams_sheet_is_refused(person, team, line):
    """Found by the fuzzer: an away player acting for the home team was read, as team 0 with player_id '1-...'.
    CDF's team_id is the team of the player acting (receiver_team_id, of the receiver)."""
    events = (FOLDER / "footovision_h1" / "events.jsonl").read_text().splitlines()
    event = json.loads(events[line - 1])["event"]
    assert event[person] is not None and event[team] == "78"  # Liverpool, away
    exc = _refusal(**{"events.jsonl": _edit_line(line, lambda e: e.__setitem__(person, "10668"))})  # Brighton's GK
    assert (exc.file, exc.line) == ("events.jsonl", line)
    expected = f"event.{person} '10668' is on the home team's sheet ('414'), but event.{team} '78' is the away team's"
    assert exc.what == expected, exc.what


def test_people_on_no_sheet_and_related_ids_of_no_event_are_read_as_delivered():
    """The reader's rules keep them: a person on no sheet has no lake id (the vendor's is kept), and related ids
    are kept as delivered (a delivery may be a window of the match: they may name events outside it)."""

    def edit(e):
        e["player_id"], e["related_event_ids"] = "999999", ["nowhere", e["id"]]

    row = read("footovision_h1", replace={"events.jsonl": _edit_line(LINE, edit)}).events.row(LINE - 1, named=True)
    assert (row["player_id"], row["vendor_person_id"], row["team"]) == (None, "999999", 1)
    assert row["related_event_ids"] == ["nowhere", row["event_id"]]


def test_a_too_deeply_nested_match_sheet_names_its_line():
    """The match sheet's 'nested too deeply' named no line: it names the line where the nesting is deepest."""
    text = json.dumps(json.loads((FOLDER / "footovision_h1" / "match.json").read_text()), indent=1)
    lines = text.splitlines()
    lines.insert(3, ' "vendor_extra": ' + "[" * 5000 + "]" * 5000 + ",")
    exc = _refusal(**{"match.json": "\n".join(lines).encode()})
    assert (exc.file, exc.line, exc.what) == ("match.json", 4, "not valid JSON (nested too deeply)"), str(exc)
