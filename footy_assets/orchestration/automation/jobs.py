"""The job that materialises every asset of one match (one run per match)."""

import dagster as dg

from footy_assets.orchestration.partitions import match_partitions

match_job = dg.define_asset_job(
    "match_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("vendor_exports"),
    partitions_def=match_partitions,
    description="Every asset of one match: raw_feed, tracking, frame_state, ball_state, intervals, summaries, matches.",
    # one process per run by default (each step is memory-heavy on a full match, and a process per step adds
    # seconds of start-up); a user may ask for {"execution": {"config": {"multiprocess": {"max_concurrent": 2}}}}
    executor_def=dg.multi_or_in_process_executor,
    config={"execution": {"config": {"in_process": {}}}},
)
