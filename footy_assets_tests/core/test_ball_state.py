"""ball_state: in_play and possession rules on hand-built frames."""

import polars as pl

from footy_assets.core.canonical import TRACKING_SCHEMA
from footy_assets.core.metrics.ball_state import build_ball_state


def _frame(frame_id, ball, players, in_play=None, period=1):
    rows = [
        {"frame_id": frame_id, "role": "ball", "x_m": ball[0], "y_m": ball[1], "in_play": in_play, "period": period}
    ]
    for pid, x, y in players:
        team, jersey = (int(v) for v in pid.split("-"))
        rows.append(
            {
                "frame_id": frame_id,
                "role": "player",
                "team": team,
                "jersey": jersey,
                "player_id": pid,
                "x_m": x,
                "y_m": y,
                "in_play": in_play,
                "period": period,
            }
        )
    return rows


def _tracking(rows):
    frame = pl.DataFrame(rows).with_columns(
        match_id=pl.lit("m"), source_format=pl.lit("cdf"), timestamp_ms=pl.col("frame_id") * 40
    )
    for name, dtype in TRACKING_SCHEMA.items():
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=dtype).alias(name))
    return frame.select([pl.col(n).cast(d) for n, d in TRACKING_SCHEMA.items()])


def test_possession_sequence():
    far = [("0-7", 20.0, 0.0), ("1-9", -20.0, 0.0)]
    rows = []
    rows += _frame(0, (0, 0), far)  # nobody near yet: null before the first touch
    rows += _frame(1, (0, 0), [("0-7", 1.0, 0.0), ("1-9", -20.0, 0.0)])  # home within 1.5 m
    rows += _frame(2, (5, 0), far)  # ball travels: possession kept
    rows += _frame(3, (5, 0), [("0-7", 6.0, 0.0), ("1-9", 5.0, 0.5)])  # away closer (0.5 m) -> away
    rows += _frame(4, (5, 0), [("0-7", 5.2, 0.0), ("1-9", 5.0, 0.5)])  # home closer again (0.2 m) -> home
    rows += _frame(5, (5, 0), [("0-7", 5.0, 1.5), ("1-9", 5.0, -1.5)])  # tie at 1.5 m: smallest id "0-7"
    rows += _frame(6, (9, 9), far, in_play=False)  # out of play: null
    rows += _frame(7, (9, 9), far, in_play=True)  # back in play, no touch yet: null
    rows += _frame(8, (9, 9), [("1-9", 9.0, 8.0), ("0-7", 20.0, 0.0)])  # away touch
    rows += _frame(9, (0, 0), far, period=2)  # a new period: null until a touch
    state = build_ball_state(_tracking(rows))
    assert state["frame_id"].to_list() == list(range(10))
    assert state["in_play"].to_list() == [True] * 6 + [False] + [True] * 3
    assert state["possession_team"].to_list() == [None, 0, 0, 1, 0, 0, None, None, 1, None]
    assert state["possession_player_id"].to_list() == [None, "0-7", None, "1-9", "0-7", "0-7", None, None, "1-9", None]


def test_frames_without_ball_have_no_row():
    rows = _frame(0, (0, 0), [("0-7", 0.5, 0.0)])
    rows += [r for r in _frame(1, (0, 0), [("0-7", 0.5, 0.0)]) if r["role"] != "ball"]
    state = build_ball_state(_tracking(rows))
    assert state["frame_id"].to_list() == [0]
