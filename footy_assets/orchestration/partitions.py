"""One dynamic partition per match: the partition key is the match_id (the landing folder name)."""

import warnings

import dagster as dg

# backfill_policy is marked beta in dagster 1.13; it is used on purpose (one match per backfill run).
warnings.filterwarnings("ignore", message=r".*`backfill_policy`.*beta.*")
# partitioned asset checks are "preview" in 1.13; used on purpose (check results per match).
warnings.filterwarnings("ignore", message=r".*partitions_def on an AssetCheckSpec.*preview.*")

MATCH_PARTITIONS_NAME = "match_id"
match_partitions = dg.DynamicPartitionsDefinition(name=MATCH_PARTITIONS_NAME)

# A backfill of many matches runs one match per run: a failing match never holds back the others,
# and the instance's concurrency limit (one run per partition) keeps two runs off the same match.
ONE_MATCH_PER_RUN = dg.BackfillPolicy.multi_run(max_partitions_per_run=1)


def per_match(group: str, code_version: str, schema: dict | None = None, contract=None, **extra) -> dict:
    """The arguments every per-match asset shares: the match partitions, its group and code version,
    eager automation (a new upstream partition refreshes it), one match per backfill run and, for a
    table, its column schema (with each column's description from its pandera ``contract``). ``extra`` adds or
    overrides arguments of ``dg.asset``."""
    from footy_assets.orchestration.metadata import column_schema

    metadata = {"partition_column": "match_id", **extra.pop("metadata", {})}
    if schema is not None or contract is not None:
        metadata["dagster/column_schema"] = column_schema(schema, contract)
    return {
        "partitions_def": match_partitions,
        "group_name": group,
        "code_version": code_version,
        "automation_condition": dg.AutomationCondition.eager(),
        "backfill_policy": ONE_MATCH_PER_RUN,
        "metadata": metadata,
        **extra,
    }


def per_match_spec(
    name: str, group: str, schema: dict, contract, deps: list[str], kinds: set[str], description: str
) -> dg.AssetSpec:
    """The spec of one table of a multi-asset step, with the arguments every per-match asset shares
    (``per_match``; the backfill policy is the multi-asset's own)."""
    from footy_assets.chain.versions import CODE_VERSIONS

    shared = per_match(group, CODE_VERSIONS[name], schema, contract)
    return dg.AssetSpec(
        name,
        deps=deps,
        kinds=kinds,
        description=description,
        group_name=shared["group_name"],
        code_version=shared["code_version"],
        metadata=shared["metadata"],
        automation_condition=shared["automation_condition"],
        partitions_def=match_partitions,
    )
