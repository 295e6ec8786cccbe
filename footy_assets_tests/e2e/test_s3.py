"""The lake on a real S3 server: a single-node Ceph RADOS Gateway on 127.0.0.1 (Debian's packages; `.ci/run`
installs them), configured with the standard variables only. The chain, an unchanged rerun, a changed delivery,
`sql`, `intervals` and `demo` run against it; a re-delivery read whole throughout, a gateway killed during one, damage
found and repaired by doctor. No mocks."""

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

from footy_assets import cli
from footy_assets.formats import synthetic
from footy_assets.lake.sql import run_sql
from footy_assets.lake.store import Lake
from footy_assets.orchestration.runner import materialize_lake
from footy_assets_tests.helpers import CLI, SMALL

pytestmark = [pytest.mark.server, pytest.mark.slow]

SERVERS = Path(__file__).resolve().parents[1] / "servers"


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
    started = subprocess.run(
        ["bash", str(SERVERS / "ceph_start.sh")], env=env, capture_output=True, text=True, timeout=240
    )
    assert started.returncode == 0, started.stdout[-2000:] + started.stderr[-2000:]
    standard = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "testkey",
        "AWS_SECRET_ACCESS_KEY": "testsecret",
        "AWS_REGION": "us-east-1",
        "AWS_ALLOW_HTTP": "true",
    }
    saved = {k: os.environ.get(k) for k in standard}
    os.environ.update(standard)
    try:
        s3 = pafs.S3FileSystem(
            endpoint_override=f"127.0.0.1:{port}",
            scheme="http",
            access_key="testkey",
            secret_key="testsecret",
            region="us-east-1",
            allow_bucket_creation=True,
        )
        s3.create_dir("footy")
        yield {"port": port, "env": standard, "dir": folder}
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
        query = (
            "SELECT match_id, count(*) AS n, round(sum(distance_m), 3) AS distance FROM frame_state "
            "GROUP BY ALL ORDER BY ALL"
        )
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
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "footy-assets"),
            "demo",
            "--lake",
            "s3://footy/demo",
            "--half-minutes",
            "0.2",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "4 materialised, 0 failed" in done.stdout
    assert "HTTP status 411" not in done.stderr


def _cli(rgw, home: Path, *args: str, **kw) -> subprocess.Popen:
    env = {**os.environ, **rgw["env"], "DAGSTER_HOME": str(home)}
    return subprocess.Popen([*CLI, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def _seen(lake: Lake) -> tuple:
    """(published fingerprint, tracking rows shown, fingerprints shown in tracking and frame_state) of m1."""
    row = run_sql(
        lake,
        "SELECT (SELECT fingerprint FROM matches WHERE match_id = 'm1') AS p, "
        "(SELECT count(*) FROM tracking WHERE match_id = 'm1') AS n, "
        "(SELECT list(DISTINCT fingerprint) FROM tracking WHERE match_id = 'm1') AS ft, "
        "(SELECT list(DISTINCT fingerprint) FROM frame_state WHERE match_id = 'm1') AS ff",
    ).row(0)
    return row[0], row[1], sorted(row[2] or []), sorted(row[3] or [])


def test_a_redelivery_on_ceph_is_read_whole_throughout_and_a_killed_gateway_changes_nothing(rgw, truth, tmp_path):
    import threading
    import time

    import polars as pl

    lake = Lake.from_env("s3://footy/whole")
    home = tmp_path / "home"
    _land(lake, "cdf", "m1", truth)
    first = _cli(rgw, home, "materialize", "--lake", lake.uri)
    assert first.wait(timeout=600) == 0, first.stdout.read()
    old = _seen(lake)
    assert old[1] > 0 and old[2] == old[3] == [old[0]]

    # readers polling during a re-delivery see the old delivery whole, then the new one
    _land(lake, "cdf", "m1", truth.with_columns(pl.col("x") * 0.95))
    seen, problems, stop = [], [], threading.Event()

    def poll():
        while not stop.is_set():
            try:
                seen.append(_seen(lake))
            except Exception as exc:  # noqa: BLE001 - every failure is a finding
                problems.append(repr(exc))
            time.sleep(0.1)

    poller = threading.Thread(target=poll)
    poller.start()
    second = _cli(rgw, home, "materialize", "--lake", lake.uri)
    out = second.communicate(timeout=600)[0]
    stop.set()
    poller.join()
    assert second.returncode == 0, out
    new = _seen(lake)
    assert new[0] != old[0] and not problems, problems[:3]
    for published, rows, in_tracking, in_frame_state in seen:
        assert (published, rows, in_tracking, in_frame_state) in (old, new)

    # a third delivery, and the gateway killed once tracking holds it: the published one stays whole
    _land(lake, "cdf", "m1", truth.with_columns(pl.col("x") * 0.9))
    rgw_pid = int((rgw["dir"] / "rgw.pid").read_text())
    third = _cli(rgw, home, "materialize", "--lake", lake.uri, start_new_session=True)
    tracking_versions = lake.table_version("tracking")
    killed = False
    deadline = time.monotonic() + 300
    while third.poll() is None and time.monotonic() < deadline:
        if lake.table_version("tracking") != tracking_versions:
            os.kill(rgw_pid, 9)
            killed = True
            break
        time.sleep(0.05)
    out = third.communicate(timeout=600)[0]
    assert killed, out
    assert third.returncode == 1, out
    failed = [line for line in out.splitlines() if "FAILED" in line]
    assert len(failed) == 1 and "m1" in failed[0], out
    env = {**os.environ, "CEPH_CONF": str(rgw["dir"] / "ceph.conf")}
    restarted = subprocess.Popen(
        ["radosgw", "-f", "-n", "client.rgw.a"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    (rgw["dir"] / "rgw.pid").write_text(str(restarted.pid))  # ceph_stop.sh stops this one
    for _ in range(240):
        try:
            lake.table_version("matches")
            break
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.5)
    assert _seen(lake) == new  # the published delivery, whole
    rerun = _cli(rgw, home, "materialize", "--lake", lake.uri)
    out = rerun.communicate(timeout=600)[0]
    assert rerun.returncode == 0, out
    latest = _seen(lake)
    assert latest[0] not in (old[0], new[0]) and latest[2] == latest[3] == [latest[0]]


def test_doctor_on_ceph_names_a_missing_file_and_rebuilds_the_match(rgw, truth, tmp_path):
    lake = Lake.from_env("s3://footy/doctor")
    home = tmp_path / "home"
    _land(lake, "footy_stats", "m1", truth)
    first = _cli(rgw, home, "materialize", "--lake", lake.uri)
    assert first.wait(timeout=600) == 0, first.stdout.read()
    rows = run_sql(lake, "SELECT count(*) FROM frame_state").item()
    dt = lake.open_table("frame_state")
    fs, root = lake.filesystem()
    [victim] = dt.file_uris()
    fs.delete_file(f"{root}/frame_state/{victim.split('/frame_state/', 1)[1]}")
    doctor = _cli(rgw, home, "doctor", "--lake", lake.uri)
    out = doctor.communicate(timeout=600)[0]
    assert doctor.returncode == 1 and "missing" in out and "rebuilds m1" in out, out
    repair = _cli(rgw, home, "doctor", "--repair", "--lake", lake.uri)
    out = repair.communicate(timeout=600)[0]
    assert repair.returncode == 0 and "healthy" in out, out
    assert run_sql(lake, "SELECT count(*) FROM frame_state").item() == rows


def test_claims_on_ceph_exclude_a_second_writer(rgw):
    """One writer per match on an object store (no flock there): a second claimant waits, is refused with one line
    naming the holder, and gets the match once the holder lets go or is gone."""
    from footy_assets.lake import claims

    lake = Lake.from_env("s3://footy/claims")
    first, second = claims.this_process("upkeep"), claims.this_process("forget")
    claims.claim(lake, "m1", first, lambda holder: True)
    assert claims.current_holder(lake, "m1") == first
    waited = []
    with pytest.raises(claims.MatchBusy, match=r"m1: footy-assets upkeep \(pid .*refused after waiting 1 s"):
        claims.claim(lake, "m1", second, lambda holder: True, wait_s=1, on_wait=waited.append)
    assert waited == [first]
    claims.release(lake, "m1", second.id)  # not the holder: nothing happens
    assert claims.current_holder(lake, "m1") == first
    claims.claim(lake, "m1", second, lambda holder: holder.id != first.id, wait_s=1)  # the holder is gone
    assert claims.current_holder(lake, "m1") == second
    claims.release(lake, "m1", second.id)
    assert claims.current_holder(lake, "m1") is None
