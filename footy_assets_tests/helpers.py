"""What the test modules share: the real samples, small synthetic matches landed in a lake, a lake materialised
once and copied per test, and ``footy-assets`` run in a process of its own. Imported by absolute name
(``from footy_assets_tests.helpers import ...``) so a test module reads the same wherever it sits."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import polars as pl

from footy_assets.formats import synthetic
from footy_assets.lake.store import PROJECT_ROOT, Lake

SAMPLES = Path(__file__).resolve().parent / "samples"  # the real vendor samples (see samples/README.md)
SHARED_DATA = (PROJECT_ROOT.parent / "shared" / "data").resolve()
SMALL = synthetic.MatchSpec("syn", half_seconds=40.0, fps=25, seed=3)
# The assets a match's run writes below tracking, in flow order (written out, not read from the definitions: the
# tests check the definitions against it)
BELOW_TRACKING = (
    "frame_state",
    "ball_state",
    "intervals",
    "match_quality",
    "events",
    "lineups",
    "player_period_summary",
    "player_match_summary",
    "team_match_summary",
    "matches",
)
ASSETS = frozenset({"raw_feed", "tracking", *BELOW_TRACKING, "vendor_exports"})  # every asset of the definitions
CLI = [sys.executable, "-m", "footy_assets.cli"]  # the command line in a fresh process, as a person runs it


def land_sample(lake: Lake, fmt: str, name: str, as_name: str | None = None) -> Path:
    """Copy a real sample folder into the lake's landing zone."""
    target = Path(lake.uri) / "landing" / fmt / (as_name or name)
    shutil.copytree(SAMPLES / fmt / name, target)
    for f in target.iterdir():  # the copies must be editable by tests, whatever the samples' modes
        f.chmod(0o644)
    target.chmod(0o755)
    return target


def land_synthetic(lake: Lake, fmt: str, match_id: str, truth: pl.DataFrame, **kw) -> Path:
    """Write the synthetic ``truth`` (of ``SMALL``'s length and rate) as a ``fmt`` delivery of ``match_id``."""
    spec = synthetic.MatchSpec(match_id, half_seconds=SMALL.half_seconds, fps=SMALL.fps)
    return synthetic.write_match(Path(lake.uri) / "landing", fmt, spec, truth=truth, **kw)


def read_landed(lake: Lake, match_id: str):
    """The landed delivery of ``match_id`` read as the chain reads it: a ``ReadResult`` (tracking, info, checks)."""
    from footy_assets.lake.delivery import read_match
    from footy_assets.lake.landing import find_match

    return read_match(lake, find_match(lake, match_id))


def read_sample(lake: Lake, fmt: str, name: str):
    """Land the real sample ``fmt/name`` and read it as the chain does."""
    land_sample(lake, fmt, name)
    return read_landed(lake, name)


def quiet(_line: str) -> None:
    """A progress sink that prints nothing."""


def new_lake(root: Path) -> Lake:
    """An empty lake at ``root`` with its landing zone."""
    (root / "landing").mkdir(parents=True, exist_ok=True)
    return Lake.from_env(str(root))


def materialized(root: Path, land: Callable[[Lake], object]) -> Lake:
    """A lake at ``root``: ``land(lake)`` lands its deliveries, the whole chain materialises them on a throwaway
    instance, every match published. For module-scoped fixtures whose tests read the lake or copy it."""
    import dagster as dg

    from footy_assets.orchestration.runner import materialize_lake

    lake = new_lake(root)
    land(lake)
    with dg.instance_for_test() as instance:
        outcomes = materialize_lake(lake, instance, progress=quiet)
    assert outcomes and all(o.ok for o in outcomes), [o.error for o in outcomes]
    return lake


def copy_lake(template: Lake, root: Path) -> Lake:
    """A copy of ``template`` (a local lake) at ``root`` (created, or empty but for an empty landing zone), files
    with their modification times so the landed deliveries read as unchanged: a test that damages or re-delivers
    starts from a materialised lake without materialising it again."""
    shutil.copytree(template.uri, root, symlinks=True, dirs_exist_ok=True)
    return Lake.from_env(str(root))


def cli_env(home: Path | None, **env: str) -> dict[str, str]:
    """The environment of a CLI process: ours, with its own Dagster instance at ``home`` (when given) and ``env``."""
    return {**os.environ, **({"DAGSTER_HOME": str(home)} if home is not None else {}), **env}


def run_cli(
    *args: str,
    lake: Lake | None = None,
    home: Path | None = None,
    env: dict | None = None,
    timeout: float = 600,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess:
    """``footy-assets ARGS [--lake LAKE]`` in a fresh process with its instance at ``home`` (else the one
    DAGSTER_HOME names); ``timeout`` (s) only turns a hang into a failure."""
    lake_args = ["--lake", lake.uri] if lake is not None else []
    return subprocess.run(
        [*CLI, *args, *lake_args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=cli_env(home, **(env or {})),
        cwd=cwd,
    )


def one_line_error(done: subprocess.CompletedProcess, *words: str, code: int | None = None) -> str:
    """The command failed (with exit status ``code`` when given) with exactly one line on stderr naming every one
    of ``words`` and no traceback; the line."""
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode != 0 if code is None else done.returncode == code, (
        done.returncode,
        done.stdout,
        done.stderr,
    )
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr and "clone3" not in done.stderr, done.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]
