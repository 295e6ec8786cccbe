"""Canonical tracking -> the vendor's tracking download (the vendor's tracking-download API).

Columns and types exactly as the vendor's download: ``timestamp`` int32 (ms), ``role``, ``player_id`` (``"0-10"`` or
null),
``player_id_conf`` float16, ``x``/``y`` int16 centimetres from the bottom-left corner, ``bbox_x``/``bbox_y``
int16 pixels. Positions are the canonical ones (home attacking towards x = 105 m in every period): the
download does not promise a direction, and readers decide it from the goal keepers. Rows without a pitch
position are left out. A pitch other than 105 x 68 m goes out as ``pitch.json`` beside the file.
"""

from __future__ import annotations

import io
import json

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq


def rows(tracking: pl.DataFrame, match: dict) -> pl.DataFrame:
    """The download's rows (polars types; player_id_conf still float32: polars has no float16)."""
    length, width = float(match["pitch_length_m"]), float(match["pitch_width_m"])
    return tracking.filter(pl.col("x_m").is_not_null()).select(
        timestamp=pl.col("timestamp_ms").cast(pl.Int32),
        role="role",
        player_id="player_id",
        player_id_conf=pl.col("id_confidence").cast(pl.Float32),
        x=((pl.col("x_m").cast(pl.Float64) + length / 2) * 100).round(0).cast(pl.Int16),
        y=((pl.col("y_m").cast(pl.Float64) + width / 2) * 100).round(0).cast(pl.Int16),
        bbox_x="bbox_x",
        bbox_y="bbox_y",
    )


def render(tracking: pl.DataFrame, match: dict, file_format: str = "parquet") -> dict[str, bytes]:
    frame = rows(tracking, match)
    files: dict[str, bytes] = {}
    if file_format == "parquet":
        table = frame.to_arrow()
        table = table.set_column(
            table.schema.get_field_index("player_id_conf"), "player_id_conf", table["player_id_conf"].cast(pa.float16())
        )
        table = table.cast(
            pa.schema([f.with_type(pa.string()) if pa.types.is_large_string(f.type) else f for f in table.schema])
        )
        out = io.BytesIO()
        pq.write_table(table, out)
        files["tracking.parquet"] = out.getvalue()
    else:  # an array of row objects, one per line
        body = frame.write_ndjson().strip().replace("\n", ",\n")
        files["tracking.json"] = ("[\n" + body + "\n]\n").encode()
    if (float(match["pitch_length_m"]), float(match["pitch_width_m"])) != (105.0, 68.0):
        files["pitch.json"] = json.dumps(
            {"length": float(match["pitch_length_m"]), "width": float(match["pitch_width_m"])}
        ).encode()
    return files
