"""Analyst access from Python: the frame-state filter over one match of the lake.

from footy_assets.lake.filter import filter_intervals
filter_intervals("demo_cdf", {"filters": [{"type": "frame_state", "players": ["0-10"],
                                           "column": "speed_mps", "gte": 7.0, "min_duration_ms": 1000}]})
filter_intervals("28116", {"filters": [{"type": "frame_state", "players": ["0-25"], "column": "speed_mps",
                                        "gte": 5.5},
                                       {"type": "event", "event_types": ["defending"], "before_ms": 5000,
                                        "actor": True}]})

A server answering many requests keeps the prepared inputs of the last few matches (``FilterCache``): a request
then reads only the match's ``matches`` row, and a new publish (another fingerprint) is never answered from the
old rows.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import polars as pl

from footy_assets.core.metrics.intervals import FILTER_COLUMNS, FilterError, FilterMatch, answer_filter, prepare_match
from footy_assets.lake.publish import published_row, table_fingerprint
from footy_assets.lake.store import InvalidMatchId, Lake, TableUnreadable, check_match_id, unreadable

# What the filter reads of each table (a column an older table lacks is left out): a fraction of frame_state
FRAME_STATE_COLUMNS = ["frame_id", "timestamp_ms", "period", "period_time_s", "player_id", "team", "fps", "valid"]
BALL_STATE_COLUMNS = ["frame_id", "timestamp_ms", "period", "possession_team", "x_m", "y_m"]
EVENT_COLUMNS = ["event_id", "type", "sub_type", "team", "player_id", "frame_id", "clock_frame_id"]


@dataclass(frozen=True)
class PreparedMatch:
    """A match's filter inputs for one published state: ``key`` (match_id and the deliveries its ``matches`` row
    names), the core's ``FilterMatch`` and the lineup's names ({player_id: short name})."""

    key: tuple[str, str, str]
    match: FilterMatch
    names: dict[str, str]


def _published(lake: Lake, match_id: str) -> dict:
    """The match's ``matches`` row (every column: a row written before events_fingerprint too)."""
    try:
        check_match_id(match_id)
    except InvalidMatchId as exc:
        raise FilterError(str(exc)) from None
    try:
        row = published_row(lake, match_id, None)
    except TableUnreadable:
        raise
    except Exception as exc:  # a data file of matches missing or damaged: one line naming the table
        raise unreadable("matches", exc) from exc
    if row is None:
        raise FilterError(
            f"unknown match {match_id!r}: nothing published in {lake.uri} (land it and run footy-assets materialize)"
        )
    return row


def _key(match_id: str, row: dict) -> tuple[str, str, str]:
    return (match_id, row["fingerprint"], table_fingerprint(row, "events"))


def _rows(lake: Lake, table: str, match_id: str, fingerprint: str, wanted: list[str]) -> pl.DataFrame:
    """The published rows of ``table`` with the ``wanted`` columns it has."""
    scan = lake.scan_match(table, match_id, fingerprint)
    if scan is None:
        return pl.DataFrame()
    try:
        present = scan.collect_schema().names()
        return scan.select([c for c in wanted if c in present]).collect()
    except Exception as exc:  # the table's log or a data file unreadable: one line naming the table
        raise unreadable(table, exc) from exc


def prepare(lake: Lake, match_id: str, row: dict | None = None, with_events: bool = True) -> PreparedMatch:
    """Read and prepare one published match's filter inputs (``row``: its ``matches`` row, read when None);
    ``with_events``: read its events too (only ``event`` filters need them)."""
    row = row or _published(lake, match_id)
    published = row["fingerprint"]
    pitch = (float(row["pitch_length_m"]), float(row["pitch_width_m"]))
    # the delivery matches publishes: never a mix of two deliveries
    frame_state = _rows(lake, "frame_state", match_id, published, FRAME_STATE_COLUMNS + list(FILTER_COLUMNS))
    ball_state = _rows(lake, "ball_state", match_id, published, BALL_STATE_COLUMNS)
    if frame_state.height == 0:
        raise FilterError(
            f"match {match_id!r} has no frame_state rows of its published delivery "
            f"{published[:12]} (re-run footy-assets materialize)"
        )
    fps = int(frame_state["fps"][0])
    events = None
    if with_events:
        events = _rows(lake, "events", match_id, table_fingerprint(row, "events"), EVENT_COLUMNS)
        events = events if events.height else None
    names = _names(lake, match_id, table_fingerprint(row, "lineups"))
    return PreparedMatch(_key(match_id, row), prepare_match(frame_state, ball_state, fps, pitch, events), names)


def answer(prepared: PreparedMatch, request: dict) -> list[dict]:
    """The answer to ``request`` over a prepared match, each interval with its ``player_name``."""
    return with_names(answer_filter(request, prepared.match), prepared.names)


def filter_intervals(match_id: str, request: dict, lake: Lake | None = None) -> list[dict]:
    """Answer a frame-state filter request (the vendor's frame-state filter API) for one match.

    Reads the delivery the ``matches`` row publishes. Returns a list of {start, end, label, type, player_id}
    with times in seconds, and the fields ``run_filter`` adds, then ``player_name`` from the match's lineup.
    Raises ``FilterError`` for an unknown or unpublished match, column or player, or a malformed request.
    """
    lake = lake or Lake.from_env()
    return answer(prepare(lake, match_id, with_events=_wants_events(request)), request)


class FilterCache:
    """The prepared inputs of the last ``size`` matches asked about, for a process answering many requests.

    Each request reads the match's ``matches`` row: a match published again since (another fingerprint) is
    prepared anew, never answered from the old rows. One thread prepares a match while others asking for it
    wait; memory is about ``size`` matches' frame_state columns the filter reads.
    """

    def __init__(self, lake: Lake, size: int = 2):
        """``size``: how many matches' prepared inputs stay in memory (at least one)."""
        self.lake, self.size = lake, max(1, size)
        self._prepared: OrderedDict[tuple[str, str, str], PreparedMatch] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[tuple[str, str, str], threading.Lock] = {}

    def get(self, match_id: str) -> PreparedMatch:
        """The prepared inputs of the match as published now."""
        row = _published(self.lake, match_id)
        key = _key(match_id, row)
        with self._lock:
            found = self._prepared.get(key)
            if found is not None:
                self._prepared.move_to_end(key)
                return found
            loading = self._loading.setdefault(key, threading.Lock())
        try:
            with loading:  # one reader per match and state; the others find it done
                with self._lock:
                    found = self._prepared.get(key)
                if found is None:
                    found = prepare(self.lake, match_id, row)
                    with self._lock:
                        self._prepared[key] = found
                        for old in [k for k in self._prepared if k[0] == match_id and k != key]:
                            del self._prepared[old]  # a superseded publish of the same match
                        while len(self._prepared) > self.size:
                            self._prepared.popitem(last=False)
        finally:  # a match that cannot be prepared (no frame_state rows) leaves no lock behind, each time it is asked
            with self._lock:
                self._loading.pop(key, None)
        return found

    def filter_intervals(self, match_id: str, request: dict) -> list[dict]:
        """As ``filter_intervals``, from the cache."""
        return answer(self.get(match_id), request)


def _names(lake: Lake, match_id: str, published: str) -> dict[str, str]:
    """{player_id: short name} from the match sheet (table lineups, its delivery ``published``); empty for a match
    without one."""
    lineup = _rows(lake, "lineups", match_id, published, ["player_id", "short_name"])
    if lineup.height == 0:
        return {}
    return dict(lineup.drop_nulls().iter_rows())


def with_names(found: list[dict], names: dict[str, str]) -> list[dict]:
    """Each interval with its player's ``player_name`` from the lineup (null for match-level intervals and where
    the match has no lineup)."""
    return [{**r, "player_name": names.get(r["player_id"]) if r["player_id"] else None} for r in found]


def _wants_events(request) -> bool:
    """Whether a request holds an ``event`` filter (the events table is read only then)."""
    filters = request.get("filters") if isinstance(request, dict) else None
    return isinstance(filters, list) and any(isinstance(f, dict) and f.get("type") == "event" for f in filters)
