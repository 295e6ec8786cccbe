"""The job that materialises every asset of one match (one run per match)."""

import dagster as dg

from footy_assets.orchestration.registry import chain_assets
from footy_assets.orchestration.tags import WHOLE_CHAIN_TAG

match_job = dg.define_asset_job(
    "match_job",
    # the chain only: vendor_exports is launched by hand (dg launch --assets vendor_exports --partition ID)
    selection=dg.AssetSelection.assets(*chain_assets),
    description="Every asset of one match: raw_feed, tracking, frame_state, ball_state, intervals, match_quality, "
    "summaries, matches.",
    # every run of the job, however launched (sensor, schedule, a backfill, dg launch --job): its updates
    # trigger no automation of the assets it writes itself (automation/conditions.py)
    tags={WHOLE_CHAIN_TAG: "true"},
    # one process per run by default (each step is memory-heavy on a full match, and a process per step adds
    # seconds of start-up); a user may ask for {"execution": {"config": {"multiprocess": {"max_concurrent": 2}}}}
    executor_def=dg.multi_or_in_process_executor,
    config={"execution": {"config": {"in_process": {}}}},
)
