"""The lake on a real S3 server: a single-node Ceph RADOS Gateway on 127.0.0.1 (Debian's packages; `.ci/run`
installs them), configured with the standard variables only. The chain, an unchanged rerun, a changed delivery,
`sql`, `intervals` and `demo` run against it. No mocks."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import dagster as dg
import pyarrow.fs as pafs
import pytest

from footy_assets import cli, synthetic
from footy_assets.lake import Lake
from footy_assets.pipeline import materialize_lake
from footy_assets.sql import run_sql

from .conftest import SMALL

SERVERS = Path(__file__).resolve().parent / "servers"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def rgw():
    """A Ceph RGW of our own for this module; the standard AWS_* variables point at it while it runs."""
    if shutil.which("radosgw") is None or shutil.which("ceph-mon") is None:
        pytest.skip("Ceph's radosgw is not installed (.ci/run installs ceph-mon ceph-osd radosgw)")
    folder = Path(tempfile.mkdtemp(prefix="footy_ceph_"))
    port, mon = _free_port(), _free_port()
    env = {**os.environ, "CEPH_DIR": str(folder), "RGW_PORT": str(port), "MON_PORT": str(mon)}
    started = subprocess.run(["bash", str(SERVERS / "ceph_start.sh")], env=env, capture_output=True, text=True,
                             timeout=240)
    assert started.returncode == 0, started.stdout[-2000:] + started.stderr[-2000:]
    standard = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "testkey",
                "AWS_SECRET_ACCESS_KEY": "testsecret", "AWS_REGION": "us-east-1", "AWS_ALLOW_HTTP": "true"}
    saved = {k: os.environ.get(k) for k in standard}
    os.environ.update(standard)
    try:
        s3 = pafs.S3FileSystem(endpoint_override=f"127.0.0.1:{port}", scheme="http", access_key="testkey",
                               secret_key="testsecret", region="us-east-1", allow_bucket_creation=True)
        s3.create_dir("footy")
        yield {"port": port, "env": standard}
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        subprocess.run(["bash", str(SERVERS / "ceph_stop.sh")], env=env, capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


def _land(lake: Lake, fmt: str, match_id: str, truth, **kw) -> None:
    """Write a synthetic match locally and upload it into the S3 lake's landing zone."""
    with tempfile.TemporaryDirectory() as local:
        spec = synthetic.MatchSpec(match_id, half_seconds=SMALL.half_seconds, fps=SMALL.fps)
        synthetic.write_match(Path(local), fmt, spec, truth=truth, **kw)
        fs, root = lake.filesystem()
        pafs.copy_files(local, f"{root}/landing", source_filesystem=pafs.LocalFileSystem(), destination_filesystem=fs)


def test_the_chain_on_ceph_matches_a_local_lake(rgw, truth, tmp_path, capsys):
    lake = Lake.from_env("s3://footy/season")
    local = Lake.from_env(str(tmp_path / "local"))
    for target in (lake, local):
        _land(target, "cdf", "m_cdf", truth)
        _land(target, "footy_track", "m_ft", truth)
    with dg.instance_for_test() as instance:
        outcomes = materialize_lake(lake, instance, progress=lambda _: None)
        assert all(o.ok for o in outcomes), [o.error for o in outcomes]
        assert all(o.ok for o in materialize_lake(local, instance, progress=lambda _: None))
        query = ("SELECT match_id, count(*) AS n, round(sum(distance_m), 3) AS distance FROM frame_state "
                 "GROUP BY ALL ORDER BY ALL")
        assert run_sql(lake, query).rows() == run_sql(local, query).rows()
        assert run_sql(lake, "SELECT count(*) AS n FROM matches")["n"][0] == 2
        versions = {t: lake.table_version(t) for t in ("tracking", "frame_state", "matches")}

        again = materialize_lake(lake, instance, progress=lambda _: None)  # nothing changed: nothing committed
        assert [o.plan.status for o in again] == ["unchanged", "unchanged"]
        assert {t: lake.table_version(t) for t in versions} == versions

        _land(lake, "cdf", "m_cdf", truth.head(20_000))  # a corrected delivery of one match
        changed = materialize_lake(lake, instance, progress=lambda _: None)
        assert {o.plan.match_id: o.plan.status for o in changed} == {"m_cdf": "changed", "m_ft": "unchanged"}
        assert all(o.ok for o in changed)
    rows = run_sql(lake, "SELECT match_id, rows FROM matches ORDER BY match_id").rows()
    assert rows[0][0] == "m_cdf" and rows[0][1] < rows[1][1]

    assert cli.main(["sql", "--lake", lake.uri, "SELECT count(*) AS n FROM intervals", "--format", "csv"]) == 0
    assert int(capsys.readouterr().out.splitlines()[1]) > 0
    request = {"filters": [{"type": "frame_state", "players": ["0-10"], "column": "speed_mps", "gte": 0.0}]}
    assert cli.main(["intervals", "--lake", lake.uri, "--match", "m_ft", "--request", json.dumps(request)]) == 0
    assert json.loads(capsys.readouterr().out)[0]["player_id"] == "0-10"
    pictures = lake.list_dir(lake.join("_pictures", "m_ft"))
    assert [info.base_name for info in pictures] == ["frame_state.png"]  # written through pyarrow's S3 client


def test_demo_on_ceph(rgw, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "FOOTY_"))}
    env.update(rgw["env"], DAGSTER_HOME=str(tmp_path / "home"))
    done = subprocess.run([str(Path(sys.executable).parent / "footy-assets"), "demo", "--lake", "s3://footy/demo",
                           "--half-minutes", "0.2"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "4 materialised, 0 failed" in done.stdout
    assert "HTTP status 411" not in done.stderr
