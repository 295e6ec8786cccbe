"""materialize: real assets, a temporary Dagster instance, real Delta tables in a temporary lake."""

from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from footy_assets import cli
from footy_assets.chain import versions
from footy_assets.chain.planning import plan_matches
from footy_assets.definitions import RESOURCES, all_assets
from footy_assets.lake.store import Lake
from footy_assets.orchestration.resources import LakeResource
from footy_assets.orchestration.runner import materialize_lake
from footy_assets_tests.helpers import ASSETS, land_sample, land_synthetic

pytestmark = pytest.mark.slow

TABLES = (
    "tracking",
    "frame_state",
    "ball_state",
    "intervals",
    "match_quality",
    "player_period_summary",
    "player_match_summary",
    "team_match_summary",
    "matches",
)


def _versions(lake):
    return {t: lake.table_version(t) for t in TABLES}


def _rows(lake, table, match_id):
    return pl.from_arrow(lake.read_match(table, match_id))


def _quiet(_line):
    pass


@pytest.fixture
def landed(lake, truth):
    land_synthetic(lake, "footy_stats", "m_fs", truth)
    land_synthetic(lake, "sportvu", "m_svu", truth)
    land_sample(lake, "cdf", "skillcorner_1925299")
    return lake


def test_first_run_writes_every_match_then_nothing(landed, instance):
    lake = landed
    outcomes = materialize_lake(lake, instance, progress=_quiet)
    assert [o.ok for o in outcomes] == [True] * 3
    assert set(instance.get_dynamic_partitions("match_id")) == {"m_fs", "m_svu", "skillcorner_1925299"}
    matches = pl.from_arrow(lake.open_table("matches").to_pyarrow_table()).sort("match_id")
    assert matches["match_id"].to_list() == ["m_fs", "m_svu", "skillcorner_1925299"]
    assert matches["format"].to_list() == ["footy_stats", "sportvu", "cdf"]
    sc = matches.filter(pl.col("match_id") == "skillcorner_1925299").row(0, named=True)
    assert (sc["fps"], sc["frames"]) == (10, 101)
    assert [p["frames"] for p in sc["periods"]] == [50, 51]
    assert sc["rows"] == sc["rows_player"] + sc["rows_goal_keeper"] + sc["rows_ball"] + sc["rows_referee"]
    tracking = pl.from_arrow(lake.open_table("tracking").to_pyarrow_table())
    assert tracking.group_by("match_id").len().sort("match_id")["len"].to_list() == matches["rows"].to_list()
    before = _versions(lake)

    outcomes = materialize_lake(lake, instance, progress=_quiet)
    assert all(o.ok and o.plan.status == "unchanged" for o in outcomes)
    assert _versions(lake) == before  # nothing committed the second time

    for table in TABLES:  # protocol reader 1 / writer 2, readable by Spark, Trino, DuckDB, polars
        protocol = lake.open_table(table).protocol()
        assert (protocol.min_reader_version, protocol.min_writer_version) == (1, 2)


def test_changed_feed_rewrites_only_that_match(landed, instance, truth):
    lake = landed
    materialize_lake(lake, instance, progress=_quiet)
    other_before = _rows(lake, "tracking", "m_svu").sort("frame_id", "track_id")
    shifted = truth.with_columns(pl.col("x") * 0.5)
    land_synthetic(lake, "footy_stats", "m_fs", shifted)  # a corrected re-delivery
    plans = {p.match_id: p.status for p in plan_matches(lake)}
    assert plans == {"m_fs": "changed", "m_svu": "unchanged", "skillcorner_1925299": "unchanged"}
    version = lake.table_version("tracking")
    outcomes = materialize_lake(lake, instance, progress=_quiet)
    assert sum(o.plan.needs_work for o in outcomes) == 1 and all(o.ok for o in outcomes)
    assert lake.table_version("tracking") == version + 1  # one commit for the one changed match
    rewritten = _rows(lake, "tracking", "m_fs")
    gk = rewritten.filter((pl.col("player_id") == "0-1") & (pl.col("frame_id") == 0))
    expected = shifted.filter((pl.col("team") == 0) & (pl.col("jersey") == 1) & (pl.col("frame") == 0))["x"][0]
    assert gk["x_m"][0] == pytest.approx(expected, abs=0.006)
    assert _rows(lake, "tracking", "m_svu").sort("frame_id", "track_id").equals(other_before)


def test_code_version_change_makes_matches_stale(landed, instance, monkeypatch):
    lake = landed
    materialize_lake(lake, instance, progress=_quiet)
    original = versions.CODE_VERSIONS["frame_state"]
    monkeypatch.setitem(versions.CODE_VERSIONS, "frame_state", "1+sg11.3")  # e.g. a new smoother
    assert {p.status for p in plan_matches(lake)} == {"stale"}
    # A fresh instance does not make anything look done: the decision comes from the lake.
    with dg.instance_for_test() as fresh:
        monkeypatch.setitem(versions.CODE_VERSIONS, "frame_state", original)
        outcomes = materialize_lake(lake, fresh, progress=_quiet)
        assert all(o.plan.status == "unchanged" for o in outcomes)


def test_broken_redelivery_keeps_stored_rows_and_others_go_on(landed, instance, truth):
    lake = landed
    materialize_lake(lake, instance, progress=_quiet)
    kept = _rows(lake, "tracking", "m_svu")
    kept_match = _rows(lake, "matches", "m_svu")
    versions_before = _versions(lake)
    path = Path(lake.uri) / "landing" / "sportvu" / "m_svu" / "tracking.txt"
    lines = path.read_text().splitlines()
    lines[99] = lines[99].replace(";", ";;0,broken,7,notanumber,1.0;", 1)
    path.write_text("\n".join(lines) + "\n")
    land_synthetic(lake, "cdf", "m_new", truth)  # another match delivered at the same time

    lines_out = []
    outcomes = {o.plan.match_id: o for o in materialize_lake(lake, instance, progress=lines_out.append)}
    assert not outcomes["m_svu"].ok
    assert "tracking.txt, line 100" in outcomes["m_svu"].error
    assert outcomes["m_new"].ok
    assert any("FAILED  m_svu" in line and "line 100" in line for line in lines_out)
    assert _rows(lake, "tracking", "m_svu").equals(kept)
    assert _rows(lake, "matches", "m_svu").equals(kept_match)
    assert _rows(lake, "tracking", "m_new").height > 0
    # exactly one commit per table: the new match's
    assert _versions(lake) == {t: v + 1 for t, v in versions_before.items()}


def test_cli_materialize_exit_status_and_refusals(lake, truth, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dh"))
    land_synthetic(lake, "footy_stats", "ok_match", truth)
    assert cli.main(["materialize", "--lake", lake.uri]) == 0
    out = capsys.readouterr().out
    assert "ok      ok_match (footy_stats):" in out and "rows" in out
    land_synthetic(lake, "footy_stats", "bad.name", truth.head(100))
    assert cli.main(["materialize", "--lake", lake.uri]) == 1
    out = capsys.readouterr().out
    assert "REFUSED footy_stats/bad.name: invalid match_id" in out
    assert "skip    ok_match" in out
    assert cli.main(["materialize", "--lake", lake.uri, "--match", "../x"]) == 2
    # the run is recorded in the instance at DAGSTER_HOME, so the UI shows it
    with dg.DagsterInstance.from_config(str(tmp_path / "dh")) as inst:
        assert inst.get_latest_materialization_event(dg.AssetKey("tracking")) is not None


def _materialize_match(lake: Lake, instance, match_id: str) -> dg.ExecuteInProcessResult:
    """Every asset of one landed match, materialised directly (no CLI), successfully."""
    instance.add_dynamic_partitions("match_id", [match_id])
    result = dg.materialize(
        all_assets,
        partition_key=match_id,
        instance=instance,
        resources={**RESOURCES, "lake": LakeResource(lake_uri=lake.uri)},
    )
    assert result.success
    return result


def test_assets_materialize_directly_with_metadata(landed, instance):
    result = _materialize_match(landed, instance, "m_fs")
    mats = {e.asset_key.to_user_string(): e.materialization for e in result.get_asset_materialization_events()}
    assert set(mats) == ASSETS
    # the exports asset, launched with everything, writes the published match back out
    exported = Path(landed.uri) / "_exports" / "m_fs"
    assert sorted(p.name for p in (exported / "cdf").iterdir()) == ["meta.json", "tracking.jsonl"]
    assert (exported / "tracking_download" / "tracking.parquet").is_file() and not (exported / "mot").exists()
    raw = mats["raw_feed"]
    assert raw.metadata["fps"].value == 25
    assert len(raw.metadata["fingerprint"].value) == 64
    assert mats["tracking"].metadata["dagster/row_count"].value == _rows(landed, "tracking", "m_fs").height
    assert mats["tracking"].metadata["preview"].value.startswith("| frame_id |")
    data_version = instance.get_latest_data_version_record(dg.AssetKey("raw_feed"), partition_key="m_fs")
    assert data_version is not None


def test_frame_state_picture_is_saved_and_embedded(landed, instance):
    import base64

    instance.add_dynamic_partitions("match_id", ["m_svu"])
    result = dg.materialize(
        all_assets,
        partition_key="m_svu",
        instance=instance,
        resources={**RESOURCES, "lake": LakeResource(lake_uri=landed.uri)},
        selection=dg.AssetSelection.assets("raw_feed", "tracking", "frame_state"),
    )
    assert result.success
    meta = next(
        e.materialization.metadata
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey("frame_state")
    )
    assert list(meta)[:2] == ["match_picture", "match_picture_file"]  # first in the UI's metadata list
    path = Path(meta["match_picture_file"].value)
    assert path == Path(landed.uri) / "_pictures" / "m_svu" / "frame_state.png"
    png = path.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    svg = base64.b64decode(meta["match_picture"].value.split("base64,")[1].rstrip(")")).decode()
    assert base64.b64decode(svg.split("data:image/png;base64,")[1].split('"')[0]) == png  # the PNG, sized to show
    from PIL import Image  # matplotlib's own dependency

    with Image.open(path) as image:  # one column per half, large enough to read
        assert image.size == (1280, 720)


def test_metrics_step_materialises_any_subset_with_the_same_rows(landed, instance):
    """ball_state, frame_state, intervals and match_quality are one step (one read of tracking, frame_state
    handed on in memory): a subset reads what it needs from the lake and writes the same rows; only the
    selected tables get a commit."""
    instance.add_dynamic_partitions("match_id", ["m_svu"])
    resources = {**RESOURCES, "lake": LakeResource(lake_uri=landed.uri)}

    def run(*keys):
        result = dg.materialize(
            all_assets,
            partition_key="m_svu",
            instance=instance,
            resources=resources,
            selection=dg.AssetSelection.assets(*keys),
        )
        assert result.success
        return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}

    assert run("raw_feed", "tracking", "ball_state", "frame_state", "intervals", "match_quality") == {
        "raw_feed",
        "tracking",
        "ball_state",
        "frame_state",
        "intervals",
        "match_quality",
    }
    derived = ("ball_state", "frame_state", "intervals", "match_quality")
    first = {t: _rows(landed, t, "m_svu") for t in derived}
    assert first["intervals"].height > 0 and first["frame_state"].height > 0
    for only in derived:
        before = _versions(landed)
        assert run(only) == {only}
        after = _versions(landed)
        assert {t for t in TABLES if after[t] != before[t]} == {only}  # one commit, to the selected table
        assert _rows(landed, only, "m_svu").equals(first[only])


def _decimals(value: float) -> int:
    from decimal import Decimal

    return max(0, -Decimal(repr(value)).as_tuple().exponent)


def _floats(key: str, value):
    """(key, float) of a metadata value and of every float nested in it (JSON values: dicts, lists)."""
    if isinstance(value, dg.MetadataValue) and not isinstance(value, dg.MarkdownMetadataValue):
        value = value.value
    if isinstance(value, float):
        yield key, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _floats(k, v)
    elif isinstance(value, list):
        for v in value:
            yield from _floats(key, v)


def test_metadata_shows_what_the_data_supports(landed, instance):
    """In the UI: numbers rounded to what they can tell (speeds and metres to the centimetre, the rest to 4
    decimals), table previews of a few chosen columns saying how to see them all, and the match picture sized to
    the metadata window (its width at most 800 px, the whole picture inside)."""
    import base64
    import re
    from xml.etree import ElementTree

    result = _materialize_match(landed, instance, "m_fs")
    mats = {e.asset_key.to_user_string(): e.materialization.metadata for e in result.get_asset_materialization_events()}
    checks = {e.check_name: e.metadata for e in result.get_asset_check_evaluations()}
    too_fine = [
        (where, key, value)
        for where, metadata in [*mats.items(), *checks.items()]
        for name, entry in metadata.items()
        for key, value in _floats(name, entry)
        if _decimals(value) > (2 if key.endswith(("_mps", "_mps2", "_m")) else 4)
    ]
    assert too_fine == []
    state = _rows(landed, "frame_state", "m_fs")
    top = state.filter(pl.col("valid"))["speed_mps"].max()
    assert mats["frame_state"]["top_speed_mps"].value == round(top, 2)

    previews = {
        (a, k): v.value for a, m in mats.items() for k, v in m.items() if isinstance(v, dg.MarkdownMetadataValue)
    }
    tables = {key: text for key, text in previews.items() if text.startswith("|")}
    assert {a for a, _ in tables} >= {"tracking", "frame_state", "ball_state", "match_quality", "player_match_summary"}
    for (asset, key), text in tables.items():
        if key == "events_preview":
            continue  # a preview of its own (chain.events.events_preview)
        header = text.splitlines()[0].strip("|").split("|")
        columns = [c.strip() for c in header]
        assert len(columns) <= 8 and not {"match_id", "fingerprint"} & set(columns), (asset, columns)
        assert "footy-assets sql" in text.splitlines()[-1], (asset, text.splitlines()[-1])
    frame_state_columns = [c.strip() for c in tables[("frame_state", "preview")].splitlines()[0].strip("|").split("|")]
    assert {"player_id", "speed_mps", "valid"} <= set(frame_state_columns)

    picture = previews[("frame_state", "match_picture")]
    uri = re.fullmatch(r"!\[[^\]]*\]\((data:image/svg\+xml;base64,[A-Za-z0-9+/=]+)\)", picture).group(1)
    svg = ElementTree.fromstring(base64.b64decode(uri.split(",", 1)[1]))
    png = Path(mats["frame_state"]["match_picture_file"].value).read_bytes()
    png_size = (int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big"))
    width, height = float(svg.get("width")), float(svg.get("height"))
    assert width <= 800 and abs(width / height - png_size[0] / png_size[1]) < 0.01
    assert svg.get("viewBox") == f"0 0 {png_size[0]} {png_size[1]}"
    (image,) = [e for e in svg.iter() if e.tag.endswith("image")]
    href = image.get("href") or image.get("{http://www.w3.org/1999/xlink}href")
    assert base64.b64decode(href.removeprefix("data:image/png;base64,")) == png
