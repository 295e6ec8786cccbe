"""match_quality: what a club reads to decide whether a match can be trusted.

One row per period and identified player, one per period and team with a null player_id (the team's
totals, its unidentified rows included), and one per period with team and player_id null (the whole match:
people whose team is unknown too). Pure polars over one match's tracking and frame_state rows.

Its columns, units and meaning: ``MatchQuality`` in ``footy_assets/core/contracts/derived.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from footy_assets.core.canonical import fingerprint_column
from footy_assets.core.contracts.derived import MatchQuality
from footy_assets.core.contracts.validation import dtypes

MATCH_QUALITY_SCHEMA: dict[str, pl.DataType] = dtypes(MatchQuality)  # declared once, by the contract
PEOPLE = ("player", "goal_keeper")


def _off_pitch(length_m: float, width_m: float) -> pl.Expr:
    return ((pl.col("x_m").abs() > length_m / 2) | (pl.col("y_m").abs() > width_m / 2)).sum()


def _confidence() -> list[pl.Expr]:
    return [
        pl.col("id_confidence").quantile(q).cast(pl.Float64).alias(f"id_confidence_p{int(q * 100)}")
        for q in (0.1, 0.5, 0.9)
    ]


# tracking's columns the tracking side of match_quality reads
TRACKING_COLUMNS = ["frame_id", "period", "role", "team", "player_id", "x_m", "y_m", "id_confidence"]


@dataclass(frozen=True)
class TrackingQuality:
    """What match_quality takes from tracking's rows, per level: per period and identified player, per period and
    team, per period (a few dozen rows each). Computed while tracking's rows are read for the other tables, so
    match_quality never reads them again."""

    players: pl.DataFrame
    teams: pl.DataFrame
    whole: pl.DataFrame


def tracking_quality(tracking: pl.DataFrame | pl.LazyFrame, pitch: tuple[float, float]) -> TrackingQuality:
    """The tracking side of match_quality (``TRACKING_COLUMNS`` of one match's rows, eager or lazy)."""
    return TrackingQuality(*pl.collect_all(tracking_quality_queries(tracking, pitch)))


def tracking_quality_queries(tracking: pl.DataFrame | pl.LazyFrame, pitch: tuple[float, float]) -> list[pl.LazyFrame]:
    """The three queries of ``tracking_quality``, to be collected with others over the same scan."""
    length, width = pitch
    # ids and roles as categoricals: grouping and joining on their codes, not on hashed strings, held 90 MB
    # less on a full match (the result's columns are cast back to strings)
    tracking = tracking.lazy().with_columns(pl.col("player_id", "role").cast(pl.Categorical))
    people = tracking.filter(pl.col("role").is_in(PEOPLE))
    ball_frames = tracking.filter(pl.col("role") == "ball").select(pl.col("frame_id").unique())
    has_ball = pl.col("frame_id").is_in(ball_frames.collect().to_series().implode())
    players = (
        people.filter(pl.col("player_id").is_not_null())
        .group_by("period", "team", "player_id")
        .agg(*_confidence(), rows_off_pitch=_off_pitch(length, width).cast(pl.Int64))
    )
    teams = (
        people.filter(pl.col("team").is_not_null())
        .with_columns(has_ball=has_ball)
        .group_by("period", "team")
        .agg(
            *_confidence(),  # (positional: agg puts these first either way)
            rows=pl.len().cast(pl.Int64),
            frames_without_ball=pl.col("frame_id").filter(~pl.col("has_ball")).n_unique().cast(pl.Int64),
            unidentified_share=pl.col("player_id").is_null().mean().cast(pl.Float64),
            rows_off_pitch=_off_pitch(length, width).cast(pl.Int64),
        )
    )
    # the whole match per period (team and player_id null): people whose team is unknown count here too
    whole = (
        people.with_columns(has_ball=has_ball)
        .group_by("period")
        .agg(
            *_confidence(),  # (positional: agg puts these first either way)
            rows=pl.len().cast(pl.Int64),
            frames_without_ball=pl.col("frame_id").filter(~pl.col("has_ball")).n_unique().cast(pl.Int64),
            unidentified_share=pl.col("player_id").is_null().mean().cast(pl.Float64),
            rows_off_pitch=_off_pitch(length, width).cast(pl.Int64),
        )
    )
    return [players, teams, whole]


def build_match_quality(
    tracking: pl.DataFrame | TrackingQuality,
    frame_state: pl.DataFrame,
    fps: int,
    pitch: tuple[float, float],
    match_id: str,
    fingerprint: str,
) -> pl.DataFrame:
    """match_quality rows of one match. ``tracking``: its ``TRACKING_COLUMNS`` rows, or their ``tracking_quality``
    computed already; ``frame_state`` its own rows (frame_id, period, team, player_id, valid, speed_mps,
    ball_dist_m)."""
    found = tracking if isinstance(tracking, TrackingQuality) else tracking_quality(tracking, pitch)
    frame_state = frame_state.lazy().with_columns(pl.col("player_id").cast(pl.Categorical))
    step = pl.col("frame_id").sort().diff()  # within one player's period: >1 is a break (no global sort)
    per_player = frame_state.group_by("period", "team", "player_id").agg(
        rows=pl.len().cast(pl.Int64),
        frames_without_ball=pl.col("ball_dist_m").is_null().sum().cast(pl.Int64),
        dropouts=(step > 1).sum().cast(pl.Int64),
        # missed frames as a whole number, so team and match totals add integers: a sum of seconds would
        # add floats in the (unordered) groups' order and differ in the last bits from run to run
        dropout_frames=(step - 1).clip(lower_bound=0).sum().cast(pl.Int64),
        invalid_frames=(~pl.col("valid")).sum().cast(pl.Int64),
        top_speed_mps=pl.col("speed_mps").filter(pl.col("valid")).max().cast(pl.Float64),
    )
    # the tracking side's players hold categorical ids of their own: joined on the strings
    players = (
        per_player.with_columns(pl.col("player_id").cast(pl.String))
        .join(
            found.players.lazy().with_columns(pl.col("player_id").cast(pl.String)),
            on=["period", "team", "player_id"],
            how="left",
        )
        .with_columns(unidentified_share=pl.lit(None, pl.Float64))
    )
    teams = (
        found.teams.lazy()
        .join(
            per_player.group_by("period", "team").agg(
                pl.col("dropouts", "dropout_frames", "invalid_frames").sum(),
                pl.col("top_speed_mps").max(),
                identified=pl.col("rows").sum(),
            ),
            on=["period", "team"],
            how="left",
        )
        .with_columns(
            player_id=pl.lit(None, pl.String),
            dropouts=pl.col("dropouts").fill_null(0),
            dropout_frames=pl.col("dropout_frames").fill_null(0),
            invalid_frames=pl.col("invalid_frames").fill_null(0),
        )
    )
    whole = (
        found.whole.lazy()
        .join(
            per_player.group_by("period").agg(
                pl.col("dropouts", "dropout_frames", "invalid_frames").sum(),
                pl.col("top_speed_mps").max(),
                identified=pl.col("rows").sum(),
            ),
            on="period",
            how="left",
        )
        .with_columns(
            team=pl.lit(None, pl.Int8),
            player_id=pl.lit(None, pl.String),
            dropouts=pl.col("dropouts").fill_null(0),
            dropout_frames=pl.col("dropout_frames").fill_null(0),
            invalid_frames=pl.col("invalid_frames").fill_null(0),
        )
    )
    columns = [c for c in MATCH_QUALITY_SCHEMA if c not in ("match_id", "fingerprint")]
    out = pl.concat(
        [
            players.with_columns(identified=pl.col("rows")),
            teams,
            whole,
        ],
        how="diagonal_relaxed",
    ).with_columns(
        minutes_tracked=pl.col("rows") / fps / 60.0,
        dropout_s=pl.col("dropout_frames").cast(pl.Float64) / fps,
        invalid_share=pl.when(pl.col("identified") > 0).then(pl.col("invalid_frames") / pl.col("identified")),
    )
    return (
        out.select(pl.lit(match_id).alias("match_id"), *columns, fingerprint_column(fingerprint))
        .sort("period", "team", "player_id", nulls_last=True)
        .collect()
        .cast(MATCH_QUALITY_SCHEMA)
    )
