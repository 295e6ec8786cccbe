"""Small helpers for asset metadata: previews, column schemas and numbers rounded for the Dagster UI."""

from __future__ import annotations

import dagster as dg
import polars as pl

from footy_assets.core.contracts.validation import dtypes

# What a number shown in the UI can tell, by the unit its name ends with: positions and distances to the
# centimetre, speeds to the cm/s (the tracking is not finer); other shares and ratios to 4 decimals.
UNIT_DECIMALS = (("_mps2", 2), ("_mps", 2), ("_m", 2))
DECIMALS = 4


def decimals_for(name: str) -> int:
    """The decimals a metadata number named ``name`` is shown with (by its unit suffix)."""
    return next((d for suffix, d in UNIT_DECIMALS if name.endswith(suffix)), DECIMALS)


def rounded(name: str, value):
    """``value`` with every float in it (a number, or nested in dicts and lists) rounded for ``name``'s unit; a
    float inside a dict is rounded for its own key's unit."""
    if isinstance(value, float):
        return round(value, decimals_for(name))
    if isinstance(value, dict):
        return {k: rounded(k if isinstance(k, str) else name, v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(name, v) for v in value]
    if isinstance(value, dg.JsonMetadataValue):
        return dg.MetadataValue.json(rounded(name, value.data))
    return value


def tidy(metadata: dict) -> dict:
    """Asset or check metadata with its numbers rounded to what the data supports (``decimals_for``): 9.92 m/s,
    not 9.923479080200195 (a float32 read as a float64)."""
    return {name: rounded(name, value) for name, value in metadata.items()}


# The columns a table's preview shows: a few that say what a row is, that a metadata window shows whole (Dagster
# cuts a wide table); the rest are one query away. A table not listed shows its first PREVIEW_MAX_COLUMNS.
PREVIEW_COLUMNS = {
    "tracking": ["frame_id", "timestamp_ms", "period", "role", "player_id", "x_m", "y_m", "in_play"],
    "frame_state": ["frame_id", "match_minute", "player_id", "x_m", "y_m", "speed_mps", "accel_mps2", "valid"],
    "ball_state": ["frame_id", "period", "x_m", "y_m", "z_m", "in_play", "possession_team", "possession_player_id"],
    "match_quality": [
        "period",
        "team",
        "player_id",
        "minutes_tracked",
        "dropouts",
        "invalid_share",
        "unidentified_share",
        "top_speed_mps",
    ],
    "lineups": ["team", "player_id", "short_name", "jersey", "position", "is_starter", "minute_on", "minute_off"],
    "player_period_summary": [
        "player_id",
        "period",
        "team",
        "minutes_played",
        "distance_m",
        "top_speed_mps",
        "sprints",
        "high_speed_runs",
    ],
    "player_match_summary": [
        "player_id",
        "player_name",
        "team",
        "minutes_played",
        "distance_m",
        "top_speed_mps",
        "sprints",
        "high_speed_runs",
    ],
    "team_match_summary": [
        "team",
        "players",
        "distance_m",
        "top_speed_mps",
        "sprints",
        "high_speed_runs",
        "pressing_s",
        "possession_share",
    ],
}
PREVIEW_MAX_COLUMNS = 8
# the same in every row of a match's table: never worth a preview's column
PARTITION_COLUMNS = ("match_id", "fingerprint")


def markdown_preview(frame: pl.DataFrame, table: str | None = None, rows: int = 8) -> dg.MetadataValue:
    """The first ``rows`` rows of a match's ``table`` as a Markdown table of its ``PREVIEW_COLUMNS``, numbers
    rounded for their units, then a line with the query showing every column; ``table`` None: ``frame`` is a
    preview already, shown whole (a handful of rows: no hot path)."""
    if table is None:
        chosen = frame.columns
    else:
        others = [c for c in frame.columns if c not in PARTITION_COLUMNS]
        chosen = [c for c in PREVIEW_COLUMNS.get(table, others[:PREVIEW_MAX_COLUMNS]) if c in frame.columns]
    head = frame.head(rows).select(chosen)
    lines = ["| " + " | ".join(head.columns) + " |", "|" + "---|" * len(head.columns)]
    for row in head.iter_rows():
        cells = ["" if v is None else str(rounded(name, v)) for name, v in zip(head.columns, row)]
        lines.append("| " + " | ".join(cells) + " |")
    if table is not None:
        where = f" WHERE match_id = '{frame['match_id'][0]}'" if "match_id" in frame.columns and frame.height else ""
        lines += [
            "",
            f"{len(chosen)} of its {len(frame.columns)} columns; all of them: "
            f'`footy-assets sql "SELECT * FROM {table}{where} LIMIT {rows}"`',
        ]
    return dg.MetadataValue.md("\n".join(lines))


def column_schema(schema: dict[str, pl.DataType] | None, contract=None) -> dg.TableSchema:
    """The table's columns for the Dagster catalog: names and types from ``schema`` (else the contract's,
    ``dtypes``), with the contract's description of each (unit, meaning, when null)."""
    columns = contract.to_schema().columns if contract is not None else {}
    if schema is None:
        schema = dtypes(contract)
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name, str(dtype), description=(columns[name].description if name in columns else None))
            for name, dtype in schema.items()
        ]
    )


def run_stats(started: float) -> dict:
    """Seconds since ``started`` (time.perf_counter) and the process's peak RSS so far (MB)."""
    import resource
    import time

    return {
        "seconds": round(time.perf_counter() - started, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
