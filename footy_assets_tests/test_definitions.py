"""The Definitions object that dagster dev and dg load."""

import subprocess
import sys
from pathlib import Path

import dagster as dg

from footy_assets.definitions import defs
from footy_assets.lake.store import PROJECT_ROOT


def test_assets_and_partitions():
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert keys == {"raw_feed", "tracking", "frame_state", "ball_state", "intervals", "match_quality",
                    "player_period_summary", "player_match_summary", "team_match_summary", "matches", "vendor_exports"}
    for key in keys:
        node = graph.get(dg.AssetKey(key))
        assert isinstance(node.partitions_def, dg.DynamicPartitionsDefinition)
        assert node.partitions_def.name == "match_id"
        assert node.code_version
    # matches is last in a match's chain: its row means the whole chain of the match succeeded
    assert graph.get(dg.AssetKey("matches")).parent_keys == {
        dg.AssetKey(k) for k in keys - {"raw_feed", "matches", "vendor_exports"}}
    # exports are launched by hand: not automated, not in the job the sensor and backfills run
    assert graph.get(dg.AssetKey("vendor_exports")).automation_condition is None
    assert dg.AssetKey("vendor_exports") not in defs.resolve_job_def("match_job").asset_layer.selected_asset_keys
    assert graph.get(dg.AssetKey("team_match_summary")).parent_keys == {
        dg.AssetKey("player_match_summary"), dg.AssetKey("ball_state")}


def test_smoother_and_catalog_are_in_code_versions():
    graph = defs.resolve_asset_graph()
    assert graph.get(dg.AssetKey("frame_state")).code_version.endswith("+sg9.2+step12+speed12+accel12")
    assert "+catalog." in graph.get(dg.AssetKey("intervals")).code_version
    assert "+sql." in graph.get(dg.AssetKey("player_match_summary")).code_version


def test_dg_lists_the_definitions():
    dg_cli = Path(sys.executable).parent / "dg"
    out = subprocess.run([str(dg_cli), "list", "defs"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                         timeout=180)
    assert out.returncode == 0, out.stderr
    for name in ("raw_feed", "tracking", "frame_state", "intervals", "match_quality", "team_match_summary", "matches",
                 "automation_condition_sensor"):
        assert name in out.stdout
    # as docs/getting-started.md runs it: no telemetry banner, no virtual-environment warning
    assert "Telemetry" not in out.stdout + out.stderr and "virtual environment" not in out.stdout + out.stderr


def test_every_table_column_is_described_in_the_catalog():
    """The Dagster catalog shows each column's unit and meaning (from the pandera contracts), and no asset
    description sends the user to an internal document."""
    graph = defs.resolve_asset_graph()
    tables = 0
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert "CONTRACTS" not in (node.description or ""), key
        schema = node.metadata.get("dagster/column_schema")
        if schema is None:
            continue
        tables += 1
        columns = schema.schema.columns if hasattr(schema, "schema") else schema.columns
        undescribed = [c.name for c in columns if not (c.description or "").strip()]
        assert not undescribed, (key, undescribed)
        assert columns[0].name == "match_id"
    assert tables == 9  # tracking, frame_state, ball_state, intervals, match_quality, 3 summaries, matches


def test_groups_sort_in_the_order_data_flows():
    """The UI lists asset groups by name: the names must sort as the layers run."""
    graph = defs.resolve_asset_graph()
    group = {key.to_user_string(): graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert (group["tracking"], group["frame_state"], group["player_match_summary"]) == ("ingest", "metrics", "summaries")
    flow = [group["raw_feed"], group["frame_state"], group["team_match_summary"], group["vendor_exports"]]
    assert sorted(set(group.values())) == flow
