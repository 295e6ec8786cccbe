"""Event data: the ``events`` and ``lineups`` tables of one match in one step (``footy_assets.chain.events``): the
delivery's CDF event data and match sheet read, each event synchronised with the match's tracking, validated by its
contract, checked, and written by its own commit beside the published delivery. A match delivered without event
data gets no rows."""

import dagster as dg

from footy_assets.chain import checks
from footy_assets.chain.events import EVENTS_SCHEMA, LINEUPS_SCHEMA, PREVIEW_ROWS, EventsStep
from footy_assets.chain.metrics import Computed
from footy_assets.core.contracts.events import Events, Lineups
from footy_assets.formats.common import FeedError
from footy_assets.lake.store import Lake
from footy_assets.orchestration.assets.claim import hold_match
from footy_assets.orchestration.assets.results import check_result, check_specs, inputs_ready
from footy_assets.orchestration.metadata import markdown_preview, run_stats, tidy
from footy_assets.orchestration.partitions import ONE_MATCH_PER_RUN, match_partitions, per_match_spec
from footy_assets.orchestration.resources import LakeResource

GROUP = "metrics"  # computed from tracking beside the other metrics; the summaries and matches come after
SCHEMAS = {"events": EVENTS_SCHEMA, "lineups": LINEUPS_SCHEMA}


def _spec(name: str, contract, description: str) -> dg.AssetSpec:
    return per_match_spec(name, GROUP, SCHEMAS[name], contract, ["tracking"], {"polars", "deltalake"}, description)


EVENTS = _spec(
    "events",
    Events,
    "One row per delivered event (CDF events.jsonl: in the match's CDF folder or in "
    "landing/events/<match_id>/), with the tracking frame where it happened (frame_id, frame_id_end), "
    "the sync's score and status, the clock offset removed and the actor's and the ball's positions at "
    "that frame. No rows for a match delivered without event data.",
)
LINEUPS = _spec(
    "lineups",
    Lineups,
    "One row per person on the match sheet (CDF match.json): players with names, "
    "jersey, position, starter, minutes on and off, goals and cards; coaches and officials with their "
    "role. No rows for a match delivered without a match sheet.",
)


@dg.multi_asset(
    specs=[EVENTS, LINEUPS],
    check_specs=check_specs(checks.EVENTS_CHECKS),
    partitions_def=match_partitions,
    can_subset=True,
    name="match_events",
    backfill_policy=ONE_MATCH_PER_RUN,
)
def match_events(context: dg.AssetExecutionContext, lake: LakeResource):
    """events and lineups of one match from one read of its event data as landed now; any subset can be
    materialised. Their rows go beside the published ones under the fingerprint of the tracking and the event data
    together; the event delivery is recorded once they are written (the summaries and matches work on it)."""
    match_id = context.partition_key
    hold_match(context, lake.lake)  # one run writes a match at a time, whoever launched it
    wanted = {key.to_user_string() for key in context.selected_asset_keys}
    with inputs_ready():
        try:
            step = EventsStep(lake.lake, match_id)
            if "events" in wanted:
                table = step.events()
                yield _published(
                    lake.lake,
                    table,
                    check_results=[check_result(found) for found in table.checks],
                    # first: Dagster shows markdown inline only while it is short; the table is one click away
                    preview={"events_preview": markdown_preview(step.preview, rows=PREVIEW_ROWS)},
                )
            if "lineups" in wanted:
                table = step.lineups()
                yield _published(lake.lake, table, preview={"preview": markdown_preview(table.frame, "lineups")})
            # recorded once both tables hold it: a run of one of them alone must not move the summaries and
            # matches on to a delivery the other table lacks
            if all(step.fingerprint in lake.lake.deliveries(t, match_id) for t in {"events", "lineups"} - wanted):
                step.record_delivery()
            else:
                context.log.info(f"{match_id}: event delivery not recorded until events and lineups both hold it")
        except FeedError as exc:  # the event data cannot be read, or the tracking changed since (one line)
            raise dg.Failure(str(exc)) from None


def _published(lake: Lake, table: Computed, check_results=(), preview: dict | None = None) -> dg.MaterializeResult:
    version = lake.write_delivery(table.table, table.match_id, table.fingerprint, table.frame, SCHEMAS[table.table])
    return dg.MaterializeResult(
        asset_key=table.table,
        check_results=list(check_results),
        metadata={
            **(preview or {}),
            "dagster/row_count": table.frame.height,
            **{
                k: (dg.MetadataValue.json(v) if isinstance(v, dict) else v)
                for k, v in tidy(table.facts).items()
                if v is not None
            },
            "delta_version": version,
            **run_stats(table.started),
        },
    )


events_assets = [match_events]
