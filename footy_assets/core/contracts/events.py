"""Contracts of the event tables: ``events`` (one row per delivered event, synchronised), ``lineups`` (one row per
person on the match sheet) and the synchronisation of events with tracking (one row per event)."""

import pandera.polars as pa
import polars as pl

from footy_assets.core.contracts.checks import (
    FINGERPRINT_DOC,
    MATCH_ID_DOC,
    PERIOD_DOC,
    PLAYER_ID,
    PLAYER_ID_DOC,
    TEAM_DOC,
    X_DOC,
    Y_DOC,
    PerMatchTable,
    all_of,
    distinct_values_match,
)
from footy_assets.core.contracts.derived import MINUTE_DOC
from footy_assets.core.contracts.validation import Contract

EVENT_TIMESTAMP_DOC = (
    "ms on the tracking's timeline (since the first frame of period 1, breaks included), "
    "from the event's own clock: the vendor's offset is not removed (the sync's offset_ms is); "
    "negative for an event logged before the first frame"
)
EVENT_PERIOD_TIME_DOC = "s since the start of the period on the tracking's timeline (its first frame)"
M_FROM_CENTRE = 100.0  # a location further than this from the centre spot is off any pitch


class EventFields(PerMatchTable):
    """The columns of a delivered event, as the reader gives them (``DeliveredEvents``) and as the lake's ``events``
    table keeps them with their synchronisation (``Events``)."""

    event_id: str = pa.Field(unique=True, description="the vendor's event id")
    event_index: pl.Int32 = pa.Field(
        ge=0,
        unique=True,
        description="0-based position in the delivered file: the order of play the vendor gives (the sync keeps it)",
    )
    period: pl.Int8 = pa.Field(isin=[1, 2, 3, 4, 5], description=PERIOD_DOC)
    time: pl.Datetime("ms", "UTC") = pa.Field(description="UTC, as delivered: when the event started")
    timestamp_ms: pl.Int64 = pa.Field(description=EVENT_TIMESTAMP_DOC)
    period_time_s: pl.Float32 = pa.Field(description=EVENT_PERIOD_TIME_DOC)
    match_minute: pl.Int16 = pa.Field(ge=0, description=MINUTE_DOC)
    type: str = pa.Field(description="event type as delivered (pass, shot, defending, goalkeeping, misc, referee, ...)")
    sub_type: str = pa.Field(nullable=True, description="event sub type as delivered (kick_off, throw_in, ...)")
    is_successful: pl.Boolean = pa.Field(nullable=True, description="v0.3 is_successful, v0.2 outcome")
    outcome_type: str = pa.Field(nullable=True, description="v0.3 outcome_type, v0.2 outcome_detailed, as delivered")
    team: pl.Int8 = pa.Field(
        nullable=True, isin=[0, 1], description=TEAM_DOC + " (the sheet's team ids); null for referee events"
    )
    player_id: str = pa.Field(
        nullable=True,
        description=PLAYER_ID_DOC + " of the acting player, from the team "
        "sheet; null for officials and ids on no sheet",
    )
    vendor_person_id: str = pa.Field(
        nullable=True, description="the vendor's id of the acting player (or of the official, on referee events)"
    )
    receiver_id: str = pa.Field(
        nullable=True, description=PLAYER_ID_DOC + " of the pass's receiver; null where none or on no sheet"
    )
    vendor_receiver_id: str = pa.Field(nullable=True, description="the vendor's id of the receiver")
    receiver_time: pl.Datetime("ms", "UTC") = pa.Field(
        nullable=True, description="UTC, as delivered: when the receiver first had the ball"
    )
    receiver_timestamp_ms: pl.Int64 = pa.Field(
        nullable=True, description="receiver_time on the tracking's timeline (ms, as timestamp_ms)"
    )
    x_m: pl.Float32 = pa.Field(
        nullable=True, ge=-M_FROM_CENTRE, le=M_FROM_CENTRE, description="where the action started: " + X_DOC
    )
    y_m: pl.Float32 = pa.Field(
        nullable=True, ge=-M_FROM_CENTRE, le=M_FROM_CENTRE, description="where the action started: " + Y_DOC
    )
    x_end_m: pl.Float32 = pa.Field(
        nullable=True,
        ge=-M_FROM_CENTRE,
        le=M_FROM_CENTRE,
        description="where the action ended: " + X_DOC + "; null for single-point events",
    )
    y_end_m: pl.Float32 = pa.Field(
        nullable=True,
        ge=-M_FROM_CENTRE,
        le=M_FROM_CENTRE,
        description="where the action ended: " + Y_DOC + "; null for single-point events",
    )
    body_part: str = pa.Field(nullable=True, description="as delivered (feet, left_foot, head, hands, ...)")
    related_event_ids: pl.List(pl.String) = pa.Field(
        nullable=True, description="the vendor's ids of related events (a duel's other half, a pass's reception)"
    )

    @pa.dataframe_check(error="player_id and receiver_id must look like '0-10'")
    def ids_format(cls, data) -> pl.LazyFrame:
        return all_of(
            distinct_values_match(data.lazyframe, "player_id", PLAYER_ID),
            distinct_values_match(data.lazyframe, "receiver_id", PLAYER_ID),
        )


class DeliveredEvents(EventFields):
    """The events of one delivery as read (``formats.cdf.events``), before they are synchronised."""

    fingerprint: pl.Categorical = pa.Field(description=FINGERPRINT_DOC)


class Events(EventFields):
    """The ``events`` table: one row per delivered event, with where it happened in the match's tracking."""

    frame_id: pl.Int64 = pa.Field(
        nullable=True, description="tracking frame_id where the event started; null unless synced"
    )
    frame_id_end: pl.Int64 = pa.Field(
        nullable=True,
        description="tracking frame_id where a pass or shot reached "
        "its receiver or end location; null where not found or not applicable",
    )
    clock_frame_id: pl.Int64 = pa.Field(
        nullable=True,
        description="the frame at the event's time once its "
        "period's offset is removed (every event; null outside the tracking's "
        "periods)",
    )
    sync_score: pl.Float32 = pa.Field(
        nullable=True,
        ge=0.0,
        le=1.0,
        description="0-1: how well the frame fits "
        "the event (player at the ball, a touch, the ball's motion, location, "
        "time); null unless synced",
    )
    sync_status: str = pa.Field(
        str_matches=r"^(synced|unmatched: .+)$",
        description="synced, or 'unmatched: <reason>' (not a ball event, actor not tracked, no candidate frame, ...)",
    )
    offset_ms: pl.Int64 = pa.Field(
        description="ms removed from the event's clock: its period's event clock minus "
        "the tracking's, measured at the kick-off"
    )
    player_x_m: pl.Float32 = pa.Field(
        nullable=True, description="the acting player's tracked position at frame_id: " + X_DOC
    )
    player_y_m: pl.Float32 = pa.Field(
        nullable=True, description="the acting player's tracked position at frame_id: " + Y_DOC
    )
    ball_x_m: pl.Float32 = pa.Field(nullable=True, description="the ball at frame_id: " + X_DOC)
    ball_y_m: pl.Float32 = pa.Field(nullable=True, description="the ball at frame_id: " + Y_DOC)
    fingerprint: pl.Categorical = pa.Field(description=FINGERPRINT_DOC)

    @pa.dataframe_check(error="a synced event has a frame and a score; an unmatched one neither")
    def frame_when_synced(cls, data) -> pl.LazyFrame:
        synced = pl.col("sync_status") == "synced"
        return data.lazyframe.select(
            (synced == pl.col("frame_id").is_not_null()).all() & (synced == pl.col("sync_score").is_not_null()).all()
        )


class Lineups(PerMatchTable):
    team: pl.Int8 = pa.Field(nullable=True, isin=[0, 1], description=TEAM_DOC + "; null for officials")
    team_name: str = pa.Field(nullable=True, description="the team's short name on the sheet")
    role: str = pa.Field(
        description="player, coach, or the official's role (main_referee, assistant_referee, "
        "fourth_official, video_assistant_referee, ...; official where the sheet gives none)"
    )
    player_id: str = pa.Field(nullable=True, description=PLAYER_ID_DOC + "; players only")
    vendor_person_id: str = pa.Field(description="the vendor's id of the person")
    first_name: str = pa.Field(nullable=True, description="as on the sheet")
    last_name: str = pa.Field(nullable=True, description="as on the sheet")
    short_name: str = pa.Field(nullable=True, description="as on the sheet")
    jersey: pl.Int16 = pa.Field(nullable=True, ge=0, description="shirt number; players only")
    position: str = pa.Field(nullable=True, description="the sheet's position label (GK, LCB, CAM, SUB, ...)")
    position_group: str = pa.Field(nullable=True, description="GK, DF, MF, FW or SUB")
    is_starter: pl.Boolean = pa.Field(nullable=True, description="in the starting eleven; players only")
    has_played: pl.Boolean = pa.Field(nullable=True, description="played in the match; players only")
    is_captain: pl.Boolean = pa.Field(nullable=True, description="where the sheet says")
    minute_on: pl.Int16 = pa.Field(
        nullable=True,
        ge=0,
        description="match minute the player came on (0 for starters; from the sheet's substitutions); null if never",
    )
    minute_off: pl.Int16 = pa.Field(
        nullable=True,
        ge=0,
        description="match minute the player went off "
        "(substituted, or sent off by a red card); null if played to the end",
    )
    goals: pl.Int16 = pa.Field(nullable=True, ge=0, description="goals scored (own goals not counted); players only")
    own_goals: pl.Int16 = pa.Field(nullable=True, ge=0, description="own goals; players only")
    assists: pl.Int16 = pa.Field(nullable=True, ge=0, description="assists on the sheet's goals; players only")
    yellow_cards: pl.Int8 = pa.Field(nullable=True, ge=0, description="yellow cards; players only")
    red_cards: pl.Int8 = pa.Field(nullable=True, ge=0, description="red and second yellow cards; players only")
    fingerprint: pl.Categorical = pa.Field(description=FINGERPRINT_DOC)

    @pa.dataframe_check(error="a player needs a team, a jersey and player_id '{team}-{jersey}'; others none")
    def players_identified(cls, data) -> pl.LazyFrame:
        player = pl.col("role") == "player"
        expected = pl.format("{}-{}", "team", "jersey")
        ok = (
            pl.when(player)
            .then(pl.col("player_id").eq_missing(expected) & pl.col("player_id").is_not_null())
            .otherwise(pl.col("player_id").is_null())
        )
        return data.lazyframe.select(ok.all())

    @pa.dataframe_check(error="a player_id appears twice")
    def one_row_per_player(cls, data) -> pl.LazyFrame:
        players = data.lazyframe.filter(pl.col("player_id").is_not_null())
        return players.select(pl.col("player_id").n_unique() == pl.len())


class EventSync(Contract):
    """Where each event happened in the tracking: one row per event of the events table."""

    match_id: str = pa.Field(nullable=True, description=MATCH_ID_DOC)
    event_id: str = pa.Field(unique=True, description="the vendor's event id (events.event_id)")
    frame_id: pl.Int64 = pa.Field(
        nullable=True, description="tracking frame_id where the event started; null unless synced"
    )
    frame_id_end: pl.Int64 = pa.Field(
        nullable=True,
        description="tracking frame_id where a pass or shot reached "
        "its receiver or end location; null where not found or not applicable",
    )
    clock_frame_id: pl.Int64 = pa.Field(
        nullable=True,
        description="the frame at the event's time once its "
        "period's offset is removed (every event; null outside the tracking's "
        "periods)",
    )
    sync_score: pl.Float32 = pa.Field(
        nullable=True,
        ge=0.0,
        le=1.0,
        description="0-1: how well the frame fits "
        "the event (player at the ball, a touch, the ball's motion, location, "
        "time); null unless synced",
    )
    sync_status: str = pa.Field(str_matches=r"^(synced|unmatched: .+)$", description="synced, or 'unmatched: <reason>'")
    offset_ms: pl.Int64 = pa.Field(
        description="ms removed from the event's clock: its period's event clock minus "
        "the tracking's, measured at the kick-off"
    )
    player_x_m: pl.Float32 = pa.Field(
        nullable=True, description="the acting player's tracked position at frame_id: " + X_DOC
    )
    player_y_m: pl.Float32 = pa.Field(
        nullable=True, description="the acting player's tracked position at frame_id: " + Y_DOC
    )
    ball_x_m: pl.Float32 = pa.Field(nullable=True, description="the ball at frame_id: " + X_DOC)
    ball_y_m: pl.Float32 = pa.Field(nullable=True, description="the ball at frame_id: " + Y_DOC)

    class Config:
        strict = True
        ordered = True

    @pa.dataframe_check(error="a synced event has a frame and a score; an unmatched one neither")
    def frame_when_synced(cls, data) -> pl.LazyFrame:
        synced = pl.col("sync_status") == "synced"
        return data.lazyframe.select(
            (synced == pl.col("frame_id").is_not_null()).all() & (synced == pl.col("sync_score").is_not_null()).all()
        )
