"""The one Definitions object that ``dagster dev`` and ``dg`` load."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from footy_assets.assets.derived import derived_assets
from footy_assets.assets.ingest import ingest_assets
from footy_assets.assets.summaries import summary_assets
from footy_assets.automation.jobs import match_job
from footy_assets.automation.schedule import stale_backfill_schedule
from footy_assets.automation.sensor import landing_sensor
from footy_assets.resources import LakeResource

all_assets = [*ingest_assets, *derived_assets, *summary_assets]

# DuckDB works in memory: the SQL models read the lake's Delta tables through Arrow datasets.
RESOURCES = {"lake": LakeResource(), "duckdb": DuckDBResource(database=":memory:")}

defs = dg.Definitions(
    assets=all_assets,
    jobs=[match_job],
    sensors=[landing_sensor],
    schedules=[stale_backfill_schedule],
    resources=RESOURCES,
)
