"""Reruns are bit-identical: the same delivery gives the same bytes in every table, whatever polars' and DuckDB's
threads did. Float sums are taken where their order is fixed (running sums over sorted rows) or exact (integers,
DECIMAL), never as a group's sum in whatever order the threads met its rows."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from footy_assets.core.metrics.ball_state import build_ball_state
from footy_assets.core.metrics.frame_state import build_frame_state
from footy_assets.core.metrics.intervals import catalog_intervals, load_catalog
from footy_assets.core.quality.match_quality import build_match_quality
from footy_assets.formats import synthetic
from footy_assets.lake.delivery import read_match
from footy_assets.lake.landing import find_match
from footy_assets.lake.publish import PER_MATCH_TABLES
from footy_assets.lake.store import Lake
from footy_assets.orchestration.runner import materialize_lake
from footy_assets_tests.helpers import SAMPLES, land_sample


def _bits(frame: pl.DataFrame) -> list:
    """Every column as comparable values, floats by their bit patterns (so -0.0 != 0.0 and NaN == NaN)."""
    out = []
    for name, dtype in frame.schema.items():
        column = frame[name]
        if dtype in (pl.Float32, pl.Float64):
            view = np.uint32 if dtype == pl.Float32 else np.uint64
            out.append((name, column.is_null().to_list(), column.fill_null(0).to_numpy().view(view).tolist()))
        else:
            out.append((name, (column.cast(pl.String) if dtype == pl.Categorical else column).to_list()))
    return out


@pytest.fixture(scope="module", params=["sportvu_sample", pytest.param("synthetic", marks=pytest.mark.slow)])
def match(request, tmp_path_factory):
    """(tracking, fps, pitch) of a real sample and of a synthetic match of 2 x 5 minutes (330,000 rows)."""
    root = tmp_path_factory.mktemp("reruns") / "lake"
    lake = Lake.from_env(str(root))
    if request.param == "synthetic":
        synthetic.write_match(root / "landing", "footy_stats", synthetic.MatchSpec("m1", half_seconds=300.0, seed=9))
    else:
        (root / "landing").mkdir(parents=True)
        land_sample(lake, "sportvu", "statsperform_ma25", "m1")
    read = read_match(lake, find_match(lake, "m1"))
    return read.tracking, read.info.fps, (read.info.pitch_length_m, read.info.pitch_width_m)


def test_the_metrics_are_bit_identical_when_computed_again(match):
    tracking, fps, pitch = match
    catalog = load_catalog()
    first_state = build_frame_state(tracking, fps, "f")
    assert first_state.height > 1000
    first = {
        "ball_state": build_ball_state(tracking, "f"),
        "intervals": catalog_intervals(first_state, fps, catalog),
        "match_quality": build_match_quality(tracking, first_state, fps, pitch, "m1", "f"),
    }
    assert first["intervals"].height > 0
    for _ in range(3):
        state = build_frame_state(tracking, fps, "f")
        assert _bits(state) == _bits(first_state)
        assert _bits(build_ball_state(tracking, "f")) == _bits(first["ball_state"])
        assert _bits(build_match_quality(tracking, state, fps, pitch, "m1", "f")) == _bits(first["match_quality"])
    # intervals again, also from frame_state's rows in another order and in many chunks (as read from the lake)
    shuffled = first_state.sample(fraction=1.0, shuffle=True, seed=1)
    chunked = pl.concat([first_state.slice(i, 997) for i in range(0, first_state.height, 997)], rechunk=False)
    for state in [first_state] * 8 + [shuffled, chunked]:
        assert _bits(catalog_intervals(state, fps, catalog)) == _bits(first["intervals"])


def test_an_intervals_distance_is_its_frames_distances_added_in_float64(match):
    """A float32 running total (polars' group sum kept the column's type) is off by many float32 steps and, with
    threads, by different ones from run to run; the total of the frames in float64 is within one step."""
    tracking, fps, _ = match
    state = build_frame_state(tracking, fps, "f")
    found = catalog_intervals(state, fps, load_catalog())
    frames = state.select("player_id", "period", "frame_id", pl.col("distance_m").cast(pl.Float64).fill_null(0.0))
    spans = found.select("player_id", "period", "first_frame_id", "last_frame_id", "distance_m").with_row_index()
    joined = spans.join(frames, on=["player_id", "period"]).filter(
        pl.col("frame_id").is_between(pl.col("first_frame_id"), pl.col("last_frame_id"))
    )
    exact = joined.group_by("index").agg(
        pl.col("distance_m_right")
        .sort()
        .map_batches(lambda s: pl.Series([float(np.sum(s.to_numpy(), dtype=np.float64))]), returns_scalar=True)
        .first()
    )
    got = spans.join(exact, on="index").sort("index")
    assert got.height == found.height
    want = got["distance_m_right"].cast(pl.Float32).to_numpy()
    have = got["distance_m"].to_numpy()
    steps = np.abs(have.view(np.int32).astype(np.int64) - want.view(np.int32).astype(np.int64))
    assert steps.max() <= 1, got.filter(pl.Series(steps > 1)).head()


def _tables(root: Path) -> dict[str, pl.DataFrame]:
    """Every per-match table and ``matches`` (without when it was written), rows sorted on every plain column."""
    out = {}
    for table in (*PER_MATCH_TABLES, "matches"):
        frame = pl.read_delta(str(root / table)).drop("materialized_at_ms", strict=False)
        keys = [c for c, t in frame.schema.items() if not isinstance(t, (pl.List, pl.Struct))]
        out[table] = frame.sort(keys, nulls_last=True)
    return out


@pytest.mark.slow
def test_a_delivery_materialised_into_two_lakes_gives_the_same_bytes(tmp_path, instance):
    """The whole chain twice, each into a lake of its own (the same files, copied with their modification
    times, so even ``matches.files`` agrees): every table's rows are the same, bit for bit."""
    landing = tmp_path / "delivery"
    synthetic.write_match(landing, "footy_stats", synthetic.MatchSpec("m1", half_seconds=120.0, seed=4))
    (landing / "events" / "m1").mkdir(parents=True)  # with event data: the events and lineups tables too
    for name in ("events.jsonl", "match.json"):
        shutil.copy2(SAMPLES / "cdf_events" / "footovision_h1" / name, landing / "events" / "m1" / name)
    tables = []
    for name in ("a", "b"):
        root = tmp_path / name
        shutil.copytree(landing, root / "landing")  # copy2: modification times kept
        outcomes = materialize_lake(Lake.from_env(str(root)), instance, progress=lambda s: None)
        assert [o.ok for o in outcomes] == [True]
        tables.append(_tables(root))
    first, second = tables
    assert set(first) == set(second) == {*PER_MATCH_TABLES, "matches"}
    for table in first:
        assert first[table].height > 0, table
        assert _bits(first[table]) == _bits(second[table]), table
