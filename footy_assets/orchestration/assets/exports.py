"""The vendor_exports asset: a published match written back out as CDF, the tracking download and (for
footy_track matches) MOT CSV, into ``<lake>/_exports/<match_id>/<format>/``.

Not part of a match's chain and not automated: launch it per partition from the UI (or with ``dg launch
--assets vendor_exports --partition ID``) when a club wants the files; ``footy-assets export`` does the same
from the command line, anywhere.
"""

import time

import dagster as dg

from footy_assets.lake.exports import ExportError, export_match, published_match
from footy_assets.orchestration.metadata import run_stats
from footy_assets.orchestration.partitions import per_match
from footy_assets.orchestration.resources import LakeResource

GROUP = "vendor_exports"  # after publish: exports read the published match; not in match_job


@dg.asset(
    **per_match(GROUP, "1", automation_condition=None),
    deps=["matches"],
    kinds={"polars", "parquet", "json"},
    description="The published match as CDF v0.3.2 (tracking.jsonl + meta.json, and events.jsonl + match.json "
    "where it has event data), the vendor's tracking download "
    "(tracking.parquet) and, for footy_track matches, MOT CSV, in <lake>/_exports/<match_id>/<format>/. Launched "
    "by hand per match.",
)
def vendor_exports(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    started = time.perf_counter()
    match_id = context.partition_key
    _, match = published_match(lake.lake, match_id)
    formats = ["cdf", "tracking_download", *(["mot"] if match["format"] == "footy_track" else [])]
    written, skipped = {}, {}
    for fmt in formats:
        try:
            written[fmt] = export_match(
                lake.lake, match_id, fmt, lake.lake.join("_exports", match_id, fmt), overwrite=True
            )  # its own folder, replaced at each run
        except ExportError as exc:  # e.g. no pitch positions: that format does not apply
            skipped[fmt] = str(exc)
    return dg.MaterializeResult(
        metadata={
            **{f"{fmt}_files": dg.MetadataValue.json(files) for fmt, files in written.items()},
            **({"skipped": dg.MetadataValue.json(skipped)} if skipped else {}),
            **run_stats(started),
        }
    )


export_assets = [vendor_exports]
