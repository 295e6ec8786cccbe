"""Intervals over frame_state and ball_state: the frame-state filter of the vendor API.

* A predicate on one column: ``gte`` and ``lte`` inclusive, either may be absent; null never matches.
* An interval is a maximal run of one player's consecutive frames (frame_id step 1, one period) that
  match. ``start`` = first frame's timestamp_ms / 1000, ``end`` = (last frame's timestamp_ms + 1000/fps)
  / 1000, ``duration_ms`` = frames x 1000 / fps. Intervals shorter than ``min_duration_ms`` (default 500)
  are dropped.
* A ``frame_state`` filter runs over the players it names: a list of ids, ``"all"`` (every player of the match)
  and/or ``teams`` (every player of those teams).
* ``team_possession`` and ``ball_location`` are frame predicates over ball_state; their intervals are
  runs of consecutive ball frames and belong to no player. ``ball_location``'s box is on the 0-105 x 0-68 pitch
  as the home team attacks (towards x = 105), or, with ``attacking_team``, as that team attacks.
* Teams are 0 (home) and 1 (away), the code every table holds; a request may also name them ``"team_0"`` and
  ``"team_1"``.
* ``event`` windows: for each event of the given types (table ``events``) the span from ``before_ms`` before
  to ``after_ms`` after the frame where it happened (its synced frame, else its clock frame with the period's
  offset removed; events outside the tracking have none), plus that frame itself, within the event's period.
  They belong to no player,
  or with ``actor`` to the event's acting player. Overlapping windows merge.
* ``operator`` AND intersects the interval sets of the filters (a player's intervals with the same
  player's, and with every match-level interval); OR returns the union: every filter's intervals, each
  keeping its own label. Intersections are not filtered by duration again.

Everything is vectorised: runs come from a sort by player and a diff over frame_id, not from loops.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable

import polars as pl

from footy_assets.core.metrics import clock

FILTER_COLUMNS = ("speed_mps", "accel_mps2", "distance_m", "nearest_opp_dist_m", "ball_dist_m", "x_m", "y_m")
DEFAULT_MIN_DURATION_MS = 500
# Columns derived from the smoothed speed: only frames whose speed is valid can match.
NEEDS_VALID_SPEED = ("speed_mps", "accel_mps2", "distance_m")
RUN_COLUMNS = [
    "player_id",
    "team",
    "period",
    "first_frame_id",
    "last_frame_id",
    "start_ms",
    "end_ms",
    "frames",
    "duration_ms",
    "peak",
    "mean",
    "distance_m",
]


class FilterError(ValueError):
    """A frame-state filter request that cannot be answered (unknown column, player, match, ...)."""


def _number_text(value: float | int) -> str:
    """A number as the request wrote it (JSON 7.0 -> "7.0", 7 -> "7")."""
    return str(value)


def predicate_label(column: str, gte: float | None, lte: float | None) -> str:
    """``"{column} >={gte}"``, ``"{column} <={lte}"`` or ``"{column} >={gte} <={lte}"``."""
    parts = [column]
    if gte is not None:
        parts.append(f">={_number_text(gte)}")
    if lte is not None:
        parts.append(f"<={_number_text(lte)}")
    return " ".join(parts)


def _mask(column: str, gte: float | None, lte: float | None) -> pl.Expr:
    expr = pl.lit(True)
    if gte is not None:
        expr = expr & (pl.col(column) >= gte)
    if lte is not None:
        expr = expr & (pl.col(column) <= lte)
    return expr.fill_null(False)  # null never matches


def runs(
    frame_state: pl.DataFrame,
    column: str,
    gte: float | None,
    lte: float | None,
    fps: int,
    min_duration_ms: float = DEFAULT_MIN_DURATION_MS,
    players: list[str] | None = None,
) -> pl.DataFrame:
    """Maximal runs of each player's consecutive frames where ``gte <= column <= lte``.

    On speed_mps, accel_mps2 and distance_m only valid frames match. Returns RUN_COLUMNS: times in ms, ``peak`` the
    extreme of the column in the predicate's direction (max,
    or min for an lte-only predicate), ``mean`` its mean, ``distance_m`` the distance covered (sum of
    distance_m) during the run.
    """
    lf = frame_state.lazy()
    if players is not None:
        lf = lf.filter(pl.col("player_id").is_in(players))
    match = _mask(column, gte, lte)
    if column in NEEDS_VALID_SPEED and "valid" in frame_state.columns:
        match = match & pl.col("valid").fill_null(False)  # a glitch never makes or extends an interval
    peak = pl.col(column).min() if gte is None else pl.col(column).max()
    has_distance = "distance_m" in frame_state.columns
    step_ms = 1000.0 / fps
    # Sums and means are differences of running sums over the sorted rows, not group sums: polars adds a
    # group's floats in an order that depends on its threads and chunks, so the last bits of a rerun differed.
    # A running sum is one pass in row order: the same bits every time, whatever the input's order.
    running = {"_sum_value": pl.col(column).cast(pl.Float64).fill_null(0.0).cum_sum()}
    if has_distance:
        running["_sum_distance"] = pl.col("distance_m").cast(pl.Float64).fill_null(0.0).cum_sum()

    def run_sum(name: str, value: pl.Expr) -> pl.Expr:  # the sum over the run: its running sum, end minus start
        return pl.col(name).last() - (pl.col(name).first() - value.cast(pl.Float64).fill_null(0.0).first())

    distance = (
        run_sum("_sum_distance", pl.col("distance_m")).cast(frame_state.schema["distance_m"])
        if has_distance
        else pl.lit(None, pl.Float64)
    )
    mean = (run_sum("_sum_value", pl.col(column)) / pl.len()).cast(_mean_type(frame_state.schema[column]))
    return (
        lf.filter(match)
        .sort("player_id", "frame_id")
        .with_columns(
            run=(
                (pl.col("player_id") != pl.col("player_id").shift(1))
                | (pl.col("period") != pl.col("period").shift(1))
                | (pl.col("frame_id").diff() != 1)
            )
            .fill_null(True)
            .cum_sum(),
            **running,
        )
        .group_by("run", maintain_order=True)
        .agg(
            pl.col("player_id").first(),
            pl.col("team").first(),
            pl.col("period").first(),
            first_frame_id=pl.col("frame_id").first(),
            last_frame_id=pl.col("frame_id").last(),
            start_ms=pl.col("timestamp_ms").first().cast(pl.Float64),
            end_ms=pl.col("timestamp_ms").last().cast(pl.Float64) + step_ms,
            frames=pl.len(),
            peak=peak,
            mean=mean,
            distance_m=distance,
        )
        .with_columns(duration_ms=pl.col("frames") * step_ms)
        .filter(pl.col("duration_ms") >= min_duration_ms)
        .select(RUN_COLUMNS)
        .collect()
    )


def _mean_type(dtype: pl.DataType) -> pl.DataType:
    """The type polars gives the mean of a column of ``dtype`` (Float32 stays Float32, the rest Float64)."""
    return pl.Float32 if dtype == pl.Float32 else pl.Float64


# -- the catalog of named definitions ----------------------------------------------------------------
# package data, found through the package wherever it is installed
CATALOG: Traversable = files("footy_assets.core.metrics") / "interval_catalog.json"


@dataclass(frozen=True)
class Definition:
    name: str
    column: str
    gte: float | None = None
    lte: float | None = None
    min_duration_ms: float = DEFAULT_MIN_DURATION_MS
    description: str = ""

    @property
    def label(self) -> str:
        return predicate_label(self.column, self.gte, self.lte)


def load_catalog(path: Traversable = CATALOG) -> list[Definition]:
    """The named interval definitions (``interval_catalog.json``), checked like a filter request."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for entry in doc["definitions"]:
        definition = Definition(**entry)
        _check_predicate(definition.column, definition.gte, definition.lte, where=f"{path.name}: {definition.name}")
        out.append(definition)
    names = [d.name for d in out]
    if len(names) != len(set(names)):
        raise FilterError(f"{path.name}: definition names must be unique: {names}")
    return out


def catalog_intervals(frame_state: pl.DataFrame, fps: int, catalog: list[Definition]) -> pl.DataFrame:
    """All intervals of every catalog definition for one match's frame_state."""
    parts = [
        runs(frame_state, d.column, d.gte, d.lte, fps, d.min_duration_ms).with_columns(
            definition=pl.lit(d.name), label=pl.lit(d.label), column=pl.lit(d.column)
        )
        for d in catalog
    ]
    frame = pl.concat(parts) if parts else pl.DataFrame()
    return frame.sort("definition", "player_id", "start_ms") if frame.height else frame


# -- the filter request of the vendor API --------------------------------------------------------------
# The keys each filter type takes: any other key is a typo ("gtee") that would silently match everything. A
# frame_state filter's ``teams`` (and ``"players": "all"``) and a ball_location filter's ``attacking_team`` are ours;
# every client sends the others.
FILTER_KEYS = {
    "frame_state": ("type", "players", "teams", "column", "gte", "lte", "min_duration_ms"),
    "team_possession": ("type", "teams", "min_duration_ms"),
    "ball_location": ("type", "attacking_team", "x_min", "x_max", "y_min", "y_max", "min_duration_ms"),
    "event": ("type", "event_types", "sub_types", "teams", "players", "actor", "before_ms", "after_ms"),
}
# An event window reaches at most this far from its event: beyond, "near an event" means nothing.
MAX_EVENT_WINDOW_MS = 10 * 60 * 1000
# A team in a request ("team_0" home, "team_1" away), and as every table holds it (0 home, 1 away)
TEAM_CODES = {"team_0": 0, "team_1": 1}
TEAM_NAMES = {code: name for name, code in TEAM_CODES.items()}
ALL_PLAYERS = "all"
# No interval is longer than a match (two halves, extra time and the breaks are under 3 h): a longer minimum
# (1e18) is a malformed request, not a question with an empty answer.
MAX_MIN_DURATION_MS = 3 * 3600 * 1000


def _is_number(value) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # a JSON integer beyond any float (10**400): no bound can be one
        return False


def _shown(text: str) -> str:
    """A string of the request as a message shows it: as given, or quoted and escaped where it holds a line break
    or another unprintable character (the message stays one line)."""
    return text if text.isprintable() else repr(text)


def _check_bounds(low_name: str, low, high_name: str, high, where: str) -> None:
    """A lower bound above the upper one matches nothing: the request contradicts itself."""
    if low is not None and high is not None and low > high:
        raise FilterError(
            f"{where}: {low_name} {_number_text(low)} is above {high_name} {_number_text(high)}: no value can match"
        )


def _check_predicate(column: str, gte, lte, where: str) -> None:
    if column not in FILTER_COLUMNS:
        raise FilterError(f"{where}: unknown column {column!r}; frame_state columns: {', '.join(FILTER_COLUMNS)}")
    if gte is None and lte is None:
        raise FilterError(f"{where}: a filter needs gte, lte or both")
    for name, value in (("gte", gte), ("lte", lte)):
        if value is not None and not _is_number(value):
            raise FilterError(f"{where}: {name} must be a finite number, got {value!r}")
    _check_bounds("gte", gte, "lte", lte, where)


def _check_keys(spec: dict, kind: str, where: str) -> None:
    unknown = [key for key in spec if key not in FILTER_KEYS[kind]]
    if unknown:
        raise FilterError(
            f"{where}: unknown key(s) {', '.join(repr(k) for k in unknown)} in a {kind} filter; "
            f"its keys: {', '.join(FILTER_KEYS[kind])}"
        )


def _team_code(value) -> int | None:
    """0 or 1 for a team named "team_0"/"team_1" or 0/1; None for anything else (a bool is not a team)."""
    if isinstance(value, str):
        return TEAM_CODES.get(value)
    if isinstance(value, int) and not isinstance(value, bool) and value in TEAM_NAMES:
        return value
    return None


def _teams(spec: dict, where: str, required: bool = True) -> list[int] | None:
    """The team codes of a filter's ``teams`` (None where it is absent and not ``required``)."""
    teams = spec.get("teams")
    if teams is None and not required:
        return None
    codes = [_team_code(t) for t in teams] if isinstance(teams, list) else []
    if not codes or None in codes:
        raise FilterError(f'{where}: teams must be a list of "team_0" and/or "team_1" (or the tables\' 0 and 1)')
    return codes


def _players(spec: dict, where: str, match: FilterMatch) -> list[str]:
    """The players a frame_state filter runs over: its ``players`` (a list of ids, or "all") and every player of its
    ``teams``, each once."""
    players, teams = spec.get("players"), _teams(spec, where, required=False)
    if players is None and teams is None:
        raise FilterError(f'{where}: a frame_state filter needs players (a list of ids like "0-10", or "all") or teams')
    chosen: list[str] = []
    if players == ALL_PLAYERS:
        chosen = sorted(match.players)
    elif players is not None:
        if not isinstance(players, list) or not players or not all(isinstance(p, str) for p in players):
            raise FilterError(f'{where}: players must be "all" or a non-empty list of player ids like "0-10"')
        unknown = [p for p in players if p not in match.players]
        if unknown:
            raise FilterError(
                f"{where}: unknown player(s) {', '.join(_shown(p) for p in unknown)} in this match; "
                f"known: {', '.join(sorted(match.players))}"
            )
        chosen = list(players)
    if teams is not None:
        chosen += match.teams.filter(pl.col("team").is_in(teams))["player_id"].sort().to_list()
    return list(dict.fromkeys(chosen))


def _ball_runs(ball_state: pl.DataFrame, mask: pl.Expr, fps: int, min_duration_ms: float) -> pl.DataFrame:
    """Runs of consecutive ball frames where ``mask`` holds (match-level: no player)."""
    step_ms = 1000.0 / fps
    return (
        ball_state.lazy()
        .filter(mask.fill_null(False))
        .sort("frame_id")
        .with_columns(
            run=((pl.col("period") != pl.col("period").shift(1)) | (pl.col("frame_id").diff() != 1))
            .fill_null(True)
            .cum_sum()
        )
        .group_by("run", maintain_order=True)
        .agg(
            pl.col("period").first(),
            start_ms=pl.col("timestamp_ms").first().cast(pl.Float64),
            end_ms=pl.col("timestamp_ms").last().cast(pl.Float64) + step_ms,
            frames=pl.len(),
        )
        .with_columns(duration_ms=pl.col("frames") * step_ms, player_id=pl.lit(None, pl.String))
        .filter(pl.col("duration_ms") >= min_duration_ms)
        .select("player_id", "start_ms", "end_ms")
        .collect()
    )


@dataclass(frozen=True)
class FilterMatch:
    """One match's inputs to the filter, with what every request needs computed once (a server keeps it between
    requests): ``fps`` (frames/s), ``pitch`` (length, width in m), the known ``players``, each period's start
    (``starts``, ms on the match clock), each player's ``teams``; the tracking's ``frames`` (frame_id,
    timestamp_ms, period) and each period's first and last ms (``bounds``) the first time an event filter needs
    them."""

    frame_state: pl.DataFrame
    ball_state: pl.DataFrame | None
    fps: int
    pitch: tuple[float, float]
    events: pl.DataFrame | None
    players: frozenset[str]
    starts: dict[int, int]
    teams: pl.DataFrame
    # each player's row numbers in frame_state, found the first time a request names him
    player_rows: dict[str, pl.Series]
    # "frames" and "bounds", made the first time an event filter needs them
    made: dict[str, pl.DataFrame]

    @property
    def frames(self) -> pl.DataFrame:
        """The tracking's frames: frame_id, timestamp_ms (ms), period; every frame of frame_state."""
        if "frames" not in self.made:
            self.made["frames"] = self.frame_state.select("frame_id", "timestamp_ms", "period").unique("frame_id")
        return self.made["frames"]

    @property
    def bounds(self) -> pl.DataFrame:
        """Per period: its first frame's ms (first_ms) and its last frame's end (last_ms), on the match clock."""
        if "bounds" not in self.made:
            self.made["bounds"] = self.frames.group_by("period").agg(
                first_ms=pl.col("timestamp_ms").min().cast(pl.Float64),
                last_ms=pl.col("timestamp_ms").max().cast(pl.Float64) + 1000.0 / self.fps,
            )
        return self.made["bounds"]

    def rows_of(self, players: list[str], column: str) -> pl.DataFrame:
        """frame_state's rows of ``players`` with the columns a run over ``column`` reads, gathered by row number:
        a player's rows are looked for once, then every request takes them without a pass over the match."""
        wanted = ["player_id", "team", "period", "frame_id", "timestamp_ms", "valid", "distance_m", column]
        present = [c for c in dict.fromkeys(wanted) if c in self.frame_state.columns]
        if self.players <= set(players) and not self.frame_state["player_id"].null_count():
            return self.frame_state.select(present)  # every player ("all", both teams): no gather
        for player in set(players) - set(self.player_rows):  # two threads may both look: the same rows
            self.player_rows[player] = self.frame_state.select((pl.col("player_id") == player).arg_true())["player_id"]
        rows = pl.concat([self.player_rows[p] for p in sorted(set(players))])
        return self.frame_state.select(present)[rows]


def prepare_match(
    frame_state: pl.DataFrame,
    ball_state: pl.DataFrame | None,
    fps: int,
    pitch: tuple[float, float] = (105.0, 68.0),
    events: pl.DataFrame | None = None,
) -> FilterMatch:
    """The ``FilterMatch`` of one match's frame_state, ball_state and (None where it has none) events rows."""
    if "period_time_s" in frame_state.columns:
        starts = clock.starts_from_clock(frame_state)
    else:  # a frame_state without the clock columns (written before they existed)
        starts = clock.period_starts(frame_state)
    return FilterMatch(
        frame_state=frame_state,
        ball_state=ball_state,
        fps=fps,
        pitch=pitch,
        events=events,
        players=frozenset(frame_state["player_id"].unique().drop_nulls().to_list()),
        starts=starts,
        teams=frame_state.select("player_id", "team").unique("player_id"),
        player_rows={},
        made={},
    )


def _one_filter(spec: dict, index: int, match: FilterMatch) -> tuple[pl.DataFrame, str, str]:
    """(intervals: player_id, start_ms, end_ms), label, type of one filter of a request."""
    ball_state, fps, pitch = match.ball_state, match.fps, match.pitch
    where = f"filters[{index}]"
    if not isinstance(spec, dict):
        raise FilterError(f"{where}: expected an object")
    kind = spec.get("type")
    if not isinstance(kind, str) or kind not in FILTER_KEYS:
        raise FilterError(
            f"{where}: unknown type {kind!r}; expected frame_state, team_possession, ball_location or event"
        )
    _check_keys(spec, kind, where)
    if kind == "event":
        windows, label = _event_windows(spec, where, match)
        return windows, label, kind
    min_duration = spec.get("min_duration_ms", DEFAULT_MIN_DURATION_MS if kind == "frame_state" else 0)
    if not _is_number(min_duration) or min_duration < 0:
        raise FilterError(f"{where}: min_duration_ms must be a non-negative number")
    if min_duration > MAX_MIN_DURATION_MS:
        raise FilterError(
            f"{where}: min_duration_ms {_number_text(min_duration)} is longer than any match "
            f"(at most {MAX_MIN_DURATION_MS:,} ms, 3 h)"
        )
    if kind == "frame_state":
        column, gte, lte = spec.get("column"), spec.get("gte"), spec.get("lte")
        _check_predicate(column, gte, lte, where)
        players = _players(spec, where, match)
        found = runs(match.rows_of(players, column), column, gte, lte, fps, min_duration)
        return found.select("player_id", "start_ms", "end_ms"), predicate_label(column, gte, lte), kind
    # the request is checked whole before the data: a malformed filter is named even where ball_state is missing
    if kind == "team_possession":
        teams = _teams(spec, where)
        mask = pl.col("possession_team").is_in(teams)
        label = f"team_possession {' '.join(TEAM_NAMES[t] for t in teams)}"
    else:
        mask, label = _ball_box(spec, where, pitch)
    if ball_state is None or ball_state.height == 0:
        raise FilterError(f"{where}: {kind} needs ball_state, which has no rows for this match")
    return _ball_runs(ball_state, mask, fps, min_duration), label, kind


def _ball_box(spec: dict, where: str, pitch: tuple[float, float]) -> tuple[pl.Expr, str]:
    """The mask and label of a ``ball_location`` filter: its box in metres on the 0-length x 0-width pitch, origin
    bottom-left, as the home team attacks (towards x = length) or, with ``attacking_team``, as that team attacks."""
    bounds = {k: spec.get(k) for k in ("x_min", "x_max", "y_min", "y_max")}
    attacking = spec.get("attacking_team")
    team = None if attacking is None else _team_code(attacking)
    if attacking is not None and team is None:
        raise FilterError(f'{where}: attacking_team must be "team_0" or "team_1" (or the tables\' 0 or 1)')
    if all(v is None for v in bounds.values()):
        raise FilterError(f"{where}: ball_location needs at least one of x_min, x_max, y_min, y_max")
    for key, value in bounds.items():
        if value is not None and not _is_number(value):
            raise FilterError(f"{where}: {key} must be a finite number")
    _check_bounds("x_min", bounds["x_min"], "x_max", bounds["x_max"], where)
    _check_bounds("y_min", bounds["y_min"], "y_max", bounds["y_max"], where)
    # The canonical frame has the home team attacking +x in every period (the readers rotate the periods where it
    # did not: matches.flipped_periods): the away team attacks -x all match, and its view of the pitch is the home
    # team's turned by 180 degrees.
    sign = -1.0 if team == 1 else 1.0
    x = sign * pl.col("x_m") + pitch[0] / 2
    y = sign * pl.col("y_m") + pitch[1] / 2
    mask = pl.lit(True)
    for key, value in bounds.items():
        if value is not None:
            axis = x if key.startswith("x") else y
            mask = mask & ((axis >= value) if key.endswith("min") else (axis <= value))
    given = " ".join(f"{k}={_number_text(v)}" for k, v in bounds.items() if v is not None)
    return mask, "ball_location " + ("" if team is None else f"attacking_team={TEAM_NAMES[team]} ") + given


def _string_list(spec: dict, key: str, where: str, required: bool = False) -> list[str] | None:
    value = spec.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise FilterError(f"{where}: {key} must be a non-empty list of strings")
    return value


def _event_windows(spec: dict, where: str, match: FilterMatch):
    """(windows: player_id, start_ms, end_ms), label of an ``event`` filter. The spec is checked whole before the
    data, so a malformed request is named even for a match without events."""
    types = _string_list(spec, "event_types", where, required=True)
    sub_types = _string_list(spec, "sub_types", where)
    teams = _teams(spec, where, required=False)
    players = _string_list(spec, "players", where)
    actor = spec.get("actor", False)
    if not isinstance(actor, bool):
        raise FilterError(f"{where}: actor must be true or false")
    reach, given = {}, {}
    for key in ("before_ms", "after_ms"):
        value = spec.get(key, 0)
        if not _is_number(value) or not 0 <= value <= MAX_EVENT_WINDOW_MS:
            raise FilterError(
                f"{where}: {key} must be a number of ms from 0 to {MAX_EVENT_WINDOW_MS:,} (10 min), got {value!r}"
            )
        reach[key], given[key] = float(value), value
    label = (
        f"event {'|'.join(types)}"
        + (f"/{'|'.join(sub_types)}" if sub_types else "")
        + f" -{_number_text(given['before_ms'])}ms +{_number_text(given['after_ms'])}ms"
        + (" actor" if actor else "")
    )
    if match.events is None:
        raise FilterError(f"{where}: an event filter needs event data, and this match has none")
    chosen = match.events.filter(pl.col("type").is_in(types))
    if sub_types is not None:
        chosen = chosen.filter(pl.col("sub_type").is_in(sub_types))
    if teams is not None:
        chosen = chosen.filter(pl.col("team").is_in(teams))
    if players is not None:
        chosen = chosen.filter(pl.col("player_id").is_in(players))
    if actor:
        chosen = chosen.filter(pl.col("player_id").is_not_null())
    step_ms = 1000.0 / match.fps
    at = (
        chosen.select(
            player_id=pl.col("player_id") if actor else pl.lit(None, pl.String),
            frame_id=pl.coalesce("frame_id", "clock_frame_id"),
        )
        .join(match.frames, on="frame_id", how="inner")  # an event outside the tracking has no frame: no window
        .join(match.bounds, on="period", how="inner")  # a window stays inside its event's period
        .select(
            "player_id",
            start_ms=pl.max_horizontal(pl.col("timestamp_ms").cast(pl.Float64) - reach["before_ms"], "first_ms"),
            end_ms=pl.min_horizontal(pl.col("timestamp_ms").cast(pl.Float64) + reach["after_ms"] + step_ms, "last_ms"),
        )
    )
    return _merged(at), label


def _merged(windows: pl.DataFrame) -> pl.DataFrame:
    """Overlapping or touching windows of one player (or of the match: null) as one (player_id, start_ms, end_ms)."""
    ordered = windows.sort("player_id", "start_ms", nulls_last=True)
    reached = pl.col("end_ms").cum_max().shift(1).over("player_id")
    return (
        ordered.with_columns(group=(reached.is_null() | (pl.col("start_ms") > reached)).cum_sum())
        .group_by("player_id", "group", maintain_order=True)
        .agg(pl.col("start_ms").min(), pl.col("end_ms").max())
        .select("player_id", "start_ms", "end_ms")
    )


# Each player's times are moved this far apart (ms, > any match) so that one inequality join on time pairs only a
# player's intervals with the same player's; float64 keeps them exact for a million players.
PLAYER_SPAN_MS = 1e9


def _intersect(a: pl.DataFrame, b: pl.DataFrame) -> pl.DataFrame:
    """Pairwise overlaps; a player's intervals meet the same player's and every match-level interval.

    Pairs are found by inequality joins on time (polars' IEJoin), never a cross join: a cross join of two sets of
    a full match's short runs (accel_mps2 >= 0: ~250 k intervals each) would be 10^10 rows. The pairs come out in
    the order of a cross join filtered (a's rows, then b's)."""
    a = a.with_row_index("ia")
    b = b.with_row_index("ib").rename({"player_id": "player_id_b", "start_ms": "start_ms_b", "end_ms": "end_ms_b"})
    players = pl.concat([a["player_id"], b["player_id_b"]]).drop_nulls().unique(maintain_order=True)
    index = pl.DataFrame({"player_id": players, "_k": pl.int_range(1, players.len() + 1, eager=True)})
    shift_a = a.join(index, on="player_id", how="left").with_columns(_o=pl.col("_k").fill_null(0) * PLAYER_SPAN_MS)
    shift_b = b.join(index.rename({"player_id": "player_id_b"}), on="player_id_b", how="left").with_columns(
        _o=pl.col("_k").fill_null(0) * PLAYER_SPAN_MS
    )

    def overlapping(left: pl.DataFrame, right: pl.DataFrame, shifted: bool) -> pl.DataFrame:
        if not shifted:  # the match-level side meets every player's interval: times as they are
            left, right = left.with_columns(_o=pl.lit(0.0)), right.with_columns(_o=pl.lit(0.0))
        left = left.with_columns(_s=pl.col("start_ms") + pl.col("_o"), _e=pl.col("end_ms") + pl.col("_o"))
        right = right.with_columns(_s_b=pl.col("start_ms_b") + pl.col("_o"), _e_b=pl.col("end_ms_b") + pl.col("_o"))
        left = left.select("ia", "player_id", "start_ms", "end_ms", "_s", "_e")
        right = right.select("ib", "player_id_b", "start_ms_b", "end_ms_b", "_s_b", "_e_b")
        if left.height == 0 or right.height == 0:
            return left.head(0).join(right.head(0), how="cross")
        return left.join_where(right, pl.col("_s") < pl.col("_e_b"), pl.col("_e") > pl.col("_s_b"))

    a_player, a_match = shift_a.filter(pl.col("player_id").is_not_null()), shift_a.filter(pl.col("player_id").is_null())
    b_player = shift_b.filter(pl.col("player_id_b").is_not_null())
    b_match = shift_b.filter(pl.col("player_id_b").is_null())
    pairs = pl.concat(
        [
            overlapping(a_player, b_player, shifted=True),  # a player's with the same player's
            overlapping(a_player, b_match, shifted=False),
            overlapping(a_match, shift_b, shifted=False),  # a match-level interval with every one of b's
        ]
    )
    return (
        pairs.sort("ia", "ib")
        .select(
            player_id=pl.coalesce("player_id", "player_id_b"),
            start_ms=pl.max_horizontal("start_ms", "start_ms_b"),
            end_ms=pl.min_horizontal("end_ms", "end_ms_b"),
        )
        .filter(pl.col("end_ms") > pl.col("start_ms"))
    )


def run_filter(
    request: dict,
    frame_state: pl.DataFrame,
    ball_state: pl.DataFrame | None,
    fps: int,
    pitch: tuple[float, float] = (105.0, 68.0),
    events: pl.DataFrame | None = None,
) -> list[dict]:
    """Answer a frame-state filter request: a list of {start, end, label, type, player_id} (start and end in
    seconds: the fields every answer begins with, as clients read them) with, beyond them, the player's ``team`` (0
    home, 1 away, as in every table; null for match-level intervals), the ``period``, its start on the match clock
    (``period_start``, s), the interval within the period (``start_in_period``, ``end_in_period``, s) and the
    ``match_minute`` of its start. ``events``: the match's ``events`` rows (type, sub_type, team, player_id,
    frame_id, clock_frame_id), None where it has none; only ``event`` filters read them."""
    return answer_filter(request, prepare_match(frame_state, ball_state, fps, pitch, events))


def answer_filter(request: dict, match: FilterMatch) -> list[dict]:
    """``run_filter`` over a prepared match (``prepare_match``): the same answer, without the work every request
    repeats."""
    if not isinstance(request, dict):
        raise FilterError('the request must be a JSON object with "filters"')
    operator = request.get("operator", "AND")
    if operator not in ("AND", "OR"):
        raise FilterError(f'operator must be "AND" or "OR", got {operator!r}')
    filters = request.get("filters")
    if not isinstance(filters, list) or not filters:
        raise FilterError('"filters" must be a non-empty list')
    unknown = set(request) - {"operator", "filters"}
    if unknown:
        raise FilterError(f"unknown request key(s): {', '.join(_shown(k) for k in sorted(unknown))}")
    results = [_one_filter(spec, i, match) for i, spec in enumerate(filters)]
    if operator == "OR":
        parts = [r.with_columns(label=pl.lit(label), type=pl.lit(kind)) for r, label, kind in results]
        combined = pl.concat(parts)
    else:
        combined, labels = results[0][0], [results[0][1]]
        kinds = [kind for _, _, kind in results]
        for frame, label, _ in results[1:]:
            combined = _intersect(combined, frame)
            labels.append(label)
        kind = "frame_state" if "frame_state" in kinds else kinds[0]
        combined = combined.with_columns(label=pl.lit(" AND ".join(labels)), type=pl.lit(kind))
    combined = with_clock(combined.sort("start_ms", "player_id", nulls_last=True), match.starts, match.teams)
    return [
        {
            "start": round(r["start_ms"] / 1000, 3),
            "end": round(r["end_ms"] / 1000, 3),
            "label": r["label"],
            "type": r["type"],
            "player_id": r["player_id"],
            # beyond the five fields every answer begins with: where the interval is in the match
            "team": r["team"],  # 0 or 1, as every table holds it
            "period": r["period"],
            "period_start": round(r["period_start_ms"] / 1000, 3),
            "start_in_period": round((r["start_ms"] - r["period_start_ms"]) / 1000, 3),
            "end_in_period": round((r["end_ms"] - r["period_start_ms"]) / 1000, 3),
            "match_minute": r["match_minute"],
        }
        for r in combined.iter_rows(named=True)  # the answer (intervals, not frames)
    ]


def with_clock(found: pl.DataFrame, starts: dict[int, int], teams: pl.DataFrame) -> pl.DataFrame:
    """``found`` (player_id, start_ms, end_ms, ...) with the team of its player (``teams``: player_id, team), the
    period it starts in, that period's start (ms, match clock; ``starts``: {period: ms}) and the match minute of
    its start."""
    periods = pl.DataFrame(
        {"period": list(starts), "period_start_ms": [float(v) for v in starts.values()]},
        schema={"period": pl.Int8, "period_start_ms": pl.Float64},
    ).sort("period_start_ms")
    return (
        found.sort("start_ms")
        .join_asof(periods, left_on="start_ms", right_on="period_start_ms", strategy="backward")
        .join(teams, on="player_id", how="left", nulls_equal=False)
        .with_columns(match_minute=clock.match_minute((pl.col("start_ms") - pl.col("period_start_ms")) / 1000))
        .sort("start_ms", "player_id", nulls_last=True)
    )
