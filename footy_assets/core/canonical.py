"""What all readers share: the canonical tracking schema and the steps that bring a feed into it.

Canonical frame: metres, origin at the centre spot, x along the touchline, y towards the
top touchline, the home team attacking left to right (towards +x) in every period. Time: ``timestamp_ms``
and ``frame_id = round(timestamp_ms * fps / 1000)``. Identity: ``player_id = "{team}-{jersey}"``.
"""

from __future__ import annotations

import polars as pl

from footy_assets.core.contracts.tracking import MAX_ABS_POSITION_M, Tracking
from footy_assets.core.contracts.validation import dtypes


def fingerprint_column(fingerprint: str | None) -> pl.Expr:
    """The delivery's fingerprint as a column: one category, so millions of rows cost 4 bytes each (not 64) and
    the contract's checks look at one distinct value; stored in Delta as a dictionary-encoded string."""
    return pl.lit(fingerprint, dtype=pl.String).cast(pl.Categorical).alias("fingerprint")


PERIOD_GAP_MS = 300_000  # a gap this long without frames starts a new period (footy_stats)
DEFAULT_PITCH = (105.0, 68.0)

# the match minute at which each period starts (5: the shoot-out, after 120 minutes)
MINUTE_AT_PERIOD_START: dict[int, int] = {1: 0, 2: 45, 3: 90, 4: 105, 5: 120}

# the table's columns, dtypes and order: declared once, by its contract
TRACKING_SCHEMA: dict[str, pl.DataType] = dtypes(Tracking)


def estimate_fps(timestamps_ms: pl.Series) -> int:
    """Frames per second from the clock: 1000 / the median step between distinct consecutive timestamps.

    Gaps (drop-outs, breaks) do not matter because the median ignores them. Raises on fewer than 2 frames.
    """
    steps = timestamps_ms.unique().sort().diff().drop_nulls()
    steps = steps.filter(steps > 0)
    if steps.len() == 0:
        raise ValueError("cannot tell the frame rate: fewer than two distinct timestamps")
    fps = round(1000.0 / float(steps.median()))
    if not 1 <= fps <= 100:
        raise ValueError(f"implausible frame rate {fps} fps (median timestamp step {steps.median()} ms)")
    return fps


def frame_id_expr(fps: int, timestamp: str = "timestamp_ms") -> pl.Expr:
    """``round(timestamp_ms * fps / 1000)`` as Int64."""
    return (pl.col(timestamp).cast(pl.Float64) * fps / 1000.0).round(0).cast(pl.Int64).alias("frame_id")


def periods_from_gaps(timestamp: pl.Expr, gap_ms: int = PERIOD_GAP_MS) -> pl.Expr:
    """Period numbers for a frame sorted by time: a new period after every gap of ``gap_ms`` or more."""
    new_period = (timestamp.diff().fill_null(0) >= gap_ms).cast(pl.Int8)
    return (new_period.cum_sum() + 1).cast(pl.Int8)


def player_id_expr() -> pl.Expr:
    """``"{team}-{jersey}"`` where both are known, else null."""
    return (
        pl.when(pl.col("team").is_not_null() & pl.col("jersey").is_not_null())
        .then(pl.format("{}-{}", pl.col("team"), pl.col("jersey")))
        .otherwise(None)
        .alias("player_id")
    )


def home_flip_by_period(frame: pl.LazyFrame | pl.DataFrame) -> dict[int, bool]:
    """For each period, whether the home team attacks right to left in ``frame``'s centred coordinates.

    Decided from where the home goal keeper stands (left half = attacking left to right); where no home
    goal keeper is identified in a period, from the away goal keeper, then from the two teams' mean x.
    """
    flips: dict[int, bool] = {}
    stats = (
        frame.lazy()
        .filter(pl.col("team").is_not_null())
        .group_by("period")
        .agg(
            home_gk=pl.col("x_m").filter((pl.col("role") == "goal_keeper") & (pl.col("team") == 0)).mean(),
            away_gk=pl.col("x_m").filter((pl.col("role") == "goal_keeper") & (pl.col("team") == 1)).mean(),
            home=pl.col("x_m").filter(pl.col("team") == 0).mean(),
            away=pl.col("x_m").filter(pl.col("team") == 1).mean(),
        )
        .collect()
    )
    for row in stats.iter_rows(named=True):  # one row per period, not per frame
        if row["home_gk"] is not None:
            flips[row["period"]] = row["home_gk"] > 0
        elif row["away_gk"] is not None:
            flips[row["period"]] = row["away_gk"] < 0
        elif row["home"] is not None and row["away"] is not None:
            flips[row["period"]] = row["home"] > row["away"]
        else:
            flips[row["period"]] = False
    return flips


def orient(frame: pl.LazyFrame | pl.DataFrame, flips: dict[int, bool]) -> pl.LazyFrame:
    """Rotate the pitch by 180 degrees (x -> -x, y -> -y) in the periods where ``flips`` says so."""
    flipped = [p for p, f in flips.items() if f]
    # Float32 signs: a Float32 position stays Float32 (x -1 is exact), no float64 copy of the column
    sign = pl.when(pl.col("period").is_in(flipped)).then(pl.lit(-1.0, pl.Float32)).otherwise(pl.lit(1.0, pl.Float32))
    return frame.lazy().with_columns(x_m=pl.col("x_m") * sign, y_m=pl.col("y_m") * sign)


def first_out_of_bounds(frame: pl.LazyFrame | pl.DataFrame, locator: str) -> dict | None:
    """The first row whose canonical x_m or y_m is more than 100 m from the centre spot (NaN included), with
    its ``locator`` (source line or row), or None. Readers call it before rows lose their source position."""
    far = ~((pl.col("x_m").abs() <= MAX_ABS_POSITION_M) & (pl.col("y_m").abs() <= MAX_ABS_POSITION_M))
    hit = frame.lazy().filter(far.fill_null(False)).select(locator, "x_m", "y_m").head(1).collect()
    return hit.row(0, named=True) if hit.height else None


def first_extra_ball(frame: pl.LazyFrame | pl.DataFrame, locator: str) -> dict | None:
    """The first ball row of a frame that already has one (a feed gives one ball per frame), or None."""
    balls = frame.lazy().filter(pl.col("role") == "ball")
    hit = balls.filter(pl.col("frame_id").is_duplicated()).select(locator, "frame_id").collect()
    return hit.sort(locator).row(1, named=True) if hit.height > 1 else None


KEYED_FRAMES = 1 << 38  # frame ids below this fit the integer player key with a team (8 bits) and a jersey (16)


def _player_key() -> pl.Expr:
    """One Int64 per (frame, team, jersey), distinct for every team (int8) and jersey (int16) of a frame below
    ``KEYED_FRAMES``: cheap to count, unlike strings or structs."""
    return (
        pl.col("frame_id") * (1 << 24)
        + (pl.col("team").cast(pl.Int64) + 128) * (1 << 16)
        + (pl.col("jersey").cast(pl.Int64) + 32768)
    )


REPEAT_SLICE_ROWS = 1 << 19  # rows counted at a time where frames are in order (a few MB of counts, not 100)


def may_repeat_players(frame: pl.DataFrame) -> bool:
    """False when no (frame_id, team, jersey) is on two rows of ``frame``, True when one may be (then
    ``duplicate_players`` finds them). Counted per frame and player with numpy where the teams are 0 and 1,
    the jerseys below 1024 (``duplicate_players``'s key is then one per frame and player) and the frames
    times the players are a few times the rows; else True: the hashed key decides. Rows in frame order are
    counted a slice of whole frames at a time."""
    import numpy as np

    low, high, t0, t1, j0, j1 = frame.select(
        pl.col("frame_id").min().alias("low"),
        pl.col("frame_id").max().alias("high"),
        pl.col("team").min().alias("t0"),
        pl.col("team").max().alias("t1"),
        pl.col("jersey").min().alias("j0"),
        pl.col("jersey").max().alias("j1"),
    ).row(0)
    if t0 is None or j0 is None:  # no player with a team and a jersey
        return False
    frame_ids = frame["frame_id"]
    if frame_ids.null_count() or t0 < 0 or t1 > 1 or j0 < 0 or j1 >= 1024:
        return True
    # each row's player as team * 1024 + jersey, -1 where either is unknown
    player = (pl.col("team").cast(pl.Int32) * 1024 + pl.col("jersey").cast(pl.Int32)).fill_null(-1)
    seen = np.zeros(2049, dtype=bool)
    seen[frame.select(player.unique()).to_series().to_numpy()] = True  # (-1: the last slot, unknown)
    players = int(seen[:2048].sum())
    if (high - low + 1) * players > 4 * frame.height + (1 << 20):
        return True
    code = (np.cumsum(seen) - 1).astype(np.int64)  # each player's number among those seen
    in_order = frame_ids.is_sorted()
    start = 0
    while start < frame.height:
        stop = frame.height
        if in_order and start + REPEAT_SLICE_ROWS < frame.height:  # a slice of whole frames
            stop = int(frame_ids.search_sorted(frame_ids[start + REPEAT_SLICE_ROWS], side="left"))
            stop = stop if stop > start else frame.height
        part = frame.slice(start, stop - start)
        players_of = part.select(player).to_series().to_numpy()
        known = players_of >= 0
        first = part["frame_id"][0] if in_order else low
        key = (part["frame_id"].to_numpy()[known] - first) * players + code[players_of[known]]
        if key.size and np.bincount(key).max() > 1:
            return True
        start = stop
    return False


def duplicate_players(frame: pl.DataFrame) -> pl.DataFrame:
    """(frame_id, player_id) pairs that occur more than once; empty for a correct feed.

    A count per frame and player with numpy first (``may_repeat_players``); where it cannot rule a repeat out,
    one ``n_unique`` over an integer key (fast on millions of rows); only when that finds a duplicate are the
    offending rows looked up.
    """
    if not may_repeat_players(frame):
        return frame.clear().select("frame_id", "player_id")
    return duplicate_players_by_key(frame)


def duplicate_players_by_key(frame: pl.DataFrame) -> pl.DataFrame:
    """``duplicate_players`` without the count first: one hashed integer key per (frame, team, jersey)."""
    identified = frame.lazy().filter(pl.col("team").is_not_null() & pl.col("jersey").is_not_null())
    frames = identified.select(pl.col("frame_id").min().alias("low"), pl.col("frame_id").max().alias("high"))
    low, high = frames.collect().row(0)
    # frame ids out of the key's range (never a real feed's): the three columns themselves
    key = _player_key() if low is None or 0 <= low <= high < KEYED_FRAMES else pl.struct("frame_id", "team", "jersey")
    counts = identified.select(pl.len().alias("rows"), key.n_unique().alias("keys")).collect()
    if counts["rows"][0] == counts["keys"][0]:
        return frame.clear().select("frame_id", "player_id")
    dup = identified.filter(key.is_duplicated()).select("frame_id", "player_id").collect()
    return dup.unique(maintain_order=True)


def in_time_order(frame: pl.LazyFrame | pl.DataFrame, column: str) -> pl.LazyFrame:
    """``frame`` ordered by ``column``; vendor feeds usually are, and then nothing is sorted (stable otherwise)."""
    lf = frame.lazy()
    if lf.select((pl.col(column).diff() < 0).any()).collect().item():
        return lf.sort(column, maintain_order=True)
    return lf


def finalise(
    frame: pl.LazyFrame | pl.DataFrame, match_id: str, source_format: str, fingerprint: str | None = None
) -> pl.DataFrame:
    """Cast to the canonical schema (in its column order) and add missing columns as null; ``fingerprint``
    is the landed delivery's.

    Rows are expected in frame order (readers keep the vendor's order within a frame).
    """
    lf = frame.lazy()
    names = lf.collect_schema().names()
    cols = []
    for name, dtype in TRACKING_SCHEMA.items():
        if name == "match_id":
            cols.append(pl.lit(match_id, dtype=pl.String).alias(name))
        elif name == "source_format":
            cols.append(pl.lit(source_format, dtype=pl.String).alias(name))
        elif name == "fingerprint":
            cols.append(fingerprint_column(fingerprint))
        elif name in names:
            cols.append(pl.col(name).cast(dtype))
        else:
            cols.append(pl.lit(None, dtype=dtype).alias(name))
    return lf.select(cols).collect()
