"""The rows of a SQL model of one match, without Dagster: DuckDB is given the match's rows of the tables the model
reads, runs its query, and the result is validated by the model's contract, ready to be written."""

from __future__ import annotations

import time

import polars as pl

from footy_assets.chain.inputs import NotReady, deliveries_of
from footy_assets.lake.publish import EVENT_TABLES
from footy_assets.lake.store import Lake, check_fingerprint, check_match_id


def register_match_rows(con, lake: Lake, table: str, match_id: str, fingerprint: str) -> bool:
    """Make ``table`` in the DuckDB connection ``con`` hold the rows of one delivery of ``match_id`` (the models
    filter on the match anyway); False when the table does not exist.

    On a local lake DuckDB reads the match's current Parquet files itself, faster and in less memory than an
    Arrow dataset (which reads ahead whole row groups of every column). An object store, or files whose columns
    are not the table's (a column added since they were written), go through the table's Arrow dataset, which
    fills what is missing with nulls.
    """
    dt = lake.open_table(table)
    if dt is None:
        return False
    partition = [("match_id", "=", check_match_id(match_id)), ("fingerprint", "=", check_fingerprint(fingerprint))]
    files = dt.file_uris(file_pruning_predicate=partition) if lake.is_local else []
    if files:
        listed = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
        rows = f"read_parquet({listed}, hive_partitioning = false)"  # the partition's values: given below
        stored = [f.name for f in dt.schema().fields if f.name not in ("match_id", "fingerprint")]
        if [c[0] for c in con.execute(f"DESCRIBE SELECT * FROM {rows}").fetchall()] == stored:
            con.execute(
                f"CREATE OR REPLACE TEMP VIEW \"{table}\" AS SELECT '{match_id}' AS match_id, "
                f"'{fingerprint}' AS fingerprint, * FROM {rows}"
            )
            return True
    dataset = lake.dataset(table)
    con.register(f"_{table}_dataset", dataset)
    con.execute(
        f'CREATE OR REPLACE TEMP VIEW "{table}" AS SELECT * FROM "_{table}_dataset" '
        f"WHERE match_id = '{match_id}' AND fingerprint = '{fingerprint}'"
    )
    return True


def model_rows(
    con,
    lake: Lake,
    name: str,
    sql: str,
    deps: tuple[str, ...],
    match_id: str,
    contract=None,
    registered: set[str] | None = None,
) -> tuple[pl.DataFrame, str, float]:
    """(rows, the delivery they come from, when the work started: ``time.perf_counter`` s) of the model ``name``
    (its query ``sql`` reads the tables ``deps``) for one match, on ``con``, validated by ``contract`` where it has
    one. ``registered``: the tables already registered on ``con`` by earlier models of the step (each is registered
    once, and again only after a model of the step has written it; on an object store a registration is a few
    requests); the tables registered here are added to it."""
    started = time.perf_counter()
    registered = set() if registered is None else registered
    # the inputs must come from the current deliveries: the tracking's, and for the tables computed from the event
    # data, the event data's; the model's rows carry the event data's when it reads any of those
    inputs = deliveries_of(lake, match_id, list(deps), outputs=[name])
    fingerprint = inputs[name]
    reads_events = [t for t in deps if t in EVENT_TABLES]
    if reads_events and name not in EVENT_TABLES:  # its rows would outlive an event re-delivery unrecomputed
        raise RuntimeError(f"model {name} reads {', '.join(reads_events)}: list it in lake.publish.EVENT_TABLES")
    for table in deps:
        if table in registered:
            continue
        if not register_match_rows(con, lake, table, match_id, inputs[table]):
            raise NotReady(f"{name}: table {table} does not exist yet: materialise it first")
        registered.add(table)
    frame = con.sql(sql, params={"match_id": match_id}).pl()
    frame = frame.with_columns(fingerprint=pl.lit(fingerprint, dtype=pl.String))
    if contract is not None:
        frame = contract.validate(frame)
    return frame, fingerprint, started
