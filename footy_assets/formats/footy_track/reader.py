"""footy_track: the video tracker's output, ``tracks.parquet`` + ``tracks_meta.json``.

The video tracker's output: one Parquet row per Detection (``frame_index``, ``continuous_time_s``,
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
import re

import numpy as np
import polars as pl

from footy_assets.core import canonical
from footy_assets.formats.common import (
    Delivery,
    FeedError,
    FeedInfo,
    ReadResult,
    excerpt,
    load_json_document,
    read_vendor_parquet,
    refuse_implausible_rows,
    validate_vendor_rows,
)
from footy_assets.formats.footy_track.contract import FootyTrackRows

FORMAT = "footy_track"
TRACKS_FILE, META_FILE = "tracks.parquet", "tracks_meta.json"
SCHEMA_MAJOR = "1"
ROLE_OF_LABEL = {
    "player": "player",
    "goalkeeper": "goal_keeper",
    "goal_keeper": "goal_keeper",
    "referee": "referee",
    "ball": "ball",
}
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
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not lo <= value <= hi
    ):
        raise FeedError(META_FILE, f"{where} must be a number within {lo:g}..{hi:g}, got {excerpt(value)}")
    return float(value)


TRACK_KEY = re.compile(r"[1-9][0-9]*")  # ASCII decimal, no sign, no leading zero: "01", "1_0", "١" refused


def _check_field(values: list, ok, key_list: list, where: str, what: str) -> None:
    """Refuse the first track whose field ``values[i]`` is neither null nor ``ok`` (the error path names it)."""
    bad = [i for i, v in enumerate(values) if v is not None and not ok(v)]
    if bad:
        raise FeedError(META_FILE, f"tracks.{key_list[bad[0]]}.{where} must be {what}, got {excerpt(values[bad[0]])}")


def _pointer_jump(jump: np.ndarray) -> np.ndarray:
    """Follow ``jump`` (an index per track; a track pointing at itself is the end) to the end of every chain:
    each round doubles the distance covered, so ceil(log2(n)) + 1 rounds of whole-array indexing."""
    for _ in range(max(int(np.ceil(np.log2(max(jump.size, 2)))) + 1, 1)):
        nxt = jump[jump]
        if np.array_equal(nxt, jump):
            break
        jump = nxt
    return jump


def resolve_identities(tracks: dict) -> pl.DataFrame:
    """(track_id, team, jersey) of every sidecar track: its own fields, each null one taken from the nearest track
    up its ``reid_parent_track_id`` chain that has it. Linear in the tracks (pointer jumping over numpy arrays,
    O(n log n) at worst): 100,000 chained tracks resolve in a fraction of a second."""
    keys = list(tracks)
    bad_key = next((k for k in keys if not TRACK_KEY.fullmatch(k)), None)
    if bad_key is not None:
        raise FeedError(
            META_FILE,
            f"tracks.{excerpt(bad_key)}: track ids are ASCII decimal integers from 1 without "
            f'leading zeros ("1", "17"), got {excerpt(bad_key)}',
        )
    too_big = next((k for k in keys if len(k) > 10 or int(k) >= 2**31), None)
    if too_big is not None:  # the tracker's track_id is an int32 from 1
        raise FeedError(META_FILE, f"tracks.{excerpt(too_big)}: track id {excerpt(too_big)} is not an int32 from 1")
    ids = np.array([int(k) for k in keys], dtype=np.int64)
    not_object = next((k for k in keys if not isinstance(tracks[k], dict)), None)
    if not_object is not None:
        raise FeedError(META_FILE, f"tracks.{not_object} must be an object")
    teams = [tracks[k].get("team_id") for k in keys]
    jerseys = [tracks[k].get("jersey_number") for k in keys]
    parents = [tracks[k].get("reid_parent_track_id") for k in keys]
    _check_field(
        teams,
        lambda v: (isinstance(v, str) or type(v) is int) and str(v) in TEAM_OF_ID,
        keys,
        "team_id",
        '"home", "away", "0", "1" or null',
    )
    _check_field(
        jerseys, lambda v: type(v) is int and 0 <= v <= 999, keys, "jersey_number", "a whole number 0..999 or null"
    )
    _check_field(
        parents, lambda v: type(v) is int and 1 <= v < 2**31, keys, "reid_parent_track_id", "a track id or null"
    )
    n = ids.size
    order = np.argsort(ids)
    parent_id = np.array([-1 if p is None else p for p in parents], dtype=np.int64)
    has_parent = parent_id >= 0
    at = np.searchsorted(ids[order], parent_id)
    at = order[np.minimum(at, max(n - 1, 0))] if n else at
    missing = has_parent & ((ids[at] != parent_id) if n else has_parent)
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise FeedError(
            META_FILE, f"tracks.{keys[i]}.reid_parent_track_id {parent_id[i]} is not a track of the sidecar"
        )
    self_index = np.arange(n)
    parent = np.where(has_parent, at, self_index)
    root = _pointer_jump(parent)
    looped = has_parent[root]  # the chain never reaches a track without a parent
    if looped.any():
        i = int(np.flatnonzero(looped)[np.argmin(ids[looped])])
        chain = [i]
        while parent[chain[-1]] not in chain and len(chain) < 6:  # the error path: a few steps to show
            chain.append(int(parent[chain[-1]]))
        shown = [str(ids[j]) for j in chain] + ([str(ids[parent[chain[-1]]])] if len(chain) < 6 else ["..."])
        raise FeedError(META_FILE, f"tracks.{ids[i]}: the reid_parent_track_id chain loops ({' -> '.join(shown)})")

    def inherit(own: np.ndarray, known: np.ndarray) -> np.ndarray:
        end = _pointer_jump(np.where(known | ~has_parent, self_index, parent))
        return np.where(known[end], own[end], -1)

    team_own = np.array([-1 if t is None else TEAM_OF_ID[str(t)] for t in teams], dtype=np.int64)
    jersey_own = np.array([-1 if j is None else j for j in jerseys], dtype=np.int64)
    team, jersey = inherit(team_own, team_own >= 0), inherit(jersey_own, jersey_own >= 0)
    return pl.DataFrame({"track_id": ids, "team": team, "jersey": jersey}).select(
        pl.col("track_id").cast(pl.Int32),
        pl.when(pl.col("team") >= 0).then(pl.col("team")).cast(pl.Int8).alias("team"),
        pl.when(pl.col("jersey") >= 0).then(pl.col("jersey")).cast(pl.Int16).alias("jersey"),
    )


def read_meta(delivery: Delivery) -> dict:
    """The sidecar, checked: schema version, video size and fps, second-half start, homography, identities."""
    doc = load_json_document(delivery.read_bytes(META_FILE), META_FILE)
    if not isinstance(doc, dict):
        raise FeedError(META_FILE, "expected a JSON object")
    version = doc.get("schema_version")
    if not isinstance(version, str) or version.split(".")[0] != SCHEMA_MAJOR:
        raise FeedError(
            META_FILE,
            f"schema_version {excerpt(version)} is not understood: this reader reads "
            f"{SCHEMA_MAJOR}.x (another major version may change what the columns mean)",
        )
    video = doc.get("video")
    if not isinstance(video, dict):
        raise FeedError(META_FILE, "video must be an object with width, height and fps")
    width = _number(video.get("width"), "video.width", 16, 16384)
    height = _number(video.get("height"), "video.height", 16, 16384)
    fps = _number(video.get("fps"), "video.fps", 1, 100)
    if abs(fps - round(fps)) > 1e-6:
        # frame_id = round(timestamp_ms * fps / 1000) and matches.fps / frame_state.fps are whole numbers: a
        # fractional rate rounded would merge frames (25.4 -> 25) or skip them, and every speed would be off
        raise FeedError(
            META_FILE,
            f"video.fps {excerpt(fps)} is not a whole number of frames per second: this "
            "lake stores fps as an integer and numbers frames by it, so a fractional rate (29.97, 25.4) "
            "is not read rather than rounded",
        )
    game = doc.get("game_metadata", {})
    game = {} if game is None else game
    if not isinstance(game, dict):  # [] or 0 must not read as "no second half"
        raise FeedError(META_FILE, f"game_metadata must be an object or null, got {excerpt(json.dumps(game))}")
    half = game.get("half_start_continuous_s")
    half = None if half is None else _number(half, "game_metadata.half_start_continuous_s", 0, 86_400)
    homography = doc.get("pitch_homography")
    if homography is not None:
        if (
            not isinstance(homography, list)
            or len(homography) != 3
            or any(not isinstance(row, list) or len(row) != 3 for row in homography)
        ):
            raise FeedError(META_FILE, "pitch_homography must be 3 rows of 3 numbers")
        matrix = np.array([[_number(v, "pitch_homography", -1e9, 1e9) for v in row] for row in homography])
        if abs(np.linalg.det(matrix)) < 1e-12:
            raise FeedError(META_FILE, "pitch_homography is singular (it maps the image onto a line)")
        homography = matrix
    tracks = doc.get("tracks")
    if not isinstance(tracks, dict):
        raise FeedError(META_FILE, "tracks must be an object keyed by track_id")
    return {
        "width": width,
        "height": height,
        "fps": round(fps),
        "half_start_s": half,
        "homography": homography,
        "identities": resolve_identities(tracks),
    }


def _source_type_problem(name: str, have: pl.DataType, want: pl.DataType) -> str | None:
    """Why a column stored as ``have`` cannot be read as ``want`` (None when it can): numbers must be stored as
    numbers (not booleans, text or lists), ``is_interpolated`` as booleans, ``label`` as text."""
    if want == pl.Boolean:
        ok = have in (pl.Boolean, pl.Null)
    elif want == pl.String:
        ok = have in (pl.String, pl.Categorical, pl.Null) or isinstance(have, pl.Enum)
    else:
        ok = have.is_numeric() or have == pl.Null
    if ok:
        return None
    kinds = "numbers as numbers, is_interpolated as booleans, label as text"
    return f"column {name} is stored as {have}, not {want} ({kinds})"


def _read_rows(delivery: Delivery) -> pl.DataFrame:
    frame = read_vendor_parquet(delivery, TRACKS_FILE)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise FeedError(TRACKS_FILE, f"missing column(s) {', '.join(missing)}; found {', '.join(frame.columns)}")
    for name, dtype in COLUMNS.items():
        problem = _source_type_problem(name, frame.schema[name], dtype)
        if problem:
            first = frame[name].is_not_null().arg_true()
            raise FeedError(TRACKS_FILE, problem, row=int(first[0]) if first.len() else None)
        if dtype.is_integer() and frame.schema[name].is_float():  # a cast would truncate 3.5 to 3
            fractional = (frame[name] != frame[name].round(0)).fill_null(False).arg_true()
            if fractional.len():
                i = int(fractional[0])
                raise FeedError(TRACKS_FILE, f"{name} = {excerpt(frame[name][i])} is not a whole number", row=i)
    out = frame.with_row_index("row").select(
        pl.col("row").cast(pl.Int64), *[pl.col(c).cast(t, strict=False) for c, t in COLUMNS.items()]
    )
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


def read(delivery: Delivery) -> ReadResult:
    """Read one footy_track match folder into canonical tracking rows."""
    names = set(delivery.names)
    for needed in (TRACKS_FILE, META_FILE):
        if needed not in names:
            raise FeedError(
                delivery.match_id,
                f"expected {TRACKS_FILE} and {META_FILE}, found: {', '.join(sorted(names)) or 'nothing'}",
            )
    meta = read_meta(delivery)
    rows = validate_vendor_rows(_read_rows(delivery), FootyTrackRows, TRACKS_FILE, "row", unit="row")
    if rows.height == 0:
        raise FeedError(TRACKS_FILE, "no detections")
    backwards = rows.filter((pl.col("frame_index").diff().over("track_id") <= 0).fill_null(False))
    if backwards.height:
        bad = backwards.row(0, named=True)
        raise FeedError(
            TRACKS_FILE,
            f"track {bad['track_id']}: frame_index {bad['frame_index']} does not come after "
            "the track's previous detection (frame_index must increase within a track)",
            row=bad["row"],
        )
    back_in_time = rows.filter((pl.col("continuous_time_s").diff().over("track_id") <= 0).fill_null(False))
    if back_in_time.height:
        bad = back_in_time.row(0, named=True)
        raise FeedError(
            TRACKS_FILE,
            f"track {bad['track_id']}: continuous_time_s {bad['continuous_time_s']} does not "
            "come after the track's previous detection (the clock must run forward within a track)",
            row=bad["row"],
        )
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
    twice = kept.filter(pl.struct("track_id", "frame_id").is_duplicated()).sort("row").head(2)
    if twice.height:  # a frame rate below the detections' (fps 1 for 25 Hz detections): frames would merge
        a, b = twice.row(0, named=True), twice.row(1, named=True)
        step = abs(b["continuous_time_s"] - a["continuous_time_s"])
        raise FeedError(
            TRACKS_FILE,
            f"track {a['track_id']} has two detections in frame {a['frame_id']} "
            f"({step:.3f} s apart) at {META_FILE}'s video.fps {fps}: the frame rate is lower than the "
            "detections'",
            row=b["row"],
        )
    dropped = rows.height - kept.height
    if kept.height == 0:
        raise FeedError(TRACKS_FILE, "no detection of a player, goal keeper, referee or ball")
    half = meta["half_start_s"]
    period = (
        pl.lit(1, pl.Int8)
        if half is None
        else pl.when(pl.col("continuous_time_s") >= half).then(2).otherwise(1).cast(pl.Int8)
    )
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
            "row",
            "timestamp_ms",
            "frame_id",
            period.alias("period"),
            "role",
            team=pl.when(person).then(pl.col("team")),
            jersey=pl.when(person).then(pl.col("jersey")),
            track_id=pl.col("track_id").cast(pl.String),
            x_m=pl.Series(x_m, nan_to_null=True),
            y_m=pl.Series(y_m, nan_to_null=True),
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
        raise FeedError(
            TRACKS_FILE,
            f"player {player_id} appears twice in frame {frame_id} (tracks "
            f"{', '.join(clash['track_id'].to_list())}: check their identities in {META_FILE})",
            row=int(clash["row"].max()),
        )
    refuse_implausible_rows(frame, TRACKS_FILE, "row", unit="row")
    flips = canonical.home_flip_by_period(frame) if meta["homography"] is not None else {}
    tracking = canonical.finalise(canonical.orient(frame, flips), delivery.match_id, FORMAT, delivery.fingerprint)
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
