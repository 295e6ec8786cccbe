"""The assets and resources of footy_assets, without a Definitions object.

``definitions.py`` assembles these into the one Definitions object for ``dagster dev`` and ``dg``; the
command line materialises the same assets in-process from here (building a Definitions object inside a
run is not needed and ties it to whichever instance was current when it was first built).
"""

from dagster_duckdb import DuckDBResource

from footy_assets.orchestration.assets.derived import derived_assets
from footy_assets.orchestration.assets.events import events_assets
from footy_assets.orchestration.assets.exports import export_assets
from footy_assets.orchestration.assets.ingest import ingest_assets
from footy_assets.orchestration.assets.summaries import summary_assets
from footy_assets.orchestration.automation.conditions import with_chain_condition
from footy_assets.orchestration.resources import LakeResource

# a match's chain (what materialize, the sensor's runs and backfills compute) and everything Dagster serves; the
# chain's automation is eager, leaving out the updates of whole-chain runs (automation/conditions.py)
chain_assets = with_chain_condition([*ingest_assets, *derived_assets, *events_assets, *summary_assets])
all_assets = [*chain_assets, *export_assets]

# DuckDB works in memory: the SQL models read the lake's Delta tables through Arrow datasets.
RESOURCES = {"lake": LakeResource(), "duckdb": DuckDBResource(database=":memory:")}
