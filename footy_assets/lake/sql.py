"""Read-only DuckDB over the lake: every table available by its name, nothing else.

Tables are registered as Arrow datasets (``Lake.dataset``): DuckDB's own ``delta`` extension is downloaded
at run time and is not available offline. DuckDB pushes filters and projections into the dataset, so
``WHERE match_id = '...'`` reads one partition.

Each per-match table is a view of the rows whose ``fingerprint`` is the one ``matches`` publishes for the
match and that table (its ``fingerprint``, or its ``events_fingerprint`` for the tables computed from the event
data): a chain that failed half-way is never read as a mix of two deliveries.

Hardening: exactly one statement, and it must be a query (SELECT, WITH, VALUES, FROM, DESCRIBE, SHOW,
SUMMARIZE, PIVOT, UNPIVOT — DuckDB's own parser classifies it). After the tables are registered, external access
is disabled and the configuration locked: no COPY, ATTACH, EXPORT, INSTALL, LOAD, SET, PRAGMA, and no file
or URL reader (``read_csv('/etc/passwd')`` fails).

Bounds (``SqlLimits``, from the environment): a statement timeout (``FOOTY_SQL_TIMEOUT_S``, a timer that
interrupts the connection), DuckDB's ``memory_limit`` (``FOOTY_SQL_MEMORY_LIMIT``; the result handed to polars
counts too), and spilling to a private temporary folder, removed afterwards, of at most
``FOOTY_SQL_TEMP_LIMIT`` (DuckDB's own default is ``<cwd>/.tmp`` up to 90% of that disk). All are set before the
configuration is locked.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass

import duckdb
import polars as pl

from footy_assets.lake.publish import PER_MATCH_TABLES, key_column
from footy_assets.lake.store import Lake, SettingError, TableUnreadable
from footy_assets.lake.store import unreadable as lake_unreadable

TABLES = (*PER_MATCH_TABLES, "matches")
RAW_PREFIX = "_all_"  # every stored row, published or not: for diagnosing a failed chain

# Views over the published tables: each event at its synced frames, with the acting player's frame_state row at
# frame_id, the receiver's at frame_id_end and the ball_state row at frame_id (unsynced events: nulls there).
VIEWS = {
    "event_frames": (
        ("events", "frame_state", "ball_state"),
        """
        SELECT e.*,
               a.speed_mps AS actor_speed_mps, a.accel_mps2 AS actor_accel_mps2, a.valid AS actor_valid,
               a.nearest_opp_id AS actor_nearest_opp_id, a.nearest_opp_dist_m AS actor_nearest_opp_dist_m,
               a.ball_dist_m AS actor_ball_dist_m,
               r.x_m AS receiver_x_m, r.y_m AS receiver_y_m, r.speed_mps AS receiver_speed_mps,
               r.nearest_opp_id AS receiver_nearest_opp_id, r.nearest_opp_dist_m AS receiver_nearest_opp_dist_m,
               b.z_m AS ball_z_m, b.in_play AS ball_in_play, b.possession_team, b.possession_player_id
        FROM events AS e
        LEFT JOIN frame_state AS a ON a.match_id = e.match_id AND a.frame_id = e.frame_id AND a.player_id = e.player_id
        LEFT JOIN frame_state AS r ON r.match_id = e.match_id AND r.frame_id = e.frame_id_end
             AND r.player_id = e.receiver_id
        LEFT JOIN ball_state AS b ON b.match_id = e.match_id AND b.frame_id = e.frame_id""",
    ),
}


class QueryRefused(ValueError):
    """A statement that ``footy-assets sql`` does not run (not one read-only query)."""


class QueryStopped(RuntimeError):
    """A query stopped by a bound of ``SqlLimits`` (its time, its memory, its temporary files)."""


class SqlLimitsInvalid(ValueError):
    """A ``FOOTY_SQL_*`` variable that is not a bound."""


DEFAULT_TIMEOUT_S = 300.0
DEFAULT_MEMORY_LIMIT = "2GB"
DEFAULT_TEMP_LIMIT = "4GB"
_SIZE = re.compile(r"^\s*(\d+(\.\d+)?)\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)\s*$", re.IGNORECASE)
_UNITS = {
    "B": 1,
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "TB": 10**12,
    "KIB": 2**10,
    "MIB": 2**20,
    "GIB": 2**30,
    "TIB": 2**40,
}


@dataclass(frozen=True)
class SqlLimits:
    """How long a query may run (s), the memory DuckDB may use and the size its temporary files may reach
    (DuckDB size strings: ``"2GB"``, ``"512MiB"``)."""

    timeout_s: float = DEFAULT_TIMEOUT_S
    memory_limit: str = DEFAULT_MEMORY_LIMIT
    temp_limit: str = DEFAULT_TEMP_LIMIT

    @property
    def memory_bytes(self) -> int:
        return _size_bytes(self.memory_limit)

    @classmethod
    def from_env(cls) -> SqlLimits:
        """From ``FOOTY_SQL_TIMEOUT_S``, ``FOOTY_SQL_MEMORY_LIMIT``, ``FOOTY_SQL_TEMP_LIMIT`` (defaults 300 s, 2GB,
        4GB); ``SqlLimitsInvalid`` names a variable that is not a bound."""
        text = os.environ.get("FOOTY_SQL_TIMEOUT_S", "").strip()
        timeout = DEFAULT_TIMEOUT_S
        if text:
            try:
                timeout = float(text)
            except ValueError:
                timeout = float("nan")
            if not (0 < timeout < 10**7):
                raise SqlLimitsInvalid(f"FOOTY_SQL_TIMEOUT_S must be a number of seconds above 0, got {text!r}")
        sizes = {}
        for name, default in (
            ("FOOTY_SQL_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT),
            ("FOOTY_SQL_TEMP_LIMIT", DEFAULT_TEMP_LIMIT),
        ):
            value = os.environ.get(name, "").strip() or default
            if not _SIZE.match(value) or _size_bytes(value) < 2**20:
                raise SqlLimitsInvalid(f"{name} must be a size of at least 1MB like 2GB or 512MiB, got {value!r}")
            sizes[name] = value.replace(" ", "")
        return cls(timeout, sizes["FOOTY_SQL_MEMORY_LIMIT"], sizes["FOOTY_SQL_TEMP_LIMIT"])


def _size_bytes(text: str) -> int:
    number, _, unit = _SIZE.match(text).groups()
    return int(float(number) * _UNITS[unit.upper()])


def without_home(text: str) -> str:
    """``text`` with the home directory written ``~``: an error message never tells where a user's home is."""
    for home in {os.path.expanduser("~"), os.path.realpath(os.path.expanduser("~"))}:
        if len(home) > 1 and home != "~":
            text = text.replace(home.rstrip("/"), "~")
    return text


def check_read_only(con: duckdb.DuckDBPyConnection, query: str) -> None:
    """Raise ``QueryRefused`` unless ``query`` is exactly one read-only query.

    A PIVOT whose columns come from the data is a MULTI statement to DuckDB (it reads the values first), as is
    a CREATE or COPY of such a PIVOT: a MULTI statement is a query when it parses as a subquery."""
    try:
        statements = con.extract_statements(query)
    except duckdb.Error as exc:
        raise QueryRefused(f"the query does not parse: {str(exc).splitlines()[0]}") from None
    if len(statements) != 1:
        raise QueryRefused(f"exactly one statement is run, found {len(statements)}")
    kind = statements[0].type
    if kind == duckdb.StatementType.MULTI and _is_subquery(con, statements[0].query):
        return
    if kind != duckdb.StatementType.SELECT:
        name = getattr(kind, "name", str(kind))
        raise QueryRefused(
            f"only read-only queries (SELECT, WITH, VALUES, DESCRIBE, PIVOT) are run; this is a {name} statement"
        )


def _is_subquery(con: duckdb.DuckDBPyConnection, text: str) -> bool:
    """Whether ``text`` (one statement) reads as a subquery: a query, not a CREATE, INSERT or COPY."""
    text = re.sub(r";(\s|--[^\n]*|/\*.*?\*/)*$", "", text, flags=re.S)  # the statement's own ';' and comments after it
    try:  # the newline ends a trailing -- comment
        wrapped = con.extract_statements(f"SELECT * FROM (\n{text}\n) AS _query")
    except duckdb.Error:
        return False
    return len(wrapped) == 1 and wrapped[0].type in (duckdb.StatementType.SELECT, duckdb.StatementType.MULTI)


def present_tables(lake: Lake) -> list[str]:
    """The lake's tables that exist (in TABLES order)."""
    return [name for name in TABLES if lake.open_table(name) is not None]


def connect(
    lake: Lake,
    unreadable: dict[str, Exception] | None = None,
    limits: SqlLimits | None = None,
    temp_dir: str | None = None,
) -> duckdb.DuckDBPyConnection:
    """An in-memory, locked-down DuckDB connection with every existing table of the lake as a view, bounded by
    ``limits`` (memory; temporary files in ``temp_dir``, none written without it).

    ``matches`` is opened first: every delivery it publishes was committed to the other tables before it, so the
    tables opened after it hold the published rows whole, whatever a materialisation does meanwhile (the
    superseded delivery stays until no reader can hold the old marker). A table that cannot be opened is left
    out and named in ``unreadable`` ({table: its one-line error}): queries on the other tables still run."""
    import pyarrow.compute as pc

    limits = limits or SqlLimits()
    config = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "memory_limit": limits.memory_limit,
        # never <cwd>/.tmp (DuckDB's default): a private folder, bounded, or no spilling at all
        "temp_directory": temp_dir or "",
        "max_temp_directory_size": limits.temp_limit,
    }
    con = duckdb.connect(config=config)
    unreadable = {} if unreadable is None else unreadable
    from concurrent.futures import ThreadPoolExecutor

    def open_one(name: str):
        try:
            dt = lake.open_table(name)
            dataset = lake.dataset_of(name, dt)
            # matches: one row per match, read once: the snapshot every published view filters on
            marker = dataset.to_table() if name == "matches" and dataset is not None else None
            return dataset, marker, (dt.metadata().partition_columns if dt is not None else [])
        except SettingError:  # the user's setting, not the table: the command stops (exit 2)
            raise
        except Exception as exc:  # noqa: BLE001  a damaged table: named, never a traceback; the others stay queryable
            unreadable[name] = exc if isinstance(exc, TableUnreadable) else lake_unreadable(name, exc)
            return None, None, []

    present, partitions = {}, {}
    dataset, marker, _ = open_one("matches")  # the publish marker first, then the rest at once (S3: requests)
    marker = nested_matches(marker)
    opened = {"matches": dataset}
    with ThreadPoolExecutor(max_workers=len(PER_MATCH_TABLES), thread_name_prefix="open") as pool:
        for name, (found, _, columns) in zip(PER_MATCH_TABLES, pool.map(open_one, PER_MATCH_TABLES)):
            opened[name], partitions[name] = found, columns
    for name, dataset in opened.items():
        if dataset is not None:
            present[name] = dataset
            con.register(RAW_PREFIX + name, marker if name == "matches" else dataset)
    for name, dataset in present.items():
        if name == "matches" or "fingerprint" not in dataset.schema.names:  # (a lake from before fingerprints)
            con.execute(f'CREATE TEMP VIEW "{name}" AS SELECT * FROM "{RAW_PREFIX}{name}"')
        elif marker is None and "matches" not in unreadable:  # no matches table: nothing is published yet
            con.execute(f'CREATE TEMP VIEW "{name}" AS SELECT * FROM "{RAW_PREFIX}{name}" WHERE false')
        elif marker is not None:  # only the published delivery of each match
            # the table's delivery the marker names: its fingerprint, or its events_fingerprint for the tables
            # computed from the event data (a marker written before that column existed: its fingerprint)
            column = key_column(name) if key_column(name) in marker.column_names else "fingerprint"
            published = f"coalesce(m.{column}, m.fingerprint)"
            if "fingerprint" in partitions[name]:  # other deliveries' files are never opened
                keys = pc.if_else(pc.is_null(marker[column]), marker["fingerprint"], marker[column])
                dataset = dataset.filter(pc.field("fingerprint").isin(pc.unique(keys).drop_null()))
            con.register(f"_published_{name}", dataset)
            con.execute(
                f'CREATE TEMP VIEW "{name}" AS SELECT t.* FROM "_published_{name}" AS t '
                f'SEMI JOIN "{RAW_PREFIX}matches" AS m ON t.match_id = m.match_id AND t.fingerprint = {published}'
            )
    views = {row[0] for row in con.execute("SELECT view_name FROM duckdb_views() WHERE temporary").fetchall()}
    for view, (needs, query) in VIEWS.items():  # only over the tables' views (none while matches is unreadable)
        if all(name in views for name in needs):
            con.execute(f'CREATE TEMP VIEW "{view}" AS {query}')
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


# matches' columns stored as JSON text, and what they hold: read as nested columns, like ``periods``
MATCHES_JSON_COLUMNS = {
    "files": pl.List(pl.Struct({"name": pl.String, "size_bytes": pl.Int64, "sha256": pl.String, "mtime_ns": pl.Int64}))
}


def nested_matches(marker):
    """The ``matches`` rows (an Arrow table, or None) with ``files`` a list of {name, size_bytes, sha256, mtime_ns}
    and ``code_versions`` a struct {asset: version} (the assets every row names, null where a row has none) in
    place of their JSON text: every reader of ``footy-assets sql`` (and its ``--format json``) gets one form,
    nested, as ``periods`` is. A column that does not decode is left as stored."""
    if marker is None or marker.num_rows == 0:
        return marker
    import json

    for name in ("files", "code_versions"):
        if name not in marker.column_names or not _is_string(marker.schema.field(name).type):
            continue
        texts = pl.from_arrow(marker[name])
        try:
            if name == "code_versions":  # one row per match, read once: the union of the rows' assets
                rows = [json.loads(text) for text in texts.drop_nulls()]
                keys = sorted({k for row in rows if isinstance(row, dict) for k in row})
                dtype = pl.Struct(dict.fromkeys(keys, pl.String)) if keys else None
            else:
                dtype = MATCHES_JSON_COLUMNS[name]
            if dtype is None:
                continue
            nested = texts.str.json_decode(dtype).to_arrow()
        except (ValueError, TypeError, pl.exceptions.PolarsError):  # a row written by hand: shown as stored
            continue
        marker = marker.set_column(marker.column_names.index(name), name, nested)
    return marker


def _is_string(dtype) -> bool:
    import pyarrow as pa

    return pa.types.is_string(dtype) or pa.types.is_large_string(dtype) or pa.types.is_string_view(dtype)


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


def run_sql(lake: Lake, query: str, limits: SqlLimits | None = None) -> pl.DataFrame:
    """Run one read-only ``query`` over the lake and return the result as a polars frame.

    Bounded by ``limits`` (default ``SqlLimits.from_env()``): ``QueryStopped`` when the query runs past its
    timeout, needs more memory or temporary space than allowed, or its result is larger than the memory limit.
    DuckDB sums integers into a 128-bit type that arrives as ``decimal(38, 0)``: such columns come back as
    Int64 (an integer sum stays an integer)."""
    limits = limits or SqlLimits.from_env()
    unreadable: dict[str, Exception] = {}
    temp_dir = tempfile.mkdtemp(prefix="footy-sql-")  # private (0700), removed with everything DuckDB spilled
    try:
        with connect(lake, unreadable, limits, temp_dir) as con:
            check_read_only(con, query)
            _refuse_unreadable(query, unreadable)
            try:
                result = _bounded(con, query, limits)
            except duckdb.Error as exc:  # a table's file missing or damaged: one line naming the table
                damaged = re.search(r"registered as '(?:_published_|_all_)?(\w+)' failed", str(exc))
                if damaged is None:
                    raise
                raise lake_unreadable(
                    damaged.group(1), RuntimeError(without_home(str(exc).split(" failed: ", 1)[-1]))
                ) from None
    finally:
        shutil.rmtree(temp_dir, ignore_errors=True)
    whole = [
        name
        for name, dtype in result.schema.items()
        if (isinstance(dtype, pl.Decimal) and dtype.scale == 0) or dtype == pl.Int128
    ]
    return result.with_columns(pl.col(whole).cast(pl.Int64)) if whole else result


def _bounded(con: duckdb.DuckDBPyConnection, query: str, limits: SqlLimits) -> pl.DataFrame:
    """The result of ``query``, interrupted after ``limits.timeout_s``; fetched in batches, refused once it is
    larger than the memory limit (the Arrow result is not DuckDB's memory)."""
    import pyarrow as pa

    timer = threading.Timer(limits.timeout_s, con.interrupt)
    timer.daemon = True
    timer.start()
    try:
        reader = con.sql(query).to_arrow_reader(65_536)
        batches, size = [], 0
        try:
            for batch in reader:
                size += batch.nbytes
                if size > limits.memory_bytes:
                    raise QueryStopped(
                        f"the result is larger than the memory limit ({limits.memory_limit}, "
                        "FOOTY_SQL_MEMORY_LIMIT): aggregate it or add a WHERE or LIMIT"
                    )
                batches.append(batch)
        except (OSError, pa.ArrowException) as exc:  # DuckDB's error, carried through the Arrow stream
            raise _as_duckdb_error(str(exc)) from None
        table = pa.Table.from_batches(batches, schema=reader.schema)
    except duckdb.InterruptException:
        raise QueryStopped(
            f"the query ran past its timeout of {limits.timeout_s:g} s (FOOTY_SQL_TIMEOUT_S) and was stopped"
        ) from None
    except duckdb.OutOfMemoryException as exc:
        first = without_home(str(exc).strip().splitlines()[0])
        which = (
            ("temporary files past FOOTY_SQL_TEMP_LIMIT " + limits.temp_limit)
            if "temp" in str(exc).lower()
            else ("memory past FOOTY_SQL_MEMORY_LIMIT " + limits.memory_limit)
        )
        raise QueryStopped(f"the query needs {which} and was stopped ({first})") from None
    finally:
        timer.cancel()
    return pl.from_arrow(table)


def _as_duckdb_error(text: str) -> duckdb.Error:
    """The DuckDB exception an error read from the result's Arrow stream stands for (by its prefix)."""
    if text.startswith("INTERRUPT Error"):
        return duckdb.InterruptException(text)
    if text.startswith("Out of Memory Error"):
        return duckdb.OutOfMemoryException(text)
    return duckdb.Error(text)


def for_people(result: pl.DataFrame, digits: int = 7) -> pl.DataFrame:
    """Floats to ``digits`` significant digits (a float32 value read as float64 prints as it was stored:
    202.63999938964844 -> 202.64) and nested columns (lists, structs) as JSON text, for CSV and the terminal.
    ``--format json`` and parquet keep every bit."""
    import json

    floats = [n for n, d in result.schema.items() if d.is_float()]
    nested = [n for n, d in result.schema.items() if d.is_nested()]
    out = result.with_columns(pl.col(floats).round_sig_figs(digits)) if floats else result
    for name in nested:  # query results, not frames of a match: a handful of rows
        out = out.with_columns(
            pl.Series(
                name, [None if v is None else json.dumps(v, default=str) for v in out[name].to_list()], dtype=pl.String
            )
        )
    return out
