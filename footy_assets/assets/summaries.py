"""Summary tables as SQL models: each ``dbt_like_sql/<table>.sql`` file becomes a partitioned asset.

A model is one DuckDB ``SELECT`` over the lake's tables with a ``$match_id`` parameter. Its dependencies
are the tables it reads (parsed from the SQL with sqlglot), its code version is its text's hash, and its
description is its leading comment. The asset registers the tables it reads from their Delta datasets,
runs the query for one match, validates the result and writes it with one commit replacing the match's rows.
"""

import time
from pathlib import Path

import dagster as dg
import sqlglot
from dagster_duckdb import DuckDBResource
from sqlglot import exp

import polars as pl

from footy_assets.assets.derived import delivery_of
from footy_assets.contracts.derived import PlayerMatchSummary, PlayerPeriodSummary, TeamMatchSummary
from footy_assets.metadata import markdown_preview, run_stats
from footy_assets.partitions import per_match
from footy_assets.resources import LakeResource
from footy_assets.versions import CODE_VERSIONS, SQL_DIR

GROUP = "summaries"
CONTRACTS = {"player_period_summary": PlayerPeriodSummary, "player_match_summary": PlayerMatchSummary,
             "team_match_summary": TeamMatchSummary}


def referenced_tables(sql: str) -> list[str]:
    """Tables a query reads, without its own CTE names."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    ctes = {cte.alias for cte in tree.find_all(exp.CTE)}
    return sorted({t.name for t in tree.find_all(exp.Table)} - ctes)


def leading_comment(sql: str) -> str:
    lines = []
    for line in sql.splitlines():
        if not line.startswith("--"):
            break
        lines.append(line[2:].strip())
    return " ".join(lines)


def sql_model_asset(path: Path) -> dg.AssetsDefinition:
    name = path.stem
    sql = path.read_text()
    deps = referenced_tables(sql)

    @dg.asset(
        **per_match(GROUP, CODE_VERSIONS[name], contract=CONTRACTS.get(name),
                    metadata={"sql": dg.MetadataValue.md(f"```sql\n{sql}\n```")}),
        name=name,
        deps=deps,
        kinds={"duckdb", "sql", "deltalake"},
        description=leading_comment(sql),
    )
    def _model(context: dg.AssetExecutionContext, lake: LakeResource, duckdb: DuckDBResource) -> dg.MaterializeResult:
        started = time.perf_counter()
        match_id = context.partition_key
        fingerprint = delivery_of(lake.lake, match_id, deps)  # the inputs must come from one delivery
        with duckdb.get_connection() as con:
            for table in deps:
                dataset = lake.lake.dataset(table)
                if dataset is None:
                    raise dg.Failure(f"{name}: table {table} does not exist yet: materialise it first")
                con.register(table, dataset)
            frame = con.sql(sql, params={"match_id": match_id}).pl()
        frame = frame.with_columns(fingerprint=pl.lit(fingerprint, dtype=pl.String))
        contract = CONTRACTS.get(name)
        if contract is not None:
            frame = contract.validate(frame)
        version = lake.lake.write_match(name, match_id, frame)
        return dg.MaterializeResult(metadata={
            "dagster/row_count": frame.height,
            "delta_version": version,
            **run_stats(started),
            "preview": markdown_preview(frame),
        })

    return _model


summary_assets = [sql_model_asset(path) for path in sorted(SQL_DIR.glob("*.sql"))]
