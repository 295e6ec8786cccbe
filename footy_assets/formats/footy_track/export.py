"""Canonical tracking of a footy_track match -> MOT Challenge CSV, for tracking evaluators (py-motmetrics,
TrackEval): the evaluation format of the video tracker's output.

One line per detection: ``<frame>,<id>,<bb_left>,<bb_top>,<bb_width>,<bb_height>,<conf>,<x>,<y>,<z>`` with
1-indexed frames (canonical frame_id + 1, the video's frame_index + 1), the tracker's track id, the box in
pixels (top-left corner and size, from the stored bottom centre and size), ``conf`` 1 (the lake keeps no
detection confidence: every stored detection counts), and ``-1,-1,-1`` for the world coordinates of 2D MOT.
The ball and referees are in it too (MOT has no class column: filter by id if an evaluator wants people only).
"""

from __future__ import annotations

import polars as pl


def render(tracking: pl.DataFrame, match: dict) -> dict[str, bytes]:
    from footy_assets.formats.common import ExportError

    if match["format"] != "footy_track":
        raise ExportError(
            f"{match['match_id']}: the mot export needs a footy_track match (boxes and track ids); "
            f"this one came as {match['format']}"
        )
    boxes = tracking.filter(pl.col("bbox_w").is_not_null() & pl.col("track_id").is_not_null())
    lines = boxes.sort("frame_id", pl.col("track_id").cast(pl.Int64)).select(
        frame=pl.col("frame_id") + 1,
        id=pl.col("track_id").cast(pl.Int64),
        bb_left=(pl.col("bbox_x") - pl.col("bbox_w") / 2).round(0).cast(pl.Int64),
        bb_top=(pl.col("bbox_y") - pl.col("bbox_h")).cast(pl.Int64),
        bb_width=pl.col("bbox_w").cast(pl.Int64),
        bb_height=pl.col("bbox_h").cast(pl.Int64),
        conf=pl.lit(1),
        x=pl.lit(-1),
        y=pl.lit(-1),
        z=pl.lit(-1),
    )
    return {"mot.csv": lines.write_csv(include_header=False).encode()}
