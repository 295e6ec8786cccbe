"""Interval rules (maximal runs where a predicate holds, minimum durations, the filter request) on hand-built
frame_state rows."""

import polars as pl
import pytest

from footy_assets.core.metrics.intervals import (
    FilterError,
    catalog_intervals,
    load_catalog,
    predicate_label,
    run_filter,
    runs,
)

FPS = 25


def _fs(
    player: str,
    values: list,
    start_frame: int = 0,
    period: int = 1,
    column: str = "speed_mps",
    frames: list[int] | None = None,
) -> pl.DataFrame:
    frames = frames if frames is not None else list(range(start_frame, start_frame + len(values)))
    return pl.DataFrame(
        {
            "match_id": "m",
            "frame_id": frames,
            "timestamp_ms": [f * 40 for f in frames],
            "period": period,
            "player_id": player,
            "team": int(player[0]),
            column: values,
            "distance_m": [None if v is None else 0.1 for v in values],
        },
        schema_overrides={column: pl.Float32, "distance_m": pl.Float32, "period": pl.Int8, "team": pl.Int8},
    )


def test_inclusive_bounds_and_null():
    fs = _fs("0-10", [6.9, 7.0, 7.5, None, 7.2, 7.0, 6.99] + [7.0] * 20)
    found = runs(fs, "speed_mps", 7.0, None, FPS, min_duration_ms=0)
    assert found.select("first_frame_id", "last_frame_id").rows() == [(1, 2), (4, 5), (7, 26)]
    two_sided = runs(fs, "speed_mps", 7.0, 7.2, FPS, min_duration_ms=0)
    assert two_sided.select("first_frame_id", "last_frame_id").rows() == [(1, 1), (4, 5), (7, 26)]


def test_gap_and_period_break_runs():
    a = _fs("0-10", [8.0] * 10, frames=list(range(5)) + list(range(6, 11)))
    b = _fs("0-10", [8.0] * 5, frames=list(range(11, 16)), period=2)
    found = runs(pl.concat([a, b]), "speed_mps", 7.0, None, FPS, min_duration_ms=0)
    assert found.select("period", "first_frame_id", "last_frame_id").rows() == [(1, 0, 4), (1, 6, 10), (2, 11, 15)]


def test_min_duration_boundary_12_vs_13_frames():
    fs = pl.concat([_fs("0-1", [8.0] * 12), _fs("0-2", [8.0] * 13)])
    found = runs(fs, "speed_mps", 7.0, None, FPS, min_duration_ms=500)
    assert found["player_id"].to_list() == ["0-2"]
    row = found.row(0, named=True)
    assert row["duration_ms"] == 520.0
    assert (row["start_ms"], row["end_ms"]) == (0.0, 12 * 40 + 40.0)


def test_start_end_and_statistics():
    fs = _fs("0-10", [7.0, 8.0, 9.0] + [1.0], start_frame=100)
    row = runs(fs, "speed_mps", 7.0, None, FPS, min_duration_ms=0).row(0, named=True)
    assert (row["start_ms"], row["end_ms"], row["frames"]) == (4000.0, 4120.0, 3)
    assert row["peak"] == 9.0 and row["mean"] == pytest.approx(8.0)
    assert row["distance_m"] == pytest.approx(0.3)
    lte = runs(_fs("1-3", [3.0, 1.5, 2.0, 2.5], column="nearest_opp_dist_m"), "nearest_opp_dist_m", None, 2.0, FPS, 0)
    assert lte["peak"].to_list() == [1.5]  # lte-only: the peak is the minimum


def test_labels():
    assert predicate_label("speed_mps", 7.0, None) == "speed_mps >=7.0"
    assert predicate_label("speed_mps", None, 4.0) == "speed_mps <=4.0"
    assert predicate_label("speed_mps", 2.0, 4) == "speed_mps >=2.0 <=4"


def test_request_several_players_and_response_shape():
    fs = pl.concat([_fs("0-10", [8.0] * 30), _fs("0-7", [1.0] * 5 + [8.0] * 30), _fs("1-3", [9.0] * 40)])
    request = {
        "filters": [
            {
                "type": "frame_state",
                "players": ["0-10", "0-7"],
                "column": "speed_mps",
                "gte": 7.0,
                "min_duration_ms": 1000,
            }
        ]
    }
    out = run_filter(request, fs, None, FPS)
    vendor_fields = ["start", "end", "label", "type", "player_id"]
    assert [{k: r[k] for k in vendor_fields} for r in out] == [
        {"start": 0.0, "end": 1.2, "label": "speed_mps >=7.0", "type": "frame_state", "player_id": "0-10"},
        {"start": 0.2, "end": 1.4, "label": "speed_mps >=7.0", "type": "frame_state", "player_id": "0-7"},
    ]
    assert list(out[0]) == [
        *vendor_fields,
        "team",
        "period",
        "period_start",
        "start_in_period",
        "end_in_period",
        "match_minute",
    ]  # the five fields every answer begins with, first and unchanged


def test_response_tells_team_period_and_clock_within_the_period():
    """Second half starts 50 min (3000 s) into the match clock, after a break: a sprint 130 s into it is in
    period 2, 130 s into the period, match minute 45 + 2 = 47; a match-level interval has no team."""
    first = _fs("0-10", [1.0] * 10)
    second = _fs("1-3", [1.0] * 3250 + [8.0] * 30, start_frame=75_000, period=2)
    fs = pl.concat([first, second]).with_columns(
        period_time_s=(
            (pl.col("timestamp_ms") - pl.when(pl.col("period") == 1).then(0).otherwise(3_000_000)) / 1000
        ).cast(pl.Float32)
    )
    request = {
        "filters": [
            {"type": "frame_state", "players": ["1-3"], "column": "speed_mps", "gte": 7.0, "min_duration_ms": 1000}
        ]
    }
    (out,) = run_filter(request, fs, None, FPS)
    assert (out["team"], out["period"], out["period_start"]) == (1, 2, 3000.0)
    assert (out["start"], out["start_in_period"], out["end_in_period"], out["match_minute"]) == (
        3130.0,
        130.0,
        131.2,
        47,
    )
    ball = _ball([None] * 10 + [0] * 40)
    (whole,) = run_filter({"filters": [{"type": "team_possession", "teams": ["team_0"]}]}, fs, ball, FPS)
    assert (whole["team"], whole["period"], whole["start_in_period"], whole["match_minute"]) == (None, 1, 0.4, 0)


def _ball(possession: list, x: list | None = None) -> pl.DataFrame:
    n = len(possession)
    return pl.DataFrame(
        {
            "frame_id": list(range(n)),
            "timestamp_ms": [f * 40 for f in range(n)],
            "period": [1] * n,
            "x_m": x or [0.0] * n,
            "y_m": [0.0] * n,
            "possession_team": possession,
        },
        schema_overrides={"possession_team": pl.Int8, "period": pl.Int8, "x_m": pl.Float32, "y_m": pl.Float32},
    )


def test_and_intersects_or_unites():
    fs = _fs("0-10", [8.0] * 50)
    ball = _ball([0] * 20 + [1] * 10 + [0] * 20, x=[0.0] * 40 + [30.0] * 10)
    speed = {"type": "frame_state", "players": ["0-10"], "column": "speed_mps", "gte": 7.0, "min_duration_ms": 1000}
    both = run_filter(
        {"operator": "AND", "filters": [speed, {"type": "team_possession", "teams": ["team_0"]}]}, fs, ball, FPS
    )
    assert [(r["start"], r["end"]) for r in both] == [(0.0, 0.8), (1.2, 2.0)]
    assert both[0]["label"] == "speed_mps >=7.0 AND team_possession team_0" and both[0]["player_id"] == "0-10"
    either = run_filter(
        {"operator": "OR", "filters": [speed, {"type": "team_possession", "teams": ["team_1"]}]}, fs, ball, FPS
    )
    assert [(r["start"], r["end"], r["player_id"], r["type"]) for r in either] == [
        (0.0, 2.0, "0-10", "frame_state"),
        (0.8, 1.2, None, "team_possession"),
    ]
    # ball_location on the 0-105 pitch (origin bottom-left): x_m 30 -> 82.5
    final_third = run_filter({"filters": [speed, {"type": "ball_location", "x_min": 70, "x_max": 105}]}, fs, ball, FPS)
    assert [(r["start"], r["end"]) for r in final_third] == [(1.6, 2.0)]


@pytest.mark.parametrize(
    "request_, message",
    [
        (
            {"filters": [{"type": "frame_state", "players": ["0-10"], "column": "pace", "gte": 1}]},
            "unknown column 'pace'",
        ),
        ({"filters": [{"type": "frame_state", "players": ["0-10"], "column": "speed_mps"}]}, "needs gte, lte or both"),
        (
            {"filters": [{"type": "frame_state", "players": ["0-99"], "column": "speed_mps", "gte": 1}]},
            "unknown player(s) 0-99",
        ),
        ({"filters": [{"type": "frame_state", "players": [], "column": "speed_mps", "gte": 1}]}, "players must be"),
        ({"filters": [{"type": "dribble"}]}, "unknown type 'dribble'"),
        ({"operator": "XOR", "filters": [{"type": "team_possession", "teams": ["team_0"]}]}, "operator must be"),
        ({"filters": [{"type": "team_possession", "teams": ["home"]}]}, "teams must be"),
        ({"filters": []}, "non-empty list"),
        (
            {"filters": [{"type": "frame_state", "players": ["0-10"], "column": "speed_mps", "gte": "fast"}]},
            "must be a finite number",
        ),
    ],
)
def test_bad_requests_are_refused(request_, message):
    with pytest.raises(FilterError) as err:
        run_filter(request_, _fs("0-10", [8.0] * 30), _ball([0] * 30), FPS)
    assert message in str(err.value)


def test_catalog_has_the_standard_definitions():
    catalog = {d.name: d for d in load_catalog()}
    assert {"sprint", "high_speed_run", "pressing"} <= set(catalog)
    assert (catalog["sprint"].column, catalog["sprint"].gte, catalog["sprint"].min_duration_ms) == (
        "speed_mps",
        7.0,
        1000,
    )
    assert (catalog["high_speed_run"].gte, catalog["high_speed_run"].lte) == (5.5, 7.0)
    assert (catalog["pressing"].column, catalog["pressing"].lte, catalog["pressing"].min_duration_ms) == (
        "nearest_opp_dist_m",
        2.0,
        500,
    )
    fs = _fs("0-10", [8.0] * 30 + [6.0] * 30)
    found = catalog_intervals(fs, FPS, [catalog["sprint"], catalog["high_speed_run"]])
    assert found.select("definition", "first_frame_id", "last_frame_id").rows() == [
        ("high_speed_run", 30, 59),
        ("sprint", 0, 29),
    ]


# -- malformed requests: refused naming the field, never an empty answer --------------------------
SPEED = {"type": "frame_state", "players": ["0-10"], "column": "speed_mps"}


@pytest.mark.parametrize(
    "request_, message",
    [
        ({"filters": [{**SPEED, "gte": 9, "lte": 1}]}, "filters[0]: gte 9 is above lte 1: no value can match"),
        ({"filters": [{**SPEED, "gte": 9.5, "lte": 9.25}]}, "filters[0]: gte 9.5 is above lte 9.25"),
        (
            {"filters": [{"type": "ball_location", "x_min": 90, "x_max": 10}]},
            "filters[0]: x_min 90 is above x_max 10: no value can match",
        ),
        (
            {"filters": [{"type": "ball_location", "y_min": 50, "y_max": 5.5}]},
            "filters[0]: y_min 50 is above y_max 5.5",
        ),
        ({"filters": [{**SPEED, "gte": 7, "gtee": 9}]}, "filters[0]: unknown key(s) 'gtee' in a frame_state filter"),
        ({"filters": [{**SPEED, "gtee": 9}]}, "filters[0]: unknown key(s) 'gtee'"),  # the typo named, not "needs gte"
        (
            {"filters": [{**SPEED, "gte": 7}, {"type": "team_possession", "teams": ["team_0"], "team": "x"}]},
            "filters[1]: unknown key(s) 'team' in a team_possession filter",
        ),
        (
            {"filters": [{"type": "ball_location", "x_min": 70, "xmax": 105}]},
            "filters[0]: unknown key(s) 'xmax' in a ball_location filter",
        ),
        (
            {"filters": [{**SPEED, "gte": 7, "min_duration_ms": 1e18}]},
            "filters[0]: min_duration_ms 1e+18 is longer than any match",
        ),
        (
            {"filters": [{"type": "team_possession", "teams": ["team_0"], "min_duration_ms": 1e18}]},
            "filters[0]: min_duration_ms 1e+18 is longer than any match",
        ),
        (
            {"filters": [{**SPEED, "gte": 7, "min_duration_ms": -1}]},
            "filters[0]: min_duration_ms must be a non-negative",
        ),
        ({"filters": [{"type": ["frame_state"]}]}, "filters[0]: unknown type ['frame_state']"),
        ({"filters": [{"type": "team_possession", "teams": [["team_0"]]}]}, "filters[0]: teams must be"),
    ],
)
def test_malformed_requests_are_refused_naming_the_field(request_, message):
    with pytest.raises(FilterError) as err:
        run_filter(request_, _fs("0-10", [8.0] * 30), _ball([0] * 30), FPS)
    assert message in str(err.value) and "\n" not in str(err.value), str(err.value)


def test_a_malformed_ball_filter_is_named_even_without_ball_state():
    with pytest.raises(FilterError, match=r"filters\[0\]: x_min 90 is above x_max 10"):
        run_filter(
            {"filters": [{"type": "ball_location", "x_min": 90, "x_max": 10}]}, _fs("0-10", [8.0] * 30), None, FPS
        )


def test_equal_bounds_and_the_longest_minimum_are_answered():
    fs = _fs("0-10", [8.0] * 30)
    assert len(run_filter({"filters": [{**SPEED, "gte": 8, "lte": 8, "min_duration_ms": 0}]}, fs, None, FPS)) == 1
    assert run_filter({"filters": [{**SPEED, "gte": 8, "min_duration_ms": 3 * 3600 * 1000}]}, fs, None, FPS) == []


def test_the_vendor_api_examples_are_answered():
    """The five requests of the vendor's frame-state filter API, as written there."""
    import json

    examples = [
        '{"filters": [{"type": "frame_state", "players": ["0-10"], "column": "speed_mps", "gte": 7.0,'
        ' "min_duration_ms": 1000}]}',
        '{"filters": [{"type": "frame_state", "players": ["0-10"], "column": "speed_mps", "gte": 2.0, "lte": 4.0,'
        ' "min_duration_ms": 2000}]}',
        '{"filters": [{"type": "frame_state", "players": ["0-7", "0-8", "0-10"], "column": "nearest_opp_dist_m",'
        ' "lte": 2.0, "min_duration_ms": 500}]}',
        '{"operator": "AND", "filters": [{"type": "frame_state", "players": ["0-10"], "column": "speed_mps",'
        ' "gte": 6.0, "min_duration_ms": 1000}, { "type": "team_possession", "teams": ["team_0"] }]}',
        '{"operator": "AND", "filters": [{"type": "frame_state", "players": ["0-10"], "column": "speed_mps",'
        ' "gte": 7.0, "min_duration_ms": 1000}, { "type": "ball_location", "x_min": 70, "x_max": 105 }]}',
    ]
    n = 100  # 4 s at 25 fps: 2 s jogging at 3 m/s, then 2 s sprinting at 8 m/s, pressed from 1 s on
    fs = pl.concat(
        [
            _fs(p, [3.0] * 50 + [8.0] * 50).with_columns(
                nearest_opp_dist_m=pl.Series([5.0] * 25 + [1.5] * 75, dtype=pl.Float32)
            )
            for p in ("0-7", "0-8", "0-10")
        ]
    )
    ball = _ball([0] * n, x=[0.0] * 50 + [30.0] * 50)  # x_m 30 is 82.5 on the 0-105 pitch
    answers = [
        [(r["start"], r["end"], r["label"], r["player_id"]) for r in run_filter(json.loads(text), fs, ball, FPS)]
        for text in examples
    ]
    assert answers == [
        [(2.0, 4.0, "speed_mps >=7.0", "0-10")],
        [(0.0, 2.0, "speed_mps >=2.0 <=4.0", "0-10")],
        [(1.0, 4.0, "nearest_opp_dist_m <=2.0", p) for p in ("0-10", "0-7", "0-8")],
        [(2.0, 4.0, "speed_mps >=6.0 AND team_possession team_0", "0-10")],
        [(2.0, 4.0, "speed_mps >=7.0 AND ball_location x_min=70 x_max=105", "0-10")],
    ]


# -- event-relative windows ------------------------------------------------------------------------------------------
def _events(rows: list[tuple]) -> pl.DataFrame:
    """(event_id, type, sub_type, team, player_id, frame_id, clock_frame_id) rows as the events table holds them."""
    return pl.DataFrame(
        rows,
        schema={
            "event_id": pl.String,
            "type": pl.String,
            "sub_type": pl.String,
            "team": pl.Int8,
            "player_id": pl.String,
            "frame_id": pl.Int64,
            "clock_frame_id": pl.Int64,
        },
        orient="row",
    )


def _two_runners() -> pl.DataFrame:
    # 0-10 sprints over frames 0-99 (4 s), 1-5 over frames 150-249; 250 frames in all
    a = _fs("0-10", [8.0] * 100 + [1.0] * 150)
    b = _fs("1-5", [1.0] * 150 + [8.0] * 100)
    return pl.concat([a, b])


SHOTS = _events(
    [
        ("e1", "shot", None, 0, "0-10", 125, 120),  # synced at frame 125 (5.0 s)
        ("e2", "pass", "kick_off", 1, "1-5", 10, 10),
        ("e3", "shot", None, 1, "1-5", None, 240),  # not synced: its clock frame (9.6 s)
        ("e4", "shot", None, 1, "1-5", None, None),  # outside the tracking: no window
    ]
)
FAST = {"type": "frame_state", "players": ["0-10", "1-5"], "column": "speed_mps", "gte": 7.0, "min_duration_ms": 0}


def test_event_windows_alone_with_or():
    out = run_filter(
        {"operator": "OR", "filters": [{"type": "event", "event_types": ["shot"], "before_ms": 2000, "after_ms": 400}]},
        _two_runners(),
        None,
        FPS,
        events=SHOTS,
    )
    # frame 125 = 5.0 s: 3.0 .. 5.4 + one frame; frame 240 = 9.6 s: 7.6 .. 10.0, the end of the tracking's last
    # frame (249: 9.96 s + one frame); e4 has no frame
    assert [(r["start"], r["end"], r["type"], r["player_id"]) for r in out] == [
        (3.0, 5.44, "event", None),
        (7.6, 10.0, "event", None),
    ]
    assert out[0]["label"] == "event shot -2000ms +400ms"


def test_sprints_in_the_5_s_before_a_shot():
    request = {"filters": [FAST, {"type": "event", "event_types": ["shot"], "before_ms": 5000}]}
    out = run_filter(request, _two_runners(), None, FPS, events=SHOTS)
    # 0-10's sprint (0-4 s) lies in the window of the shot at 5 s (0-5.04 s); 1-5's (6-10 s) in the window of the
    # shot at 9.6 s (4.6-9.64 s); the windows overlap and merge into one, 0 .. 9.64 s
    assert [(r["player_id"], r["start"], r["end"]) for r in out] == [("0-10", 0.0, 4.0), ("1-5", 6.0, 9.64)]
    assert out[0]["type"] == "frame_state" and out[0]["label"] == "speed_mps >=7.0 AND event shot -5000ms +0ms"


def test_actor_windows_belong_to_the_acting_player():
    request = {"filters": [FAST, {"type": "event", "event_types": ["shot"], "before_ms": 5000, "actor": True}]}
    out = run_filter(request, _two_runners(), None, FPS, events=SHOTS)
    # each sprint meets only its own player's shot window
    assert [(r["player_id"], r["start"], r["end"]) for r in out] == [("0-10", 0.0, 4.0), ("1-5", 6.0, 9.64)]
    only_home = {"type": "event", "event_types": ["shot"], "before_ms": 5000, "actor": True, "teams": ["team_0"]}
    out = run_filter({"filters": [FAST, only_home]}, _two_runners(), None, FPS, events=SHOTS)
    assert [(r["player_id"], r["start"], r["end"]) for r in out] == [("0-10", 0.0, 4.0)]
    by_player = {"type": "event", "event_types": ["pass"], "sub_types": ["kick_off"], "players": ["1-5"]}
    out = run_filter({"operator": "OR", "filters": [by_player]}, _two_runners(), None, FPS, events=SHOTS)
    assert [(r["start"], r["end"]) for r in out] == [(0.4, 0.44)]  # the frame itself


def test_event_types_absent_from_the_match_answer_nothing():
    request = {"filters": [FAST, {"type": "event", "event_types": ["goalkeeping"], "before_ms": 5000}]}
    assert run_filter(request, _two_runners(), None, FPS, events=SHOTS) == []


@pytest.mark.parametrize(
    ("event_filter", "message"),
    [
        ({"type": "event"}, "event_types must be a non-empty list of strings"),
        ({"type": "event", "event_types": "shot"}, "event_types must be a non-empty list of strings"),
        ({"type": "event", "event_types": ["shot"], "before_ms": -1}, "before_ms must be a number of ms from 0"),
        ({"type": "event", "event_types": ["shot"], "after_ms": 1e12}, "after_ms must be a number of ms from 0"),
        ({"type": "event", "event_types": ["shot"], "after_ms": True}, "after_ms must be a number of ms from 0"),
        ({"type": "event", "event_types": ["shot"], "actor": "yes"}, "actor must be true or false"),
        ({"type": "event", "event_types": ["shot"], "teams": ["home"]}, 'teams must be a list of "team_0"'),
        ({"type": "event", "event_types": ["shot"], "within_ms": 5}, "unknown key(s) 'within_ms' in a event"),
    ],
)
def test_malformed_event_filters_are_named(event_filter, message):
    with pytest.raises(FilterError) as err:
        run_filter({"filters": [FAST, event_filter]}, _two_runners(), None, FPS, events=SHOTS)
    assert message in str(err.value) and "filters[1]" in str(err.value)


def test_an_event_filter_on_a_match_without_events_is_refused():
    with pytest.raises(FilterError, match="needs event data, and this match has none"):
        run_filter({"filters": [{"type": "event", "event_types": ["shot"]}]}, _two_runners(), None, FPS)


def test_event_windows_stay_inside_their_period():
    # a kick-off at frame 10 (0.4 s) with 2 s before and 20 s after: clipped to the tracking's 0 .. 10 s
    kick_off = {"type": "event", "event_types": ["pass"], "before_ms": 2000, "after_ms": 20_000}
    out = run_filter({"operator": "OR", "filters": [kick_off]}, _two_runners(), None, FPS, events=SHOTS)
    assert [(r["start"], r["end"], r["period_start"]) for r in out] == [(0.0, 10.0, 0.0)]


# -- a whole team, the whole match, the attacking direction -------------------------------------------------------
def _three_players() -> pl.DataFrame:
    return pl.concat([_fs("0-10", [8.0] * 30), _fs("0-7", [1.0] * 5 + [8.0] * 30), _fs("1-3", [9.0] * 40)])


def _speed(**who) -> dict:
    return {"filters": [{"type": "frame_state", "column": "speed_mps", "gte": 7.0, "min_duration_ms": 0, **who}]}


def test_players_all_and_teams_stand_for_every_player_of_the_match_or_of_a_team():
    fs = _three_players()
    listed = run_filter(_speed(players=["0-10", "0-7", "1-3"]), fs, None, FPS)
    assert {r["player_id"] for r in listed} == {"0-10", "0-7", "1-3"}
    assert run_filter(_speed(players="all"), fs, None, FPS) == listed
    home = run_filter(_speed(teams=["team_0"]), fs, None, FPS)
    assert home == [r for r in listed if r["player_id"].startswith("0-")] and len(home) == 2
    assert run_filter(_speed(teams=[0]), fs, None, FPS) == home  # the tables' team code names the same team
    away = run_filter(_speed(teams=["team_1"]), fs, None, FPS)
    assert [r["player_id"] for r in away] == ["1-3"]
    # a team and players of the other one: every player named either way
    assert {r["player_id"] for r in run_filter(_speed(teams=["team_1"], players=["0-7"]), fs, None, FPS)} == {
        "0-7",
        "1-3",
    }


@pytest.mark.parametrize(
    "who, message",
    [
        ({}, 'filters[0]: a frame_state filter needs players (a list of ids like "0-10", or "all") or teams'),
        ({"players": "everyone"}, 'filters[0]: players must be "all" or a non-empty list of player ids like "0-10"'),
        ({"teams": ["home"]}, 'filters[0]: teams must be a list of "team_0" and/or "team_1"'),
        ({"teams": [True]}, 'filters[0]: teams must be a list of "team_0" and/or "team_1"'),
        ({"teams": []}, 'filters[0]: teams must be a list of "team_0" and/or "team_1"'),
    ],
)
def test_a_frame_state_filter_without_players_or_with_unknown_teams_is_refused(who, message):
    with pytest.raises(FilterError) as err:
        run_filter(_speed(**who), _three_players(), None, FPS)
    assert message in str(err.value), str(err.value)


def test_the_answer_names_teams_as_the_tables_do():
    """team is 0 (home) or 1 (away), the code every table holds, whichever way the request named the team."""
    out = run_filter(_speed(players="all"), _three_players(), None, FPS)
    assert {(r["player_id"], r["team"]) for r in out} == {("0-10", 0), ("0-7", 0), ("1-3", 1)}


def _ball_at(x: list[float], y: list[float]) -> pl.DataFrame:
    return _ball([0] * len(x)).with_columns(x_m=pl.Series(x, dtype=pl.Float32), y_m=pl.Series(y, dtype=pl.Float32))


def _spans(request: dict, ball: pl.DataFrame) -> list[tuple[float, float, str]]:
    return [(r["start"], r["end"], r["label"]) for r in run_filter(request, _fs("0-10", [1.0] * 40), ball, FPS)]


def test_ball_location_in_the_attacking_direction_of_a_team():
    """The canonical frame has the home team attacking +x in every period: the away team attacks -x, so its final
    third (x 70-105 as it attacks) is x 0-35 of the pitch, and its right flank (y 0-20 as it attacks) is y 48-68."""
    # centred metres: frames 0-9 deep in the home half near the top touchline, 10-19 deep in the away half
    ball = _ball_at([-40.0] * 10 + [40.0] * 10 + [0.0] * 20, [30.0] * 10 + [-30.0] * 10 + [0.0] * 20)
    away_final_third = {"type": "ball_location", "attacking_team": "team_1", "x_min": 70}
    assert _spans({"filters": [away_final_third]}, ball) == [(0.0, 0.4, "ball_location attacking_team=team_1 x_min=70")]
    assert _spans({"filters": [{"type": "ball_location", "x_max": 35}]}, ball)[0][:2] == (0.0, 0.4)
    home = {"type": "ball_location", "attacking_team": "team_0", "x_min": 70}
    assert _spans({"filters": [home]}, ball)[0][:2] == (0.4, 0.8)  # the home team's: the pitch's own x
    assert _spans({"filters": [{**home, "attacking_team": 0}]}, ball)[0][:2] == (0.4, 0.8)
    right_flank = {"type": "ball_location", "attacking_team": "team_1", "y_min": 0, "y_max": 20}
    assert _spans({"filters": [right_flank]}, ball)[0][:2] == (0.0, 0.4)


def test_an_unknown_attacking_team_is_refused():
    with pytest.raises(FilterError, match='filters\\[0\\]: attacking_team must be "team_0" or "team_1"'):
        _spans({"filters": [{"type": "ball_location", "attacking_team": "away", "x_min": 70}]}, _ball_at([0.0], [0.0]))
