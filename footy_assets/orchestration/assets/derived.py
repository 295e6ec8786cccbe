"""Derived layer: frame_state, ball_state, intervals and match_quality, per match, in one step.

The step claims the match, has ``footy_assets.chain.metrics`` compute each table (read tracking once, compute with
the pure functions of ``footy_assets.core``, validate by the table's contract, check) and writes each with one
commit beside the published delivery, reporting what it wrote and found.
"""

import base64
import time

import dagster as dg

from footy_assets.chain import checks
from footy_assets.chain.inputs import picture_uri
from footy_assets.chain.metrics import INTERVALS_SCHEMA, Computed, MetricsStep
from footy_assets.core.contracts.derived import BallState, FrameState, Intervals, MatchQuality
from footy_assets.core.metrics.ball_state import BALL_STATE_SCHEMA
from footy_assets.core.metrics.frame_state import FRAME_STATE_SCHEMA
from footy_assets.core.pictures import fitted_svg
from footy_assets.core.quality.match_quality import MATCH_QUALITY_SCHEMA
from footy_assets.lake.store import Lake
from footy_assets.orchestration.assets.claim import hold_match
from footy_assets.orchestration.assets.results import check_result, check_specs, inputs_ready
from footy_assets.orchestration.metadata import markdown_preview, run_stats, tidy
from footy_assets.orchestration.partitions import ONE_MATCH_PER_RUN, match_partitions, per_match_spec
from footy_assets.orchestration.resources import LakeResource

GROUP = "metrics"  # the groups in the order data flows: ingest, metrics, summaries, publish, vendor_exports

SCHEMAS = {
    "ball_state": BALL_STATE_SCHEMA,
    "frame_state": FRAME_STATE_SCHEMA,
    "intervals": INTERVALS_SCHEMA,
    "match_quality": MATCH_QUALITY_SCHEMA,
}


def _spec(name: str, schema: dict, contract, deps: list[str], kinds: set[str], description: str) -> dg.AssetSpec:
    return per_match_spec(name, GROUP, schema, contract, deps, kinds, description)


BALL_STATE = _spec(
    "ball_state",
    BALL_STATE_SCHEMA,
    BallState,
    ["tracking"],
    {"polars", "deltalake"},
    "One row per frame with a ball: position, in play, possession team (closest player within 1.5 m, kept "
    "until the other team's).",
)
FRAME_STATE = _spec(
    "frame_state",
    FRAME_STATE_SCHEMA,
    FrameState,
    ["tracking"],
    {"polars", "numpy", "deltalake"},
    "One row per identified player or goal keeper per frame: the clock within the period and the match minute, "
    "speed (Savitzky-Golay 9/2 per track segment), whether it can be trusted, acceleration, distance, nearest "
    "opponent, distance to the ball.",
)
INTERVALS = _spec(
    "intervals",
    INTERVALS_SCHEMA,
    Intervals,
    ["frame_state"],
    {"polars", "deltalake"},
    "Intervals of the named definitions in footy_assets/core/metrics/interval_catalog.json (sprint, high_speed_run, pressing, "  # noqa: E501
    "acceleration, deceleration) per player, with their period, clock within the period and match minute.",
)
MATCH_QUALITY = _spec(
    "match_quality",
    MATCH_QUALITY_SCHEMA,
    MatchQuality,
    ["tracking", "frame_state"],
    {"polars", "deltalake"},
    "Data quality per period and player, per period and team (player_id null), and per period for the whole "
    "match (team and player_id null): frames tracked, frames without the ball, drop-outs and their length, "
    "invalid speed frames, unidentified share, id_confidence quantiles, positions outside the pitch, top valid "
    "speed. What a club reads to decide whether a match can be trusted.",
)
FRAME_STATE_CHECKS = check_specs(checks.FRAME_STATE_CHECKS)


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
    with inputs_ready():
        step = MetricsStep(lake.lake, match_id, wanted)
        if "ball_state" in wanted:
            yield _published(lake.lake, step.ball_state())
        if "frame_state" in wanted:
            yield from _frame_state_published(lake.lake, step.frame_state())
        if "intervals" in wanted:
            yield _published(lake.lake, step.intervals(), preview=False)
        if "match_quality" in wanted:
            yield _published(lake.lake, step.match_quality())


def _write(lake: Lake, table: Computed) -> int:
    """One delivery's rows of a derived table, beside the published delivery (its own partition)."""
    return lake.write_delivery(table.table, table.match_id, table.fingerprint, table.frame, SCHEMAS[table.table])


def _metadata(table: Computed, version: int, preview: bool = True, write_seconds: float | None = None) -> dict:
    """What every table of the step reports: its rows, its facts, the commit, the time and memory it took."""
    return {
        "dagster/row_count": table.frame.height,
        **tidy(table.facts),
        "delta_version": version,
        **({"write_seconds": round(write_seconds, 3)} if write_seconds is not None else {}),
        **run_stats(table.started),
        **({"preview": markdown_preview(table.frame, table.table)} if preview else {}),
    }


def _published(lake: Lake, table: Computed, preview: bool = True) -> dg.MaterializeResult:
    started = time.perf_counter()
    version = _write(lake, table)
    written = time.perf_counter() - started
    return dg.MaterializeResult(asset_key=table.table, metadata=_metadata(table, version, preview, written))


def _frame_state_published(lake: Lake, table: Computed):
    """frame_state's checks, refusing it before its commit when a blocking one fails; else its commit, its
    picture, and the checks' results with its materialisation."""
    if table.refused:
        yield from (check_result(found) for found in table.refused)
        raise dg.Failure(table.refusal_message())
    started = time.perf_counter()
    version = _write(lake, table)
    written = time.perf_counter() - started
    picture = picture_uri(lake, table.match_id, "frame_state")
    lake.write_bytes_atomic(picture, table.picture)
    # an SVG sized to Dagster's metadata window around the PNG: the PNG's own 1,280 px were cut at the window's edge
    svg = base64.b64encode(fitted_svg(table.picture)).decode()
    metadata = {
        # first in the list: Dagster shows markdown inline only under 1,000 characters, so a picture is one
        # click away ([Show Markdown]); the PNG's path is next to it
        "match_picture": dg.MetadataValue.md(
            f"![average positions and speed per half](data:image/svg+xml;base64,{svg})"
        ),
        "match_picture_file": dg.MetadataValue.path(picture),
        **_metadata(table, version, write_seconds=written),
    }
    yield dg.MaterializeResult(
        asset_key="frame_state", metadata=metadata, check_results=[check_result(found) for found in table.checks]
    )


derived_assets = [match_metrics]
