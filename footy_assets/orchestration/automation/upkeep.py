"""The weekly table upkeep in Dagster: a job of one op (compaction, checkpoints, vacuum of every table) and
its schedule (Sunday 04:00; ``FOOTY_UPKEEP_CRON`` to change, ``FOOTY_VACUUM_RETENTION_HOURS`` for the
retention). The same as ``footy-assets upkeep``."""

import os

import dagster as dg

from footy_assets.lake.upkeep import DEFAULT_RETENTION_HOURS, upkeep_lake
from footy_assets.orchestration.resources import LakeResource

UPKEEP_CRON = os.environ.get("FOOTY_UPKEEP_CRON", "0 4 * * 0")


class UpkeepConfig(dg.Config):
    retention_hours: int = DEFAULT_RETENTION_HOURS


@dg.op(description="Compact match partitions with several files, checkpoint and vacuum every table of the lake.")
def lake_upkeep(context: dg.OpExecutionContext, config: UpkeepConfig, lake: LakeResource) -> dg.Output:
    from footy_assets.orchestration.assets.claim import holder_is_live

    reports = upkeep_lake(
        lake.lake,
        config.retention_hours,  # the short-retention warning as a warning
        progress=lambda s: (context.log.warning if s.startswith("warning:") else context.log.info)(s),
        is_live=holder_is_live(context.instance),
    )
    return dg.Output(
        None,
        metadata={
            "tables": len(reports),
            "matches_compacted": sum(len(r.matches_compacted) for r in reports),
            "files_vacuumed": sum(r.files_vacuumed for r in reports),
            "data_files": sum(r.files_after for r in reports),
        },
    )


@dg.job(description="Table upkeep of the lake: compaction where it pays, Delta checkpoints, vacuum.")
def lake_upkeep_job():
    lake_upkeep()


upkeep_schedule = dg.ScheduleDefinition(
    job=lake_upkeep_job,
    cron_schedule=UPKEEP_CRON,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Weekly: compact, checkpoint and vacuum the lake's tables.",
)
