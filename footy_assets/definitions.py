"""The one Definitions object that ``dagster dev`` and ``dg`` load."""

import dagster as dg

from footy_assets.orchestration.automation.jobs import match_job
from footy_assets.orchestration.automation.schedule import stale_backfill_schedule
from footy_assets.orchestration.automation.sensor import automation_sensor, dead_cli_runs_sensor, landing_sensor
from footy_assets.orchestration.automation.upkeep import lake_upkeep_job, upkeep_schedule
from footy_assets.orchestration.registry import RESOURCES, all_assets

defs = dg.Definitions(
    assets=all_assets,
    jobs=[match_job, lake_upkeep_job],
    sensors=[landing_sensor, automation_sensor, dead_cli_runs_sensor],
    schedules=[stale_backfill_schedule, upkeep_schedule],
    resources=RESOURCES,
    # A match's steps run one after the other in one process: each is memory-heavy on a full match, and a
    # process per step would add seconds of start-up to every run.
    executor=dg.in_process_executor,
)

__all__ = ["RESOURCES", "all_assets", "defs"]
