"""Sensor, declarative automation, backfill schedule and asset checks, with a real Dagster instance."""

import json
import logging
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from footy_assets.chain import versions
from footy_assets.core import quality
from footy_assets.definitions import RESOURCES, all_assets, defs
from footy_assets.orchestration.automation.conditions import chain_condition
from footy_assets.orchestration.automation.schedule import backfill_requests, stale_backfill_schedule
from footy_assets.orchestration.automation.sensor import landing_sensor, scan_for_runs
from footy_assets.orchestration.resources import LakeResource
from footy_assets.orchestration.runner import materialize_lake
from footy_assets.orchestration.tags import WHOLE_CHAIN_TAG
from footy_assets_tests.helpers import BELOW_TRACKING, land_synthetic


def _tick(instance, lake, cursor=None):
    context = dg.build_sensor_context(instance=instance, cursor=cursor)
    return scan_for_runs(context, lake)


def _apply(instance, result):
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))


def test_sensor_new_unchanged_touched_changed_invalid(lake, instance, truth):
    land_synthetic(lake, "footy_stats", "m1", truth.head(3000))
    first = _tick(instance, lake)
    assert [(r.partition_key, r.run_key.split(":")[0]) for r in first.run_requests] == [("m1", "m1")]
    assert first.dynamic_partitions_requests[0].partition_keys == ["m1"]
    assert first.run_requests[0].tags["footy_assets/match"] == "m1"
    _apply(instance, first)

    again = _tick(instance, lake, first.cursor)  # nothing changed: nothing hashed, no run
    assert not again.run_requests and "0 hashed" in again.skip_reason.skip_message

    path = Path(lake.uri) / "landing" / "footy_stats" / "m1" / "tracking.parquet"
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))  # touched, same content
    touched = _tick(instance, lake, again.cursor)
    assert not touched.run_requests

    land_synthetic(lake, "footy_stats", "m1", truth.head(3000).with_columns(pl.col("x") + 1))  # re-delivery
    land_synthetic(lake, "footy_stats", "bad.name", truth.head(100))
    land_synthetic(lake, "cdf", "m2", truth.head(3000))
    land_synthetic(lake, "sportvu", "m2", truth.head(3000))  # ambiguous
    changed = _tick(instance, lake, touched.cursor)
    assert [r.partition_key for r in changed.run_requests] == ["m1"]
    assert changed.run_requests[0].run_key != first.run_requests[0].run_key
    assert set(json.loads(changed.cursor)) == {"m1"}  # refused folders never enter the cursor


@pytest.mark.slow
def test_sensor_skips_what_the_lake_already_holds(lake, instance, truth):
    land_synthetic(lake, "footy_stats", "m1", truth)
    materialize_lake(lake, instance, progress=lambda _: None)
    with dg.instance_for_test() as fresh:  # a fresh instance and an empty cursor
        result = _tick(fresh, lake)
        assert not result.run_requests
        assert result.dynamic_partitions_requests[0].partition_keys == ["m1"]


@pytest.mark.slow
def test_the_sensor_cursor_stays_small_whatever_the_season(lake, instance, truth, monkeypatch):
    """The cursor holds only what the lake does not record yet: a published match whose files are those the lake
    recorded is never in it, a delivery waiting for its run is one short entry, matches touched but unchanged are
    one digest together; and it has a bound."""
    from footy_assets.lake import landing
    from footy_assets.orchestration.automation import sensor

    for match_id in ("m1", "m2", "m3"):
        land_synthetic(lake, "footy_stats", match_id, truth.head(2000))
    materialize_lake(lake, instance, progress=lambda _: None)
    land_synthetic(lake, "cdf", "m4", truth.head(2000))  # waiting for its run
    hashed = []
    original = landing._sha256
    monkeypatch.setattr(landing, "_sha256", lambda lk, uri: hashed.append(uri) or original(lk, uri))
    first = _tick(instance, lake)
    assert [r.partition_key for r in first.run_requests] == ["m4"]
    assert set(json.loads(first.cursor)) == {"m4"} and len(first.cursor) < 50, first.cursor
    assert {Path(uri).parent.name for uri in hashed} == {"m4"}  # the published ones: nothing read

    for match_id in ("m1", "m2"):  # touched, same content: read once, then one digest for both
        folder = Path(lake.uri) / "landing" / "footy_stats" / match_id
        for path in folder.iterdir():
            os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    hashed.clear()
    touched = _tick(instance, lake, first.cursor)
    assert not touched.run_requests and {Path(uri).parent.name for uri in hashed} == {"m1", "m2"}
    assert len(json.loads(touched.cursor)) == 2 and len(touched.cursor) < 100, touched.cursor  # m4 and the digest
    hashed.clear()
    again = _tick(instance, lake, touched.cursor)
    assert not again.run_requests and hashed == [] and again.cursor == touched.cursor

    land_synthetic(lake, "footy_stats", "m3", truth.head(2000).with_columns(pl.col("x") + 1))  # a re-delivery
    changed = _tick(instance, lake, again.cursor)
    assert [r.partition_key for r in changed.run_requests] == ["m3"]

    monkeypatch.setattr(sensor, "MAX_WAITING", 1)  # the bound: more deliveries waiting than it keeps
    land_synthetic(lake, "cdf", "m5", truth.head(2000))
    bounded = _tick(instance, lake, changed.cursor)
    assert [r.partition_key for r in bounded.run_requests] == ["m5"]
    assert len([k for k in json.loads(bounded.cursor) if not k.startswith("*")]) == 1


def test_the_sensor_definition_runs_with_its_resource(lake, instance, truth):
    land_synthetic(lake, "cdf", "m9", truth.head(2000))
    context = dg.build_sensor_context(instance=instance, resources={"lake": LakeResource(lake_uri=lake.uri)})
    result = landing_sensor(context)
    assert [r.partition_key for r in result.run_requests] == ["m9"]


@pytest.mark.slow
def test_eager_automation_refreshes_downstream_of_a_new_delivery(lake, instance, truth):
    land_synthetic(lake, "footy_stats", "m1", truth)
    instance.add_dynamic_partitions("match_id", ["m1", "m2"])  # m2: registered, nothing delivered
    before = dg.evaluate_automation_conditions(defs=defs, instance=instance)  # the daemon's previous tick
    assert before.total_requested == 0
    resources = {**RESOURCES, "lake": LakeResource(lake_uri=lake.uri)}
    ingest = dg.materialize(
        all_assets,
        partition_key="m1",
        instance=instance,
        resources=resources,
        selection=dg.AssetSelection.assets("raw_feed", "tracking"),
    )
    assert ingest.success
    result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=before.cursor)
    requested = {
        key.to_user_string(): set(result.get_requested_partitions(key))
        for key in defs.resolve_asset_graph().get_all_asset_keys()
    }
    downstream = set(BELOW_TRACKING)
    # the whole chain below the new delivery, for that match only, in one evaluation
    assert {k: v for k, v in requested.items() if v} == {k: {"m1"} for k in downstream}


QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
WAIT_S = 300  # how long a paused run or tick waits for the other before the test fails (never reached when it passes)


def _job_run(instance, lake, request: dg.RunRequest) -> dg.ExecuteInProcessResult:
    """The run of match_job the daemon launches for ``request``, in this process."""
    return defs.resolve_job_def("match_job").execute_in_process(
        partition_key=request.partition_key,
        tags=request.tags,
        instance=instance,
        run_config=QUIET,
        resources={"lake": LakeResource(lake_uri=lake.uri)},
        raise_on_error=False,
    )


def _wait_letting_go_of_logging(event: threading.Event, what: str) -> None:
    """Wait for ``event`` without the logging handlers' locks this thread holds: Dagster stores a run's events
    from inside the run's logging handlers, and another run's start takes every handler's lock (its logging
    configuration), so a run waiting with them would hold up every run started after it."""
    held, frame = [], sys._getframe(1)
    while frame is not None:
        if frame.f_code is logging.Handler.handle.__code__:
            held.append(frame.f_locals["self"])
        frame = frame.f_back
    for handler in held:
        handler.release()
    try:
        if not event.wait(WAIT_S):
            raise AssertionError(f"waited {WAIT_S} s for {what}")
    finally:
        for handler in reversed(held):
            handler.acquire()


def _requested(result) -> dict[str, set[str]]:
    keys = defs.resolve_asset_graph().get_all_asset_keys()
    return {
        key.to_user_string(): set(result.get_requested_partitions(key))
        for key in keys
        if result.get_requested_partitions(key)
    }


@pytest.mark.slow
def test_no_second_run_after_a_backfill(lake, instance, truth, monkeypatch):
    """A backfill's runs of match_job for m1 and m2 side by side, and an automation tick overlapping them as the
    daemon's ticks do: the tick fetches the asset records when both runs have written frame_state (m2's last),
    and both write intervals before the tick asks whether intervals is still in progress. Nothing is requested:
    each run writes every asset of its match itself. A tracking re-materialised alone afterwards still refreshes
    everything below it, for that match only."""
    # Dagster's evaluator: its fetch of the asset records starts a tick
    from dagster._core.definitions.declarative_automation.automation_condition_evaluator import (
        AutomationConditionEvaluator,
    )

    for match_id in ("m0", "m1", "m2"):
        land_synthetic(lake, "footy_stats", match_id, truth)
    requests, missing = backfill_requests(lake, instance)  # what the nightly schedule requests
    instance.add_dynamic_partitions("match_id", missing)
    request = {r.partition_key: r for r in requests}
    assert _job_run(instance, lake, request["m0"]).success  # an earlier night: the instance has events
    previous = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    assert _requested(previous) == {}

    wrote = {(m, a): threading.Event() for m in ("m1", "m2") for a in ("frame_state", "intervals")}
    tick_fetched = threading.Event()
    store_event = instance.event_log_storage.store_event

    def store_and_pause(event):  # each run waits after frame_state until the tick has fetched the asset records
        store_event(event)
        written = event.dagster_event
        if written is not None and written.is_step_materialization:
            reached = wrote.get((written.partition, written.asset_key.to_user_string()))
            if reached is not None:
                reached.set()
                if written.asset_key == dg.AssetKey("frame_state"):
                    _wait_letting_go_of_logging(tick_fetched, "the tick")

    fetch = AutomationConditionEvaluator.prefetch

    def fetch_then_let_the_runs_go_on(self):
        fetch(self)
        tick_fetched.set()
        for match_id in ("m1", "m2"):
            if not wrote[match_id, "intervals"].wait(WAIT_S):
                raise AssertionError(f"{match_id}'s run did not write intervals")

    monkeypatch.setattr(instance.event_log_storage, "store_event", store_and_pause)
    with ThreadPoolExecutor(2) as pool:
        try:
            runs = []
            for match_id in ("m1", "m2"):  # m2's run starts once m1's waits: m2 writes frame_state last
                runs.append(pool.submit(_job_run, instance, lake, request[match_id]))
                assert wrote[match_id, "frame_state"].wait(WAIT_S)
            monkeypatch.setattr(AutomationConditionEvaluator, "prefetch", fetch_then_let_the_runs_go_on)
            racing = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=previous.cursor)
            monkeypatch.setattr(AutomationConditionEvaluator, "prefetch", fetch)
            assert all(run.result(WAIT_S).success for run in runs)
        finally:
            tick_fetched.set()  # a failure above does not leave a run waiting
    monkeypatch.setattr(instance.event_log_storage, "store_event", store_event)
    assert _requested(racing) == {}  # was {"intervals": {"m1", "m2"}}: second runs rewriting intervals alone
    after = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=racing.cursor)
    assert _requested(after) == {}

    resources = {**RESOURCES, "lake": LakeResource(lake_uri=lake.uri)}
    assert dg.materialize(
        all_assets,
        partition_key="m1",
        instance=instance,
        resources=resources,
        run_config=QUIET,
        selection=dg.AssetSelection.assets("raw_feed", "tracking"),
    ).success
    refresh = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=after.cursor)
    assert _requested(refresh) == {k: {"m1"} for k in BELOW_TRACKING}


def test_the_chain_is_automated_and_every_match_job_run_is_a_whole_chain_run():
    job = defs.resolve_job_def("match_job")
    assert job.run_tags[WHOLE_CHAIN_TAG] and job.tags[WHOLE_CHAIN_TAG]  # sensor and schedule runs; job backfills
    graph = defs.resolve_asset_graph()
    automated = {
        key.to_user_string()
        for key in graph.get_all_asset_keys()
        if graph.get(key).automation_condition == chain_condition()
    }
    unautomated = {
        key.to_user_string() for key in graph.get_all_asset_keys() if graph.get(key).automation_condition is None
    }
    assert unautomated == {"raw_feed", "tracking", "vendor_exports"}  # landed by the sensor; exports by hand
    assert automated == {key.to_user_string() for key in graph.get_all_asset_keys()} - unautomated


@pytest.mark.slow
def test_backfill_selects_missing_and_stale_matches(lake, instance, truth, monkeypatch):
    land_synthetic(lake, "footy_stats", "m1", truth)
    land_synthetic(lake, "sportvu", "m2", truth)
    materialize_lake(lake, instance, match_ids=["m1"], progress=lambda _: None)
    requests, missing = backfill_requests(lake, instance)
    assert [(r.partition_key, r.tags["footy_assets/status"]) for r in requests] == [("m2", "new")]
    assert missing == ["m2"]
    monkeypatch.setitem(versions.CODE_VERSIONS, "frame_state", "1+sg11.3")  # a new smoother
    requests, _ = backfill_requests(lake, instance)
    assert sorted((r.partition_key, r.tags["footy_assets/status"]) for r in requests) == [
        ("m1", "stale"),
        ("m2", "new"),
    ]
    from datetime import datetime

    context = dg.build_schedule_context(
        instance=instance,
        resources={"lake": LakeResource(lake_uri=lake.uri)},
        scheduled_execution_time=datetime(2026, 11, 24, 3, tzinfo=UTC),
    )
    run_requests = list(stale_backfill_schedule(context))
    assert sorted(r.partition_key for r in run_requests) == ["m1", "m2"]
    assert "m2" in instance.get_dynamic_partitions("match_id")


def test_assets_declare_one_match_per_backfill_run():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        policy = graph.get(key).backfill_policy
        assert policy is not None and policy.max_partitions_per_run == 1, key


# -- checks --------------------------------------------------------------------------------------------
def _frame(**columns):
    return pl.DataFrame(columns)


def test_check_functions_fail_on_crafted_data():
    tracking = _frame(
        frame_id=[1, 1, 2, 3],
        period=[1, 1, 1, 1],
        role=["player", "player", "ball", "referee"],
        team=[0, 0, None, None],
        jersey=[4, 4, None, None],
        player_id=["0-4", "0-4", None, None],
        track_id=[None] * 4,
        x_m=[0.0, 0.0, 0.0, 70.0],
        y_m=[0.0] * 4,
    )
    passed, meta = quality.no_duplicate_player_frames(tracking)
    assert not passed and meta["duplicated_player_frames"] == 1
    passed, meta = quality.positions_on_pitch(tracking, 105, 68)
    assert not passed and meta["rows_off_pitch"] == 1 and meta["examples"][0]["role"] == "referee"
    passed, meta = quality.ball_tracked(tracking)
    assert not passed and meta["first_frames_without_ball"] == [1, 3]
    state = _frame(frame_id=[1, 2, 3], player_id=["0-4"] * 3, speed_mps=[5.0, 13.5, 12.5])
    passed, meta = quality.speeds_plausible(state)
    assert not passed and meta["frames_above_limit"] == 2 and meta["worst_frames"][0]["speed_mps"] == 13.5
    assert quality.frame_state_covers_tracking(1, tracking) == (
        False,
        {"frame_state_rows": 1, "tracking_player_rows": 2},
    )


@pytest.mark.slow
def test_blocking_check_stops_downstream(lake, instance, truth):
    # a player far off the pitch: the blocking check fails before tracking is written (write-audit-publish)
    bad = truth.with_columns(
        x=pl.when((pl.col("track") == "h05") & (pl.col("frame") == 100)).then(pl.lit(80.0)).otherwise(pl.col("x"))
    )
    land_synthetic(lake, "cdf", "m1", bad)
    outcomes = materialize_lake(lake, instance, progress=lambda _: None)
    assert not outcomes[0].ok and "positions_on_pitch" in outcomes[0].error
    check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey("tracking"), "positions_on_pitch")]
    )
    evaluation = next(iter(check.values())).event.dagster_event.event_specific_data
    assert evaluation.passed is False and evaluation.partition == "m1"
    assert lake.open_table("tracking") is None  # audited before the first commit: nothing written
    assert lake.open_table("frame_state") is None
    assert lake.open_table("matches") is None  # the match is not recorded as done


@pytest.mark.slow
def test_passing_checks_are_recorded_per_partition(lake, instance, truth):
    land_synthetic(lake, "footy_stats", "m1", truth)
    assert all(o.ok for o in materialize_lake(lake, instance, progress=lambda _: None))
    keys = [
        dg.AssetCheckKey(dg.AssetKey("tracking"), n)
        for n in ("no_duplicate_player_frames", "positions_on_pitch", "ball_tracked")
    ] + [dg.AssetCheckKey(dg.AssetKey("frame_state"), n) for n in ("speeds_plausible", "covers_tracking")]
    records = instance.event_log_storage.get_latest_asset_check_execution_by_key(keys)
    results = {k.name: r.event.dagster_event.event_specific_data for k, r in records.items()}
    assert results["no_duplicate_player_frames"].passed and results["covers_tracking"].passed
    assert results["ball_tracked"].passed is True  # occluded for 10 frames: normal, reported in the metadata
    assert results["ball_tracked"].metadata["frames_without_ball"].value == 10
    assert results["ball_tracked"].severity == dg.AssetCheckSeverity.WARN


def test_the_nightly_backfill_rehashes_tonights_share_and_finds_a_hidden_change(lake, instance, monkeypatch):
    """A same-size change with its old modification time restored: the schedule misses it on nights the match
    is not verified, and requests a run on the night it is (its files hashed again)."""
    from datetime import datetime, timedelta

    from footy_assets.chain.planning import verified_on
    from footy_assets_tests.chain.test_planning import _same_size_change_with_old_time, _season

    monkeypatch.setenv("FOOTY_VERIFY_EVERY_DAYS", "7")
    _season(lake, 14)
    _same_size_change_with_old_time(Path(lake.uri) / "landing" / "cdf" / "m0005" / "meta.json")
    nights = [datetime(2026, 11, 23, 3) + timedelta(days=d) for d in range(7)]
    verifying = [night for night in nights if verified_on(night.date())("m0005")]
    assert len(verifying) == 1
    for night in nights:
        requests, _ = backfill_requests(lake, instance, night)
        wanted = [(r.partition_key, r.tags["footy_assets/status"]) for r in requests]
        assert wanted == ([("m0005", "changed")] if night in verifying else []), night
    monkeypatch.setenv("FOOTY_VERIFY_EVERY_DAYS", "0")  # verification off: never seen
    assert backfill_requests(lake, instance, verifying[0])[0] == []
