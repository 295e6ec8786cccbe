"""Derived layer: frame_state, ball_state, intervals and match_quality, per match, in one step.

The step reads tracking of one match from the lake once, computes with the pure functions of
``footy_assets.core.metrics`` and ``footy_assets.core.quality``, validates each table with its pandera contract and writes
each with one commit replacing the match's rows.
"""

import base64
import time
from dataclasses import dataclass

import dagster as dg
import polars as pl

from footy_assets.orchestration.assets.claim import hold_match
from footy_assets.core.canonical import fingerprint_column
from footy_assets.core.contracts.derived import BallState, FrameState, Intervals, MatchQuality
from footy_assets.lake.store import Lake, unreadable
from footy_assets.lake.matches import raw_feed_record_uri
from footy_assets.orchestration.metadata import markdown_preview, run_stats
from footy_assets.core.metrics import clock
from footy_assets.core.metrics.ball_state import BALL_COLUMNS, BALL_STATE_SCHEMA, PEOPLE_COLUMNS, ball_state_of
from footy_assets.core.metrics.frame_state import (FRAME_STATE_SCHEMA, frame_state_of, is_identified_player,
                                               is_located_ball)
from footy_assets.core.metrics.intervals import catalog_intervals, load_catalog
from footy_assets.core import quality
from footy_assets.orchestration.partitions import ONE_MATCH_PER_RUN, match_partitions, per_match
from footy_assets.lake.publish import NotPublished, input_fingerprint
from footy_assets.core.quality.match_quality import MATCH_QUALITY_SCHEMA, build_match_quality
from footy_assets.core.pictures import picture_aggregates, render_picture
from footy_assets.core.quality import MAX_PLAUSIBLE_SPEED_MPS
from footy_assets.orchestration.resources import LakeResource
from footy_assets.chain.versions import CODE_VERSIONS

GROUP = "metrics"  # the groups in the order data flows: ingest, metrics, summaries, publish, vendor_exports

INTERVALS_SCHEMA: dict[str, pl.DataType] = {
    "match_id": pl.String,
    "definition": pl.String,
    "label": pl.String,
    "column": pl.String,
    "player_id": pl.String,
    "team": pl.Int8,
    "period": pl.Int8,
    "first_frame_id": pl.Int64,
    "last_frame_id": pl.Int64,
    "start_s": pl.Float64,
    "end_s": pl.Float64,
    "period_start_s": pl.Float64,
    "start_period_time_s": pl.Float64,
    "end_period_time_s": pl.Float64,
    "match_minute": pl.Int16,
    "duration_ms": pl.Float64,
    "frames": pl.Int64,
    "peak": pl.Float64,
    "mean": pl.Float64,
    "distance_m": pl.Float64,
    "fingerprint": pl.Categorical,
}


# frame_state's columns read from tracking (match_id is the partition: given, not read)
TRACKING_COLUMNS_USED = ["frame_id", "timestamp_ms", "period", "role", "team", "player_id", "x_m", "y_m"]


def feed_record(lake: Lake, match_id: str) -> dict:
    """What raw_feed recorded of the match's delivery (fps, pitch size, files, ...)."""
    record = lake.read_json(raw_feed_record_uri(lake, match_id))
    if record is None:
        raise dg.Failure(f"{match_id}: raw_feed has not recorded this match: materialise raw_feed/tracking first")
    return record


def picture_uri(lake: Lake, match_id: str, name: str) -> str:
    return lake.join("_pictures", match_id, f"{name}.png")


def read_table(lake: Lake, table: str, match_id: str, fingerprint: str, columns: list[str] | None = None,
               allow_empty: bool = False) -> pl.DataFrame:
    """One delivery's rows of a table (only ``columns``), or a Failure that says what to materialise first.

    ``allow_empty``: an empty result is valid (a derived table of a clip can be empty).
    """
    scan = lake.scan_match(table, match_id, fingerprint)
    if scan is None:
        raise dg.Failure(f"{match_id}: table {table} does not exist yet: materialise {table} first")
    try:
        frame = (scan.select(columns) if columns else scan).collect()
    except Exception as exc:  # a data file missing or damaged: one line naming the table
        raise unreadable(table, exc) from exc
    if frame.height == 0 and not allow_empty:
        raise dg.Failure(f"{match_id}: {table} holds no rows for this match: materialise {table} first")
    return frame


def tracking_scan(lake: Lake, match_id: str, fingerprint: str) -> pl.LazyFrame:
    """A lazy scan of the tracking rows of one delivery of the match, or a Failure that says to materialise
    tracking first."""
    scan = lake.scan_match("tracking", match_id, fingerprint)
    try:
        empty = scan is None or scan.select(pl.len()).collect().item() == 0
    except Exception as exc:  # a data file missing or damaged: one line naming the table
        raise unreadable("tracking", exc) from exc
    if empty:
        what = "table tracking does not exist yet" if scan is None else "tracking holds no rows for this match"
        raise dg.Failure(f"{match_id}: {what}: materialise tracking first")
    return scan


def delivery_of(lake: Lake, match_id: str, tables: list[str]) -> str:
    """The fingerprint of the delivery the step computes from: the current one (what raw_feed recorded last),
    which every input table (and tracking) must hold; a Failure that says what to materialise first."""
    try:
        return input_fingerprint(lake, match_id, list(dict.fromkeys(["tracking", *tables])))
    except NotPublished as exc:
        raise dg.Failure(str(exc)) from None


def _write(lake: Lake, table: str, match_id: str, fingerprint: str, frame: pl.DataFrame, schema: dict) -> int:
    """One delivery's rows of a derived table, beside the published delivery (its own partition)."""
    return lake.write_delivery(table, match_id, fingerprint, frame, schema)


def intervals_table(match_id: str, found: pl.DataFrame, fingerprint: str | None = None,
                    starts: dict[int, int] | None = None) -> pl.DataFrame:
    """The intervals table rows of one match from catalog_intervals' output (empty is valid); ``starts`` is
    {period: start ms} (``clock.starts_from_clock`` of frame_state) for the clock within the period."""
    if found.height == 0:
        return pl.DataFrame(schema=INTERVALS_SCHEMA)
    start_ms = clock.period_start_ms(starts or {}).cast(pl.Float64)
    in_period = (pl.col("start_ms") - start_ms) / 1000
    return found.select(
        match_id=pl.lit(match_id), definition="definition", label="label", column="column", player_id="player_id",
        team="team", period="period", first_frame_id="first_frame_id", last_frame_id="last_frame_id",
        start_s=pl.col("start_ms") / 1000, end_s=pl.col("end_ms") / 1000, period_start_s=start_ms / 1000,
        start_period_time_s=in_period, end_period_time_s=(pl.col("end_ms") - start_ms) / 1000,
        match_minute=clock.match_minute(in_period), duration_ms="duration_ms",
        frames="frames", peak="peak", mean="mean", distance_m="distance_m",
        fingerprint=fingerprint_column(fingerprint),
    ).cast(INTERVALS_SCHEMA)


def _spec(name: str, schema: dict, contract, deps: list[str], kinds: set[str], description: str) -> dg.AssetSpec:
    """The spec of one table of the step: the arguments every per-match asset shares (``per_match``)."""
    shared = per_match(GROUP, CODE_VERSIONS[name], schema, contract)
    return dg.AssetSpec(name, deps=deps, kinds=kinds, description=description, group_name=shared["group_name"],
                        code_version=shared["code_version"], metadata=shared["metadata"],
                        automation_condition=shared["automation_condition"], partitions_def=match_partitions)


BALL_STATE = _spec(
    "ball_state", BALL_STATE_SCHEMA, BallState, ["tracking"], {"polars", "deltalake"},
    "One row per frame with a ball: position, in play, possession team (closest player within 1.5 m, kept "
    "until the other team's).")
FRAME_STATE = _spec(
    "frame_state", FRAME_STATE_SCHEMA, FrameState, ["tracking"], {"polars", "numpy", "deltalake"},
    "One row per identified player or goal keeper per frame: the clock within the period and the match minute, "
    "speed (Savitzky-Golay 9/2 per track segment), whether it can be trusted, acceleration, distance, nearest "
    "opponent, distance to the ball.")
INTERVALS = _spec(
    "intervals", INTERVALS_SCHEMA, Intervals, ["frame_state"], {"polars", "deltalake"},
    "Intervals of the named definitions in footy_assets/core/metrics/interval_catalog.json (sprint, high_speed_run, pressing, "
    "acceleration, deceleration) per player, with their period, clock within the period and match minute.")
MATCH_QUALITY = _spec(
    "match_quality", MATCH_QUALITY_SCHEMA, MatchQuality, ["tracking", "frame_state"], {"polars", "deltalake"},
    "Data quality per period and player, per period and team (player_id null), and per period for the whole "
    "match (team and player_id null): frames tracked, frames without the ball, drop-outs and their length, "
    "invalid speed frames, unidentified share, id_confidence quantiles, positions outside the pitch, top valid "
    "speed. What a club reads to decide whether a match can be trusted.")
FRAME_STATE_CHECKS = [
    dg.AssetCheckSpec("speeds_plausible", asset="frame_state", partitions_def=match_partitions,
                      description=f"No smoothed speed above {MAX_PLAUSIBLE_SPEED_MPS:g} m/s (warning, with the "
                      "worst frames)."),
    dg.AssetCheckSpec("covers_tracking", asset="frame_state", partitions_def=match_partitions, blocking=True,
                      description="One frame_state row for every identified player row of tracking."),
]


@dataclass
class _Inputs:
    """What the step has in memory for one match: tracking's player rows and ball rows (read once for both
    ball_state and frame_state) and frame_state once computed (intervals uses it instead of reading it back)."""

    fingerprint: str
    people: pl.DataFrame | None = None
    ball: pl.DataFrame | None = None
    period_firsts: pl.DataFrame | None = None  # period, its first timestamp_ms in tracking
    state: pl.DataFrame | None = None


@dg.multi_asset(
    specs=[BALL_STATE, FRAME_STATE, INTERVALS, MATCH_QUALITY],
    check_specs=FRAME_STATE_CHECKS,
    partitions_def=match_partitions,
    can_subset=True,
    name="match_metrics",
    backfill_policy=ONE_MATCH_PER_RUN,
)
def match_metrics(context: dg.AssetExecutionContext, lake: LakeResource):
    """ball_state, frame_state, intervals and match_quality of one match in one step: tracking's player and
    ball rows are read once for the first two, and intervals takes frame_state from memory. Any subset can be
    materialised: what the step does not compute is read from the lake. Each table is validated by its
    contract and written by its own commit, in that order; a failure writes nothing after it."""
    match_id = context.partition_key
    hold_match(context, lake.lake)  # one run writes a match at a time, whoever launched it
    wanted = {key.to_user_string() for key in context.selected_asset_keys}
    feed = feed_record(lake.lake, match_id)["feed"]
    # Running the tables at once measured no faster on two cores (polars already uses both) and held more
    # memory: one after the other.
    inputs = _read_tracking(lake.lake, match_id) if wanted & {"frame_state", "ball_state"} else None
    if "ball_state" in wanted:
        yield _write_ball_state(lake.lake, match_id, inputs.fingerprint, *_ball_state_table(inputs))
    if "frame_state" in wanted:
        started = time.perf_counter()
        inputs.state, covers = _frame_state_table(match_id, feed, inputs)
        inputs.people = inputs.ball = None  # done with tracking's rows (peak memory)
        frames = inputs.state["frame_id"].n_unique()
        title = f"{match_id} ({feed['format']}): {frames:,} frames, {feed['fps']} fps"
        png = render_picture(*picture_aggregates(inputs.state), title,
                             (feed["pitch_length_m"], feed["pitch_width_m"]))
        yield from _write_frame_state(lake.lake, match_id, feed, inputs, covers, frames, png, started)
    if "intervals" in wanted:
        yield _write_intervals(lake.lake, match_id, *_intervals_table(lake.lake, match_id, feed, inputs))
    if inputs is not None and inputs.state is not None:
        # match_quality reads all of tracking's rows: only the few frame_state columns it needs are kept (the
        # same buffers, no copy; reading them back from the lake allocated as much again)
        inputs.state = inputs.state.select(_QUALITY_STATE_COLUMNS) if "match_quality" in wanted else None
    if "match_quality" in wanted:
        yield _write_match_quality(lake.lake, match_id, *_match_quality_table(lake.lake, match_id, feed, inputs))


def _read_tracking(lake: Lake, match_id: str) -> _Inputs:
    """Tracking's identified player rows, its located ball rows and each period's first timestamp, read by three
    queries run together (never the whole table in memory)."""
    fingerprint = delivery_of(lake, match_id, ["tracking"])
    scan = tracking_scan(lake, match_id, fingerprint)
    try:
        people, ball, firsts = _collect_tracking(scan)
    except Exception as exc:  # a data file missing or damaged: one line naming the table
        raise unreadable("tracking", exc) from exc
    return _Inputs(fingerprint, people, ball, period_firsts=firsts)


def _collect_tracking(scan: pl.LazyFrame) -> list[pl.DataFrame]:
    return pl.collect_all([
        scan.filter(is_identified_player()).select(TRACKING_COLUMNS_USED),
        scan.filter(is_located_ball()).select(BALL_COLUMNS),
        scan.group_by("period").agg(pl.col("timestamp_ms").min()),
    ])


def _frame_state_table(match_id: str, feed: dict, inputs: _Inputs) -> tuple[pl.DataFrame, tuple]:
    starts = clock.period_starts(inputs.period_firsts, feed.get("period_start_ms"))
    frame = frame_state_of(inputs.people, inputs.ball.select("frame_id", "x_m", "y_m"), starts, int(feed["fps"]),
                           inputs.fingerprint, match_id)
    return frame, quality.frame_state_covers(frame.height, inputs.people.height)


def _write_frame_state(lake: Lake, match_id: str, feed: dict, inputs: _Inputs, covers: tuple, frames: int, png: bytes,
                       started: float):
    fps = int(feed["fps"])
    frame = FrameState.validate(inputs.state)
    if not covers[0]:  # audited before the commit: a blocking check that fails writes nothing
        yield dg.AssetCheckResult(asset_key="frame_state", check_name="covers_tracking", passed=False,
                                  metadata=covers[1])
        raise dg.Failure(f"{match_id}: frame_state refused, nothing written: check covers_tracking failed "
                         f"({covers[1]})")
    version = _write(lake, "frame_state", match_id, inputs.fingerprint, frame, FRAME_STATE_SCHEMA)
    passed, metadata = quality.speeds_plausible(frame)
    picture = picture_uri(lake, match_id, "frame_state")
    lake.write_bytes_atomic(picture, png)
    yield dg.MaterializeResult(asset_key="frame_state", check_results=[
        dg.AssetCheckResult(asset_key="frame_state", check_name="speeds_plausible", passed=passed,
                            metadata=metadata, severity=dg.AssetCheckSeverity.WARN),
        dg.AssetCheckResult(asset_key="frame_state", check_name="covers_tracking", passed=covers[0],
                            metadata=covers[1]),
    ], metadata={
        # first in the list: Dagster shows markdown inline only under 1,000 characters, so a picture is one
        # click away ([Show Markdown]); the PNG's path is next to it
        "match_picture": dg.MetadataValue.md(
            f"![average positions and speed per half](data:image/png;base64,{base64.b64encode(png).decode()})"),
        "match_picture_file": dg.MetadataValue.path(picture),
        "dagster/row_count": frame.height,
        "frames": frames,
        "players": frame["player_id"].n_unique(),
        "fps": fps,
        "top_speed_mps": float(frame.select(pl.col("speed_mps").filter(pl.col("valid")).max()).item() or 0.0),
        "invalid_frames": int((~frame["valid"]).sum()),
        "fingerprint": inputs.fingerprint,
        "delta_version": version,
        **run_stats(started),
        "preview": markdown_preview(frame),
    })


def _ball_state_table(inputs: _Inputs) -> tuple[pl.DataFrame, float]:
    started = time.perf_counter()
    frame = ball_state_of(inputs.ball, inputs.people.select(PEOPLE_COLUMNS), inputs.fingerprint)
    return BallState.validate(frame), started


def _write_ball_state(lake: Lake, match_id: str, fingerprint: str, frame: pl.DataFrame, started: float
                      ) -> dg.MaterializeResult:
    version = _write(lake, "ball_state", match_id, fingerprint, frame, BALL_STATE_SCHEMA)
    share = frame.filter(pl.col("possession_team").is_not_null())["possession_team"]
    return dg.MaterializeResult(asset_key="ball_state", metadata={
        "dagster/row_count": frame.height,
        "in_play_share": round(float(frame["in_play"].mean() or 0.0), 4),
        "home_possession_share": round(float((share == 0).mean()), 4) if share.len() else None,
        "delta_version": version,
        **run_stats(started),
        "preview": markdown_preview(frame),
    })


_QUALITY_STATE_COLUMNS = ["frame_id", "period", "team", "player_id", "valid", "speed_mps", "ball_dist_m"]


def _intervals_state_columns() -> list[str]:
    return sorted({"player_id", "team", "period", "period_time_s", "frame_id", "timestamp_ms", "distance_m", "valid"}
                  | {d.column for d in load_catalog()})


def _frame_state_columns(lake: Lake, match_id: str, inputs: _Inputs | None, columns: list[str]
                         ) -> tuple[pl.DataFrame, str]:
    """frame_state's ``columns`` of the match and the delivery they come from: from memory when this step
    computed it, else read from the lake (its fingerprint must agree with tracking's)."""
    if inputs is not None and inputs.state is not None:
        return inputs.state.select(columns), inputs.fingerprint
    fingerprint = delivery_of(lake, match_id, ["frame_state"])
    return read_table(lake, "frame_state", match_id, fingerprint, columns=columns, allow_empty=True), fingerprint


def _intervals_table(lake: Lake, match_id: str, feed: dict, inputs: _Inputs | None
                     ) -> tuple[str, pl.DataFrame, float]:
    started = time.perf_counter()
    catalog = load_catalog()
    state, fingerprint = _frame_state_columns(lake, match_id, inputs, _intervals_state_columns())
    starts = clock.starts_from_clock(state)
    found = catalog_intervals(state, int(feed["fps"]), catalog)
    return fingerprint, Intervals.validate(intervals_table(match_id, found, fingerprint, starts)), started


def _write_intervals(lake: Lake, match_id: str, fingerprint: str, frame: pl.DataFrame, started: float
                     ) -> dg.MaterializeResult:
    version = _write(lake, "intervals", match_id, fingerprint, frame, INTERVALS_SCHEMA)
    counts = dict(frame.group_by("definition").len().iter_rows()) if frame.height else {}
    return dg.MaterializeResult(asset_key="intervals", metadata={
        "dagster/row_count": frame.height,
        **{f"count_{d.name}": int(counts.get(d.name, 0)) for d in load_catalog()},
        "delta_version": version,
        **run_stats(started),
    })


def _match_quality_table(lake: Lake, match_id: str, feed: dict, inputs: _Inputs | None
                         ) -> tuple[str, pl.DataFrame, float]:
    started = time.perf_counter()
    state, fingerprint = _frame_state_columns(lake, match_id, inputs, _QUALITY_STATE_COLUMNS)
    tracking = read_table(lake, "tracking", match_id, fingerprint, columns=[
        "frame_id", "period", "role", "team", "player_id", "x_m", "y_m", "id_confidence"])
    frame = build_match_quality(tracking, state, int(feed["fps"]), (feed["pitch_length_m"], feed["pitch_width_m"]),
                                match_id, fingerprint)
    return fingerprint, MatchQuality.validate(frame), started


def _write_match_quality(lake: Lake, match_id: str, fingerprint: str, frame: pl.DataFrame, started: float
                         ) -> dg.MaterializeResult:
    version = _write(lake, "match_quality", match_id, fingerprint, frame, MATCH_QUALITY_SCHEMA)
    whole = frame.filter(pl.col("team").is_null() & pl.col("player_id").is_null())  # one row per period
    unidentified = (whole["unidentified_share"] * whole["rows"]).sum() / max(int(whole["rows"].sum()), 1)
    return dg.MaterializeResult(asset_key="match_quality", metadata={
        "dagster/row_count": frame.height,
        "invalid_frames": int(whole["invalid_frames"].sum()),
        "dropouts": int(whole["dropouts"].sum()),
        "unidentified_share": round(float(unidentified), 4),
        "delta_version": version,
        **run_stats(started),
        "preview": markdown_preview(frame),
    })


derived_assets = [match_metrics]
