"""Ingest layer: a landed delivery -> validated vendor rows -> canonical ``tracking`` -> ``matches``.

Each asset is partitioned by match and writes its own table, one commit replacing the match's rows each
time. A failure anywhere before a commit leaves the stored rows of the match exactly as they were.
"""

import json
import time

import dagster as dg

from footy_assets.chain import checks, handover
from footy_assets.chain.audit import audited
from footy_assets.chain.checks import refusal_message
from footy_assets.chain.metrics import TRACKING_COLUMNS_READ
from footy_assets.chain.publishing import matches_row, publish
from footy_assets.chain.versions import CODE_VERSIONS
from footy_assets.core.canonical import TRACKING_SCHEMA
from footy_assets.core.contracts.matches import Matches
from footy_assets.core.contracts.tracking import Tracking
from footy_assets.lake.landing import find_match
from footy_assets.lake.matches import MATCHES_SCHEMA, raw_feed_record, raw_feed_record_uri
from footy_assets.lake.publish import PER_MATCH_TABLES
from footy_assets.lake.store import Lake
from footy_assets.orchestration.assets.claim import hold_match, release_match
from footy_assets.orchestration.assets.results import check_result, check_specs, inputs_ready
from footy_assets.orchestration.metadata import column_schema, markdown_preview, run_stats
from footy_assets.orchestration.partitions import ONE_MATCH_PER_RUN, match_partitions, per_match
from footy_assets.orchestration.resources import LakeResource

GROUP = "ingest"
PUBLISH_GROUP = "publish"  # matches, written last: its group comes after metrics and summaries in the lineage


RAW_FEED = dg.AssetSpec(
    "raw_feed",
    group_name=GROUP,
    code_version=CODE_VERSIONS["raw_feed"],
    kinds={"python", "json"},
    description="The landed files of a match: format, names, sizes, sha256 fingerprint of the tracking files (its "
    "data version) and of the tracking and event files together, "
    "parsed and validated against the vendor's schema. Recorded in <lake>/_raw_feed/<match_id>.json.",
)
TRACKING = dg.AssetSpec(
    "tracking",
    group_name=GROUP,
    deps=["raw_feed"],
    code_version=CODE_VERSIONS["tracking"],
    kinds={"polars", "deltalake"},
    metadata={"dagster/column_schema": column_schema(TRACKING_SCHEMA, Tracking), "partition_column": "match_id"},
    description="Canonical tracking: one row per object per frame, metres from the centre spot, home "
    "attacking +x in every period, from whichever vendor format the match was delivered in.",
)


TRACKING_CHECKS = check_specs(checks.TRACKING_CHECKS)


@dg.multi_asset(
    specs=[RAW_FEED, TRACKING],
    check_specs=TRACKING_CHECKS,
    partitions_def=match_partitions,
    can_subset=False,
    name="ingest_match",
    backfill_policy=ONE_MATCH_PER_RUN,
)
def ingest_match(context: dg.AssetExecutionContext, lake: LakeResource):
    """raw_feed and tracking come from one read of the delivery (parsing a full match twice would double
    the cost). Write-audit-publish: the delivery is audited in memory — vendor schema,
    canonical contract, every blocking check — before anything of it is written; a refused delivery leaves
    the match's stored rows and its raw_feed record exactly as they were."""
    started = time.perf_counter()
    match_id = context.partition_key
    landed = find_match(lake.lake, match_id)
    context.log.info(f"{match_id}: {landed.format}, {len(landed.files)} file(s), {landed.total_bytes:,} bytes")
    audit = audited(lake.lake, landed)  # read, contract and checks (done ahead by the CLI for its first match)
    # the delivery as read: a file written to since it was hashed above is published as parsed
    landed, info = audit.landed, audit.info
    frame = audit.take_tracking()  # the frame is held here only (peak memory)
    results = [check_result(found) for found in audit.checks]
    if audit.refused:
        yield from results  # recorded against the partition, so the UI shows why
        raise dg.Failure(
            refusal_message(match_id, info.files, audit.refused[0]),
            metadata={"refused_by": [found.name for found in audit.refused]},
        )
    validated = time.perf_counter()
    try:
        hold_match(context, lake.lake)  # one run writes a match at a time, whoever launched it
        # the new delivery goes beside the published one (its own partition): readers see the old one until
        # matches publishes the new one; rows written ahead (the CLI's first match) only need their commit
        version = lake.lake.write_delivery(
            "tracking", match_id, landed.fingerprint, frame, TRACKING_SCHEMA, staged=audit.staged
        )
    finally:
        audit.release()  # a file written ahead and not committed (the match busy, a failed write) goes
    if _metrics_in_run(context):  # the run's metrics step takes these rows instead of reading them back
        handover.leave(lake.lake, match_id, landed.fingerprint, frame.select(TRACKING_COLUMNS_READ))
    # recorded after tracking's commit: the rest of the chain works on the delivery this record names
    record = raw_feed_record(landed, info, audit.counts)
    lake.lake.write_bytes_atomic(raw_feed_record_uri(lake.lake, match_id), json.dumps(record, indent=1).encode())
    yield dg.MaterializeResult(
        asset_key="raw_feed",
        metadata={
            "format": landed.format,
            "files": dg.MetadataValue.json(record["files"]),
            "fingerprint": landed.fingerprint,
            "events_fingerprint": landed.events_fingerprint,
            "landed_bytes": landed.total_bytes,
            "vendor_rows": info.vendor_rows,
            "fps": info.fps,
            "frames_outside_play": info.frames_outside_play,
            "seconds": round(audit.read_seconds, 3),
        },
        data_version=dg.DataVersion(landed.fingerprint),
    )
    written = time.perf_counter()
    yield dg.MaterializeResult(
        asset_key="tracking",
        metadata={
            "dagster/row_count": frame.height,
            **audit.facts,
            "delta_version": version,
            "read_seconds": round(audit.read_seconds, 3),
            "validate_seconds": round(audit.validate_seconds, 3),
            "write_seconds": round(written - validated, 3),
            # the Parquet file written ahead, while Dagster started (then write_seconds is its commit)
            **({"write_ahead_seconds": round(audit.stage_seconds, 3)} if audit.stage_seconds is not None else {}),
            **run_stats(started),
            "preview": markdown_preview(frame, "tracking"),
        },
    )
    yield from results


def _metrics_in_run(context: dg.AssetExecutionContext) -> bool:
    """Whether this run materialises ball_state or frame_state (the step that reads tracking's rows). Only a run
    whose steps share a process (the command line's, an in-process job's) takes the rows; in a multiprocess run
    they go with the ingest step's process when it ends."""
    selection = context.run.asset_selection or context.job_def.asset_layer.executable_asset_keys
    return bool({dg.AssetKey("ball_state"), dg.AssetKey("frame_state")} & set(selection))


@dg.asset(
    **per_match(PUBLISH_GROUP, CODE_VERSIONS["matches"], MATCHES_SCHEMA, Matches),
    # written last in a match's chain: its row publishes the delivery every table of the match holds
    deps=list(PER_MATCH_TABLES),
    kinds={"polars", "deltalake"},
    description="One row per match: format, fps, pitch, periods, frames outside play, fingerprints of the "
    "landed tracking files and of the tracking and event files together, row counts and the code versions that "
    "produced it. Written last in a match's chain, and only when every table of the match holds its delivery: "
    "the publish marker.",
)
def matches(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    hold_match(context, lake.lake)
    try:
        return _publish(context, lake.lake)
    finally:
        release_match(context, lake.lake)  # the chain's last step: the match is free for the next writer


def _publish(context: dg.AssetExecutionContext, lake: Lake) -> dg.MaterializeResult:
    started = time.perf_counter()
    match_id = context.partition_key
    with inputs_ready():
        record, row = matches_row(lake, match_id)
    version, dropped = publish(lake, match_id, row)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": 1,
            "fingerprint": record["fingerprint"],
            "events_fingerprint": row["events_fingerprint"][0],
            "frames": int(row["frames"][0]),
            "rows": int(row["rows"][0]),
            "delta_version": version,
            "superseded_dropped": sum(len(v) for v in dropped.values()),
            **run_stats(started),
        }
    )


ingest_assets = [ingest_match, matches]
