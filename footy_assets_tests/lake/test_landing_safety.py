"""The landing zone never leads outside the lake: links, FIFOs and devices are refused and named without
being opened; an unreadable file fails its own match only; the CLI, planning and the sensor go on."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import dagster as dg
import pytest

from footy_assets.lake.store import Lake
from footy_assets.orchestration.automation.sensor import scan_for_runs
from footy_assets.orchestration.runner import materialize_lake, plan_matches
from footy_assets_tests.helpers import CLI, SAMPLES, cli_env, land_sample, run_cli

SECRET = "footy-secret-7f3a9c"


def _outcomes(lake, instance):
    lines = []
    outcomes = {o.plan.match_id: o for o in materialize_lake(lake, instance, progress=lines.append)}
    return outcomes, "\n".join(lines)


@pytest.fixture
def outside(tmp_path) -> Path:
    """A folder outside the lake holding a valid CDF match and a 'secret' text file."""
    folder = tmp_path / "outside"
    shutil.copytree(SAMPLES / "cdf" / "skillcorner_1925299", folder / "match")
    (folder / "secret.txt").write_text(f"{SECRET};0,1,home\n")
    return folder


@pytest.mark.slow
def test_a_linked_match_folder_is_refused_and_others_go_on(lake, instance, outside):
    land_sample(lake, "cdf", "validator_v0_3_2")
    os.symlink(outside / "match", Path(lake.uri) / "landing" / "cdf" / "linked")
    outcomes, log = _outcomes(lake, instance)
    assert outcomes["validator_v0_3_2"].ok
    assert not outcomes["linked"].ok and "symbolic link" in outcomes["linked"].error
    assert "REFUSED linked" in log
    assert lake.read_match("tracking", "linked").num_rows == 0


@pytest.mark.slow
def test_a_linked_file_is_refused_without_printing_what_it_points_to(lake, instance, outside, capsys):
    folder = land_sample(lake, "sportvu", "statsperform_ma25", as_name="m_link")
    (folder / "tracking.txt").unlink()
    os.symlink(outside / "secret.txt", folder / "tracking.txt")
    proc_link = land_sample(lake, "sportvu", "statsperform_ma25", as_name="m_proc")
    (proc_link / "tracking.txt").unlink()
    os.symlink("/proc/self/environ", proc_link / "tracking.txt")
    os.environ["FOOTY_TEST_SECRET"] = SECRET
    try:
        outcomes, log = _outcomes(lake, instance)
    finally:
        del os.environ["FOOTY_TEST_SECRET"]
    for match_id in ("m_link", "m_proc"):
        assert not outcomes[match_id].ok
        assert "landing/sportvu/" + match_id + "/tracking.txt is a symbolic link" in outcomes[match_id].error
    assert SECRET not in log and SECRET not in capsys.readouterr().out
    events = [e for r in instance.get_runs() for e in instance.all_logs(r.run_id)]
    assert not any(SECRET in (e.message or "") for e in events)


@pytest.mark.slow
def test_a_fifo_is_refused_without_being_opened(lake, tmp_path):
    folder = land_sample(lake, "sportvu", "statsperform_ma25", as_name="m_fifo")
    (folder / "tracking.txt").unlink()
    os.mkfifo(folder / "tracking.txt")  # opening it for reading would block forever
    land_sample(lake, "cdf", "validator_v0_2_3")
    done = run_cli("materialize", lake=lake, home=tmp_path / "home", timeout=120)
    assert done.returncode == 1, done.stderr[-2000:]
    assert "landing/sportvu/m_fifo/tracking.txt is not a regular file" in done.stdout
    assert "ok      validator_v0_2_3" in done.stdout


def test_linked_format_folder_and_landing_are_refused(tmp_path, outside):
    lake = Lake.from_env(str(tmp_path / "lake"))
    (tmp_path / "lake" / "landing").mkdir(parents=True)
    os.symlink(outside, tmp_path / "lake" / "landing" / "cdf")
    plans = {p.match_id: p for p in plan_matches(lake)}
    assert plans["landing/cdf"].status == "refused" and "symbolic link" in plans["landing/cdf"].reason
    assert "match" not in plans
    lake2 = Lake.from_env(str(tmp_path / "lake2"))
    (tmp_path / "lake2").mkdir()
    os.symlink(outside, tmp_path / "lake2" / "landing")
    assert [(p.match_id, p.status) for p in plan_matches(lake2)] == [("landing", "refused")]


def test_the_sensor_tick_goes_on_past_links_and_fifos(lake, instance, outside):
    land_sample(lake, "cdf", "validator_v0_3_2")
    os.symlink(outside / "match", Path(lake.uri) / "landing" / "cdf" / "linked")
    folder = land_sample(lake, "sportvu", "statsperform_ma25", as_name="m_fifo")
    (folder / "tracking.txt").unlink()
    os.mkfifo(folder / "tracking.txt")
    context = dg.build_sensor_context(instance=instance)
    result = scan_for_runs(context, lake)
    assert [r.partition_key for r in result.run_requests] == ["validator_v0_3_2"]


def _without_read_override() -> list[str] | None:
    """A command prefix under which file permissions apply: root keeps its uid (so the project stays importable
    wherever the checkout is) but loses the two capabilities that let it read any file."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        return None
    return [
        "setpriv",
        "--bounding-set=-dac_override,-dac_read_search",
        "--inh-caps=-dac_override,-dac_read_search",
        "--",
    ]


@pytest.mark.slow
def test_an_unreadable_file_fails_its_own_match_only(lake, tmp_path):
    prefix = _without_read_override()
    if prefix is None:
        pytest.skip("root without setpriv: cannot make a file unreadable")
    land_sample(lake, "cdf", "validator_v0_3_2")
    bad = land_sample(lake, "cdf", "validator_v0_2_3", as_name="m_unreadable")
    (bad / "meta.json").chmod(0o000)
    try:
        done = subprocess.run(
            [*prefix, *CLI, "materialize", "--lake", lake.uri],
            capture_output=True,
            text=True,
            timeout=180,
            env=cli_env(tmp_path / "home"),
        )
    finally:
        (bad / "meta.json").chmod(0o644)
    assert done.returncode == 1, (done.stdout + done.stderr)[-3000:]
    assert "REFUSED m_unreadable: landing/cdf/m_unreadable/meta.json cannot be read" in done.stdout
    assert "ok      validator_v0_3_2" in done.stdout
