"""Synthetic footy_stats deliveries: the synthetic truth written with this vendor's conventions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from footy_assets.core.synthetic import LENGTH, WIDTH, _stadium_frame


def write_footy_stats(truth: pl.DataFrame, folder: Path, file_format: str = "parquet", seed: int = 1) -> Path:
    """The tracking download: cm from the bottom-left corner, teams swap ends at half time."""
    rng = np.random.default_rng(seed)
    stadium = _stadium_frame(truth, home_right_in={2})
    pid = pl.when(pl.col("role").is_in(["player", "goal_keeper"]) & pl.col("identified")).then(
        pl.format("{}-{}", pl.col("team"), pl.col("jersey"))
    )
    rows = stadium.select(
        timestamp=pl.col("timestamp_ms").cast(pl.Int32),
        role="role",
        player_id=pid,
        player_id_conf=pl.when(pid.is_not_null())
        .then(pl.Series(rng.uniform(0.6, 1.0, stadium.height)).round(3))
        .cast(pl.Float32),
        x=((pl.col("x") + LENGTH / 2) * 100).round(0).cast(pl.Int16),
        y=((pl.col("y") + WIDTH / 2) * 100).round(0).cast(pl.Int16),
        bbox_x=(960 + pl.col("x") * 15).round(0).cast(pl.Int16),
        bbox_y=(700 - pl.col("y") * 6).round(0).cast(pl.Int16),
    )
    folder.mkdir(parents=True, exist_ok=True)
    if file_format == "parquet":
        path = folder / "tracking.parquet"
        table = rows.to_arrow()
        # The vendor ships player_id_conf as float16.
        table = table.set_column(3, "player_id_conf", table["player_id_conf"].cast(pa.float16()))
        pq.write_table(table, path)
    else:
        path = folder / "tracking.json"
        body = rows.write_ndjson().strip().replace("\n", ",\n")
        path.write_text("[\n" + body + "\n]\n")
    return path
