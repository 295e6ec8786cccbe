"""The shapes of the API's requests and answers, for its OpenAPI document.

The filter request's models document its shape (a union discriminated by ``type``, unknown keys forbidden); the
server does not validate a request with them: the core (``footy_assets.core.metrics.intervals``) does, so
``footy-assets intervals`` and the server refuse the same requests with the same message.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from footy_assets.core.metrics.intervals import DEFAULT_MIN_DURATION_MS, FILTER_COLUMNS, MAX_MIN_DURATION_MS

PLAYER_ID = r"^\d+-\d+$"
# the longest reach of an event window (before_ms, after_ms): ten minutes, as the core checks
MAX_EVENT_WINDOW_MS = 10 * 60 * 1000
# a team in a request: "team_0" (home), "team_1" (away), or as every table holds it (0 home, 1 away)
Team = Literal["team_0", "team_1", 0, 1]


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FrameStateFilter(_Closed):
    """Runs of a player's frames where a frame_state column is within bounds, for the players named (a list of ids,
    or "all" for every player of the match) and every player of ``teams``; at least one of the two."""

    type: Literal["frame_state"]
    players: Annotated[list[Annotated[str, Field(pattern=PLAYER_ID)]], Field(min_length=1)] | Literal["all"] | None = (
        Field(None, description='player ids "team-jersey", e.g. ["0-10"], or "all": every player of the match')
    )
    teams: list[Team] | None = Field(None, min_length=1, description="every player of these teams")
    column: Literal[FILTER_COLUMNS] = Field(description="the frame_state column thresholded")  # type: ignore[valid-type]
    gte: float | None = Field(None, description="the least value (inclusive), in the column's unit")
    lte: float | None = Field(None, description="the greatest value (inclusive), in the column's unit")
    min_duration_ms: float = Field(
        DEFAULT_MIN_DURATION_MS, ge=0, le=MAX_MIN_DURATION_MS, description="ms: shorter runs are dropped"
    )


class TeamPossessionFilter(_Closed):
    """Runs of frames where one of the teams has the ball."""

    type: Literal["team_possession"]
    teams: list[Team] = Field(min_length=1)
    min_duration_ms: float = Field(0, ge=0, le=MAX_MIN_DURATION_MS, description="ms: shorter runs are dropped")


class BallLocationFilter(_Closed):
    """Runs of frames where the ball is inside a box, metres on the 105 x 68 pitch from its bottom-left corner with
    the home team attacking towards x = 105, or, with ``attacking_team``, as that team attacks: x from its own goal
    line (0) to the goal it attacks (105), y from the touchline on its right (0) to the one on its left (68)."""

    type: Literal["ball_location"]
    attacking_team: Team | None = Field(None, description="the box as this team attacks (default: as home attacks)")
    x_min: float | None = Field(None, description="m")
    x_max: float | None = Field(None, description="m")
    y_min: float | None = Field(None, description="m")
    y_max: float | None = Field(None, description="m")
    min_duration_ms: float = Field(0, ge=0, le=MAX_MIN_DURATION_MS, description="ms: shorter runs are dropped")


class EventFilter(_Closed):
    """Windows around the events of the given types (the match's event data): from ``before_ms`` before to
    ``after_ms`` after the frame where each happened; overlapping windows merge."""

    type: Literal["event"]
    event_types: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1, description="e.g. ['shot']")
    sub_types: list[Annotated[str, Field(min_length=1)]] | None = Field(None, min_length=1)
    teams: list[Team] | None = Field(None, min_length=1, description="only the events of these teams")
    players: list[Annotated[str, Field(min_length=1)]] | None = Field(
        None, min_length=1, description="only the events these players act in"
    )
    actor: bool = Field(False, description="each window belongs to the event's acting player (else to the match)")
    before_ms: float = Field(0, ge=0, le=MAX_EVENT_WINDOW_MS, description="ms before the event's frame")
    after_ms: float = Field(0, ge=0, le=MAX_EVENT_WINDOW_MS, description="ms after the event's frame")


Filter = Annotated[
    FrameStateFilter | TeamPossessionFilter | BallLocationFilter | EventFilter, Field(discriminator="type")
]


class FilterRequest(_Closed):
    """Intervals of one match where the filters hold: all of them (AND, intersected) or any (OR, each interval
    labelled by its filter)."""

    operator: Literal["AND", "OR"] = "AND"
    filters: list[Filter] = Field(min_length=1)


class Interval(BaseModel):
    """One interval of a filter's answer: the vendor's fields (start, end, label, type) and where it is in the match."""

    model_config = ConfigDict(extra="allow")

    start: float = Field(description="s from the first period's start")
    end: float = Field(description="s: the end of the interval's last frame")
    label: str = Field(description="the filter, e.g. 'speed_mps >=7.0'")
    type: str = Field(description="frame_state, team_possession, ball_location or event")
    player_id: str | None = Field(description="the player the interval belongs to; null for match-level intervals")
    team: int | None = Field(
        None, description="0 (home) or 1 (away), as every table holds it; null for match-level intervals"
    )
    period: int | None = Field(None, description="the period the interval starts in")
    period_start: float | None = Field(None, description="s: that period's start on the match clock")
    start_in_period: float | None = Field(None, description="s from the period's start")
    end_in_period: float | None = Field(None, description="s from the period's start")
    match_minute: int | None = Field(None, description="the match minute of the start, as event data counts it")
    player_name: str | None = Field(None, description="the player's short name on the match sheet, where there is one")


class Error(BaseModel):
    """Every refusal: one line saying what is wrong."""

    detail: str


class Health(BaseModel):
    status: Literal["ok"]


class AnalysisSummary(BaseModel):
    """One published match."""

    match_id: str
    format: str = Field(description="the vendor format it was landed in")
    fps: int = Field(description="1/s")
    frames: int
    duration_s: float = Field(description="s: frames / fps")
    pitch_length_m: float
    pitch_width_m: float
    materialized_at: str = Field(description="UTC, ISO 8601: when the published delivery was materialised")


class AnalysisPage(BaseModel):
    analyses: list[AnalysisSummary]
    next_after: str | None = Field(description="pass as ?after= for the next page; null on the last one")


class ColumnDoc(BaseModel):
    name: str
    type: str
    unit: str | None = Field(description="the unit its description starts with, where it has one")
    description: str
    filterable: bool = Field(False, description="usable as a frame_state filter's column")


class Pitch(BaseModel):
    length_m: float
    width_m: float


class AnalysisSchema(BaseModel):
    """What a match holds: its data version (3: frame_state available for the filters) and the columns of the
    tracking download and of frame_state, with units."""

    match_id: str
    data_version: int = Field(description="3 where frame_state has rows (the filters need it), else 2")
    fps: int
    pitch: Pitch
    frame_state: bool = Field(description="frame_state has rows")
    events: bool = Field(description="event data was delivered (GET .../events)")
    lineups: bool = Field(description="a match sheet was delivered (GET .../lineups)")
    tracking_download: list[ColumnDoc]
    frame_state_columns: list[ColumnDoc]


class Rows(BaseModel):
    """Rows of a table of one match, as JSON objects (columns as in the table's reference page)."""

    model_config = ConfigDict(extra="allow")

    match_id: str
    rows: list[dict]
