"""The ``matches`` table: one row per match."""

import pandera.polars as pa
import polars as pl

from footy_assets.core.contracts.checks import MATCH_ID_DOC
from footy_assets.core.contracts.validation import Contract


class Matches(Contract):
    match_id: str = pa.Field(unique=True, str_matches=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$", description=MATCH_ID_DOC)
    format: str = pa.Field(isin=["footy_stats", "sportvu", "cdf", "footy_track"], description="the vendor format "
                           "(the landing folder it came from)")
    fps: pl.Int32 = pa.Field(ge=1, le=100, description="frames per second of the feed")
    pitch_length_m: pl.Float32 = pa.Field(ge=50, le=130, description="m, from the feed's metadata (else 105)")
    pitch_width_m: pl.Float32 = pa.Field(ge=30, le=100, description="m, from the feed's metadata (else 68)")
    periods: pl.List(pl.Struct({"period": pl.Int8, "first_frame": pl.Int64, "last_frame": pl.Int64,
                                "frames": pl.Int64})) = pa.Field(description="per period: its first and last "
                                                                 "frame_id and its frame count")
    frames: pl.Int64 = pa.Field(ge=1, description="frames inside the periods (in tracking)")
    frames_outside_play: pl.Int64 = pa.Field(ge=0, description="frames or messages outside any period (before "
                                             "kick-off, breaks): not in tracking")
    flipped_periods: pl.List(pl.Int8) = pa.Field(description="periods the reader rotated so that home attacks +x")
    fingerprint: str = pa.Field(str_matches=r"^[0-9a-f]{64}$", description="sha256 of the landed files: the "
                                "delivery this row publishes (every table's rows of the match carry it)")
    files: str = pa.Field(description="JSON: the landed files, each with name, size_bytes and sha256")
    landed_bytes: pl.Int64 = pa.Field(ge=0, description="bytes of the landed files")
    vendor_rows: pl.Int64 = pa.Field(ge=1, description="rows (objects x frames) or messages in the vendor's files")
    rows: pl.Int64 = pa.Field(ge=1, description="rows in tracking")
    rows_player: pl.Int64 = pa.Field(ge=0, description="tracking rows of players")
    rows_goal_keeper: pl.Int64 = pa.Field(ge=0, description="tracking rows of goal keepers")
    rows_ball: pl.Int64 = pa.Field(ge=0, description="tracking rows of the ball")
    rows_referee: pl.Int64 = pa.Field(ge=0, description="tracking rows of referees")
    rows_unidentified: pl.Int64 = pa.Field(ge=0, description="tracking rows of players and goal keepers without a "
                                           "player_id (jersey not read; footy_track: a track never identified)")
    rows_interpolated: pl.Int64 = pa.Field(ge=0, description="tracking rows whose box the tracker predicted "
                                           "(footy_track lost-state rows)")
    vendor_rows_dropped: pl.Int64 = pa.Field(ge=0, description="vendor rows left out of tracking (footy_track: "
                                             "labels without a role, a second ball in a frame)")
    code_versions: str = pa.Field(description="JSON: {asset: code version} of the run that wrote the match")
    materialized_at_ms: pl.Int64 = pa.Field(description="ms since the Unix epoch: when this row was written")

    class Config:
        strict = False
