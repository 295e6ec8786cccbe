"""footy_track: the video tracker's output, ``tracks.parquet`` + ``tracks_meta.json`` (CONTRACTS 10).

Seed ``video-tracker-tracks-format.txt``: one Parquet row per Detection (``frame_index``, ``continuous_time_s``,
``track_id``, ``label``, ``confidence``, a normalised top-left xywh box, ``is_interpolated``) and a JSON sidecar
with the video's size and frame rate, the second half's start and, per track, its identity (``team_id``,
``jersey_number``) and ``reid_parent_track_id``.

* Clock: ``continuous_time_s`` (never ``frame_index``); fps from ``video.fps``. Period 2 starts at
  ``game_metadata.half_start_continuous_s``; period 1 at the first detection.
* Identity: the sidecar's track, each field that is null there taken from the track it was re-identified from
  (``reid_parent_track_id``, followed up the chain). Tracks that never got an identity stay, unidentified.
* Roles from labels (``goalkeeper`` -> ``goal_keeper``); other labels are dropped and counted. A frame with two
  ball detections keeps the most confident one (the others are counted as dropped).
* ``bbox_x``/``bbox_y``: pixels of the box's bottom centre. Pitch positions through the sidecar's
  ``pitch_homography`` (normalised bottom centre -> pitch metres, CDF axes), standardised in direction by the
  home goal keeper; without a homography x_m and y_m are null (frame_state skips those rows).
* ``schema_version`` 1.x is understood; anything else is refused with a message.
"""

from __future__ import annotations

import json
import math

import numpy as np
import polars as pl

from footy_assets import canonical
from footy_assets.contracts.footy_track import FootyTrackRows
from footy_assets.lake import Lake
from footy_assets.landing import LandedMatch
from footy_assets.readers.common import FeedError, FeedInfo, ReadResult, decode_utf8, excerpt, refuse_implausible_rows, validate_vendor_rows

FORMAT = "footy_track"
TRACKS_FILE, META_FILE = "tracks.parquet", "tracks_meta.json"
SCHEMA_MAJOR = "1"
ROLE_OF_LABEL = {"player": "player", "goalkeeper": "goal_keeper", "goal_keeper": "goal_keeper",
                 "referee": "referee", "ball": "ball"}
TEAM_OF_ID = {"home": 0, "away": 1, "0": 0, "1": 1}
COLUMNS: dict[str, pl.DataType] = {
    "frame_index": pl.Int32,
    "continuous_time_s": pl.Float64,
    "track_id": pl.Int32,
    "label": pl.String,
    "confidence": pl.Float32,
    "bbox_x": pl.Float32,
    "bbox_y": pl.Float32,
    "bbox_w": pl.Float32,
    "bbox_h": pl.Float32,
    "is_interpolated": pl.Boolean,
}


def _number(value, where: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not lo <= value <= hi:
        raise FeedError(META_FILE, f"{where} must be a number within {lo:g}..{hi:g}, got {excerpt(value)}")
    return float(value)


def resolve_identities(tracks: dict) -> pl.DataFrame:
    """(track_id, team, jersey) of every sidecar track: its own fields, each null one taken from the track it was
    re-identified from, up the ``reid_parent_track_id`` chain (per track, not per row: tracks are few)."""
    own: dict[int, tuple[int | None, int | None, int | None]] = {}
    for key, track in tracks.items():
        where = f"tracks.{key}"
        if not isinstance(track, dict):
            raise FeedError(META_FILE, f"{where} must be an object")
        try:
            track_id = int(key)
        except ValueError:
            raise FeedError(META_FILE, f"{where}: track ids are integers, got {excerpt(key)}") from None
        if not 1 <= track_id < 2**31:  # the seed's track_id is an int32 from 1
            raise FeedError(META_FILE, f"{where}: track id {excerpt(key)} is not an int32 from 1")
        team_id = track.get("team_id")
        if team_id is not None and str(team_id) not in TEAM_OF_ID:
            raise FeedError(META_FILE, f"{where}.team_id must be \"home\", \"away\", \"0\", \"1\" or null, got "
                            f"{excerpt(team_id)}")
        jersey = track.get("jersey_number")
        if jersey is not None and (isinstance(jersey, bool) or not isinstance(jersey, int) or not 0 <= jersey <= 999):
            raise FeedError(META_FILE, f"{where}.jersey_number must be a whole number 0..999 or null, got "
                            f"{excerpt(jersey)}")
        parent = track.get("reid_parent_track_id")
        if parent is not None and (isinstance(parent, bool) or not isinstance(parent, int) or not 1 <= parent < 2**31):
            raise FeedError(META_FILE, f"{where}.reid_parent_track_id must be a track id or null, got {excerpt(parent)}")
        own[track_id] = (None if team_id is None else TEAM_OF_ID[str(team_id)], jersey, parent)
    resolved: dict[int, tuple[int | None, int | None]] = {}
    for track_id in own:
        chain, current = [], track_id
        team = jersey = None
        while current is not None:
            if current in chain:
                raise FeedError(META_FILE, f"tracks.{track_id}: the reid_parent_track_id chain loops "
                                f"({' -> '.join(map(str, [*chain, current]))})")
            if current not in own:
                raise FeedError(META_FILE, f"tracks.{chain[-1]}.reid_parent_track_id {current} is not a track of "
                                "the sidecar")
            chain.append(current)
            if current in resolved:  # the rest of the chain is known
                team = resolved[current][0] if team is None else team
                jersey = resolved[current][1] if jersey is None else jersey
                break
            team = own[current][0] if team is None else team
            jersey = own[current][1] if jersey is None else jersey
            current = own[current][2]
        resolved[track_id] = (team, jersey)
    return pl.DataFrame({"track_id": list(resolved), "team": [t for t, _ in resolved.values()],
                         "jersey": [j for _, j in resolved.values()]},
                        schema={"track_id": pl.Int32, "team": pl.Int8, "jersey": pl.Int16})


def read_meta(lake: Lake, landed: LandedMatch) -> dict:
    """The sidecar, checked: schema version, video size and fps, second-half start, homography, identities."""
    try:
        doc = json.loads(decode_utf8(lake.read_bytes(landed.file_uri(META_FILE)), META_FILE))
    except json.JSONDecodeError as exc:
        raise FeedError(META_FILE, f"not valid JSON: {exc.msg}", line=exc.lineno) from None
    except RecursionError:
        raise FeedError(META_FILE, "not valid JSON (nested too deeply)") from None
    if not isinstance(doc, dict):
        raise FeedError(META_FILE, "expected a JSON object")
    version = doc.get("schema_version")
    if not isinstance(version, str) or version.split(".")[0] != SCHEMA_MAJOR:
        raise FeedError(META_FILE, f"schema_version {excerpt(version)} is not understood: this reader reads "
                        f"{SCHEMA_MAJOR}.x (seed video-tracker-tracks-format.txt)")
    video = doc.get("video")
    if not isinstance(video, dict):
        raise FeedError(META_FILE, "video must be an object with width, height and fps")
    width = _number(video.get("width"), "video.width", 16, 16384)
    height = _number(video.get("height"), "video.height", 16, 16384)
    fps = _number(video.get("fps"), "video.fps", 1, 100)
    game = doc.get("game_metadata") or {}
    if not isinstance(game, dict):
        raise FeedError(META_FILE, "game_metadata must be an object")
    half = game.get("half_start_continuous_s")
    half = None if half is None else _number(half, "game_metadata.half_start_continuous_s", 0, 86_400)
    homography = doc.get("pitch_homography")
    if homography is not None:
        if (not isinstance(homography, list) or len(homography) != 3
                or any(not isinstance(row, list) or len(row) != 3 for row in homography)):
            raise FeedError(META_FILE, "pitch_homography must be 3 rows of 3 numbers")
        matrix = np.array([[_number(v, "pitch_homography", -1e9, 1e9) for v in row] for row in homography])
        if abs(np.linalg.det(matrix)) < 1e-12:
            raise FeedError(META_FILE, "pitch_homography is singular (it maps the image onto a line)")
        homography = matrix
    tracks = doc.get("tracks")
    if not isinstance(tracks, dict):
        raise FeedError(META_FILE, "tracks must be an object keyed by track_id")
    return {"width": width, "height": height, "fps": int(round(fps)), "half_start_s": half,
            "homography": homography, "identities": resolve_identities(tracks)}


def _read_rows(lake: Lake, landed: LandedMatch) -> pl.DataFrame:
    uri = landed.file_uri(TRACKS_FILE)
    try:
        with lake.open_regular(uri) as stream:
            frame = pl.read_parquet(stream)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise FeedError(TRACKS_FILE, f"not a readable Parquet file ({str(exc).splitlines()[0][:200]})") from None
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise FeedError(TRACKS_FILE, f"missing column(s) {', '.join(missing)}; found {', '.join(frame.columns)}")
    out = frame.with_row_index("row").select(pl.col("row").cast(pl.Int64),
                                             *[pl.col(c).cast(t, strict=False) for c, t in COLUMNS.items()])
    for name, dtype in COLUMNS.items():  # a cast that produced null from a value is a type error
        lost = (out[name].is_null() & frame[name].is_not_null()).arg_true()
        if lost.len():
            i = int(lost[0])
            raise FeedError(TRACKS_FILE, f"{name} = {excerpt(frame[name][i])} is not a {dtype}", row=i)
        if out[name].null_count():
            raise FeedError(TRACKS_FILE, f"{name} is null", row=int(out[name].is_null().arg_true()[0]))
    return out


def _pitch_positions(u: np.ndarray, v: np.ndarray, homography: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normalised image points (u, v) to pitch metres through the 3x3 homography (whole columns)."""
    points = homography @ np.vstack([u, v, np.ones_like(u)])
    return points[0] / points[2], points[1] / points[2]


def read(lake: Lake, landed: LandedMatch) -> ReadResult:
    """Read one footy_track match folder into canonical tracking rows (CONTRACTS 10)."""
    names = {f.name for f in landed.files}
    for needed in (TRACKS_FILE, META_FILE):
        if needed not in names:
            raise FeedError(landed.match_id, f"expected {TRACKS_FILE} and {META_FILE}, found: "
                            f"{', '.join(sorted(names)) or 'nothing'}")
    meta = read_meta(lake, landed)
    rows = validate_vendor_rows(_read_rows(lake, landed), FootyTrackRows, TRACKS_FILE, "row", unit="row")
    if rows.height == 0:
        raise FeedError(TRACKS_FILE, "no detections")
    backwards = rows.filter((pl.col("frame_index").diff().over("track_id") <= 0).fill_null(False))
    if backwards.height:
        bad = backwards.row(0, named=True)
        raise FeedError(TRACKS_FILE, f"track {bad['track_id']}: frame_index {bad['frame_index']} does not come after "
                        "the track's previous detection (frame_index must increase within a track)", row=bad["row"])
    identities = meta["identities"]
    unknown = rows.join(identities.select("track_id"), on="track_id", how="anti")
    if unknown.height:
        bad = unknown.row(0, named=True)
        raise FeedError(TRACKS_FILE, f"track {bad['track_id']} is not in {META_FILE}'s tracks", row=bad["row"])

    fps, width, height = meta["fps"], meta["width"], meta["height"]
    role = pl.col("label").replace_strict(ROLE_OF_LABEL, default=None, return_dtype=pl.String)
    kept = rows.with_columns(role=role).filter(pl.col("role").is_not_null())
    kept = kept.with_columns(timestamp_ms=(pl.col("continuous_time_s") * 1000).round(0).cast(pl.Int64))
    kept = kept.with_columns(canonical.frame_id_expr(fps))
    # a second ball detection in a frame (a false positive): the most confident one stays
    is_ball = pl.col("role") == "ball"
    extra_ball = is_ball & (pl.col("confidence").rank("ordinal", descending=True).over("frame_id", "role") > 1)
    kept = kept.filter(~extra_ball)
    dropped = rows.height - kept.height
    if kept.height == 0:
        raise FeedError(TRACKS_FILE, "no detection of a player, goal keeper, referee or ball")
    half = meta["half_start_s"]
    period = (pl.lit(1, pl.Int8) if half is None
              else pl.when(pl.col("continuous_time_s") >= half).then(2).otherwise(1).cast(pl.Int8))
    person = pl.col("role").is_in(["player", "goal_keeper"])
    u = (kept["bbox_x"] + kept["bbox_w"] / 2).cast(pl.Float64).to_numpy()
    v = (kept["bbox_y"] + kept["bbox_h"]).cast(pl.Float64).to_numpy()
    if meta["homography"] is not None:
        x_m, y_m = _pitch_positions(u, v, meta["homography"])
    else:
        x_m = y_m = np.full(kept.height, np.nan)
    frame = (
        kept.join(identities, on="track_id", how="left", maintain_order="left")
        .select(
            "row", "timestamp_ms", "frame_id", period.alias("period"), "role",
            team=pl.when(person).then(pl.col("team")),
            jersey=pl.when(person).then(pl.col("jersey")),
            track_id=pl.col("track_id").cast(pl.String),
            x_m=pl.Series(x_m, nan_to_null=True), y_m=pl.Series(y_m, nan_to_null=True),
            bbox_x=pl.Series(np.round(u * width)).cast(pl.Int16, strict=False),
            bbox_y=pl.Series(np.round(v * height)).cast(pl.Int16, strict=False),
            bbox_w=(pl.col("bbox_w") * width).round(0).cast(pl.Int16),
            bbox_h=(pl.col("bbox_h") * height).round(0).cast(pl.Int16),
            interpolated="is_interpolated",
        )
        .sort("timestamp_ms", "row")
        .with_columns(canonical.player_id_expr())
    )
    dup = canonical.duplicate_players(frame)
    if dup.height:
        frame_id, player_id = dup.row(0)
        clash = frame.filter((pl.col("frame_id") == frame_id) & (pl.col("player_id") == player_id))
        raise FeedError(TRACKS_FILE, f"player {player_id} appears twice in frame {frame_id} (tracks "
                        f"{', '.join(clash['track_id'].to_list())}: check their identities in {META_FILE})",
                        row=int(clash["row"].max()))
    refuse_implausible_rows(frame, TRACKS_FILE, "row", unit="row")
    flips = canonical.home_flip_by_period(frame) if meta["homography"] is not None else {}
    tracking = canonical.finalise(canonical.orient(frame, flips), landed.match_id, FORMAT, landed.fingerprint)
    first_ms = int(frame["timestamp_ms"].min())
    starts = {"1": first_ms, **({"2": round(half * 1000)} if half is not None else {})}
    info = FeedInfo(
        format=FORMAT,
        files=[TRACKS_FILE, META_FILE],
        fps=fps,
        pitch_length_m=canonical.DEFAULT_PITCH[0],
        pitch_width_m=canonical.DEFAULT_PITCH[1],
        vendor_rows=rows.height,
        flipped_periods=sorted(p for p, f in flips.items() if f),
        period_start_ms=starts,
        vendor_rows_dropped=dropped,
    )
    return ReadResult(tracking, info)
