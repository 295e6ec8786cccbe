"""Auditing the first match ahead while Dagster starts (audit.py, prefetch.py): the audit done ahead is the one
taken, only for the very delivery it was done on, with the same error when it failed."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from deltalake import DeltaTable

from footy_assets.chain import prefetch
from footy_assets.chain.audit import audit_ahead, audit_delivery, audited
from footy_assets.chain.checks import Outcome
from footy_assets.formats import FeedError
from footy_assets.lake.landing import find_match
from footy_assets_tests.helpers import land_synthetic


@pytest.fixture(autouse=True)
def _nothing_pending():
    prefetch.discard()
    yield
    prefetch.discard()


def test_the_audit_ahead_is_taken_once(lake, truth):
    land_synthetic(lake, "footy_stats", "m", truth.head(3000))
    landed = find_match(lake, "m")
    audit_ahead(lake, landed)
    ahead = prefetch._pending.peek(prefetch._key(lake, landed)).result(timeout=60)
    assert audited(lake, landed) is ahead  # taken, not done again
    again = audited(lake, landed)  # nothing pending any more: done afresh, same rows and findings
    assert again is not ahead and again.tracking.equals(ahead.tracking) and again.checks == ahead.checks
    assert [name for name, _, _ in ahead.checks] == ["no_duplicate_player_frames", "positions_on_pitch", "ball_tracked"]
    assert all(passed for _, passed, _ in ahead.checks)


def test_a_delivery_changed_since_is_audited_afresh(lake, truth):
    folder = land_synthetic(lake, "footy_stats", "m", truth.head(3000))
    before = find_match(lake, "m")
    audit_ahead(lake, before)
    stale = prefetch._pending.peek(prefetch._key(lake, before)).result(timeout=60)
    land_synthetic(lake, "footy_stats", "m", truth.head(2000))  # a re-delivery, fewer rows
    after = find_match(lake, "m")
    assert after.fingerprint != before.fingerprint and folder.exists()
    fresh = audited(lake, after)
    assert fresh is not stale and fresh.tracking.height < stale.tracking.height


def test_a_failed_audit_ahead_fails_the_same_way_when_taken(lake, truth):
    folder = land_synthetic(lake, "footy_stats", "m", truth.head(3000))
    (folder / "tracking.parquet").write_bytes(b"PAR1 not really parquet")
    landed = find_match(lake, "m")
    audit_ahead(lake, landed)
    with pytest.raises(FeedError) as ahead:
        audited(lake, landed)
    with pytest.raises(FeedError) as direct:
        audit_delivery(lake, landed)
    assert str(ahead.value) == str(direct.value) and "tracking.parquet" in str(ahead.value)


def test_a_failed_work_ahead_lets_go_of_its_rows_when_the_process_has_frozen_its_objects(lake, truth):
    """The command line freezes its objects while the work ahead runs (``long_lived_setup``): the failed work's
    exception, traceback and thread would hold each other, and the rows in its frames with them, to the end."""
    import gc
    import weakref

    from footy_assets import long_lived_setup

    class Rows:  # what a reader holds when a late line fails (a weak reference tells whether it is freed)
        pass

    land_synthetic(lake, "footy_stats", "m", truth.head(300))
    landed = find_match(lake, "m")
    held, started, fail = [], threading.Event(), threading.Event()

    def read_then_fail(lake, landed):
        rows = Rows()
        held.append(weakref.ref(rows))
        started.set()
        fail.wait(30)
        raise FeedError("tracking.parquet", "a bad value on the last line")

    try:
        with long_lived_setup():
            prefetch.start(lake, landed, read_then_fail)
            assert started.wait(30)
        fail.set()  # it fails after the objects were frozen, as a full match's read does
        with pytest.raises(FeedError, match="last line"):
            prefetch.take(lake, landed).result(timeout=30)
        gc.collect()
        assert held[0]() is None
    finally:
        gc.unfreeze()


def test_discard_drops_what_was_done_ahead(lake, truth):
    land_synthetic(lake, "footy_stats", "m", truth.head(3000))
    landed = find_match(lake, "m")
    audit_ahead(lake, landed)
    ahead = prefetch._pending.peek(prefetch._key(lake, landed)).result(timeout=60)
    staged = Path(lake.uri, "tracking", ahead.staged.written.relative)
    assert staged.exists() and ahead.stage_seconds is not None  # tracking's rows written ahead, uncommitted
    assert DeltaTable(f"{lake.uri}/tracking").file_uris() == []  # in no version: no reader sees them
    prefetch.discard()
    assert prefetch.take(lake, landed) is None
    assert not staged.exists()  # not taken: the file written ahead goes with it


def test_a_refused_delivery_is_not_written_ahead(lake, truth, monkeypatch):
    from footy_assets.chain import audit

    land_synthetic(lake, "footy_stats", "m", truth.head(3000))
    landed = find_match(lake, "m")
    found = audit_delivery(lake, landed)
    # a blocking check failed (the readers refuse most such feeds themselves): the same audit, refused
    found.checks = [Outcome("no_duplicate_player_frames", False, {"duplicates": 1}), *found.checks[1:]]
    monkeypatch.setattr(audit, "audit_delivery", lambda lake_, landed_: found)
    ahead = audit.audit_and_stage(lake, landed)
    assert ahead.refused and ahead.staged is None
    assert not list(Path(lake.uri).glob("tracking/**/*.parquet"))


def test_planning_and_auditing_do_not_import_dagster():
    """What the CLI does before Dagster is imported must not import it (else nothing overlaps)."""
    code = (
        "import sys; import footy_assets.cli, footy_assets.chain.planning, footy_assets.chain.audit; "
        "print('dagster' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.stdout.strip() == "False"


@pytest.mark.slow
def test_a_delivery_withdrawn_while_dagster_starts_fails_that_match_only(lake, truth, tmp_path, monkeypatch, capsys):
    """The CLI audits the first match ahead; if its folder is removed before the run, the run fails with the
    landing error (not with the audit done ahead), the other match is materialised, and nothing stays held."""
    import shutil

    from footy_assets import cli
    from footy_assets.chain import audit

    gone = land_synthetic(lake, "footy_stats", "a_gone", truth.head(3000))
    land_synthetic(lake, "footy_stats", "b_kept", truth.head(3000))
    started = audit.audit_ahead

    def then_withdraw(lake_, landed):
        started(lake_, landed)
        prefetch._pending.peek(prefetch._key(lake_, landed)).result(timeout=60)  # the audit is done ahead
        shutil.rmtree(gone)

    monkeypatch.setattr(audit, "audit_ahead", then_withdraw)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    assert cli.main(["materialize", "--lake", lake.uri, "--workers", "1"]) == 1
    out = capsys.readouterr().out
    assert "FAILED  a_gone" in out and "not landed" in out
    assert "ok      b_kept" in out
    assert not prefetch._pending
    # the tracking rows written ahead for the withdrawn match are removed; the other match's file is committed
    assert not list(Path(lake.uri).glob("tracking/match_id=a_gone/**/*.parquet"))
    committed = {Path(uri).name for uri in DeltaTable(f"{lake.uri}/tracking").file_uris()}
    assert {p.name for p in Path(lake.uri).glob("tracking/**/*.parquet")} == committed


@pytest.mark.slow
def test_the_file_written_ahead_goes_when_the_match_is_skipped_at_its_lock(lake, truth):
    """Another process published the match between this one's plan and its lock: the match is skipped, and the
    tracking rows this one wrote ahead for it are removed (no other match's run comes after to discard them)."""
    import dagster as dg

    from footy_assets.chain.planning import plan_matches
    from footy_assets.orchestration.runner import materialize_lake
    from footy_assets_tests.helpers import quiet

    land_synthetic(lake, "footy_stats", "m", truth.head(3000))
    planned = plan_matches(lake)
    with dg.instance_for_test() as instance:
        materialize_lake(lake, instance, progress=quiet, plans=planned)  # the other process
        committed = {Path(uri).name for uri in DeltaTable(f"{lake.uri}/tracking").file_uris()}
        audit_ahead(lake, planned[0].landed)  # this one: planned before, reads ahead while Dagster starts
        ahead = prefetch._pending.peek(prefetch._key(lake, planned[0].landed))
        lines: list[str] = []
        materialize_lake(lake, instance, progress=lines.append, plans=planned)
    assert any("skip    m (footy_stats): unchanged" in line for line in lines), lines
    ahead.result(timeout=60)
    for thread in threading.enumerate():  # its release runs on the thread once the result is set
        if thread.name == "ahead-m":
            thread.join(timeout=60)
    assert not prefetch._pending
    assert {p.name for p in Path(lake.uri).glob("tracking/**/*.parquet")} == committed
