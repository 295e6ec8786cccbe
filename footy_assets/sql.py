"""Read-only DuckDB over the lake (CONTRACTS 7): every table available by its name, nothing else.

Tables are registered as Arrow datasets (``Lake.dataset``): DuckDB's own ``delta`` extension is downloaded
at run time and is not available offline. DuckDB pushes filters and projections into the dataset, so
``WHERE match_id = '...'`` reads one partition.

Each per-match table is a view of the rows whose ``fingerprint`` is the one ``matches`` publishes for the
match (CONTRACTS 8): a chain that failed half-way is never read as a mix of two deliveries.

Hardening: exactly one statement, and it must be a query (SELECT, WITH, VALUES, FROM, DESCRIBE, SHOW,
SUMMARIZE — DuckDB's own parser classifies it). After the tables are registered, external access is
disabled and the configuration locked: no COPY, ATTACH, EXPORT, INSTALL, LOAD, SET, PRAGMA, and no file
or URL reader (``read_csv('/etc/passwd')`` fails).
"""

from __future__ import annotations

import duckdb
import polars as pl

from footy_assets.lake import Lake, TableUnreadable
from footy_assets.lake import unreadable as lake_unreadable
from footy_assets.publish import PER_MATCH_TABLES

TABLES = (*PER_MATCH_TABLES, "matches")
RAW_PREFIX = "_all_"  # every stored row, published or not: for diagnosing a failed chain


class QueryRefused(ValueError):
    """A statement that ``footy-assets sql`` does not run (not one read-only query)."""


def check_read_only(con: duckdb.DuckDBPyConnection, query: str) -> None:
    """Raise ``QueryRefused`` unless ``query`` is exactly one read-only query."""
    try:
        statements = con.extract_statements(query)
    except duckdb.Error as exc:
        raise QueryRefused(f"the query does not parse: {str(exc).splitlines()[0]}") from None
    if len(statements) != 1:
        raise QueryRefused(f"exactly one statement is run, found {len(statements)}")
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        name = getattr(kind, "name", str(kind))
        raise QueryRefused(f"only read-only queries (SELECT, WITH, VALUES, DESCRIBE) are run; this is a {name} "
                           "statement")


def present_tables(lake: Lake) -> list[str]:
    """The lake's tables that exist (in TABLES order)."""
    return [name for name in TABLES if lake.open_table(name) is not None]


def connect(lake: Lake, unreadable: dict[str, Exception] | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory, locked-down DuckDB connection with every existing table of the lake as a view.

    ``matches`` is opened first: every delivery it publishes was committed to the other tables before it, so the
    tables opened after it hold the published rows whole, whatever a materialisation does meanwhile (the
    superseded delivery stays until no reader can hold the old marker). A table that cannot be opened is left
    out and named in ``unreadable`` ({table: its one-line error}): queries on the other tables still run."""
    import pyarrow.compute as pc

    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    unreadable = {} if unreadable is None else unreadable
    from concurrent.futures import ThreadPoolExecutor

    def open_one(name: str):
        try:
            dataset = lake.dataset(name)
            # matches: one row per match, read once: the snapshot every published view filters on
            return dataset, (dataset.to_table() if name == "matches" and dataset is not None else None)
        except Exception as exc:  # a damaged table: named, never a traceback; the others stay queryable
            unreadable[name] = exc if isinstance(exc, TableUnreadable) else lake_unreadable(name, exc)
            return None, None

    present = {}
    dataset, marker = open_one("matches")  # the publish marker first, then the rest at once (S3: requests)
    opened = {"matches": dataset}
    with ThreadPoolExecutor(max_workers=len(PER_MATCH_TABLES), thread_name_prefix="open") as pool:
        opened.update(zip(PER_MATCH_TABLES, (found for found, _ in pool.map(open_one, PER_MATCH_TABLES))))
    for name, dataset in opened.items():
        if dataset is not None:
            present[name] = dataset
            con.register(RAW_PREFIX + name, marker if name == "matches" else dataset)
    for name, dataset in present.items():
        published = "fingerprint" in dataset.schema.names and marker is not None
        if name == "matches" or (not published and "matches" not in unreadable):
            con.execute(f'CREATE TEMP VIEW "{name}" AS SELECT * FROM "{RAW_PREFIX}{name}"')
        elif published:  # only the published delivery of each match; other deliveries' files are never opened
            fingerprints = pc.unique(marker["fingerprint"]).drop_null()
            con.register(f"_published_{name}", dataset.filter(pc.field("fingerprint").isin(fingerprints)))
            con.execute(
                f'CREATE TEMP VIEW "{name}" AS SELECT t.* FROM "_published_{name}" AS t '
                f'SEMI JOIN "{RAW_PREFIX}matches" AS m ON t.match_id = m.match_id AND t.fingerprint = m.fingerprint')
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def _refuse_unreadable(query: str, unreadable: dict[str, Exception]) -> None:
    """Raise ``TableUnreadable`` when ``query`` reads a table that could not be opened (or, for a per-match
    table, when the publish marker could not be)."""
    if not unreadable:
        return
    import sqlglot
    from sqlglot import exp

    try:
        names = {t.name.lower() for t in sqlglot.parse_one(query, read="duckdb").find_all(exp.Table)}
    except sqlglot.errors.SqlglotError:
        return  # DuckDB's own error follows
    for name in names:
        bare = name.removeprefix(RAW_PREFIX)
        if bare in unreadable:
            raise unreadable[bare]
        if bare in PER_MATCH_TABLES and not name.startswith(RAW_PREFIX) and "matches" in unreadable:
            raise TableUnreadable(f"table {bare}: its published rows cannot be told: {unreadable['matches']}")


def run_sql(lake: Lake, query: str) -> pl.DataFrame:
    """Run one read-only ``query`` over the lake and return the result as a polars frame.

    DuckDB sums integers into a 128-bit type that arrives as ``decimal(38, 0)``: such columns come back as
    Int64 (an integer sum stays an integer)."""
    unreadable: dict[str, Exception] = {}
    with connect(lake, unreadable) as con:
        check_read_only(con, query)
        _refuse_unreadable(query, unreadable)
        result = con.sql(query).pl()
    whole = [name for name, dtype in result.schema.items()
             if (isinstance(dtype, pl.Decimal) and dtype.scale == 0) or dtype == pl.Int128]
    return result.with_columns(pl.col(whole).cast(pl.Int64)) if whole else result


def for_people(result: pl.DataFrame, digits: int = 7) -> pl.DataFrame:
    """Floats to ``digits`` significant digits (a float32 value read as float64 prints as it was stored:
    202.63999938964844 -> 202.64) and nested columns (lists, structs) as JSON text, for CSV and the terminal.
    ``--format json`` and parquet keep every bit."""
    import json

    floats = [n for n, d in result.schema.items() if d.is_float()]
    nested = [n for n, d in result.schema.items() if d.is_nested()]
    out = result.with_columns(pl.col(floats).round_sig_figs(digits)) if floats else result
    for name in nested:  # query results, not frames of a match: a handful of rows
        out = out.with_columns(pl.Series(name, [None if v is None else json.dumps(v, default=str)
                                                for v in out[name].to_list()], dtype=pl.String))
    return out
