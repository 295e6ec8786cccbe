"""Canonical tracking (and, where the match has them, its events and lineup) -> Common Data Format v0.3.2.

Files: ``tracking.jsonl`` (one frame per line) and ``meta.json`` always; ``events.jsonl`` (one event per line, in
the delivered order) and ``match.json`` (the match sheet) when the published match has events.

Positions: the canonical frame is CDF's own (metres from the centre spot, home attacking left to right in every
period), so tracked positions and event locations go out as they are, rounded to the centimetre.

Identity: an identified player is his vendor id from the lineup where the match has one (the same id in the four
files, so a reader joins them), else ``"{team}-{jersey}"``; goal keepers carry ``position: GK`` on the meta's
team sheets. An unidentified player of a known team is ``unknown_<track or n>`` in his team's list and on no
sheet (a reader sees him unidentified); a player whose team is unknown has no place in a CDF frame and is left
out. Referees are ``officials``. The teams are ``home`` and ``away`` (the lake keeps no vendor team ids); the
match is the lake's match_id. The ball carries ``status`` where the feed said whether it was in play.

Clock (UTC, as the format requires): frame ``timestamp``s are the tracking's timeline (``timestamp_ms``) placed on
the event data's clock: for each period, its events' ``time`` minus their ``timestamp_ms`` (one value per
period, by how the events were read), and for a period without events the nearest period's (the tracking runs
with the wall clock). Event ``time``s are written as delivered, so a reader placing the events by the meta's
periods (``start_time`` at ``frame_id_start``) gets the same ``timestamp_ms`` back and synchronises them the
same way; the vendor's clock bias the sync measured (``offset_ms``) stays in the event times, as delivered, and
each synced event's frame is in its ``tracking`` block. A match without events has no wall clock in the lake:
its timestamps count the match clock from 1970-01-01T00:00:00Z. ``frame_id`` is the canonical one in
``tracking.jsonl``, the meta's periods and the events' ``tracking.frame_id`` / ``frame_id_end`` alike.

Events: id, time, period, type, sub_type, ``is_successful`` / ``outcome_type``, the actor (``player_id`` +
``team_id``, or ``official_id`` on referee events), receiver (id, time, team), locations, body part and related
ids as the lake keeps them; a synced event (``sync_status`` synced) has ``meta.is_synced`` true and the
``tracking`` block: ``frame_id``, ``frame_id_end`` where found, ``player.x/y`` (the actor tracked at that
frame).

Match sheet: teams with their players (names, jersey, position, starter, played, captain), coaches and
officials with their role, from the lineup; status from the periods of the tracking and events (extra time,
shootout; ``is_neutral`` false: not kept); the final score from the lineup's goals and own goals. The lake keeps
each player's goals, cards and minutes on and off but not the times of the sheet's goals, substitutions and
cards, which CDF requires on every entry: ``events.goals``, ``substitutions`` and ``cards`` are null (a reader
of the export finds no minutes on or off, goals or cards), and a half's (or shootout's) score is -1 (unknown;
the format has no null there) unless the match ended 0-0.

Required keys are always written, null where the lake has no value (the delivery lacked it too: the validator
refuses such a value); optional keys only where known. Parts of the meta the lake does not know (competition,
season, venue id, the video, landmark and ball vendors) are ``"unknown"`` / ``"not collected"``.

Key names: ``keys="v0.2"`` writes the meta's periods with ``start_frame_id`` / ``end_frame_id`` and the events'
outcome as ``outcome`` / ``outcome_detailed`` (the names of CDF v0.2, which fast-forward-football 0.3.0 requires:
it refuses v0.3.2 periods with "missing field start_frame_id"); everything else stays v0.3.2, and the v0.3.2
validator refuses those names. footy_assets reads both.
"""

from __future__ import annotations

import json

import polars as pl

from footy_assets.core.contracts.events import Lineups
from footy_assets.core.contracts.validation import dtypes

PERIOD_NAMES = {1: "first_half", 2: "second_half", 3: "first_half_extratime", 4: "second_half_extratime", 5: "shootout"}
CDF_VERSION = "0.3.2"
SIDES = (("home", 0), ("away", 1))
KEY_NAMES = ("v0.3.2", "v0.2")
# key names that differ between the versions: (v0.3.2, v0.2)
PERIOD_FRAME_KEYS = {"v0.3.2": ("frame_id_start", "frame_id_end"), "v0.2": ("start_frame_id", "end_frame_id")}
OUTCOME_KEYS = {"v0.3.2": ("is_successful", "outcome_type"), "v0.2": ("outcome", "outcome_detailed")}
UNKNOWN_SCORE = -1  # a half's score the lake does not know (CDF requires an integer)


def _iso(ms: pl.Expr) -> pl.Expr:
    return (pl.lit(0, pl.Datetime("ms", "UTC")) + pl.duration(milliseconds=ms)).dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ")


def _iso_ms(ms: int) -> str:
    return pl.select(_iso(pl.lit(ms, pl.Int64))).item()


def _utc(column: str) -> pl.Expr:
    """A UTC datetime column as RFC 3339 text to the millisecond."""
    return pl.col(column).dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ")


def _m(column: str) -> pl.Expr:
    """Metres to the centimetre."""
    return pl.col(column).cast(pl.Float64).round(2)


def period_anchors(periods: list[int], events: pl.DataFrame | None) -> dict[int, int]:
    """{period: UTC ms (since the Unix epoch) of the tracking timeline's 0 in that period}: from the events'
    ``time`` minus ``timestamp_ms``; a period without events takes the nearest period's (an earlier one first);
    0 for every period when there are no events (timestamps then count from 1970-01-01T00:00:00Z)."""
    known = {}
    if events is not None and events.height:
        known = dict(
            events.group_by("period").agg((pl.col("time").dt.epoch("ms") - pl.col("timestamp_ms")).min()).iter_rows()
        )
    anchors = {}
    for p in periods:
        if p in known:
            anchors[p] = known[p]
        elif known:
            anchors[p] = known[min(known, key=lambda q: (abs(q - p), q > p))]
        else:
            anchors[p] = 0
    return anchors


def _on_utc(ms: str, anchors: dict[int, int]) -> pl.Expr:
    """The timeline's ``ms`` column on the UTC clock: ms since the Unix epoch (``anchors``: ``period_anchors``)."""
    periods = list(anchors)
    return pl.col(ms) + pl.col("period").replace_strict(periods, [anchors[p] for p in periods], return_dtype=pl.Int64)


def _renamed(column: str, ids: dict[str, str]) -> pl.Expr:
    if not ids:
        return pl.col(column)
    return pl.col(column).replace(list(ids), list(ids.values()))


def _object_ids(frame: pl.DataFrame, prefix: str) -> pl.Expr:
    """The object's id in a frame: the player_id, else ``<prefix><track_id>``, else ``<prefix><n>`` numbered within
    the frame (ids are unique per frame)."""
    rank = pl.int_range(pl.len()).over("frame_id", pl.col("player_id").is_null()).cast(pl.String)
    return pl.coalesce(pl.col("player_id"), pl.lit(prefix) + pl.coalesce(pl.col("track_id"), rank))


def _lists(rows: pl.DataFrame, name: str) -> pl.DataFrame:
    """Per frame, the list of {id, x, y} of ``rows`` as column ``name``."""
    return rows.group_by("frame_id", maintain_order=True).agg(pl.struct("id", x=_m("x_m"), y=_m("y_m")).alias(name))


def tracking_lines(
    tracking: pl.DataFrame, match_id: str, anchors: dict[int, int] | None = None, ids: dict[str, str] | None = None
) -> bytes:
    """The tracking JSONL: one line per frame, in frame order. ``anchors``: ``period_anchors`` (default: none, the
    clock from 1970); ``ids``: {lake player_id: id to write} (default: the lake's)."""
    placed = tracking.filter(pl.col("x_m").is_not_null())
    frames = tracking.group_by("frame_id", maintain_order=True).agg(
        pl.col("period").first(), pl.col("timestamp_ms").first()
    )
    anchors = anchors or {int(p): 0 for p in frames["period"].unique()}
    people = placed.filter(pl.col("role").is_in(["player", "goal_keeper"]) & pl.col("team").is_not_null())
    people = people.with_columns(player_id=_renamed("player_id", ids or {}))
    people = people.with_columns(id=_object_ids(people, "unknown_"))
    for side, team in SIDES:
        frames = frames.join(_lists(people.filter(pl.col("team") == team), side), on="frame_id", how="left")
    referees = placed.filter(pl.col("role") == "referee")
    frames = frames.join(
        _lists(referees.with_columns(id=_object_ids(referees, "referee_")), "officials"), on="frame_id", how="left"
    )
    ball = placed.filter(pl.col("role") == "ball").select(
        "frame_id", bx=_m("x_m"), by=_m("y_m"), bz=_m("z_m"), status="in_play"
    )
    frames = frames.join(ball, on="frame_id", how="left").sort("frame_id")
    has_status = tracking.filter(pl.col("role") == "ball")["in_play"].null_count() == 0 and ball.height > 0
    empty = pl.lit([], dtype=frames.schema["home"])
    out = frames.select(
        "frame_id",
        timestamp=_iso(_on_utc("timestamp_ms", anchors)),
        period=pl.col("period").replace_strict(PERIOD_NAMES, return_dtype=pl.String),
        match=pl.struct(id=pl.lit(match_id)),
        teams=pl.struct(**{side: pl.struct(id=pl.lit(side), players=pl.coalesce(side, empty)) for side, _ in SIDES}),
        officials=pl.coalesce("officials", empty),
        ball=pl.struct(x="bx", y="by", z="bz", **({"status": pl.col("status").fill_null(False)} if has_status else {})),
    )
    return out.write_ndjson().encode()


def meta_document(
    tracking: pl.DataFrame,
    match: dict,
    anchors: dict[int, int] | None = None,
    lineups: pl.DataFrame | None = None,
    keys: str = "v0.3.2",
    has_events: bool = False,
) -> dict:
    """The meta JSON: periods (first and last frame, times), whistles, team sheets, pitch, fps. With a ``lineups``
    table the sheets give the vendor's ids, names and starters; ``keys``: ``KEY_NAMES``."""
    periods = (
        tracking.group_by("period")
        .agg(
            first=pl.col("frame_id").min(),
            last=pl.col("frame_id").max(),
            start=pl.col("timestamp_ms").min(),
            end=pl.col("timestamp_ms").max(),
        )
        .sort("period")
    )
    anchors = anchors or {int(p): 0 for p in periods["period"]}
    periods = periods.with_columns(start=_on_utc("start", anchors), end=_on_utc("end", anchors))
    first_ms = int(periods["start"].min())
    starters_until = int(tracking["timestamp_ms"].min()) + 10_000  # seen in the first 10 s of the match: a starter
    sheet = (
        tracking.filter(pl.col("player_id").is_not_null())
        .group_by("team", "jersey", "player_id")
        .agg(gk=(pl.col("role") == "goal_keeper").mean() > 0.5, first=pl.col("timestamp_ms").min())
        .sort("team", "jersey")
    )
    known = _people(lineups)
    team_names = _team_names(lineups)
    start_key, end_key = PERIOD_FRAME_KEYS[keys]
    unknown_vendor = {"version": "0.0.0", "name": "not collected"}
    fps = int(match["fps"])

    def player(side: str, jersey: int, pid: str, gk: bool, first: int) -> dict:
        person = known.get(pid, {})
        starter = person.get("is_starter")
        return {
            "id": person.get("vendor_person_id") or pid,
            "team_id": side,
            "jersey_number": jersey,
            "is_starter": starter if starter is not None else first <= starters_until,
            **{k: person[k] for k in ("first_name", "last_name") if person.get(k) is not None},
            **({"position": "GK"} if gk else {}),
        }

    return {
        "competition": {"id": "unknown"},
        "season": {"id": "unknown"},
        "match": {
            "id": match["match_id"],
            "kickoff_time": _iso_ms(first_ms),
            "periods": [
                {
                    "period": PERIOD_NAMES[p],
                    "play_direction": "left_right",
                    "start_time": _iso_ms(start),
                    "end_time": _iso_ms(end),
                    start_key: first,
                    end_key: last,
                    "left_team_id": "home",
                    "right_team_id": "away",
                }
                for p, first, last, start, end in periods.iter_rows()
            ],
            "whistles": [
                {"type": PERIOD_NAMES[p], "sub_type": sub, "time": _iso_ms(ms)}
                for p, _, _, start, end in periods.iter_rows()
                for sub, ms in (("start", start), ("end", end))
            ],
        },
        "teams": {
            side: {
                "id": side,
                **({"name": team_names[team]} if team_names.get(team) else {}),
                "players": [
                    player(side, jersey, pid, gk, first) for t, jersey, pid, gk, first in sheet.iter_rows() if t == team
                ],
            }
            for side, team in SIDES
        },
        "venue": {
            "id": "unknown",
            "pitch_length": float(match["pitch_length_m"]),
            "pitch_width": float(match["pitch_width_m"]),
        },
        "meta": {
            "video": {**unknown_vendor, "perspective": "unknown", "fps": fps},
            "tracking": {
                "version": "1",
                "name": f"footy_assets (from {match['format']})",
                "fps": fps,
                "collection_timing": "post_match",
            },
            "event": {
                **({"version": "1", "name": "footy_assets"} if has_events else unknown_vendor),
                "collection_timing": "post_match",
            },
            "landmarks": {
                **unknown_vendor,
                "fps": fps,
                "collection_timing": "post_match",
                "skeleton": {"root": "none", "joints": [], "connections": []},
            },
            "meta": {"version": "1", "name": "footy_assets"},
            "ball": {**unknown_vendor, "fps": fps, "collection_timing": "post_match"},
            "cdf": {"version": CDF_VERSION},
        },
    }


def _people(lineups: pl.DataFrame | None) -> dict[str, dict]:
    """{lake player_id: the lineup's row} of the players."""
    if lineups is None or lineups.height == 0:
        return {}
    players = lineups.filter((pl.col("role") == "player") & pl.col("player_id").is_not_null())
    return {row["player_id"]: row for row in players.iter_rows(named=True)}


def _team_names(lineups: pl.DataFrame | None) -> dict[int, str]:
    if lineups is None or lineups.height == 0:
        return {}
    named = lineups.filter(pl.col("team").is_not_null() & pl.col("team_name").is_not_null())
    return dict(named.group_by("team").agg(pl.col("team_name").first()).iter_rows())


def event_lines(events: pl.DataFrame, lineups: pl.DataFrame | None, match_id: str, keys: str = "v0.3.2") -> bytes:
    """The events JSONL: one CDF event per line in the delivered order (``event_index``), with the ``tracking``
    block (frame, end frame, the actor's tracked x/y) on synced events. ``keys``: ``KEY_NAMES``."""
    success_key, outcome_key = OUTCOME_KEYS[keys]
    sides = {team: side for side, team in SIDES}
    # the receiver's team from the lineup: the lake keeps his id, not the delivered team id
    team_of = {pid: int(row["team"]) for pid, row in _people(lineups).items()}
    rows = events.sort("event_index").select(
        id="event_id",
        time=_utc("time"),
        period=pl.col("period").replace_strict(PERIOD_NAMES, return_dtype=pl.String),
        type="type",
        sub_type="sub_type",
        success="is_successful",
        outcome="outcome_type",
        person="vendor_person_id",
        team_id=pl.col("team").replace_strict(sides, default=None, return_dtype=pl.String),
        receiver_id="vendor_receiver_id",
        receiver_time=_utc("receiver_time"),
        receiver_team_id=pl.col("receiver_id")
        .replace_strict(team_of, default=None, return_dtype=pl.Int64)
        .replace_strict(sides, default=None, return_dtype=pl.String),
        x=_m("x_m"),
        y=_m("y_m"),
        x_end=_m("x_end_m"),
        y_end=_m("y_end_m"),
        body_part="body_part",
        related_event_ids="related_event_ids",
        frame_id="frame_id",
        frame_id_end="frame_id_end",
        player_x=_m("player_x_m"),
        player_y=_m("player_y_m"),
    )
    lines = []
    for r in rows.iter_rows(named=True):
        if r["type"] == "referee":  # CDF: an official acts, and no player or team key may be present
            actor = {"official_id": r["person"]} if r["person"] is not None else {}
        else:
            actor = {"player_id": r["person"], "team_id": r["team_id"]}
        event = {
            "id": r["id"],
            "time": r["time"],
            "period": r["period"],
            "type": r["type"],
            "sub_type": r["sub_type"],
            success_key: r["success"],
            outcome_key: r["outcome"],
            **actor,
            "receiver_id": r["receiver_id"],
            "receiver_time": r["receiver_time"],
            "receiver_team_id": r["receiver_team_id"],
            **{k: r[k] for k in ("x", "y", "x_end", "y_end", "body_part", "related_event_ids")},
        }
        line = {"match": {"id": match_id}, "meta": {"is_synced": r["frame_id"] is not None}, "event": event}
        if r["frame_id"] is not None:
            sync = {"frame_id": r["frame_id"]}
            if r["frame_id_end"] is not None:
                sync["frame_id_end"] = r["frame_id_end"]
            if r["player_x"] is not None and r["player_y"] is not None:
                sync["player"] = {"x": r["player_x"], "y": r["player_y"]}
            line["tracking"] = sync
        lines.append(json.dumps(line, ensure_ascii=False, separators=(",", ":")))
    return ("\n".join(lines) + "\n").encode()


def _known(row: dict, keys: tuple[str, ...]) -> dict:
    return {k: row[k] for k in keys if row.get(k) is not None}


def match_sheet(lineups: pl.DataFrame, match: dict, periods: set[int]) -> dict:
    """The match sheet JSON from the lineup and the periods played (tracking's and events')."""
    people = lineups.with_columns(pl.col("goals", "own_goals").fill_null(0))
    players = people.filter(pl.col("role") == "player").sort("team", "jersey")
    teams = {}
    for side, team in SIDES:
        mine = players.filter(pl.col("team") == team)
        coaches = people.filter((pl.col("role") == "coach") & (pl.col("team") == team))
        names = people.filter((pl.col("team") == team) & pl.col("team_name").is_not_null())["team_name"]
        teams[side] = {
            "id": side,
            **({"short_name": names[0]} if names.len() else {}),
            "players": [
                {
                    "id": p["vendor_person_id"],
                    "first_name": p["first_name"],
                    "last_name": p["last_name"],
                    **_known(p, ("short_name",)),
                    "team_id": side,
                    "jersey_number": p["jersey"],
                    "is_starter": p["is_starter"],
                    "has_played": p["has_played"],
                    **_known(p, ("position_group", "position", "is_captain")),
                }
                for p in mine.iter_rows(named=True)
            ],
            **(
                {
                    "coaches": [
                        {
                            "id": c["vendor_person_id"],
                            "first_name": c["first_name"],
                            "last_name": c["last_name"],
                            **_known(c, ("short_name",)),
                        }
                        for c in coaches.iter_rows(named=True)
                    ]
                }
                if coaches.height
                else {}
            ),
        }
    officials = people.filter(pl.col("team").is_null() & ~pl.col("role").is_in(["player", "coach"]))
    score = {
        side: int(players.filter(pl.col("team") == team)["goals"].sum())
        + int(players.filter(pl.col("team") == 1 - team)["own_goals"].sum())
        for side, team in SIDES
    }
    winner = None if score["home"] == score["away"] else ("home" if score["home"] > score["away"] else "away")
    part = {"home": 0, "away": 0} if score == {"home": 0, "away": 0} else {"home": UNKNOWN_SCORE, "away": UNKNOWN_SCORE}
    extra_time = bool(periods & {3, 4})
    shootout = 5 in periods
    result = {
        "final": {**score, "winning_team_id": winner},
        "first_half": part,
        "second_half": part,
        **({"first_half_extratime": part, "second_half_extratime": part} if extra_time else {}),
        **({"shootout": {"home": UNKNOWN_SCORE, "away": UNKNOWN_SCORE}} if shootout else {}),
    }
    return {
        "match": {
            "id": match["match_id"],
            "status": {"is_neutral": False, "has_extratime": extra_time, "has_shootout": shootout},
            "result": result,
        },
        "teams": teams,
        "officials": [
            {
                "id": o["vendor_person_id"],
                **_known(o, ("first_name", "last_name", "short_name")),
                **({"type": o["role"]} if o["role"] != "official" else {}),
            }
            for o in officials.iter_rows(named=True)
        ],
        "events": {"goals": None, "substitutions": None, "cards": None},
        "meta": {"vendor": "footy_assets"},
    }


def render(
    tracking: pl.DataFrame,
    match: dict,
    events: pl.DataFrame | None = None,
    lineups: pl.DataFrame | None = None,
    keys: str = "v0.3.2",
) -> dict[str, bytes]:
    """{file name: content}: tracking.jsonl and meta.json, and with ``events`` (rows of the events table, synced)
    events.jsonl and match.json from them and ``lineups``. ``keys``: ``KEY_NAMES``."""
    if keys not in KEY_NAMES:
        raise ValueError(f"unknown CDF key names {keys!r}; expected one of {', '.join(KEY_NAMES)}")
    has_events = events is not None and events.height > 0
    lineups = lineups if has_events and lineups is not None and lineups.height else None
    periods = sorted(int(p) for p in tracking["period"].unique())
    anchors = period_anchors(periods, events if has_events else None)
    ids = {pid: row["vendor_person_id"] for pid, row in _people(lineups).items()}  # one id in the four files
    files = {
        "tracking.jsonl": tracking_lines(tracking, match["match_id"], anchors, ids),
        "meta.json": _json(meta_document(tracking, match, anchors, lineups, keys, has_events)),
    }
    if has_events:
        files["events.jsonl"] = event_lines(events, lineups, match["match_id"], keys)
        played = set(periods) | {int(p) for p in events["period"].unique()}
        sheet = lineups if lineups is not None else pl.DataFrame(schema=dtypes(Lineups))
        files["match.json"] = _json(match_sheet(sheet, match, played))
    return files


def _json(document: dict) -> bytes:
    return json.dumps(document, indent=1, ensure_ascii=False).encode()
