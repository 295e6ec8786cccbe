"""Exports: CDF checked by the format's own validator, the tracking download with the vendor's exact
types, MOT CSV of a footy_track match, and round trips: export, land under a new match_id, materialise, and
the canonical rows come back within the format's rounding."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from footy_assets import cli
from footy_assets.lake.delivery import read_match
from footy_assets.lake.exports import ExportError, export_match
from footy_assets.lake.landing import find_match
from footy_assets.lake.sql import run_sql
from footy_assets.lake.store import Lake
from footy_assets_tests.helpers import land_synthetic, materialized

pytestmark = pytest.mark.slow  # every test reads the lake the module materialises

SOURCES = ("footy_stats", "sportvu", "cdf", "footy_track")
# export format -> (landing format, position rounding in m): CDF keeps centimetres, the download whole cm
ROUND_TRIPS = {"cdf": ("cdf", 0.0051), "tracking_download": ("footy_stats", 0.0051)}


@pytest.fixture(scope="module")
def lake(tmp_path_factory, truth) -> Lake:
    """One match per source format and a footy_track match without pitch positions, materialised once."""

    def land(lake: Lake) -> None:
        for fmt in SOURCES:
            land_synthetic(lake, fmt, f"src_{fmt}", truth)
        land_synthetic(lake, "footy_track", "src_image_only", truth, homography=False)

    return materialized(tmp_path_factory.mktemp("exports") / "lake", land)


def _validate(validator, path: Path) -> list[str]:
    """Run the validator in strict mode (schema violations raise); its advisories come back as warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        validator.validate_schema(sample=str(path), mode="strict", limit=None)
    return [str(w.message) for w in caught]


def test_cdf_export_passes_the_cdf_validator(lake, tmp_path):
    from cdf import MetaSchemaValidator, TrackingSchemaValidator

    out = tmp_path / "cdf"
    export_match(lake, "src_footy_stats", "cdf", str(out))
    # a match without event data: tracking and meta only, on the match clock from 1970-01-01 (no wall clock kept)
    assert sorted(f.name for f in out.iterdir()) == ["meta.json", "tracking.jsonl"]
    assert json.loads((out / "tracking.jsonl").read_text().splitlines()[0])["timestamp"].startswith("1970-01-01T")
    advisories = _validate(MetaSchemaValidator(), out / "meta.json")
    # the one advisory: goal keepers are marked on the team sheet (position GK) as CDF v0.2 did; v0.3.2 keeps
    # positions in a separate match sheet
    assert advisories and all("unknown field 'position'" in a for a in advisories), advisories
    lines = (out / "tracking.jsonl").read_text().splitlines()
    validator = TrackingSchemaValidator()
    # the JSON schema itself accepts every frame, the frames without a ball included (null x, y, z)
    assert [e.message for line in lines for e in validator.validator.iter_errors(json.loads(line))] == []
    # the validator's extra coordinate rule refuses a null ball position, which real feeds have whenever the
    # ball is lost: its full strict check runs on the frames with a ball
    with_ball = [line for line in lines if json.loads(line)["ball"]["x"] is not None]
    assert len(lines) - len(with_ball) == 10  # the synthetic ball is lost for 5 frames per half
    (tmp_path / "with_ball.jsonl").write_text("\n".join(with_ball) + "\n")
    assert _validate(validator, tmp_path / "with_ball.jsonl") == []


def test_tracking_download_has_the_vendors_column_types(lake, tmp_path):
    export_match(lake, "src_cdf", "tracking_download", str(tmp_path / "pq"))
    schema = pq.read_schema(tmp_path / "pq" / "tracking.parquet")
    assert [(f.name, str(f.type)) for f in schema] == [
        ("timestamp", "int32"),
        ("role", "string"),
        ("player_id", "string"),
        ("player_id_conf", "halffloat"),
        ("x", "int16"),
        ("y", "int16"),
        ("bbox_x", "int16"),
        ("bbox_y", "int16"),
    ]
    export_match(lake, "src_cdf", "tracking_download", str(tmp_path / "json"), json_download=True)
    rows = json.loads((tmp_path / "json" / "tracking.json").read_text())
    assert isinstance(rows, list) and set(rows[0]) == {f.name for f in schema}
    parquet = pl.read_parquet(tmp_path / "pq" / "tracking.parquet")
    assert len(rows) == parquet.height and 0 <= parquet["x"].min() and parquet["x"].max() <= 10_500


def test_mot_export_of_a_footy_track_match(lake, tmp_path):
    export_match(lake, "src_footy_track", "mot", str(tmp_path))
    mot = pl.read_csv(
        tmp_path / "mot.csv",
        has_header=False,
        new_columns=["frame", "id", "left", "top", "width", "height", "conf", "x", "y", "z"],
    )
    tracking = run_sql(lake, "SELECT * FROM tracking WHERE match_id = 'src_footy_track'")
    assert mot.height == tracking.height and mot["frame"].min() == 1  # 1-indexed
    first = tracking.filter(pl.col("frame_id") == 0).sort(pl.col("track_id").cast(pl.Int64)).row(0, named=True)
    line = mot.filter(pl.col("frame") == 1).row(0, named=True)
    assert (line["id"], line["width"], line["height"]) == (int(first["track_id"]), first["bbox_w"], first["bbox_h"])
    assert line["top"] + line["height"] == first["bbox_y"]
    assert set(mot["conf"].unique().to_list()) == {1} and set(mot["x"].unique().to_list()) == {-1}
    with pytest.raises(ExportError, match="needs a footy_track match"):
        export_match(lake, "src_cdf", "mot", str(tmp_path / "no"))
    with pytest.raises(ExportError, match="no pitch positions"):
        export_match(lake, "src_image_only", "cdf", str(tmp_path / "no"))
    with pytest.raises(ExportError, match="not published"):
        export_match(lake, "nope", "cdf", str(tmp_path / "no"))


def _identified(lake: Lake, match_id: str) -> pl.DataFrame:
    rows = run_sql(
        lake,
        f"SELECT frame_id, timestamp_ms, period, player_id, role, x_m, y_m FROM tracking "
        f"WHERE match_id = '{match_id}' AND player_id IS NOT NULL",
    )
    # the clock's origin may differ (CDF counts from the first frame): compare from each side's first frame
    return rows.with_columns(
        pl.col("frame_id") - pl.col("frame_id").min(), pl.col("timestamp_ms") - pl.col("timestamp_ms").min()
    )


@pytest.mark.parametrize("export", list(ROUND_TRIPS))
@pytest.mark.parametrize("source", SOURCES)
def test_round_trip_gives_the_same_canonical_rows(lake, source, export, tmp_path):
    landing_format, rounding = ROUND_TRIPS[export]
    new_id = f"rt_{source}_{export}"
    folder = Path(lake.uri) / "landing" / landing_format / new_id
    assert (
        cli.main(
            ["export", "--lake", lake.uri, "--match", f"src_{source}", "--format", export, "--output", str(folder)]
        )
        == 0
    )
    result = read_match(lake, find_match(lake, new_id))  # the reader of the landing format, as materialise does
    shutil.rmtree(folder)  # (not left for the other tests' lake)
    before = _identified(lake, f"src_{source}")
    after = result.tracking.filter(pl.col("player_id").is_not_null()).select(
        pl.col("frame_id") - pl.col("frame_id").min(),
        pl.col("timestamp_ms") - pl.col("timestamp_ms").min(),
        "period",
        "player_id",
        "role",
        "x_m",
        "y_m",
    )
    joined = before.join(after, on=["frame_id", "player_id"], how="full", coalesce=True)
    assert joined.height == before.height == after.height
    assert (joined["timestamp_ms"] == joined["timestamp_ms_right"]).all()
    assert (joined["period"] == joined["period_right"]).all()
    assert (joined["role"] == joined["role_right"]).all()  # goal keepers stay goal keepers
    assert (joined["x_m"] - joined["x_m_right"]).abs().max() <= rounding
    assert (joined["y_m"] - joined["y_m_right"]).abs().max() <= rounding


def test_export_refuses_an_output_among_the_lakes_tables(lake, capsys):
    assert (
        cli.main(
            [
                "export",
                "--lake",
                lake.uri,
                "--match",
                "src_cdf",
                "--format",
                "cdf",
                "--output",
                str(Path(lake.uri) / "tracking"),
            ]
        )
        == 2
    )
    assert "inside the lake" in capsys.readouterr().err
