"""Checks shared by the table contracts, written to stay cheap on millions of rows.

Checks on strings that repeat (match_id, player_id) look at the distinct values only, and uniqueness is
tested on one packed integer key: each returns a single boolean (pandera treats it as a table-level check).
"""

import pandera.polars as pa
import polars as pl

from footy_assets.core.contracts.validation import Contract

MATCH_ID = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
FINGERPRINT = r"^[0-9a-f]{64}$"
PLAYER_ID = r"^[01]-\d+$"


def distinct_values_match(lf: pl.LazyFrame, column: str, pattern: str) -> pl.LazyFrame:
    """Every distinct non-null value of ``column`` matches ``pattern``."""
    return lf.select(pl.col(column).drop_nulls().unique().cast(pl.String).str.contains(pattern).all())


def one_value(lf: pl.LazyFrame, column: str) -> pl.LazyFrame:
    """The column holds at most one value, null counting as one (a table written per match holds that match
    only; an empty derived table is valid: a short clip has no sprints, a feed without a ball no ball_state).
    Every row compared with the first rather than the distinct values counted: no hashing of millions of
    strings."""
    return lf.select(pl.col(column).eq_missing(pl.col(column).first()).all())


def one_value_matching(lf: pl.LazyFrame, column: str, pattern: str) -> pl.LazyFrame:
    """The column holds one value, and it matches ``pattern`` (where it has no other, only the first needs
    the pattern): ``one_value`` and ``distinct_values_match`` in one pass. An empty table passes."""
    first = pl.col(column).first()
    return lf.select(
        pl.col(column).eq_missing(first).all()
        & (first.is_null() | first.cast(pl.String).str.contains(pattern)).fill_null(True)
    )


def unique_player_frames(lf: pl.LazyFrame) -> pl.LazyFrame:
    """No (frame_id, team, jersey) twice among identified rows."""
    key = pl.col("frame_id") * 2048 + pl.col("team").cast(pl.Int64) * 1024 + pl.col("jersey").cast(pl.Int64)
    identified = lf.filter(pl.col("player_id").is_not_null())
    return identified.select(key.n_unique() == pl.len())


def once_per_frame(lf: pl.LazyFrame, column: str, frame: str = "frame_id") -> pl.LazyFrame:
    """No non-null value of ``column`` twice in one ``frame``. Rows are written in frame order: then each
    value's rows have non-decreasing frames and a repeat is two equal ones in a row, found per value without
    hashing millions of (frame, value) pairs; rows out of frame order have their pairs counted (one integer per
    pair: the frame above the value's 32-bit category code)."""
    named = lf.filter(pl.col(column).is_not_null())
    if lf.select((pl.col(frame).diff() < 0).any()).collect().item():
        code = pl.col(column).cast(pl.Categorical).to_physical().cast(pl.Int64)
        return named.select((pl.col(frame) * (1 << 32) + code).n_unique() == pl.len())
    return named.group_by(column).agg(repeat=(pl.col(frame).diff() == 0).any()).select(pl.col("repeat").not_().all())


def all_of(*checks: pl.LazyFrame) -> pl.LazyFrame:
    """True when every one-boolean check is true."""
    named = [check.select(pl.first().alias(f"check_{i}")) for i, check in enumerate(checks)]
    combined = named[0]
    for check in named[1:]:
        combined = combined.join(check, how="cross")
    return combined.select(pl.all_horizontal(pl.all()))


def single_valid_match_id(lf: pl.LazyFrame) -> pl.LazyFrame:
    """A table written per match holds one match_id, and it is a valid one."""
    return one_value_matching(lf, "match_id", MATCH_ID)


def single_delivery(lf: pl.LazyFrame) -> pl.LazyFrame:
    """A match's rows come from one delivery: one fingerprint, a sha256 hex digest, never null."""
    return all_of(
        one_value_matching(lf, "fingerprint", FINGERPRINT), lf.select(pl.col("fingerprint").null_count() == 0)
    )


FORMATS = ("footy_stats", "sportvu", "cdf", "footy_track")  # the vendor formats a match may be delivered in

# Descriptions of the columns many tables share: unit first, then meaning, then when the column is null (the
# Dagster catalog shows them beside each column, and the docs' column tables are generated from them).
MATCH_ID_DOC = "the match: its landing folder's name, the partition key"
FRAME_ID_DOC = "frame number on the match clock: round(timestamp_ms x fps / 1000), the same for every object"
TIMESTAMP_DOC = (
    "ms on the match clock, half-time breaks included: footy_stats and footy_track the vendor's "
    "clock as delivered (footy_track: continuous_time_s x 1000), sportvu and cdf since the first "
    "frame of period 1"
)
PERIOD_DOC = "1 and 2 the halves, 3 and 4 extra time, 5 the shoot-out (frames outside the periods are not kept)"
TEAM_DOC = "0 home, 1 away"
PLAYER_ID_DOC = "the player: '{team}-{jersey}', e.g. '0-10'"
FINGERPRINT_DOC = (
    "sha256 (64 hex digits) of the landed delivery the rows were computed from; the matches row "
    "publishes one delivery per match"
)
X_DOC = (
    "m from the centre spot along the touchline, positive towards the away goal: the home team attacks "
    "towards +x in every period (the reader rotates the periods where it does not)"
)
Y_DOC = "m from the centre spot across the pitch, positive towards the top touchline"


def described(model: type[pa.DataFrameModel]) -> dict[str, str]:
    """{column: description} of a contract's columns, in its order."""
    return {name: column.description or "" for name, column in model.to_schema().columns.items()}


class PerMatchTable(Contract):
    """What every table written per match shares: ``match_id`` first, one valid match per write, exactly
    the declared columns in the declared order, and (declared last by each subclass) the ``fingerprint``
    of the one delivery the rows come from. Contracts subclass it and add their columns after."""

    match_id: str = pa.Field(description=MATCH_ID_DOC)

    class Config:
        strict = True
        ordered = True

    @pa.dataframe_check(error="match_id must be one valid match id")
    def match_id_valid(cls, data) -> pl.LazyFrame:
        return single_valid_match_id(data.lazyframe)

    @pa.dataframe_check(error="fingerprint must be one delivery's sha256 (64 hex digits), never null")
    def fingerprint_valid(cls, data) -> pl.LazyFrame:
        return single_delivery(data.lazyframe)
