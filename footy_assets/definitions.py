"""The one Definitions object that ``dagster dev`` and ``dg`` load."""

import dagster as dg

from footy_assets.assets.ingest import ingest_assets
from footy_assets.resources import LakeResource

all_assets = [*ingest_assets]

defs = dg.Definitions(
    assets=all_assets,
    resources={"lake": LakeResource()},
)
