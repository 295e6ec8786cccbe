"""Summary tables as SQL models: each ``chain/sql_models/<table>.sql`` file becomes a partitioned asset.

A model is one DuckDB ``SELECT`` over the lake's tables with a ``$match_id`` parameter. Its dependencies
are the tables it reads (parsed from the SQL by DuckDB's own parser), its code version is its text's hash, and its
description is its leading comment. The models are the assets of one step (``summary_models``, any subset
materialisable): for each, in dependency order, the step gives DuckDB the match's rows of the tables it reads,
runs the query, validates the result and writes it with one commit replacing the match's rows.
"""

import json
from dataclasses import dataclass
from graphlib import TopologicalSorter
from importlib.resources.abc import Traversable

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from footy_assets.chain.summaries import model_rows, register_match_rows  # noqa: F401 (register_match_rows: re-exported)
from footy_assets.chain.versions import CODE_VERSIONS, SQL_DIR, model_name, sql_model_files
from footy_assets.core.contracts.derived import PlayerMatchSummary, PlayerPeriodSummary, TeamMatchSummary
from footy_assets.lake.store import Lake
from footy_assets.orchestration.assets.claim import hold_match
from footy_assets.orchestration.assets.results import inputs_ready
from footy_assets.orchestration.metadata import markdown_preview, run_stats
from footy_assets.orchestration.partitions import ONE_MATCH_PER_RUN, match_partitions, per_match
from footy_assets.orchestration.resources import LakeResource

GROUP = "summaries"
CONTRACT_OF_SUMMARY = {
    "player_period_summary": PlayerPeriodSummary,
    "player_match_summary": PlayerMatchSummary,
    "team_match_summary": TeamMatchSummary,
}


def referenced_tables(sql: str, con: duckdb.DuckDBPyConnection | None = None) -> list[str]:
    """Tables a query reads, without its own CTE names: from DuckDB's parse tree of it (the dialect it runs in;
    nothing is bound or run), on ``con`` or a connection of its own. A query DuckDB cannot parse is refused with
    its message."""
    if con is None:
        with duckdb.connect() as own:
            return referenced_tables(sql, own)
    tree = json.loads(con.execute("SELECT json_serialize_sql($1)", [sql]).fetchone()[0])
    if tree.get("error"):
        raise ValueError(f"not a query DuckDB can parse: {tree.get('error_message')}")
    tables, ctes = set(), set()
    stack = [tree]
    while stack:  # every node of the tree: base tables, and the names of the query's CTEs
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("type") == "BASE_TABLE" and node.get("table_name"):
                tables.add(node["table_name"].lower())  # DuckDB's names are case-insensitive, assets' lower case
            ctes.update(entry["key"].lower() for entry in (node.get("cte_map") or {}).get("map", []))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return sorted(tables - ctes)


def leading_comment(sql: str) -> str:
    lines = []
    for line in sql.splitlines():
        if not line.startswith("--"):
            break
        lines.append(line[2:].strip())
    return " ".join(lines)


@dataclass(frozen=True)
class SqlModel:
    """One ``sql_models/<name>.sql`` file: its query and the tables it reads."""

    name: str
    sql: str
    deps: tuple[str, ...]

    @property
    def spec(self) -> dg.AssetSpec:
        shared = per_match(
            GROUP,
            CODE_VERSIONS[self.name],
            contract=CONTRACT_OF_SUMMARY.get(self.name),
            metadata={"sql": dg.MetadataValue.md(f"```sql\n{self.sql}\n```")},
        )
        return dg.AssetSpec(
            self.name,
            deps=list(self.deps),
            kinds={"duckdb", "sql", "deltalake"},
            description=leading_comment(self.sql),
            group_name=shared["group_name"],
            code_version=shared["code_version"],
            metadata=shared["metadata"],
            automation_condition=shared["automation_condition"],
            partitions_def=match_partitions,
        )


def sql_models(folder: Traversable = SQL_DIR) -> list[SqlModel]:
    """The models of ``folder`` (the package's own by default), each after the models it reads (the order a step
    runs them in)."""
    texts = {model_name(file): file.read_text(encoding="utf-8") for file in sql_model_files(folder)}
    with duckdb.connect() as con:  # one connection parses them all
        found = {name: SqlModel(name, sql, tuple(referenced_tables(sql, con))) for name, sql in texts.items()}
    order = TopologicalSorter({name: [d for d in model.deps if d in found] for name, model in found.items()})
    return [found[name] for name in order.static_order()]


MODELS = sql_models()


@dg.multi_asset(
    specs=[model.spec for model in MODELS],
    partitions_def=match_partitions,
    can_subset=True,
    name="summary_models",
    backfill_policy=ONE_MATCH_PER_RUN,
)
def summary_models(context: dg.AssetExecutionContext, lake: LakeResource, duckdb: DuckDBResource):
    """The SQL models of one match in one step and one DuckDB connection, each after those it reads; any subset
    can be materialised. Each model's rows are validated by its contract and written by a commit of its own."""
    match_id = context.partition_key
    hold_match(context, lake.lake)  # one run writes a match at a time, whoever launched it
    wanted = {key.to_user_string() for key in context.selected_asset_keys}
    registered: set[str] = set()  # the tables registered on this connection, as they are now
    with duckdb.get_connection() as con:
        for model in MODELS:
            if model.name in wanted:
                yield run_model(con, lake.lake, model, match_id, registered)


def run_model(
    con, lake: Lake, model: SqlModel, match_id: str, registered: set[str] | None = None
) -> dg.MaterializeResult:
    """Run one model for one match on ``con`` and replace the match's rows of its table. ``registered``: the
    tables already registered on ``con`` by earlier models of the step (``chain.summaries.model_rows``)."""
    registered = set() if registered is None else registered
    with inputs_ready():
        frame, fingerprint, started = model_rows(
            con, lake, model.name, model.sql, model.deps, match_id, CONTRACT_OF_SUMMARY.get(model.name), registered
        )
    version = lake.write_delivery(model.name, match_id, fingerprint, frame)
    registered.discard(model.name)  # a later model reading this one registers its new rows
    return dg.MaterializeResult(
        asset_key=model.name,
        metadata={
            "dagster/row_count": frame.height,
            "delta_version": version,
            **run_stats(started),
            "preview": markdown_preview(frame, model.name),
        },
    )


summary_assets = [summary_models]
