"""``footy_assets.long_lived_setup``: what a process keeps to its end is made with the cyclic garbage collector
paused, then frozen out of its passes; the collector runs again afterwards, as it was."""

from __future__ import annotations

import gc

import pytest

from footy_assets import long_lived_setup


@pytest.fixture(autouse=True)
def _collector_as_found():
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if enabled:
        gc.enable()


def test_what_is_made_inside_is_frozen_and_the_collector_runs_again():
    frozen = gc.get_freeze_count()
    with long_lived_setup():
        assert not gc.isenabled()
        kept = [[] for _ in range(1_000)]  # lists: objects the collector tracks
    assert gc.isenabled()
    assert gc.get_freeze_count() >= frozen + len(kept)


def test_a_collector_paused_before_stays_paused():
    gc.disable()
    with long_lived_setup():
        pass
    assert not gc.isenabled()


def test_an_error_inside_still_lets_the_collector_run_again():
    with pytest.raises(RuntimeError), long_lived_setup():
        raise RuntimeError("the instance could not be opened")
    assert gc.isenabled() and gc.get_freeze_count() > 0
