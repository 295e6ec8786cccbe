"""The lake the server tests read (materialised once for the session) and the API served over it."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from footy_assets.lake.store import Lake
from footy_assets_tests.helpers import SAMPLES, land_synthetic, materialized
from footy_assets_tests.server.running import AUTH, running

FOOTOVISION = SAMPLES / "cdf_events" / "footovision_h1"


@pytest.fixture(scope="session")
def lake(tmp_path_factory, truth) -> Lake:
    """syn: a synthetic footy_stats match (the filters' examples); fv1: the real CDF sample with event data and a
    match sheet; img: a footy_track match without pitch positions."""

    def land(lake: Lake) -> None:
        land_synthetic(lake, "footy_stats", "syn", truth)
        land_synthetic(lake, "footy_track", "img", truth, homography=False)
        target = Path(lake.uri) / "landing" / "cdf" / "fv1"
        shutil.copytree(FOOTOVISION, target)
        for f in target.iterdir():
            f.chmod(0o644)

    return materialized(tmp_path_factory.mktemp("served") / "lake", land)


@pytest.fixture(scope="session")
def base(lake) -> str:
    with running(lake) as url:
        yield url


@pytest.fixture(scope="session")
def client(base) -> httpx.Client:
    with httpx.Client(base_url=base, headers=AUTH, timeout=60) as c:
        yield c
