"""The job that materialises every asset of one match (one run per match)."""

import dagster as dg

from footy_assets.partitions import match_partitions

MATCH_TAG = "footy_assets/match"

match_job = dg.define_asset_job(
    "match_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("vendor_exports"),
    partitions_def=match_partitions,
    description="Every asset of one match: raw_feed, tracking, frame_state, ball_state, intervals, summaries, matches.",
)
