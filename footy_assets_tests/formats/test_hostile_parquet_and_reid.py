"""Hostile input to footy_track and footy_stats: re-ID chains in linear time, Parquet
decompression bounds, garbage that used to be accepted, and refusals that used to be unclear. Every refusal
names the file and the row, line or field, and the real cause."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from footy_assets.formats import FeedError
from footy_assets.lake.delivery import read_match
from footy_assets.lake.landing import find_match
from footy_assets_tests.helpers import land_sample, land_synthetic


def _read(lake, match_id):
    return read_match(lake, find_match(lake, match_id))


def _refusal(lake, match_id) -> FeedError:
    with pytest.raises(FeedError) as caught:
        _read(lake, match_id)
    return caught.value


def _meta_text(folder: Path, edit) -> None:
    """Edit the sidecar as text (duplicate keys cannot be written from a dict)."""
    path = folder / "tracks_meta.json"
    path.write_text(edit(path.read_text()))


def _meta(folder: Path, change) -> None:
    meta = json.loads((folder / "tracks_meta.json").read_text())
    change(meta)
    (folder / "tracks_meta.json").write_text(json.dumps(meta))


def _tracks(folder: Path, change) -> None:
    frame = pl.read_parquet(folder / "tracks.parquet")
    change(frame).write_parquet(folder / "tracks.parquet")


def _stats(folder: Path, change) -> None:
    frame = pl.read_parquet(folder / "tracking.parquet")
    change(frame).write_parquet(folder / "tracking.parquet")


def _at(row: int, value, column: str, dtype=None) -> pl.Expr:
    other = pl.col(column) if dtype is None else pl.col(column).cast(dtype)
    return pl.when(pl.int_range(pl.len()) == row).then(pl.lit(value, dtype)).otherwise(other).alias(column)


# -- footy_track: re-ID chains ------------------------------------------------------------------------------
CHAIN = """
import json, sys
from footy_assets.formats.footy_track.reader import resolve_identities
n = int(sys.argv[1])
# track i was re-identified from track i + 1; only the last has an identity; listed first to last
tracks = {str(i): {"team_id": None, "jersey_number": None, "reid_parent_track_id": i + 1} for i in range(1, n)}
tracks[str(n)] = {"team_id": "away", "jersey_number": 7, "reid_parent_track_id": None}
tracks["1"]["jersey_number"] = 9  # its own field wins over the chain's
ids = resolve_identities(tracks)
print(json.dumps({"rows": ids.height, "teams": ids["team"].unique().to_list(),
                  "jerseys": sorted(ids["jersey"].value_counts().rows())}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("tracks", [3_000, 100_000])
def test_reid_chains_resolve_in_linear_time(tracks):
    """3,000 tracks each naming the next as parent took > 90 s (cubic); 100,000 now resolve at once. The
    subprocess's timeout only turns a hang into a failure (no timing is asserted)."""
    done = subprocess.run(
        [sys.executable, "-c", CHAIN, str(tracks)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result == {"rows": tracks, "teams": [1], "jerseys": [[7, tracks - 1], [9, 1]]}


def test_a_sidecar_of_3000_chained_tracks_reads(lake, truth):
    folder = land_synthetic(lake, "footy_track", "chain", truth.head(4000))

    def chain(meta):
        top = max(int(k) for k in meta["tracks"])
        for i in range(top + 1, top + 3001):  # 150 KB of tracks without detections, each re-identified from the next
            meta["tracks"][str(i)] = {
                "label": "player",
                "team_id": None,
                "jersey_number": None,
                "reid_parent_track_id": i + 1 if i < top + 3000 else 3,
            }

    _meta(folder, chain)
    assert _read(lake, "chain").tracking.height > 0


@pytest.mark.parametrize(
    "close, message",
    [
        (lambda n: n // 2, "the reid_parent_track_id chain loops"),  # the last names one in the middle
        (lambda n: n + 5, "is not a track of the sidecar"),  # the last names a track that is not there
    ],
)
def test_a_long_chain_that_loops_or_ends_nowhere_is_refused(close, message):
    from footy_assets.formats.footy_track.reader import resolve_identities

    n = 5000
    tracks = {str(i): {"reid_parent_track_id": i + 1} for i in range(1, n)}
    tracks[str(n)] = {"reid_parent_track_id": close(n)}
    with pytest.raises(FeedError) as caught:
        resolve_identities(tracks)
    assert caught.value.file == "tracks_meta.json" and message in str(caught.value), str(caught.value)


def test_a_chain_takes_each_field_from_the_nearest_track_that_has_it():
    from footy_assets.formats.footy_track.reader import resolve_identities

    tracks = {
        "1": {"reid_parent_track_id": 2},
        "2": {"team_id": "home", "reid_parent_track_id": 3},
        "3": {"team_id": "away", "jersey_number": 4},
        "4": {"jersey_number": 11},
        "5": {},
    }
    ids = resolve_identities(tracks).sort("track_id")
    assert ids.rows() == [(1, 0, 4), (2, 0, 4), (3, 1, 4), (4, None, 11), (5, None, None)]


# -- Parquet decompression bounds ---------------------------------------------------------------------------
@pytest.mark.parametrize("fmt, file", [("footy_stats", "tracking.parquet"), ("footy_track", "tracks.parquet")])
@pytest.mark.parametrize(
    "variable, limit, what",
    [
        ("FOOTY_MAX_PARQUET_ROWS", "1000", "rows, over the limit of 1,000 (FOOTY_MAX_PARQUET_ROWS"),
        ("FOOTY_MAX_PARQUET_BYTES", "20000", "bytes, over the limit of 20,000 (FOOTY_MAX_PARQUET_BYTES"),
    ],
)
def test_parquet_over_the_bounds_is_refused_from_its_footer(lake, truth, monkeypatch, fmt, file, variable, limit, what):
    land_synthetic(lake, fmt, "big", truth.head(4000))
    monkeypatch.setenv(variable, limit)
    read = []
    import polars

    monkeypatch.setattr(polars, "read_parquet", lambda *a, **k: read.append(1))  # never reached
    error = _refusal(lake, "big")
    assert error.file == file and what in str(error), str(error)
    assert read == []


@pytest.mark.slow
def test_a_zstd_bomb_of_identical_rows_is_refused_with_the_default_bounds(lake, truth, monkeypatch):
    """A few MB of zstd holding 21 M identical rows (the reported bomb had 60 M in 1.7 MB): refused by the
    default row bound before anything is decompressed."""
    folder = land_synthetic(lake, "footy_stats", "bomb", truth.head(50))
    row = pl.read_parquet(folder / "tracking.parquet").head(1).to_arrow()
    block = pa.concat_tables([row] * 1_000_000).combine_chunks()
    with pq.ParquetWriter(folder / "tracking.parquet", block.schema, compression="zstd") as writer:
        for _ in range(21):
            writer.write_table(block, row_group_size=1_000_000)
    assert (folder / "tracking.parquet").stat().st_size < 5_000_000
    error = _refusal(lake, "bomb")
    assert str(error).startswith("tracking.parquet: holds 21,000,000 rows, over the limit of 20,000,000"), str(error)


# -- footy_track: garbage accepted before -------------------------------------------------------------------
def _dup_key(text: str) -> str:  # "01" beside "1": int("01") == 1, the last one won
    meta = json.loads(text)
    one = dict(meta["tracks"]["1"], jersey_number=99)
    return text.replace('"tracks": {', '"tracks": {"01": ' + json.dumps(one) + ", ", 1)


def _same_key_twice(text: str) -> str:
    meta = json.loads(text)
    one = dict(meta["tracks"]["1"], jersey_number=99)
    return text.replace('"tracks": {', '"tracks": {"1": ' + json.dumps(one) + ", ", 1)


def _rename(old: str, new: str):
    def edit(meta):
        meta["tracks"][new] = meta["tracks"].pop(old)

    return edit


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda t: t.replace('"tracks": {', '"tracks": {"01": {"jersey_number": 99}, ', 1),
            "track ids are ASCII decimal integers from 1 without leading zeros",
        ),
        (_same_key_twice, "the key '1' appears twice in one object"),
    ],
)
def test_footy_track_sidecar_keys_that_collide_are_refused(lake, truth, edit, message):
    folder = land_synthetic(lake, "footy_track", "keys", truth.head(4000))
    _meta_text(folder, edit)
    error = _refusal(lake, "keys")
    assert error.file == "tracks_meta.json" and message in str(error), str(error)
    if "twice" in message:  # the line of the second "1" of the tracks object
        text = (folder / "tracks_meta.json").read_text()
        second = text.index('"1":', text.index('"1":') + 1)
        assert error.line == text.count("\n", 0, second) + 1, str(error)


@pytest.mark.parametrize("key", ["1_0", "\u0661\u0660", "+10", " 10", "10.0"])
def test_footy_track_sidecar_key_that_python_int_reads_is_refused(lake, truth, key):
    folder = land_synthetic(lake, "footy_track", "keys", truth.head(4000))
    _meta(folder, _rename("10", key))  # int("1_0") == int("١٠") == 10: they read as track 10
    error = _refusal(lake, "keys")
    assert error.file == "tracks_meta.json" and "track ids are ASCII decimal integers" in str(error), str(error)


@pytest.mark.parametrize(
    "change, message, row",
    [
        (lambda f: f.with_columns(_at(30, 3.5, "track_id", pl.Float64)), "track_id = 3.5 is not a whole number", 30),
        (
            lambda f: f.with_columns(pl.col("confidence") > 0.5),
            "column confidence is stored as Boolean, not Float32",
            0,
        ),
        (lambda f: f.with_columns(pl.col("track_id") > 3), "column track_id is stored as Boolean, not Int32", 0),
        (
            lambda f: f.with_columns(pl.col("is_interpolated").cast(pl.Int8)),
            "column is_interpolated is stored as Int8",
            0,
        ),
        (
            lambda f: f.with_columns(pl.col("is_interpolated").cast(pl.String)),
            "column is_interpolated is stored as String, not Boolean",
            0,
        ),
        (
            lambda f: f.with_columns(pl.concat_list("bbox_x")),
            "column bbox_x is stored as List(Float32), not Float32",
            0,
        ),
        (lambda f: f.with_columns(pl.col("frame_index").cast(pl.String)), "column frame_index is stored as String", 0),
    ],
)
def test_footy_track_columns_of_the_wrong_type_are_refused(lake, truth, change, message, row):
    folder = land_synthetic(lake, "footy_track", "cols", truth.head(4000))
    _tracks(folder, change)
    error = _refusal(lake, "cols")
    assert error.file == "tracks.parquet" and message in str(error) and error.row == row, str(error)


def test_footy_track_clock_running_backwards_within_a_track_is_refused(lake, truth):
    folder = land_synthetic(lake, "footy_track", "clock", truth.head(4000))
    frame = pl.read_parquet(folder / "tracks.parquet").with_row_index("i")
    second = frame.filter(pl.col("track_id") == 4)["i"][1]  # track 4's second detection, a second earlier
    _tracks(folder, lambda f: f.with_columns(_at(int(second), 0.0, "continuous_time_s")))
    error = _refusal(lake, "clock")
    assert error.file == "tracks.parquet" and error.row == second, str(error)
    assert "track 4: continuous_time_s 0.0 does not come after" in str(error), str(error)


@pytest.mark.parametrize("value", [[], 0, "", False])
def test_footy_track_game_metadata_not_an_object_is_refused(lake, truth, value):
    folder = land_synthetic(lake, "footy_track", "game", truth)
    _meta(folder, lambda m: m.update(game_metadata=value))  # "falsy": it read as no second half at all
    error = _refusal(lake, "game")
    assert error.file == "tracks_meta.json" and "game_metadata must be an object or null" in str(error), str(error)


def test_footy_track_game_metadata_null_means_one_period(lake, truth):
    folder = land_synthetic(lake, "footy_track", "game", truth.head(4000))
    _meta(folder, lambda m: m.update(game_metadata=None))
    assert _read(lake, "game").tracking["period"].unique().to_list() == [1]


@pytest.mark.parametrize("fps", [25.4, 29.97, 1.4, 59.94])
def test_footy_track_fractional_fps_is_refused_not_rounded(lake, truth, fps):
    folder = land_synthetic(lake, "footy_track", "fps", truth.head(4000))
    _meta(folder, lambda m: m["video"].update(fps=fps))
    error = _refusal(lake, "fps")
    assert error.file == "tracks_meta.json" and f"video.fps {fps} is not a whole number" in str(error), str(error)


def test_footy_track_whole_fps_written_as_a_float_reads(lake, truth):
    folder = land_synthetic(lake, "footy_track", "fps", truth.head(4000))
    _meta(folder, lambda m: m["video"].update(fps=25.0))
    assert _read(lake, "fps").info.fps == 25


# -- footy_track: unclear refusals made clear ---------------------------------------------------------------
@pytest.mark.parametrize(
    "edit, message, token",
    [
        (
            lambda t: t.replace('"jersey_number": null', '"jersey_number":\n' + "7" * 5000, 1),
            "a 5,000-digit integer",
            "7" * 50,
        ),
        (lambda t: t.replace('"fps": 25.0', '"fps":\n1e999', 1), "1e999 is past the largest number", "1e999"),
        (lambda t: t.replace('"fps": 25.0', '"fps": NaN', 1), "NaN is not a JSON number", "NaN"),
        (
            lambda t: t.replace('"jersey_number": null', '"jersey_number": true', 1),
            "jersey_number must be a whole",
            None,
        ),
        (lambda t: t.replace('"fps": 25.0', '"fps": true', 1), "video.fps must be a number", None),
    ],
)
def test_footy_track_sidecar_hostile_numbers_are_named(lake, truth, edit, message, token):
    folder = land_synthetic(lake, "footy_track", "nums", truth.head(4000))
    _meta_text(folder, edit)
    text = (folder / "tracks_meta.json").read_text()
    line = None if token is None else text.count("\n", 0, text.index(token)) + 1
    error = _refusal(lake, "nums")
    assert error.file == "tracks_meta.json" and message in str(error) and error.line == line, str(error)


def test_footy_track_sidecar_with_a_utf8_bom_reads(lake, truth):
    folder = land_synthetic(lake, "footy_track", "bom", truth.head(4000))
    path = folder / "tracks_meta.json"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert _read(lake, "bom").tracking.height > 0


@pytest.mark.parametrize(
    "encoding, what",
    [
        ("utf-16", "is UTF-16 text (byte order mark FF FE)"),
        ("utf-16-le", "is UTF-16 or UTF-32 text without a byte order mark"),
    ],
)
def test_footy_track_sidecar_in_utf16_is_named_as_such(lake, truth, encoding, what):
    folder = land_synthetic(lake, "footy_track", "utf16", truth.head(4000))
    path = folder / "tracks_meta.json"
    path.write_bytes(path.read_text().encode(encoding))
    error = _refusal(lake, "utf16")
    assert error.file == "tracks_meta.json" and what in str(error), str(error)


# -- footy_stats: garbage accepted before -------------------------------------------------------------------
@pytest.mark.parametrize(
    "change, message, row",
    [
        (lambda f: f.with_columns(pl.col("x") > 5000), "column x is stored as Boolean, not a number", 0),
        (lambda f: f.with_columns(pl.col("y") > 5000), "column y is stored as Boolean, not a number", 0),
        (lambda f: f.with_columns(pl.col("timestamp") > 0), "column timestamp is stored as Boolean", 0),
        (lambda f: f.with_columns(pl.concat_list("x")), "column x is stored as List(Int16), not a number", 0),
        (lambda f: f.with_columns(pl.col("x").cast(pl.String)), "column x is stored as String, not a number", 0),
        (
            lambda f: f.with_columns(pl.col("role").cast(pl.Categorical).to_physical()),
            "column role is stored as UInt32, not text",
            0,
        ),
    ],
)
def test_footy_stats_columns_of_the_wrong_type_are_refused(lake, truth, change, message, row):
    folder = land_synthetic(lake, "footy_stats", "cols", truth.head(2000))
    _stats(folder, change)
    error = _refusal(lake, "cols")
    assert error.file == "tracking.parquet" and message in str(error) and error.row == row, str(error)


def _late(ms: int):
    def change(frame):
        return pl.concat([frame, frame.tail(1).with_columns(timestamp=pl.col("timestamp").max() + ms)])

    return change


@pytest.mark.parametrize(
    "change, message",
    [
        (_late(23 * 86_400_000), "comes 1,987,2"),  # one row 23 days late: a period of one row
        (_late(600_000), "make a period (after a gap of 300 s or more) of 1 frame over 0 ms"),  # ten minutes late
        (
            lambda f: f.with_columns(
                pl.when(pl.col("timestamp") > 60_000)
                .then(pl.col("timestamp") + 40_000_000_000)
                .otherwise(pl.col("timestamp"))
                .alias("timestamp")
            ),
            "(463.0 days) after",
        ),
    ],
)
def test_footy_stats_a_clock_that_is_not_one_match_is_refused(lake, truth, change, message):
    folder = land_synthetic(lake, "footy_stats", "clock", truth)
    height = pl.read_parquet(folder / "tracking.parquet").height
    _stats(folder, change)
    error = _refusal(lake, "clock")
    assert error.file == "tracking.parquet" and message in str(error) and error.row is not None, str(error)
    if "late" in message or "period" in message:
        assert error.row == height


def test_footy_stats_the_synthetic_match_with_its_break_still_reads(lake, truth):
    land_synthetic(lake, "footy_stats", "whole", truth)
    assert _read(lake, "whole").tracking["period"].unique().sort().to_list() == [1, 2]


def test_footy_stats_a_frame_rate_no_whole_number_gives_is_refused(lake, truth):
    folder = land_synthetic(lake, "footy_stats", "fps", truth.head(4000))
    _stats(folder, lambda f: f.with_columns(timestamp=(pl.col("timestamp") / 40 * 714).round().cast(pl.Int64)))
    error = _refusal(lake, "fps")  # was "a second ball in frame 1" (1.4 fps rounded to 1 merged frames)
    assert error.file == "tracking.parquet" and "timestamps step by 714 ms, 1.40 frames per second" in str(error)


@pytest.mark.parametrize("value", ["0-\u0661\u0660", "1-\uff11", "0-" + "9" * 5000])
def test_footy_stats_player_id_not_ascii_team_jersey_is_named(lake, truth, value):
    folder = land_synthetic(lake, "footy_stats", "ids", truth.head(2000))
    _stats(folder, lambda f: f.with_columns(_at(7, value, "player_id")))
    error = _refusal(lake, "ids")
    assert error.file == "tracking.parquet" and error.row == 7 and "is not team-jersey" in str(error), str(error)
    assert len(str(error)) < 250


def _json_row(folder: Path, edit) -> int:
    """Apply ``edit`` to the text of the sixth row object of tracking.json; return that row's number."""
    path = folder / "tracking.json"
    text = path.read_text()
    starts = [i for i, ch in enumerate(text) if ch == "{"][:7]
    end = text.index("}", starts[5]) + 1
    path.write_text(text[: starts[5]] + edit(text[starts[5] : end]) + text[end:])
    return 5


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda r: r.replace('"x":', '"x": 1, "x":', 1), "the key 'x' appears twice in one object"),
        (lambda r: r.replace('"x":', '"\\u0078": 1, "x":', 1), "the key 'x' appears twice in one object"),
        (lambda r: r.replace('"role":', '"role": "ball", "role":', 1), "the key 'role' appears twice"),
        (lambda r: r.replace('"x":', '"x": 1e999, "q":', 1), "1e999 is past the largest number"),
        (
            lambda r: r.replace('"timestamp":', '"timestamp": 99999999999999999999, "q":', 1),
            "timestamp = 99999999999999999999 is past a 64-bit integer",
        ),
        (lambda r: r.replace('"timestamp":', '"timestamp": ' + "9" * 30 + ', "q":', 1), "a 30-digit integer"),
        (lambda r: r.replace('"x":', '"x": true, "q":', 1), "x = true is not a number"),
        (lambda r: r.replace('"timestamp":', '"timestamp": false, "q":', 1), "timestamp = false is not a number"),
        (lambda r: r.replace('"y":', '"y": [1, 2], "q":', 1), "y = [1, 2] is not a number"),
    ],
)
def test_footy_stats_json_row_objects_are_named_with_the_cause(lake, truth, edit, message):
    folder = land_synthetic(lake, "footy_stats", "json", truth.head(300), file_format="json")
    row = _json_row(folder, edit)
    error = _refusal(lake, "json")
    assert error.file == "tracking.json" and error.row == row and message in str(error), str(error)


def test_footy_stats_json_rows_with_different_keys_still_read(lake, truth):
    """The duplicate-key check counts keys cheaply; rows that leave out optional keys take its slower path."""
    folder = land_synthetic(lake, "footy_stats", "json", truth.head(300), file_format="json")
    plain = _read(lake, "json").tracking
    _json_row(
        folder, lambda r: r.replace('"bbox_x":', '"unused": 1, "bbox_x":', 1).replace(', "player_id_conf": null', "")
    )
    assert _read(lake, "json").tracking.drop("fingerprint").equals(plain.drop("fingerprint"))


def test_footy_stats_json_with_a_utf8_bom_reads_like_without(lake, truth):
    folder = land_synthetic(lake, "footy_stats", "json", truth.head(300), file_format="json")
    plain = _read(lake, "json").tracking
    path = folder / "tracking.json"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert _read(lake, "json").tracking.drop("fingerprint").equals(plain.drop("fingerprint"))


@pytest.mark.parametrize(
    "encoding, what",
    [
        ("utf-16", "is UTF-16 text (byte order mark FF FE)"),
        ("utf-16-be", "without a byte order mark"),
        ("utf-32", "is UTF-32 text"),
    ],
)
def test_footy_stats_json_in_utf16_is_named_as_such(lake, truth, encoding, what):
    folder = land_synthetic(lake, "footy_stats", "json", truth.head(300), file_format="json")
    path = folder / "tracking.json"
    path.write_bytes(path.read_text().encode(encoding))
    error = _refusal(lake, "json")
    assert error.file == "tracking.json" and what in str(error) and "expected a JSON array" not in str(error), str(
        error
    )


def test_footy_track_whole_fps_below_the_detections_rate_names_the_track_not_a_duplicate_player(lake, truth):
    folder = land_synthetic(lake, "footy_track", "slow", truth.head(4000))
    _meta(folder, lambda m: m["video"].update(fps=1))  # 25 Hz detections at 1 fps: was "player 0-1 appears twice"
    error = _refusal(lake, "slow")
    assert error.file == "tracks.parquet" and error.row is not None, str(error)
    assert "has two detections in frame 0" in str(error) and "video.fps 1: the frame rate is lower" in str(error)


@pytest.mark.parametrize(
    "text, outcome",
    [
        (b'\xef\xbb\xbf{"length": 100, "width": 64}', (100.0, 64.0)),
        (b'{"length": 100, "length": 120, "width": 64}', "the key 'length' appears twice"),
        (b'{"length": true, "width": 64}', 'expected {"length": <metres>, "width": <metres>}'),
        (b'{"length": 1e999, "width": 64}', "1e999 is past the largest number"),
    ],
)
def test_pitch_json_is_read_strictly(lake, truth, text, outcome):
    folder = land_synthetic(lake, "footy_stats", "pitch", truth.head(300))
    (folder / "pitch.json").write_bytes(text)
    if isinstance(outcome, tuple):
        info = _read(lake, "pitch").info
        assert (info.pitch_length_m, info.pitch_width_m) == outcome
    else:
        error = _refusal(lake, "pitch")
        assert error.file == "pitch.json" and outcome in str(error), str(error)


PITCH = '{\n "length": 105,\n "width": 68\n}\n'


@pytest.mark.parametrize(
    "text, message, line",
    [
        (PITCH.replace(' "width"', ' "length": 120,\n "width"'), "the key 'length' appears twice in one object", 3),
        (PITCH.replace("105", "NaN"), "NaN is not a JSON number", 2),
        (PITCH.replace("68", "Infinity"), "Infinity is not a JSON number", 3),
        (PITCH.replace("68", "1e999"), "1e999 is past the largest number", 3),
        (PITCH.replace("105", "-1e999"), "1e999 is past the largest number", 2),
        (PITCH.encode("utf-16"), "is UTF-16 text (byte order mark FF FE)", 1),
        (PITCH.encode("utf-16-le"), "is UTF-16 or UTF-32 text without a byte order mark", 1),
        (PITCH.encode("utf-32"), "is UTF-32 text (byte order mark FF FE 00 00)", 1),
        (b"\xef\xbb\xbf\xef\xbb\xbf" + PITCH.encode(), "not valid JSON", 1),  # one BOM is skipped, not two
    ],
)
def test_sportvu_pitch_json_hostile_documents_are_refused_with_file_and_line(lake, text, message, line):
    folder = land_sample(lake, "sportvu", "statsperform_ma25")
    (folder / "pitch.json").write_bytes(text.encode() if isinstance(text, str) else text)
    error = _refusal(lake, "statsperform_ma25")
    assert (error.file, error.line) == ("pitch.json", line) and message in str(error), str(error)
    assert str(error).startswith(f"pitch.json, line {line}: "), str(error)


def test_sportvu_pitch_json_with_a_utf8_bom_reads_its_size(lake):
    folder = land_sample(lake, "sportvu", "statsperform_ma25")
    (folder / "pitch.json").write_bytes(b"\xef\xbb\xbf" + PITCH.replace("105", "100").encode())
    info = _read(lake, "statsperform_ma25").info
    assert (info.pitch_length_m, info.pitch_width_m) == (100.0, 68.0)


@pytest.mark.parametrize("size", ['"105"', '"1_05"', '"\u0661\u0660\u0665"'])
def test_sportvu_pitch_json_size_given_as_text_is_refused(lake, size):
    folder = land_sample(lake, "sportvu", "statsperform_ma25")
    (folder / "pitch.json").write_text(PITCH.replace("105", size), encoding="utf-8")
    error = _refusal(lake, "statsperform_ma25")
    assert error.file == "pitch.json" and "length" in str(error), str(error)


def test_a_cdf_meta_with_a_key_twice_is_refused_with_its_line(lake):
    """The CDF meta is read as strictly as the other JSON documents: a key twice is refused (which would the
    reader take?), named with its line, not silently the last."""
    import json as _json

    from footy_assets_tests.helpers import land_sample

    folder = land_sample(lake, "cdf", "validator_v0_3_2")
    meta = next(p for p in folder.iterdir() if p.suffix == ".json")
    text = _json.dumps(_json.loads(meta.read_text()), indent=1)
    text = text.replace('"fps":', '"fps": 10, "fps":', 1)
    meta.write_text(text)
    with pytest.raises(FeedError, match=rf"{meta.name}, line \d+: .*fps"):
        _read(lake, "validator_v0_3_2")
