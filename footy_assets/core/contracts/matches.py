"""The ``matches`` table: one row per match, written last in its chain (the publish marker). Declared here once:
its polars schema is ``dtypes(Matches)`` (``lake.matches.MATCHES_SCHEMA``)."""

import pandera.polars as pa
import polars as pl

from footy_assets.core.contracts.checks import FINGERPRINT, FORMATS, MATCH_ID, MATCH_ID_DOC
from footy_assets.core.contracts.validation import Contract

PERIOD_STRUCT = pl.Struct({"period": pl.Int8, "first_frame": pl.Int64, "last_frame": pl.Int64, "frames": pl.Int64})


class Matches(Contract):
    """matches: one row per match, written last in its chain and only when every table of the match holds the
    delivery it names: the publish marker readers read first."""

    match_id: str = pa.Field(unique=True, str_matches=MATCH_ID, description=MATCH_ID_DOC)
    format: str = pa.Field(
        isin=list(FORMATS), description="the vendor format (the landing folder it came from): " + ", ".join(FORMATS)
    )
    fps: pl.Int32 = pa.Field(ge=1, le=100, description="1/s: frames per second of the feed")
    pitch_length_m: pl.Float32 = pa.Field(
        ge=50, le=130, description="m: the pitch's length from the feed's metadata (105 where it gives none)"
    )
    pitch_width_m: pl.Float32 = pa.Field(
        ge=30, le=100, description="m: the pitch's width from the feed's metadata (68 where it gives none)"
    )
    periods: pl.List(PERIOD_STRUCT) = pa.Field(
        description="per period in tracking, in order: period, first_frame "
        "and last_frame (frame_id) and frames (distinct frames)"
    )
    frames: pl.Int64 = pa.Field(ge=1, description="distinct frames in tracking (inside the periods)")
    frames_outside_play: pl.Int64 = pa.Field(
        ge=0, description="frames or messages of the feed outside any period (before kick-off, breaks): not in tracking"
    )
    flipped_periods: pl.List(pl.Int8) = pa.Field(
        description="periods the reader rotated by 180 degrees so that home attacks +x; empty when none"
    )
    fingerprint: str = pa.Field(
        str_matches=FINGERPRINT,
        description="sha256 (64 hex digits) of the landed tracking files (the event data not included): the "
        "tracking delivery this row publishes; tracking and the tables computed from it alone carry it",
    )
    files: str = pa.Field(
        description="JSON: the landed files, tracking and event data (the events folder's as events/<name>), a list "
        "of {name, size_bytes, sha256, mtime_ns}; footy-assets sql reads it as that list (nested, as periods)"
    )
    landed_bytes: pl.Int64 = pa.Field(ge=0, description="bytes of the landed files")
    vendor_rows: pl.Int64 = pa.Field(ge=1, description="rows (objects x frames) or messages in the vendor's files")
    rows: pl.Int64 = pa.Field(ge=1, description="rows in tracking")
    rows_player: pl.Int64 = pa.Field(ge=0, description="tracking rows of players")
    rows_goal_keeper: pl.Int64 = pa.Field(ge=0, description="tracking rows of goal keepers")
    rows_ball: pl.Int64 = pa.Field(ge=0, description="tracking rows of the ball")
    rows_referee: pl.Int64 = pa.Field(ge=0, description="tracking rows of referees")
    rows_unidentified: pl.Int64 = pa.Field(
        ge=0,
        description="tracking rows of players and goal keepers without a "
        "player_id (jersey not read; footy_track: a track never identified)",
    )
    rows_interpolated: pl.Int64 = pa.Field(
        ge=0,
        description="tracking rows whose box the tracker predicted "
        "(footy_track lost-state rows); 0 for the other formats",
    )
    vendor_rows_dropped: pl.Int64 = pa.Field(
        ge=0,
        description="vendor rows left out of tracking (footy_track: labels without a role, a second ball in a frame)",
    )
    code_versions: str = pa.Field(
        description="JSON: {asset: code version} of the run that wrote the match; footy-assets sql reads it as a "
        "struct (code_versions.tracking)"
    )
    materialized_at_ms: pl.Int64 = pa.Field(
        description="ms since the Unix epoch: when this row was written (an "
        "integer, no timestamp type, so every reader reads it alike)"
    )
    # last: a matches table written before it existed gains it at the end (its older rows hold null)
    events_fingerprint: str = pa.Field(
        nullable=True,
        str_matches=FINGERPRINT,
        description="sha256 (64 hex digits) of the landed tracking and event files together: the delivery of the "
        "tables computed from the event data (events, lineups and the summaries that read them) this row "
        "publishes; equal to fingerprint when the match has no event data; null in a row written before it "
        "existed (read it as fingerprint)",
    )

    class Config:
        strict = False
