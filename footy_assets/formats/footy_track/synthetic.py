"""Synthetic footy_track deliveries: the synthetic truth written with this vendor's conventions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from footy_assets.core.synthetic import DROPOUT, LENGTH, WIDTH, _stadium_frame

VIDEO_SIZE = (1920, 1080)
# A fixed camera high above the near touchline that sees the whole pitch: where the stadium's corners appear in
# the normalised image (near touchline low and wide, far touchline high and narrow: a broadcast perspective).
CAMERA_CORNERS = {
    (-LENGTH / 2, -WIDTH / 2): (0.05, 0.93),
    (LENGTH / 2, -WIDTH / 2): (0.95, 0.93),
    (LENGTH / 2, WIDTH / 2): (0.78, 0.30),
    (-LENGTH / 2, WIDTH / 2): (0.22, 0.30),
}


def homography_from(points: dict[tuple[float, float], tuple[float, float]]) -> np.ndarray:
    """The 3x3 homography mapping each of four source points to its target (direct linear transform)."""
    rows, rhs = [], []
    for (x, y), (u, v) in points.items():
        rows += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
        rhs += [u, v]
    return np.append(np.linalg.solve(np.array(rows), np.array(rhs)), 1.0).reshape(3, 3)


def _project(matrix: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    points = matrix @ np.vstack([x, y, np.ones_like(x)])
    return points[0] / points[2], points[1] / points[2]


def write_footy_track(
    truth: pl.DataFrame,
    folder: Path,
    match_id: str,
    fps: int = 25,
    homography: bool = True,
    schema_version: str = "1.0.0",
) -> Path:
    """The video tracker's output: tracks.parquet + tracks_meta.json.

    The stadium frame (home attacks -x in period 2) seen by a fixed broadcast camera: boxes are the bottom-centre
    of each object projected into the image, 25-95 px tall for people by their distance from the camera. A
    track ends where the tracker loses an object (a drop-out, a jersey that cannot be read, half time) or the
    player changes (the substitution); the track that picks a player up again after a drop-out or an unreadable
    spell carries no identity of its own but ``reid_parent_track_id`` to the track it continues. The unreadable
    spell is a track that never gets an identity; the frames before the drop-out are the tracker's predictions
    (``is_interpolated``); a few detections of a steward are labelled ``staff`` (no role: dropped). With
    ``homography`` the sidecar carries the camera's ``pitch_homography``.
    """
    stadium = _stadium_frame(truth, home_right_in={2})
    to_image = homography_from(CAMERA_CORNERS)
    order = stadium.sort("track", "timestamp_ms")
    step = pl.col("frame").diff().over("track")
    changed = [pl.col(c).ne_missing(pl.col(c).shift().over("track")) for c in ("period", "jersey", "identified")]
    new_segment = step.ne_missing(1) | pl.any_horizontal(changed)
    order = order.with_columns(segment=new_segment.cum_sum())
    # track ids in order of appearance, from 1, never reused
    first_seen = (
        order.group_by("segment")
        .agg(pl.col("timestamp_ms").min(), pl.col("track").first())
        .sort("timestamp_ms", "track")
    )
    ids = dict(zip(first_seen["segment"].to_list(), range(1, first_seen.height + 1)))
    order = order.with_columns(track_id=pl.col("segment").replace_strict(ids, return_dtype=pl.Int32))
    u, v = _project(to_image, order["x"].to_numpy(), order["y"].to_numpy())
    people = order["role"].is_in(["player", "goal_keeper", "referee"]).to_numpy()
    h = np.where(people, 0.023 + 0.065 * (v - 0.30) / 0.63, 0.011)
    w = np.where(people, 0.4 * h, h * VIDEO_SIZE[1] / VIDEO_SIZE[0])
    # the tracker's predictions: the 3 frames before home #6's drop-out
    before_dropout = (
        order.filter((pl.col("team") == DROPOUT[0]) & (pl.col("jersey") == DROPOUT[1]) & (pl.col("period") == 1))
        .filter(pl.col("frame").diff().shift(-1) > 1)["frame"]
        .to_list()
    )
    predicted = (
        (pl.col("team") == DROPOUT[0])
        & (pl.col("jersey") == DROPOUT[1])
        & pl.col("frame").is_in([f - k for f in before_dropout for k in range(3)])
    )
    label = pl.col("role").replace({"goal_keeper": "goalkeeper"})
    rows = order.select(
        match_id=pl.lit(match_id),
        frame_index=pl.col("frame").cast(pl.Int32),
        continuous_time_s=pl.col("timestamp_ms") / 1000,
        track_id="track_id",
        label=label,
        confidence=pl.lit(0.9, pl.Float32),
        bbox_x=pl.Series(u - w / 2).cast(pl.Float32),
        bbox_y=pl.Series(v - h).cast(pl.Float32),
        bbox_w=pl.Series(w).cast(pl.Float32),
        bbox_h=pl.Series(h).cast(pl.Float32),
        detector_model=pl.lit("yolo11n.pt@v3"),
        tracker=pl.lit("bytetrack"),
        is_interpolated=predicted.fill_null(False),
    )
    staff_id = len(ids) + 1
    staff = rows.head(10).with_columns(
        track_id=pl.lit(staff_id, pl.Int32),
        label=pl.lit("staff"),
        bbox_x=pl.lit(0.01, pl.Float32),
        bbox_y=pl.lit(0.5, pl.Float32),
    )
    rows = pl.concat([rows, staff]).sort("frame_index", "track_id")
    segments = (
        order.group_by("segment", maintain_order=True)
        .agg(
            pl.col("track_id").first(),
            pl.col("track").first(),
            pl.col("role").first(),
            pl.col("team").first(),
            pl.col("jersey").first(),
            pl.col("identified").first(),
            pl.col("period").first(),
            start_frame=pl.col("frame").min(),
            end_frame=pl.col("frame").max(),
            start=pl.col("timestamp_ms").min(),
            end=pl.col("timestamp_ms").max(),
        )
        .sort("track", "start")
    )
    tracks, last_identified = {}, {}
    for seg in segments.iter_rows(named=True):  # per track segment (a few dozen), not per frame
        person = seg["role"] in ("player", "goal_keeper")
        key = (seg["track"], seg["period"], seg["jersey"])
        parent = last_identified.get(key) if person and seg["identified"] else None
        own = person and seg["identified"] and parent is None
        tracks[str(seg["track_id"])] = {
            "label": "goalkeeper" if seg["role"] == "goal_keeper" else seg["role"],
            "start_frame": seg["start_frame"],
            "end_frame": seg["end_frame"],
            "start_continuous_time_s": seg["start"] / 1000,
            "end_continuous_time_s": seg["end"] / 1000,
            "team_id": ("home", "away")[seg["team"]] if own else None,
            "jersey_number": seg["jersey"] if own else None,
            "player_id": f"{('home', 'away')[seg['team']]}_{seg['jersey']}" if own else None,
            "reid_parent_track_id": parent,
        }
        if person and seg["identified"]:
            last_identified.setdefault(key, seg["track_id"])
    tracks[str(staff_id)] = {
        "label": "staff",
        "start_frame": 0,
        "end_frame": 9,
        "team_id": None,
        "jersey_number": None,
        "player_id": None,
        "reid_parent_track_id": None,
    }
    half_start = truth.filter(pl.col("period") == 2)["timestamp_ms"].min()
    meta = {
        "schema_version": schema_version,
        "match_id": match_id,
        "produced_by": {"detector": "yolo11n.pt@v3", "tracker": "bytetrack", "tracker_config": "bytetrack.yaml"},
        "video": {"width": VIDEO_SIZE[0], "height": VIDEO_SIZE[1], "fps": float(fps)},
        "game_metadata": {"half_start_continuous_s": half_start / 1000 if half_start is not None else None},
        "tracks": tracks,
    }
    if homography:
        to_pitch = np.linalg.inv(to_image)
        meta["pitch_homography"] = (to_pitch / to_pitch[2, 2]).tolist()
    folder.mkdir(parents=True, exist_ok=True)
    table = rows.to_arrow()
    for name in ("label", "detector_model", "tracker"):  # dictionary<string>, as the tracker writes them
        table = table.set_column(table.schema.get_field_index(name), name, table[name].dictionary_encode())
    pq.write_table(table, folder / "tracks.parquet")
    (folder / "tracks_meta.json").write_text(json.dumps(meta, indent=1))
    return folder / "tracks.parquet"
