"""Analyst access from Python: the frame-state filter over one match of the lake.

    from footy_assets.analysis import filter_intervals
    filter_intervals("demo_cdf", {"filters": [{"type": "frame_state", "players": ["0-10"],
                                               "column": "speed_mps", "gte": 7.0, "min_duration_ms": 1000}]})
"""

from __future__ import annotations


from footy_assets.lake import InvalidMatchId, Lake, check_match_id
from footy_assets.metrics.intervals import FilterError, run_filter


def filter_intervals(match_id: str, request: dict, lake: Lake | None = None) -> list[dict]:
    """Answer a frame-state filter request (seed vendor-api-frame-state-filter.txt) for one match.

    Returns a list of {start, end, label, type, player_id} with times in seconds. Raises ``FilterError``
    for an unknown match, column or player, or a malformed request.
    """
    lake = lake or Lake.from_env()
    try:
        check_match_id(match_id)
    except InvalidMatchId as exc:
        raise FilterError(str(exc)) from None
    state = lake.scan_match("frame_state", match_id)
    frame_state = None if state is None else state.collect()
    if frame_state is None or frame_state.height == 0:
        raise FilterError(f"unknown match {match_id!r}: no frame_state rows in {lake.uri} "
                          "(land it and run footy-assets materialize)")
    ball = lake.scan_match("ball_state", match_id)
    ball_state = None if ball is None else ball.collect()
    fps = int(frame_state["fps"][0])
    pitch = (105.0, 68.0)
    matches = lake.read_match("matches", match_id, columns=["pitch_length_m", "pitch_width_m"])
    if matches is not None and matches.num_rows:
        pitch = (float(matches["pitch_length_m"][0].as_py()), float(matches["pitch_width_m"][0].as_py()))
    return run_filter(request, frame_state, ball_state, fps, pitch)
