"""The nightly backfill: every match that is missing from the lake or stale, one match per run.

It uses the same decision as ``footy-assets materialize`` (``pipeline.plan_matches``): new, changed or
stale (code versions moved, e.g. a new smoother) matches are run; a match whose event data alone changed runs the
assets that depend on it alone; unchanged ones are not. The cron comes
from ``FOOTY_BACKFILL_CRON`` (default 03:00 every night).

Each night it also re-hashes the files of a rolling share of the landed matches (chosen by match_id, every
match once in ``FOOTY_VERIFY_EVERY_DAYS`` nights, default 7; 0 turns it off): planning otherwise trusts an
unchanged size and modification time, which a same-size change with its old time restored keeps.
"""

import os
from datetime import datetime

import dagster as dg

from footy_assets.chain.planning import plan_matches, verified_on
from footy_assets.lake.store import Lake
from footy_assets.orchestration.automation.jobs import match_job
from footy_assets.orchestration.automation.sensor import match_run_request
from footy_assets.orchestration.partitions import MATCH_PARTITIONS_NAME
from footy_assets.orchestration.resources import LakeResource

BACKFILL_CRON = os.environ.get("FOOTY_BACKFILL_CRON", "0 3 * * *")


def backfill_requests(
    lake: Lake, instance: dg.DagsterInstance, when: datetime | None = None
) -> tuple[list[dg.RunRequest], list[str]]:
    """Run requests for every match that needs work, and partitions for landed matches not registered yet.
    Tonight's share of the matches (``verified_on``) has its files hashed again."""
    plans = plan_matches(lake, rehash=verified_on((when or datetime.now()).date()))
    known = set(instance.get_dynamic_partitions(MATCH_PARTITIONS_NAME))
    usable = [p.match_id for p in plans if p.status != "refused"]
    missing = sorted(set(usable) - known)
    stamp = (when or datetime.now()).strftime("%Y%m%d")
    requests = [
        match_run_request(p.match_id, p.status, p.delivery, "backfill", f"backfill:{stamp}:{p.match_id}:{p.delivery}")
        for p in plans
        if p.needs_work
    ]
    return requests, missing


@dg.schedule(
    job=match_job,
    cron_schedule=BACKFILL_CRON,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Nightly: materialise every landed match that is missing or stale, one match per run.",
)
def stale_backfill_schedule(context: dg.ScheduleEvaluationContext, lake: LakeResource):
    requests, missing = backfill_requests(lake.lake, context.instance, context.scheduled_execution_time)
    if missing:
        context.instance.add_dynamic_partitions(MATCH_PARTITIONS_NAME, missing)
    if not requests:
        return dg.SkipReason("every landed match is up to date")
    return requests
