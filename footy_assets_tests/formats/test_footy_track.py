"""footy_track: the video tracker's tracks.parquet + tracks_meta.json, with and without the
camera's homography, identities through re-ID chains, and each invariant of the format (boxes within the frame,
clocks increasing within a track, track keys, re-ID chains that end, a whole fps) refused with the file and row."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from footy_assets.formats import FeedError
from footy_assets.lake.sql import run_sql
from footy_assets.orchestration.runner import materialize_lake
from footy_assets_tests.helpers import land_synthetic, read_landed


def _folder(lake, match_id) -> Path:
    return Path(lake.uri) / "landing" / "footy_track" / match_id


def test_identity_follows_reid_chains_and_unidentified_tracks_stay(lake, truth):
    land_synthetic(lake, "footy_track", "ft", truth)
    meta = json.loads((_folder(lake, "ft") / "tracks_meta.json").read_text())
    children = {int(k): t["reid_parent_track_id"] for k, t in meta["tracks"].items() if t["reid_parent_track_id"]}
    assert len(children) == 2 and all(meta["tracks"][str(c)]["jersey_number"] is None for c in children)
    tracking = read_landed(lake, "ft").tracking
    for child, parent in children.items():  # a re-identified track carries its parent's identity
        ids = tracking.filter(pl.col("track_id").is_in([str(child), str(parent)]))["player_id"].unique().to_list()
        assert len(ids) == 1 and ids[0] is not None
    never = [
        k
        for k, t in meta["tracks"].items()
        if t["label"] == "player" and t["jersey_number"] is None and t["reid_parent_track_id"] is None
    ]
    assert len(never) == 1
    unidentified = tracking.filter(pl.col("track_id") == never[0])
    assert (
        unidentified.height == 75
        and unidentified["player_id"].null_count() == 75
        and unidentified["team"].null_count() == 75
    )
    assert int(tracking["interpolated"].sum()) == 3
    assert "staff" not in tracking["role"].to_list()


@pytest.mark.slow
def test_without_a_homography_positions_are_null_and_the_chain_still_publishes(lake, truth):
    land_synthetic(lake, "footy_track", "ft_image", truth, homography=False)
    land_synthetic(lake, "footy_track", "ft_pitch", truth)
    with dg.instance_for_test() as instance:
        outcomes = materialize_lake(lake, instance, progress=lambda _: None)
    assert all(o.ok for o in outcomes), [o.error for o in outcomes]
    rows = run_sql(
        lake,
        "SELECT match_id, count(*) AS n, count(x_m) AS with_x, count(bbox_x) AS with_box "
        "FROM tracking GROUP BY ALL ORDER BY ALL",
    )
    assert rows.rows() == [
        ("ft_image", truth.height, 0, truth.height),
        ("ft_pitch", truth.height, truth.height, truth.height),
    ]
    state = run_sql(lake, "SELECT match_id, count(*) AS n FROM frame_state GROUP BY ALL ORDER BY ALL")
    assert state["match_id"].to_list() == ["ft_pitch"]  # no pitch positions: no speeds
    matches = run_sql(
        lake,
        "SELECT match_id, rows_interpolated, rows_unidentified, vendor_rows_dropped, format "
        "FROM matches ORDER BY match_id",
    )
    assert matches.rows() == [("ft_image", 3, 75, 10, "footy_track"), ("ft_pitch", 3, 75, 10, "footy_track")]
    top = run_sql(lake, "SELECT max(top_speed_mps) AS top FROM player_match_summary WHERE match_id = 'ft_pitch'")
    assert 5.0 < top["top"][0] < 10.5


def _rewrite(folder: Path, change) -> None:
    table = pq.read_table(folder / "tracks.parquet")
    pq.write_table(change(table), folder / "tracks.parquet")


def _meta(folder: Path, change) -> None:
    meta = json.loads((folder / "tracks_meta.json").read_text())
    change(meta)
    (folder / "tracks_meta.json").write_text(json.dumps(meta))


def _set(table: pa.Table, column: str, row: int, value) -> pa.Table:
    values = table[column].to_pylist()
    values[row] = value
    return table.set_column(
        table.schema.get_field_index(column), column, pa.array(values, type=table.schema.field(column).type)
    )


def _drop_track(meta: dict) -> None:
    del meta["tracks"]["5"]


def _loop(meta: dict) -> None:
    meta["tracks"]["3"]["reid_parent_track_id"] = 4
    meta["tracks"]["4"]["reid_parent_track_id"] = 3


@pytest.mark.parametrize(
    "file, change, message, row",
    [
        ("tracks.parquet", lambda t: _set(t, "bbox_x", 7, 1.25), "bbox_x = '1.25' fails", 7),
        ("tracks.parquet", lambda t: _set(t, "confidence", 3, -0.5), "confidence = '-0.5' fails", 3),
        ("tracks.parquet", lambda t: _set(t, "frame_index", 1000, 0), "frame_index must increase within a track", 1000),
        ("tracks.parquet", lambda t: t.drop_columns(["is_interpolated"]), "missing column(s) is_interpolated", None),
        ("tracks_meta.json", _drop_track, "track 5 is not in tracks_meta.json's tracks", "any"),
        (
            "tracks_meta.json",
            lambda m: m.update(schema_version="2.0.0"),
            "schema_version '2.0.0' is not understood",
            None,
        ),
        ("tracks_meta.json", _loop, "reid_parent_track_id chain loops", None),
        ("tracks_meta.json", lambda m: m["tracks"]["3"].update(reid_parent_track_id=999), "999 is not a track", None),
        ("tracks_meta.json", lambda m: m["tracks"]["3"].update(team_id="visitors"), "team_id must be", None),
        ("tracks_meta.json", lambda m: m.update(pitch_homography=[[1, 0, 0], [0, 1, 0]]), "3 rows of 3 numbers", None),
        ("tracks_meta.json", lambda m: m["video"].update(fps=0), "video.fps must be a number", None),
        (
            "tracks_meta.json",
            lambda m: m["tracks"].__setitem__("99999999999999999999", {"label": "player"}),
            "is not an int32 from 1",
            None,
        ),  # found by the fuzzer: a track id past int32
    ],
)
def test_each_format_invariant_broken_is_refused_naming_file_and_row(lake, truth, file, change, message, row):
    land_synthetic(lake, "footy_track", "bad", truth.head(4000))
    folder = _folder(lake, "bad")
    if file == "tracks.parquet":
        _rewrite(folder, change)
    else:
        _meta(folder, change)
    with pytest.raises(FeedError) as caught:
        read_landed(lake, "bad")
    error = caught.value
    where = "tracks.parquet" if message.startswith("track 5") else file
    assert error.file == where and message in str(error), str(error)
    if row == "any":
        assert error.row is not None
    elif row is not None:
        assert error.row == row
