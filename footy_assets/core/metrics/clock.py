"""The clock within a period: what analysts count in (minute 45 of the second half, not minute 65).

Canonical ``timestamp_ms`` is the match clock as the vendor delivers it, breaks included. A
period starts where the feed says (CDF meta start frames, SportVU's game clock), else at its first frame in
``tracking``. ``period_time_s`` is the time since that start, and
``match_minute`` counts minutes as event data does (StatsBomb, Opta): minute 0 is the first minute of the
match, the second half starts at minute 45, extra time at 90 and 105, and added time keeps counting (minute
47 of the first half is the third minute of added time).
"""

from __future__ import annotations

import polars as pl

from footy_assets.core.canonical import MINUTE_AT_PERIOD_START


def period_starts(frame: pl.DataFrame, from_feed: dict | None = None) -> dict[int, int]:
    """{period: start ms} of a match: where the feed says (``FeedInfo.period_start_ms``: CDF meta, SportVU's game
    clock), else the timestamp_ms of the period's first frame in ``frame`` (tracking: every frame of a period).
    A feed's start later than the period's first frame is not believed."""
    if frame.height == 0:
        return {}
    first = {int(p): int(t) for p, t in frame.group_by("period").agg(pl.col("timestamp_ms").min()).iter_rows()}
    feed = {int(p): int(t) for p, t in (from_feed or {}).items()}
    return {p: feed[p] if p in feed and feed[p] <= t else t for p, t in first.items()}


def starts_from_clock(frame: pl.DataFrame) -> dict[int, int]:
    """{period: start in ms} recovered from rows that carry ``timestamp_ms`` and ``period_time_s`` (frame_state):
    exact, since a float32 of seconds holds a period's clock to a fraction of a millisecond."""
    if frame.height == 0:
        return {}
    starts = frame.group_by("period").agg(
        (pl.col("timestamp_ms") - (pl.col("period_time_s").cast(pl.Float64) * 1000).round(0).cast(pl.Int64)).min()
    )
    return {int(p): int(t) for p, t in starts.iter_rows()}


def period_start_ms(starts: dict[int, int]) -> pl.Expr:
    """The start (ms, match clock) of each row's period."""
    periods = sorted(starts)
    return pl.col("period").replace_strict(periods, [starts[p] for p in periods], default=None, return_dtype=pl.Int64)


def period_time_s(starts: dict[int, int], column: str = "timestamp_ms") -> pl.Expr:
    """Seconds since the start of the row's period (float32, as the positions)."""
    return ((pl.col(column) - period_start_ms(starts)) / 1000).cast(pl.Float32)


def match_minute(seconds_in_period: pl.Expr) -> pl.Expr:
    """The match minute (int16) of a time within the period (s), counted as event data counts it."""
    offset = pl.col("period").replace_strict(
        list(MINUTE_AT_PERIOD_START), list(MINUTE_AT_PERIOD_START.values()), default=None, return_dtype=pl.Int16
    )
    return (offset + (seconds_in_period.cast(pl.Float64) // 60).cast(pl.Int16)).cast(pl.Int16)
