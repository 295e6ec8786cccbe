"""Reading the first match ahead while Dagster starts (readers/prefetch.py): the rows read ahead are the ones
taken, only for the very delivery they were read from, with the same error when the read failed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from footy_assets.landing import find_match
from footy_assets.readers import FeedError, prefetch, read_ahead, read_match

from .conftest import land_synthetic


@pytest.fixture(autouse=True)
def _nothing_pending():
    prefetch.discard()
    yield
    prefetch.discard()


def test_the_read_ahead_is_taken_once(lake, truth):
    land_synthetic(lake, "footy_stats", "m", truth.head(3000))
    landed = find_match(lake, "m")
    read_ahead(lake, landed)
    ahead = prefetch._pending[prefetch._key(lake, landed)].result(timeout=60)
    assert read_match(lake, landed) is ahead  # taken, not read again
    again = read_match(lake, landed)  # nothing pending any more: read afresh, same rows
    assert again is not ahead and again.tracking.equals(ahead.tracking)


def test_a_delivery_changed_since_is_read_afresh(lake, truth):
    folder = land_synthetic(lake, "footy_stats", "m", truth.head(3000))
    before = find_match(lake, "m")
    read_ahead(lake, before)
    stale = prefetch._pending[prefetch._key(lake, before)].result(timeout=60)
    land_synthetic(lake, "footy_stats", "m", truth.head(2000))  # a re-delivery, fewer rows
    after = find_match(lake, "m")
    assert after.fingerprint != before.fingerprint and folder.exists()
    fresh = read_match(lake, after)
    assert fresh is not stale and fresh.tracking.height < stale.tracking.height

def test_a_failed_read_ahead_fails_the_same_way_when_taken(lake, truth):
    folder = land_synthetic(lake, "footy_stats", "m", truth.head(3000))
    (folder / "tracking.parquet").write_bytes(b"PAR1 not really parquet")
    landed = find_match(lake, "m")
    read_ahead(lake, landed)
    with pytest.raises(FeedError) as ahead:
        read_match(lake, landed)
    with pytest.raises(FeedError) as direct:
        read_match(lake, landed)
    assert str(ahead.value) == str(direct.value) and "tracking.parquet" in str(ahead.value)


def test_discard_drops_what_was_read_ahead(lake, truth):
    land_synthetic(lake, "footy_stats", "m", truth.head(3000))
    landed = find_match(lake, "m")
    read_ahead(lake, landed)
    prefetch.discard()
    assert prefetch.take(lake, landed) is None


def test_planning_and_reading_do_not_import_dagster():
    """What the CLI does before Dagster is imported must not import it (else nothing overlaps)."""
    code = ("import sys; import footy_assets.cli, footy_assets.planning, footy_assets.readers; "
            "print('dagster' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "False"
