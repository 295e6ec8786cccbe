"""A published match never vanishes: readers see the old delivery whole until the new one is, whatever
happens to the chain in between — readers polling during a re-delivery, kill -9 after each kind of commit, a
read-only table folder, a full disk. Real processes, real Delta tables, real mounts."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import polars as pl
import pytest

from footy_assets.formats import synthetic
from footy_assets.lake.exports import render
from footy_assets.lake.filter import filter_intervals
from footy_assets.lake.publish import PER_MATCH_TABLES
from footy_assets.lake.sql import run_sql
from footy_assets.lake.store import Lake
from footy_assets_tests.helpers import CLI

pytestmark = pytest.mark.slow

SPEC = synthetic.MatchSpec("m1", half_seconds=90.0, fps=25, seed=5)


@pytest.fixture(scope="module")
def match_truth() -> pl.DataFrame:
    return synthetic.generate_truth(SPEC)


def _env(home: Path) -> dict:
    return {**os.environ, "DAGSTER_HOME": str(home)}


def _materialize(lake: Lake, home: Path, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [*CLI, "materialize", "--lake", lake.uri],
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        **kw,
    )


def _run(lake: Lake, home: Path) -> tuple[int, str]:
    proc = _materialize(lake, home)
    out, _ = proc.communicate(timeout=600)
    return proc.returncode, out


def _land(lake: Lake, truth: pl.DataFrame) -> None:
    synthetic.write_match(Path(lake.uri) / "landing", "cdf", SPEC, truth=truth)


def _seen(lake: Lake) -> dict:
    """What a reader sees of m1: the published fingerprint, per table the rows and the fingerprints shown."""
    parts = ", ".join(
        f"(SELECT count(*) FROM {t} WHERE match_id = 'm1') AS n_{t}, "
        f"(SELECT list(DISTINCT fingerprint) FROM {t} WHERE match_id = 'm1') AS f_{t}"
        for t in PER_MATCH_TABLES
    )
    row = run_sql(lake, f"SELECT (SELECT fingerprint FROM matches WHERE match_id = 'm1') AS published, {parts}")
    row = row.row(0, named=True)
    return {
        "published": row["published"],
        "rows": {t: row[f"n_{t}"] for t in PER_MATCH_TABLES},
        "fingerprints": {t: sorted(row[f"f_{t}"] or []) for t in PER_MATCH_TABLES},
    }


def _assert_whole(seen: dict, states: dict[str, dict]) -> None:
    """The match as seen is exactly one of the known published states (fingerprint -> rows per table)."""
    published = seen["published"]
    assert published in states, seen
    assert seen["rows"] == states[published], (seen, states[published])
    # a table with rows shows the published delivery's only (events and lineups have none: no event data)
    assert all(fps == [published] for t, fps in seen["fingerprints"].items() if seen["rows"][t]), seen


@pytest.fixture
def redelivery(lake, tmp_path, match_truth):
    """m1 published once (state ``old``), then a corrected delivery landed (not yet materialised)."""
    home = tmp_path / "home"
    _land(lake, match_truth)
    code, out = _run(lake, home)
    assert code == 0, out
    old = _seen(lake)
    assert all(n > 0 for t, n in old["rows"].items() if t not in ("intervals", "events", "lineups"))
    _land(lake, match_truth.with_columns(pl.col("x") * 0.95))
    return home, old


def test_readers_polling_during_a_redelivery_see_one_whole_delivery(lake, redelivery):
    home, old = redelivery
    states = {old["published"]: old["rows"]}
    observations, problems, both_stored = [], [], []
    request = {"filters": [{"type": "frame_state", "players": ["0-4"], "column": "speed_mps", "gte": 0.0}]}
    proc = _materialize(lake, home)
    stop = threading.Event()

    def poll(look):
        while not stop.is_set():
            try:
                look()
            except Exception as exc:  # noqa: BLE001 - every failure is a finding
                problems.append(repr(exc))
            time.sleep(0.1)

    def query():
        seen = _seen(lake)
        stored = run_sql(lake, "SELECT count(DISTINCT fingerprint) AS n FROM _all_tracking").item()
        observations.append((seen, stored))

    def analyse():
        assert filter_intervals("m1", request, lake)  # the published frame_state, never empty
        files = render(lake, "m1", "tracking_download")  # never "no pitch positions"
        assert len(files["tracking.parquet"]) > 100_000

    pollers = [threading.Thread(target=poll, args=(look,)) for look in (query, analyse)]
    for poller in pollers:
        poller.start()
    out, _ = proc.communicate(timeout=600)
    stop.set()
    for poller in pollers:
        poller.join()
    assert proc.returncode == 0, out
    new = _seen(lake)
    assert new["published"] != old["published"]
    states[new["published"]] = new["rows"]
    assert not problems, problems[:3]
    for seen, stored in observations:
        _assert_whole(seen, states)
        both_stored.append(stored == 2 and seen["published"] == old["published"])
    # the poller did look while the new delivery was being written beside the published one
    assert any(both_stored), [(o[0]["published"][:8], o[1]) for o in observations]


@pytest.mark.parametrize("table", ["tracking", "frame_state", "team_match_summary"])
def test_kill_9_after_a_commit_leaves_the_old_delivery_whole(lake, redelivery, table):
    home, old = redelivery
    log = Path(lake.uri) / table / "_delta_log"
    before = len(list(log.glob("*.json")))
    proc = _materialize(lake, home)
    deadline = time.monotonic() + 300
    while len(list(log.glob("*.json"))) == before and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    os.killpg(proc.pid, 9)
    proc.wait(timeout=30)
    seen = _seen(lake)
    _assert_whole(seen, {old["published"]: old["rows"]})
    assert seen["published"] == old["published"]  # killed before matches' commit
    code, out = _run(lake, home)  # a rerun converges
    assert code == 0 and "ok      m1" in out, out
    new = _seen(lake)
    assert new["published"] != old["published"]
    _assert_whole(new, {new["published"]: new["rows"]})


def _mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here ({done.stderr.strip()})")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to mount")
def test_a_read_only_table_folder_fails_the_chain_and_keeps_the_old_delivery(lake, redelivery):
    home, old = redelivery
    folder = Path(lake.uri) / "frame_state"
    _mount("--bind", str(folder), str(folder))
    try:
        _mount("-o", "remount,bind,ro", str(folder))
        code, out = _run(lake, home)
        seen = _seen(lake)
    finally:
        subprocess.run(["umount", str(folder)], check=True)
    assert code == 1, out
    failed = [line for line in out.splitlines() if line.startswith("  FAILED  m1")]
    assert len(failed) == 1 and "frame_state" in failed[0] and "Read-only file system" in failed[0], out
    _assert_whole(seen, {old["published"]: old["rows"]})
    code, out = _run(lake, home)
    assert code == 0, out
    assert _seen(lake)["published"] != old["published"]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to mount")
def test_a_full_disk_fails_the_chain_and_keeps_the_old_delivery(lake, redelivery, tmp_path):
    home, old = redelivery
    folder = Path(lake.uri) / "player_period_summary"
    used = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    # room for what the table holds and a little log, not for the new delivery's Parquet file
    _mount("-t", "tmpfs", "-o", f"size={used + 64 * 1024}", "tmpfs", str(folder))
    try:
        subprocess.run(["cp", "-a", f"{copy}/.", str(folder)], check=True)
        filler = folder / "_filler"
        free = shutil.disk_usage(folder).free
        filler.write_bytes(b"\0" * max(free - 8 * 1024, 0))
        code, out = _run(lake, home)
        seen = _seen(lake)
        filler.unlink()
        shutil.rmtree(copy)
        shutil.copytree(folder, copy)
    finally:
        subprocess.run(["umount", str(folder)], check=True)
    shutil.rmtree(folder)
    shutil.copytree(copy, folder)  # what the table held on the full disk, back on the real one
    assert code == 1, out
    failed = [line for line in out.splitlines() if line.startswith("  FAILED  m1")]
    assert len(failed) == 1 and "player_period_summary" in failed[0], out
    assert "No space left on device" in failed[0], out
    _assert_whole(seen, {old["published"]: old["rows"]})
    code, out = _run(lake, home)
    assert code == 0, out
    new = _seen(lake)
    assert new["published"] != old["published"]
    _assert_whole(new, {new["published"]: new["rows"]})
