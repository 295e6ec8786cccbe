"""Small helpers for asset metadata: previews and column schemas for the Dagster UI."""

from __future__ import annotations

import dagster as dg
import polars as pl

from footy_assets.core.contracts.validation import dtypes


def markdown_preview(frame: pl.DataFrame, rows: int = 8) -> dg.MetadataValue:
    """The first ``rows`` rows as a Markdown table (a handful of rows: no hot path)."""
    head = frame.head(rows)
    lines = ["| " + " | ".join(head.columns) + " |", "|" + "---|" * len(head.columns)]
    for row in head.iter_rows():
        cells = [f"{v:.3f}" if isinstance(v, float) else ("" if v is None else str(v)) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
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
