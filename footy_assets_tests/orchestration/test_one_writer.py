"""One run per match, whoever starts it: a CLI and ``dg launch`` on one match at once, upkeep and forget
while a run writes it. Real processes, the real instance's event log."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import dagster as dg
import polars as pl
import pyarrow as pa
import pytest

from footy_assets.formats import synthetic
from footy_assets.lake import claims
from footy_assets.lake.sql import run_sql
from footy_assets.lake.store import PROJECT_ROOT, Lake
from footy_assets_tests.helpers import CLI

pytestmark = pytest.mark.slow

DG = str(Path(sys.executable).parent / "dg")
SPEC = synthetic.MatchSpec("m1", half_seconds=240.0, fps=25, seed=9)  # a run longer than a CLI start


def _env(lake: Lake, home: Path) -> dict:
    return {**os.environ, "DAGSTER_HOME": str(home), "FOOTY_DATA_LAKE": lake.uri}


def _step_spans(home: Path) -> dict[str, tuple[float, float]]:
    """Per run: from the start of its first writing step (metrics, summaries, matches) to the end of its last."""
    os.environ["DAGSTER_HOME"] = str(home)
    try:
        with dg.DagsterInstance.get() as instance:
            spans = {}
            for run in instance.get_runs():
                times = [
                    e.timestamp
                    for e in instance.all_logs(run.run_id)
                    if e.dagster_event is not None
                    and e.step_key in ("match_metrics", "summary_models", "matches")
                    and e.dagster_event.event_type_value in ("STEP_START", "STEP_SUCCESS", "STEP_FAILURE")
                ]
                if times:
                    spans[run.run_id] = (min(times), max(times))
            return spans
    finally:
        del os.environ["DAGSTER_HOME"]


@pytest.mark.skipif(not Path(DG).exists(), reason="dg is not installed beside this Python")
def test_a_cli_run_waits_for_a_dg_launch_run_of_the_same_match(lake, tmp_path):
    home = tmp_path / "home"
    truth = synthetic.generate_truth(SPEC)
    synthetic.write_match(Path(lake.uri) / "landing", "cdf", SPEC, truth=truth)
    first = subprocess.run([*CLI, "materialize"], env=_env(lake, home), capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stdout + first.stderr  # published once; the partition is registered
    synthetic.write_match(Path(lake.uri) / "landing", "cdf", SPEC, truth=truth.with_columns(pl.col("x") * 0.95))

    # dg reads the project's .env, which names the project's own instance: launch from a copy of the project file
    # whose .env names this test's instance
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text((PROJECT_ROOT / "pyproject.toml").read_text())
    (project / ".env").write_text(f"DAGSTER_HOME={home}\nFOOTY_DATA_LAKE={lake.uri}\n")
    # this test holds the match first (as an upkeep would), so both runs meet a holder whatever their start-up
    # times; once it lets go, they take the match one after the other
    claim = Path(lake.uri) / claims.CLAIMS_DIR / "m1.json"
    ours = claims.this_process("upkeep")
    claims.claim(lake, "m1", ours, lambda holder: True)
    launched = subprocess.Popen(
        [DG, "launch", "--assets", "*", "--partition", "m1"],
        cwd=project,
        env=_env(lake, home),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    cli = subprocess.Popen(
        [*CLI, "materialize"], env=_env(lake, home), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    first_line = seen = ""
    while "  wait    m1" not in first_line:
        first_line = cli.stdout.readline()
        seen += first_line
        if not first_line:
            break
    assert f"wait    m1: footy-assets upkeep (pid {os.getpid()}" in first_line, seen
    # dg's run reaches its claim and waits too: read its output until it says so
    dg_lines: list[str] = []
    reader = threading.Thread(target=lambda: dg_lines.extend(iter(launched.stdout.readline, "")), daemon=True)
    reader.start()
    deadline = time.monotonic() + 300
    while (
        not any("waiting for footy-assets upkeep" in line for line in dg_lines)
        and time.monotonic() < deadline
        and launched.poll() is None
    ):
        time.sleep(0.1)
    released_at = time.time()
    claims.release(lake, "m1", ours.id)
    cli_out = seen + cli.communicate(timeout=600)[0]
    launched.wait(timeout=600)
    reader.join(timeout=60)
    out = "".join(dg_lines)
    assert launched.returncode == 0, out[-3000:]
    assert cli.returncode == 0, cli_out
    assert "waiting for footy-assets upkeep" in out  # dg's run met the holder too, and said so
    spans = sorted(_step_spans(home).values())
    assert len(spans) >= 2  # the first materialize, dg's run, and the CLI's unless it found the match done
    assert all(start >= released_at for start, _ in spans[1:]), (released_at, spans)  # nobody wrote while held
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end <= start, spans  # no two runs wrote the match at once
    assert not claim.exists()  # the last run gave the match up at its end
    assert run_sql(lake, "SELECT count(DISTINCT fingerprint) FROM tracking").item() == 1


def test_upkeep_and_forget_wait_for_a_live_holder_then_give_up_with_one_line(lake, tmp_path, truth):
    from footy_assets_tests.helpers import land_synthetic

    home = tmp_path / "home"
    land_synthetic(lake, "footy_stats", "m1", truth)
    assert subprocess.run([*CLI, "materialize"], env=_env(lake, home), capture_output=True, timeout=600).returncode == 0
    # a second process holds m1 (an upkeep of another terminal, alive)
    holder_proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys, time; from footy_assets.lake import claims; from footy_assets.lake.store import Lake\n"
                f"claims.claim(Lake({lake.uri!r}), 'm1', claims.this_process('upkeep'), lambda h: True)\n"
                "print('held', flush=True); time.sleep(120)"
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder_proc.stdout.readline().strip() == "held"
        # upkeep needs m1 only for what it compacts or drops: make it need it (two files in one partition)
        dt = lake.open_table("matches")
        rows = pl.from_arrow(lake.dataset("matches").to_table())
        from deltalake import write_deltalake

        write_deltalake(dt, rows.to_arrow().cast(pa.schema(dt.schema().to_arrow())), mode="append")
        env = {**_env(lake, home), "FOOTY_MATCH_WAIT_S": "2"}
        upkeep = subprocess.run([*CLI, "upkeep"], env=env, capture_output=True, text=True, timeout=300)
        assert upkeep.returncode == 1, upkeep.stdout + upkeep.stderr
        assert "wait    m1: footy-assets upkeep (pid" in upkeep.stdout, upkeep.stdout
        assert "refused after waiting 2 s" in upkeep.stdout, upkeep.stdout
        import shutil

        shutil.rmtree(Path(lake.uri) / "landing" / "footy_stats" / "m1")
        forget = subprocess.run(
            [*CLI, "forget", "m1", "--from-lake"], env=env, capture_output=True, text=True, timeout=300
        )
        lines = [line for line in forget.stderr.splitlines() if line.strip()]
        assert forget.returncode == 1 and len(lines) == 1 and "refused after waiting 2 s" in lines[0], forget.stderr
        assert run_sql(lake, "SELECT count(*) FROM matches WHERE match_id = 'm1'").item() >= 1  # nothing forgotten
    finally:
        holder_proc.kill()
        holder_proc.wait()
    # the holder is gone: its claim lapses, forget goes ahead
    forget = subprocess.run(
        [*CLI, "forget", "m1", "--from-lake"], env=_env(lake, home), capture_output=True, text=True, timeout=300
    )
    assert forget.returncode == 0, forget.stdout + forget.stderr
    assert run_sql(lake, "SELECT count(*) FROM matches").item() == 0


def test_a_plan_made_before_another_process_published_the_match_is_not_run_again(lake, truth):
    """A process plans a match as new, another materialises and publishes it before the first one locks it (the
    lock was free by then: nothing waited): the first one skips it as unchanged instead of running it again."""
    from footy_assets.chain.planning import plan_matches
    from footy_assets.orchestration.runner import materialize_lake
    from footy_assets_tests.helpers import land_synthetic, quiet

    land_synthetic(lake, "footy_stats", "m", truth.head(3000))
    stale = plan_matches(lake)
    assert [p.status for p in stale] == ["new"]
    lines: list[str] = []
    with dg.instance_for_test() as instance:
        first = materialize_lake(lake, instance, progress=quiet, plans=stale)  # the other process
        second = materialize_lake(lake, instance, progress=lines.append, plans=stale)
        runs = instance.get_runs()
    assert [o.ok for o in first] == [True] and [o.ok for o in second] == [True]
    assert any("skip    m (footy_stats): unchanged" in line for line in lines), lines
    assert len(runs) == 1
