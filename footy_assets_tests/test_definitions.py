"""The Definitions object that dagster dev and dg load."""

import subprocess
import sys
from pathlib import Path

import dagster as dg

from footy_assets.definitions import defs
from footy_assets.lake import PROJECT_ROOT


def test_assets_and_partitions():
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"raw_feed", "tracking", "matches"} <= keys
    for key in ("raw_feed", "tracking", "matches"):
        node = graph.get(dg.AssetKey(key))
        assert isinstance(node.partitions_def, dg.DynamicPartitionsDefinition)
        assert node.partitions_def.name == "match_id"
        assert node.code_version
    assert graph.get(dg.AssetKey("matches")).parent_keys == {dg.AssetKey("tracking")}


def test_dg_lists_the_definitions():
    dg_cli = Path(sys.executable).parent / "dg"
    out = subprocess.run([str(dg_cli), "list", "defs"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                         timeout=180)
    assert out.returncode == 0, out.stderr
    for name in ("raw_feed", "tracking", "matches"):
        assert name in out.stdout
