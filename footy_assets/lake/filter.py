"""Analyst access from Python: the frame-state filter over one match of the lake.

from footy_assets.lake.filter import filter_intervals
filter_intervals("demo_cdf", {"filters": [{"type": "frame_state", "players": ["0-10"],
                                           "column": "speed_mps", "gte": 7.0, "min_duration_ms": 1000}]})
filter_intervals("28116", {"filters": [{"type": "frame_state", "players": ["0-25"], "column": "speed_mps",
                                        "gte": 5.5},
                                       {"type": "event", "event_types": ["defending"], "before_ms": 5000,
                                        "actor": True}]})
"""

from __future__ import annotations

from footy_assets.core.metrics.intervals import FilterError, run_filter
from footy_assets.lake.publish import published_row, published_rows, table_fingerprint
from footy_assets.lake.store import InvalidMatchId, Lake, TableUnreadable, check_match_id, unreadable


def filter_intervals(match_id: str, request: dict, lake: Lake | None = None) -> list[dict]:
    """Answer a frame-state filter request (the vendor's frame-state filter API) for one match.

    Reads the delivery the ``matches`` row publishes. Returns a list of {start, end, label, type, player_id}
    with times in seconds, and the fields ``run_filter`` adds, then ``player_name`` from the match's lineup.
    Raises ``FilterError`` for an unknown or unpublished match, column or player, or a
    malformed request.
    """
    lake = lake or Lake.from_env()
    try:
        check_match_id(match_id)
    except InvalidMatchId as exc:
        raise FilterError(str(exc)) from None
    try:
        row = published_row(lake, match_id, None)  # every column: a row written before events_fingerprint too
    except TableUnreadable:
        raise
    except Exception as exc:  # a data file of matches missing or damaged: one line naming the table
        raise unreadable("matches", exc) from exc
    if row is None:
        raise FilterError(
            f"unknown match {match_id!r}: nothing published in {lake.uri} (land it and run footy-assets materialize)"
        )
    published = row["fingerprint"]
    pitch = (float(row["pitch_length_m"]), float(row["pitch_width_m"]))
    # the delivery matches publishes: never a mix of two deliveries
    frame_state, ball_state = (
        published_rows(lake, table, match_id, published) for table in ("frame_state", "ball_state")
    )
    if frame_state.height == 0:
        raise FilterError(
            f"match {match_id!r} has no frame_state rows of its published delivery "
            f"{published[:12]} (re-run footy-assets materialize)"
        )
    fps = int(frame_state["fps"][0])
    events = None
    if _wants_events(request):
        events = published_rows(lake, "events", match_id, table_fingerprint(row, "events"), columns=EVENT_COLUMNS)
        events = events if events.height else None
    found = run_filter(request, frame_state, ball_state, fps, pitch, events)
    return with_names(found, _names(lake, match_id, table_fingerprint(row, "lineups")))


def _names(lake: Lake, match_id: str, published: str) -> dict[str, str]:
    """{player_id: short name} from the match sheet (table lineups, its delivery ``published``); empty for a match
    without one."""
    lineup = published_rows(lake, "lineups", match_id, published, columns=["player_id", "short_name"])
    if lineup.height == 0:
        return {}
    return dict(lineup.drop_nulls().iter_rows())


def with_names(found: list[dict], names: dict[str, str]) -> list[dict]:
    """Each interval with its player's ``player_name`` from the lineup (null for match-level intervals and where
    the match has no lineup)."""
    return [{**r, "player_name": names.get(r["player_id"]) if r["player_id"] else None} for r in found]


EVENT_COLUMNS = ["event_id", "type", "sub_type", "team", "player_id", "frame_id", "clock_frame_id"]


def _wants_events(request) -> bool:
    """Whether a request holds an ``event`` filter (the events table is read only then)."""
    filters = request.get("filters") if isinstance(request, dict) else None
    return isinstance(filters, list) and any(isinstance(f, dict) and f.get("type") == "event" for f in filters)
