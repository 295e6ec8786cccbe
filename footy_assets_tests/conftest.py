"""Shared fixtures: small synthetic matches, temporary lakes and instances. The helpers live in
``footy_assets_tests.helpers``; the names below are kept for the modules that still import them from here."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from footy_assets.formats import synthetic
from footy_assets.lake.store import Lake
from footy_assets_tests.helpers import (
    SAMPLES,
    SHARED_DATA,
    SMALL,
    land_sample,
    land_synthetic,
    materialized,
    new_lake,
)

__all__ = ["SAMPLES", "SHARED_DATA", "SMALL", "land_sample", "land_synthetic"]


@pytest.fixture(scope="session")
def truth() -> pl.DataFrame:
    """The synthetic truth of ``SMALL``: two 40-second halves at 25 fps."""
    return synthetic.generate_truth(SMALL)


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    """An empty lake of the test's own, with its landing zone."""
    return new_lake(tmp_path / "lake")


@pytest.fixture(scope="session")
def skillcorner_lake(tmp_path_factory) -> Lake:
    """The real SkillCorner sample (cdf, 10 fps) materialised once for the session, for tests that only read it
    (a test that writes to it takes a copy: ``helpers.copy_lake``)."""
    return materialized(
        tmp_path_factory.mktemp("skillcorner") / "lake", lambda lake: land_sample(lake, "cdf", "skillcorner_1925299")
    )


@pytest.fixture(scope="session")
def two_published(tmp_path_factory, truth) -> Lake:
    """m1 (cdf) and m2 (footy_stats) of the synthetic truth, published, once for the session: never written to;
    tests that damage a lake copy it (``helpers.copy_lake``)."""

    def land(lake: Lake) -> None:
        land_synthetic(lake, "cdf", "m1", truth)
        land_synthetic(lake, "footy_stats", "m2", truth)

    return materialized(tmp_path_factory.mktemp("two_published") / "lake", land)


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
