"""Shared fixtures: the real vendor samples (samples/), small synthetic matches, temporary lakes."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from footy_assets.formats import synthetic
from footy_assets.lake.store import PROJECT_ROOT, Lake

SAMPLES = Path(__file__).resolve().parent / "samples"  # the real vendor samples (see samples/README.md)
SHARED_DATA = (PROJECT_ROOT.parent / "shared" / "data").resolve()
SMALL = synthetic.MatchSpec("syn", half_seconds=40.0, fps=25, seed=3)




@pytest.fixture(scope="session")
def truth() -> pl.DataFrame:
    return synthetic.generate_truth(SMALL)


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    root = tmp_path / "lake"
    (root / "landing").mkdir(parents=True)
    return Lake.from_env(str(root))


def land_sample(lake: Lake, fmt: str, name: str, as_name: str | None = None) -> Path:
    """Copy a real sample folder into the lake's landing zone."""
    target = Path(lake.uri) / "landing" / fmt / (as_name or name)
    shutil.copytree(SAMPLES / fmt / name, target)
    for f in target.iterdir():  # the copies must be editable by tests, whatever the samples' modes
        f.chmod(0o644)
    target.chmod(0o755)
    return target


def land_synthetic(lake: Lake, fmt: str, match_id: str, truth: pl.DataFrame, **kw) -> Path:
    spec = synthetic.MatchSpec(match_id, half_seconds=SMALL.half_seconds, fps=SMALL.fps)
    return synthetic.write_match(Path(lake.uri) / "landing", fmt, spec, truth=truth, **kw)


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst


@pytest.fixture(autouse=True)
def _no_stale_defs_state_storage():
    """Every Dagster instance sets a process-wide "current defs state storage" when it is created; one that
    is dropped without being closed (Dagster's own helpers make ephemeral ones) leaves it pointing at a dead
    instance, and the next Definitions built in the process fails ("undefined DagsterInstance weakref").
    Tests create many instances in one process, so each test starts from none. The CLI and the daemon hold
    one instance per process and never meet this."""
    from dagster._core.storage.defs_state.base import _current_storage

    _current_storage.set(None)
    yield
