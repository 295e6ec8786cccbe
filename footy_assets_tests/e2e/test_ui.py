"""End to end: `dagster dev` on a free localhost port, its GraphQL API, the daemon's sensor, a browser.

Starts the real webserver and daemon on a temporary lake and instance, checks the assets, partitions
and latest materialisations over GraphQL, drops a new match into the landing zone and waits until the
sensor's run has materialised it end to end, and takes a screenshot of the asset graph with headless
Chromium (skipped only where Chromium is not installed; .ci/run installs it).
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import pytest

from footy_assets.lake.store import PROJECT_ROOT, Lake
from footy_assets.orchestration.runner import materialize_lake
from footy_assets_tests.helpers import ASSETS, BELOW_TRACKING, land_synthetic

pytestmark = [pytest.mark.server, pytest.mark.slow]


CHAIN = ASSETS - {"vendor_exports"}  # a match's chain; exports are launched by hand
ARTIFACTS = PROJECT_ROOT / ".artifacts" / "ui"
# How long a wait for the daemon may take before the test calls it stuck (s): a bound on a hang, never a measure
# (a run and two automation ticks take under a minute on a quiet machine, minutes on a loaded one).
WAIT_S = 600


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.loads(response.read())
    assert "errors" not in body, body
    return body["data"]


NODES = "{ assetNodes { assetKey { path } partitionKeys assetMaterializations(limit: 1) { partition runId } } }"


def _nodes(port: int) -> dict:
    return {n["assetKey"]["path"][0]: n for n in _graphql(port, NODES)["assetNodes"]}


@pytest.fixture(scope="module")
def served(tmp_path_factory, truth):
    root = tmp_path_factory.mktemp("ui")
    home = root / "dagster_home"
    lake = Lake.from_env(str(root / "lake"))
    env = dict(
        os.environ,
        DAGSTER_HOME=str(home),
        FOOTY_DATA_LAKE=lake.uri,
        FOOTY_SENSOR_INTERVAL_S="5",
        FOOTY_AUTOMATION_INTERVAL_S="5",
    )
    saved = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(home)
    from footy_assets.orchestration.instance import ensure_dagster_home

    ensure_dagster_home()
    if saved is None:
        del os.environ["DAGSTER_HOME"]
    else:
        os.environ["DAGSTER_HOME"] = saved
    land_synthetic(lake, "footy_stats", "m1", truth)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert all(o.ok for o in materialize_lake(lake, instance, progress=lambda _: None))
    port = _free_port()
    log = open(root / "dagster_dev.log", "w")  # noqa: SIM115  the server's log, open while it runs
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "dagster"),
            "dev",
            "-w",
            str(PROJECT_ROOT / "workspace.yaml"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        # not from the project root: Dagster would load its .env, whose DAGSTER_HOME overrides this test's
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.time() + WAIT_S
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5)
                _nodes(port)  # the code location is loaded too
                break
            except Exception:  # noqa: BLE001  not up yet: any failure means try again
                if time.time() > deadline or process.poll() is not None:
                    log.flush()
                    pytest.fail(f"dagster dev did not come up: {(root / 'dagster_dev.log').read_text()[-3000:]}")
                time.sleep(2)
        yield {"port": port, "lake": lake, "home": home}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        log.close()


def test_graphql_shows_assets_partitions_and_latest_materialisation(served):
    nodes = _nodes(served["port"])
    assert set(nodes) == ASSETS
    for name, node in nodes.items():
        assert node["partitionKeys"] == ["m1"], name
        if name in CHAIN:
            assert node["assetMaterializations"][0]["partition"] == "m1", name


def test_a_dropped_match_is_materialised_by_the_sensor(served, truth):
    port, lake = served["port"], served["lake"]
    land_synthetic(lake, "cdf", "m2", truth)
    deadline = time.time() + WAIT_S
    while time.time() < deadline:
        latest = _nodes(port)["matches"]["assetMaterializations"]
        if latest and latest[0]["partition"] == "m2":
            break
        time.sleep(3)
    else:
        pytest.fail(f"the sensor did not materialise m2 within {WAIT_S} s")
    nodes = _nodes(port)
    assert all(node["partitionKeys"] == ["m1", "m2"] for node in nodes.values())
    run_ids = {node["assetMaterializations"][0]["runId"] for name, node in nodes.items() if name in CHAIN}
    assert len(run_ids) == 1  # one run of the match job materialised every asset of m2
    query = (
        '{ runsOrError(filter: {tags: [{key: "footy_assets/match", value: "m2"}]}) '
        "{ ... on Runs { results { runId status tags { key value } } } } }"
    )
    runs = _graphql(port, query)["runsOrError"]["results"]
    settle = time.time() + 60  # the last asset's event is stored a moment before the run's own success
    while [r["status"] for r in runs] == ["STARTED"] and time.time() < settle:
        time.sleep(1)
        runs = _graphql(port, query)["runsOrError"]["results"]
    assert [r["status"] for r in runs] == ["SUCCESS"]
    assert {"key": "footy_assets/trigger", "value": "sensor"} in runs[0]["tags"]
    time.sleep(12)  # two more sensor ticks over the same files: no second run
    runs = _graphql(
        port,
        '{ runsOrError(filter: {tags: [{key: "footy_assets/match", value: "m2"}]}) '
        "{ ... on Runs { results { runId } } } }",
    )["runsOrError"]["results"]
    assert len(runs) == 1


SENSOR = (
    '{{ sensorOrError(sensorSelector: {{repositoryName: "__repository__", repositoryLocationName: '
    '"footy_assets", sensorName: "{name}"}}) {{ ... on Sensor {{ name sensorState {{ status }} }} }} }}'
)


def test_automation_runs_by_default_and_refreshes_downstream_of_tracking(served):
    """Declarative automation is on out of the box: a new materialisation of m1's tracking (as a click in the
    UI makes) is followed, through the running daemon, by fresh materialisations of m1's downstream assets."""
    from footy_assets.orchestration.registry import RESOURCES, all_assets
    from footy_assets.orchestration.resources import LakeResource

    port, lake, home = served["port"], served["lake"], served["home"]
    for name in ("automation_condition_sensor", "landing_sensor", "dead_cli_runs_sensor"):
        sensor = _graphql(port, SENSOR.format(name=name))["sensorOrError"]
        assert sensor["sensorState"]["status"] == "RUNNING", name
    before = {n: node["assetMaterializations"] for n, node in _nodes(port).items()}
    ingest = [a for a in all_assets if dg.AssetKey("tracking") in a.keys]
    with dg.DagsterInstance.from_config(str(home)) as instance:
        result = dg.materialize(
            ingest,
            partition_key="m1",
            instance=instance,
            resources={**RESOURCES, "lake": LakeResource(lake_uri=lake.uri)},
        )
        assert result.success
    downstream = BELOW_TRACKING
    deadline = time.time() + WAIT_S
    while time.time() < deadline:
        nodes = _nodes(port)
        fresh = {
            n
            for n in downstream
            if nodes[n]["assetMaterializations"]
            and nodes[n]["assetMaterializations"][0]["runId"] != before[n][0]["runId"]
            and nodes[n]["assetMaterializations"][0]["partition"] == "m1"
        }
        if fresh == set(downstream):
            break
        time.sleep(3)
    else:
        pytest.fail(f"automation refreshed only {sorted(fresh)} of m1's downstream within {WAIT_S} s")


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(_chromium() is None, reason="Chromium is not installed (.ci/run installs Debian's chromium)")
def test_browser_shows_the_asset_graph(served, tmp_path):
    port = served["port"]
    # what a first visitor's "Skip" on Dagster's welcome dialog does, so it does not cover the page
    assert _graphql(port, "mutation { setNuxSeen }")["setNuxSeen"] is True
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=2400,1600",  # the whole metrics group in view: off-screen nodes are not drawn
        "--virtual-time-budget=25000",
    ]

    def page(path: str, *how: str) -> str:
        done = subprocess.run(
            [_chromium(), *flags, *how, f"http://127.0.0.1:{port}/{path}"], capture_output=True, text=True, timeout=180
        )
        return done.stdout

    catalog = page("assets", "--dump-dom")
    assert {name for name in ASSETS if f">{name}<" in catalog or name in catalog} == ASSETS
    lineage = "locations/footy_assets/asset-groups/metrics/lineage"
    graph = page(lineage, "--dump-dom")
    for name in ("tracking", "frame_state", "ball_state", "intervals", "matches"):
        assert name in graph, name
    screenshot = ARTIFACTS / "asset_graph_metrics.png"
    page(lineage, f"--screenshot={screenshot}")
    png = screenshot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000  # a rendered page, not a blank one
