"""DuckDB over the lake: every Delta table registered by its name.

Tables are registered through ``deltalake.DeltaTable(...).to_pyarrow_dataset()``: DuckDB's own ``delta``
extension is downloaded at run time and is not available offline. DuckDB pushes filters and projections
into the Arrow dataset, so ``WHERE match_id = '...'`` reads one partition.
"""

from __future__ import annotations

import duckdb
import polars as pl

from footy_assets.lake import Lake

TABLES = ("tracking", "matches", "frame_state", "ball_state", "intervals", "player_match_summary",
          "team_match_summary")


def connect(lake: Lake) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with every existing table of the lake registered as a view."""
    con = duckdb.connect()
    for name in TABLES:
        dt = lake.open_table(name)
        if dt is not None:
            con.register(name, dt.to_pyarrow_dataset())
    return con


def run_sql(lake: Lake, query: str) -> pl.DataFrame:
    """Run ``query`` over the lake and return the result as a polars frame."""
    with connect(lake) as con:
        return con.sql(query).pl()
