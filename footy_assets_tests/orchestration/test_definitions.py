"""The Definitions object that dagster dev and dg load."""

import itertools
import re
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from footy_assets.definitions import defs
from footy_assets.lake.store import PROJECT_ROOT
from footy_assets_tests.e2e.test_docs import UNRESOLVED
from footy_assets_tests.helpers import ASSETS


def test_assets_and_partitions():
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert keys == ASSETS
    for key in keys:
        node = graph.get(dg.AssetKey(key))
        assert isinstance(node.partitions_def, dg.DynamicPartitionsDefinition)
        assert node.partitions_def.name == "match_id"
        assert node.code_version
    # matches is last in a match's chain: its row means the whole chain of the match succeeded
    assert graph.get(dg.AssetKey("matches")).parent_keys == {
        dg.AssetKey(k) for k in keys - {"raw_feed", "matches", "vendor_exports"}
    }
    # exports are launched by hand: not automated, not in the job the sensor and backfills run
    assert graph.get(dg.AssetKey("vendor_exports")).automation_condition is None
    assert dg.AssetKey("vendor_exports") not in defs.resolve_job_def("match_job").asset_layer.selected_asset_keys
    assert graph.get(dg.AssetKey("team_match_summary")).parent_keys == {
        dg.AssetKey("player_match_summary"),
        dg.AssetKey("ball_state"),
    }


def test_smoother_and_catalog_are_in_code_versions():
    graph = defs.resolve_asset_graph()
    assert graph.get(dg.AssetKey("frame_state")).code_version.endswith("+sg9.2+step12+speed12+accel12")
    assert "+catalog." in graph.get(dg.AssetKey("intervals")).code_version
    assert "+sql." in graph.get(dg.AssetKey("player_match_summary")).code_version


@pytest.mark.slow
def test_dg_lists_the_definitions():
    dg_cli = Path(sys.executable).parent / "dg"
    out = subprocess.run([str(dg_cli), "list", "defs"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    for name in (
        "raw_feed",
        "tracking",
        "frame_state",
        "intervals",
        "match_quality",
        "team_match_summary",
        "matches",
        "automation_condition_sensor",
    ):
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
        assert not UNRESOLVED.search(node.description or ""), key
        schema = node.metadata.get("dagster/column_schema")
        if schema is None:
            continue
        tables += 1
        columns = schema.schema.columns if hasattr(schema, "schema") else schema.columns
        undescribed = [c.name for c in columns if not (c.description or "").strip()]
        assert not undescribed, (key, undescribed)
        assert columns[0].name == "match_id"
    assert tables == 11  # tracking, frame_state, ball_state, intervals, match_quality, events, lineups, 3 summaries,
    # matches


FLOW = ["ingest", "metrics", "summaries", "publish", "vendor_exports"]


def test_groups_follow_the_flow_left_to_right():
    """Group-level lineage (the UI's collapsed groups) has no cycle and reads in the order data flows: each group
    feeds the next, and none feeds an earlier one."""
    graph = defs.resolve_asset_graph()
    group = {key: graph.get(key).group_name for key in graph.get_all_asset_keys()}
    edges = {
        (group[parent], group[key])
        for key in group
        for parent in graph.get(key).parent_keys
        if group[parent] != group[key]
    }
    assert set(group.values()) == set(FLOW)
    assert all(FLOW.index(a) < FLOW.index(b) for a, b in edges), edges  # acyclic, in this order
    assert set(itertools.pairwise(FLOW)) <= edges  # the only order that holds
    assert (
        group[dg.AssetKey("tracking")],
        group[dg.AssetKey("frame_state")],
        group[dg.AssetKey("intervals")],
        group[dg.AssetKey("team_match_summary")],
        group[dg.AssetKey("matches")],
    ) == ("ingest", "metrics", "metrics", "summaries", "publish")


def test_regrouping_keeps_keys_checks_and_code_versions():
    """Groups are not part of an asset's identity: the keys, check names and code versions a lake's matches
    were recorded with stay as they were, so the stored matches stay unchanged."""
    from footy_assets.chain.versions import CODE_VERSIONS

    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        name = key.to_user_string()
        assert graph.get(key).code_version == CODE_VERSIONS.get(name, "1"), name  # vendor_exports: "1"
    checks = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    assert checks == {
        ("tracking", "no_duplicate_player_frames"),
        ("tracking", "positions_on_pitch"),
        ("tracking", "ball_tracked"),
        ("frame_state", "speeds_plausible"),
        ("frame_state", "covers_tracking"),
        ("events", "events_in_tracking"),
        ("events", "ball_events_synced"),
    }


LAUNCH = re.compile(r"dg launch --(assets|job) ('[^']*'|[\w:,*+-]+)")
BACKFILL = re.compile(r"dagster job backfill .*?-j (\w+)")


def test_the_docs_launch_the_chain_or_the_exports():
    """Every ``dg launch`` and ``dagster job backfill`` the README and the docs give builds either a match's chain
    (the 12
    assets match_job runs) or its exports alone, resolved as dg resolves them; ``*`` would build both."""
    from footy_assets.orchestration.registry import chain_assets

    graph = defs.resolve_asset_graph()
    chain = {key for asset in chain_assets for key in asset.keys}
    exports = {dg.AssetKey("vendor_exports")}
    assert len(chain) == 12 and not chain & exports

    def resolve(kind: str, target: str) -> set:
        if kind == "job":
            return set(defs.resolve_job_def(target).asset_layer.selected_asset_keys)
        return set(dg.AssetSelection.from_coercible(target.strip("'").split(",")).resolve(graph))  # as dg launch

    readme = "\n".join(
        p.read_text() for p in [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").rglob("*.md"))]
    )
    launched = {match.group(0): resolve(*match.groups()) for match in LAUNCH.finditer(readme)}
    launched |= {match.group(0): resolve("job", match.group(1)) for match in BACKFILL.finditer(readme)}
    assert {line for line, keys in launched.items() if keys not in (chain, exports)} == set()
    assert chain in launched.values() and exports in launched.values()
    assert resolve("assets", "'*'") == chain | exports
