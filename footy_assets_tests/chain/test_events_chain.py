"""Event data in the lake: landed in a CDF match folder or in landing/events/<match_id>/, part of the match's
delivery (its fingerprint, whole or nothing), synchronised with the tracking and published by matches as the
``events`` and ``lineups`` tables; the ``event_frames`` view joins them to frame_state and ball_state."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from footy_assets.chain.planning import plan_matches
from footy_assets.core.metrics.intervals import FilterError
from footy_assets.lake.filter import filter_intervals
from footy_assets.lake.landing import find_match, scan_landing
from footy_assets.lake.publish import published_fingerprint
from footy_assets.lake.sql import run_sql
from footy_assets.lake.store import Lake
from footy_assets.orchestration.runner import materialize_lake
from footy_assets_tests.helpers import SAMPLES, land_synthetic

pytestmark = pytest.mark.slow  # every test materialises

FOOTOVISION = SAMPLES / "cdf_events" / "footovision_h1"


def _quiet(line: str) -> None:
    pass


def _land(folder: Path, target: Path, names: tuple[str, ...] | None = None) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for f in folder.iterdir():
        if names is None or f.name in names:
            shutil.copyfile(f, target / f.name)
    return target


def _run(lake: Lake, instance) -> list:
    return materialize_lake(lake, instance, progress=_quiet)


def _count(lake: Lake, table: str, match_id: str) -> int:
    return run_sql(lake, f"SELECT count(*) FROM {table} WHERE match_id = '{match_id}'").item()


@pytest.fixture
def footovision(lake: Lake, instance) -> Lake:
    """footovision_h1 (tracking, meta, events, match sheet) landed as one CDF match folder and materialised."""
    _land(FOOTOVISION, Path(lake.uri) / "landing" / "cdf" / "fv1")
    outcomes = _run(lake, instance)
    assert [o.ok for o in outcomes] == [True], [o.error for o in outcomes]
    return lake


def test_a_cdf_folder_with_events_publishes_synced_events_and_the_lineup(footovision, instance):
    lake = footovision
    assert _count(lake, "events", "fv1") == 203
    roles = dict(run_sql(lake, "SELECT role, count(*) FROM lineups GROUP BY role").iter_rows())
    assert roles == {"player": 31, "main_referee": 1}
    status = dict(run_sql(lake, "SELECT sync_status, count(*) FROM events GROUP BY 1").iter_rows())
    # 34 ball events (passes, carries, recoveries); the two recoveries of vendor person 0 have no actor on the sheet
    assert status == {"synced": 32, "unmatched: no identified actor": 2, "unmatched: not a ball event": 169}
    kick_off = run_sql(
        lake, "SELECT frame_id, offset_ms, player_id, ball_x_m, ball_y_m FROM events WHERE event_id = '6742527193'"
    ).row(0, named=True)
    assert kick_off["frame_id"] == 0 and kick_off["offset_ms"] == 0 and kick_off["player_id"] == "1-8"
    assert abs(kick_off["ball_x_m"]) < 0.5 and abs(kick_off["ball_y_m"]) < 0.5
    # the event_frames view: the passer's frame_state row at the pass's frame (at the ball) and the receiver's
    passes = run_sql(
        lake,
        "SELECT actor_speed_mps, actor_ball_dist_m, receiver_id, receiver_nearest_opp_dist_m "
        "FROM event_frames WHERE type = 'pass' AND sync_status = 'synced'",
    )
    assert passes.height == 21
    assert passes["actor_speed_mps"].null_count() == 0 and passes["actor_ball_dist_m"].median() < 2.0
    received = passes.filter(pl.col("receiver_id").is_not_null())
    assert received.height > 5 and received["receiver_nearest_opp_dist_m"].null_count() == 0
    # the summaries name the players of the lineup
    names = dict(run_sql(lake, "SELECT player_id, player_name FROM player_match_summary").iter_rows())
    assert len(names) == 22 and names["0-1"] == "BART VERBRUGGEN" and None not in names.values()
    # the same delivery again: nothing to do
    assert [p.status for p in plan_matches(lake)] == ["unchanged"]


def test_the_interval_filter_takes_windows_around_events(footovision):
    # the pressing player's runs at 5.5 m/s or more in the 5 s before each of his presses (at 59.6 s and 63.08 s)
    press = {"type": "event", "event_types": ["defending"], "sub_types": ["pressing"], "before_ms": 5000}
    runs = {"type": "frame_state", "players": ["0-25"], "column": "speed_mps", "gte": 5.5}
    found = filter_intervals("fv1", {"filters": [runs, {**press, "actor": True}]}, footovision)
    assert [(r["player_id"], r["start"], r["end"]) for r in found] == [("0-25", 57.04, 60.32), ("0-25", 62.96, 63.12)]
    # without the window the second run goes on to 66.52 s: the window (to the last press's frame) clips it
    alone = filter_intervals("fv1", {"filters": [runs]}, footovision)
    assert [(r["start"], r["end"]) for r in alone] == [(57.04, 60.32), (62.96, 66.52)]
    # every press, as windows of the match (OR): 12 presses, overlapping windows merged
    windows = filter_intervals("fv1", {"operator": "OR", "filters": [press]}, footovision)
    assert windows and all(r["type"] == "event" and r["player_id"] is None for r in windows)
    assert all(a["end"] < b["start"] for a, b in itertools.pairwise(windows))
    # types the match lacks answer nothing; a malformed window is named
    assert filter_intervals("fv1", {"filters": [runs, {**press, "event_types": ["shot"]}]}, footovision) == []
    with pytest.raises(FilterError, match=r"filters\[1\]: before_ms must be a number of ms from 0"):
        filter_intervals("fv1", {"filters": [runs, {**press, "before_ms": -5}]}, footovision)


def test_a_bad_events_line_refuses_the_delivery_and_the_published_events_stay(footovision, instance):
    lake = footovision
    before = published_fingerprint(lake, "fv1")
    path = Path(lake.uri) / "landing" / "cdf" / "fv1" / "events.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    lines[4] = '{"match": {"id": "28116"}, "event": {"id": 5}}\n'
    path.write_text("".join(lines))
    outcomes = _run(lake, instance)
    assert not outcomes[0].ok
    assert "landing/cdf/fv1/events.jsonl, line 5" in outcomes[0].error
    assert published_fingerprint(lake, "fv1") == before
    assert _count(lake, "events", "fv1") == 203 and _count(lake, "lineups", "fv1") == 32


def test_events_on_their_own_join_a_match_of_another_format(lake, instance, truth):
    """landing/events/<match_id>/ beside a footy_stats match: read with the match's clock from its tracking,
    synchronised, published; a changed events file is a new delivery of the whole match."""
    land_synthetic(lake, "footy_stats", "syn1", truth)
    events_dir = Path(lake.uri) / "landing" / "events" / "syn1"
    # no tracking-format folder of this match yet: the events wait, they are not refused
    _land(FOOTOVISION, Path(lake.uri) / "landing" / "events" / "later", ("events.jsonl", "match.json"))
    scan = scan_landing(lake)
    assert set(scan.matches) == {"syn1"} and not scan.refused
    without = find_match(lake, "syn1").fingerprint
    _land(FOOTOVISION, events_dir, ("events.jsonl", "match.json"))
    landed = find_match(lake, "syn1")
    assert [f.name for f in landed.all_files if f.name.startswith("events/")] == [
        "events/events.jsonl",
        "events/match.json",
    ]
    assert landed.fingerprint != without
    outcomes = _run(lake, instance)
    assert [o.ok for o in outcomes] == [True], [o.error for o in outcomes]
    assert published_fingerprint(lake, "syn1") == landed.fingerprint
    assert _count(lake, "events", "syn1") == 203 and _count(lake, "lineups", "syn1") == 32
    first = run_sql(lake, "SELECT min(timestamp_ms) FROM events WHERE period = 1").item()
    assert first == run_sql(lake, "SELECT min(timestamp_ms) FROM tracking WHERE period = 1").item()
    # every event has a sync status; the tracking is 40 s long and not this match's: nothing can be synced
    assert run_sql(lake, "SELECT count(*) FROM events WHERE sync_status IS NULL").item() == 0
    # a re-delivery of the events alone publishes the whole match again
    path = events_dir / "events.jsonl"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:150]))
    assert [p.status for p in plan_matches(lake, ["syn1"])] == ["changed"]
    outcomes = _run(lake, instance)
    assert [o.ok for o in outcomes] == [True], [o.error for o in outcomes]
    assert _count(lake, "events", "syn1") == 150
    assert published_fingerprint(lake, "syn1") == find_match(lake, "syn1").fingerprint != landed.fingerprint


def test_events_in_the_match_folder_and_in_landing_events_are_refused(lake):
    _land(FOOTOVISION, Path(lake.uri) / "landing" / "cdf" / "fv1")
    _land(FOOTOVISION, Path(lake.uri) / "landing" / "events" / "fv1", ("events.jsonl", "match.json"))
    [plan] = plan_matches(lake)
    assert plan.status == "refused" and "remove one of them" in plan.reason


def test_a_match_without_events_has_none_and_keeps_its_fingerprint(lake, instance, truth):
    folder = land_synthetic(lake, "footy_stats", "syn2", truth)
    import hashlib

    digest = hashlib.sha256()
    for f in sorted(folder.iterdir()):
        digest.update(f"{f.name}\0{hashlib.sha256(f.read_bytes()).hexdigest()}\n".encode())
    outcomes = _run(lake, instance)
    assert [o.ok for o in outcomes] == [True], [o.error for o in outcomes]
    assert published_fingerprint(lake, "syn2") == digest.hexdigest()  # the folder's files alone, as before
    assert _count(lake, "events", "syn2") == 0 and _count(lake, "lineups", "syn2") == 0
    assert _count(lake, "frame_state", "syn2") > 0
    names = run_sql(lake, "SELECT player_name FROM player_match_summary WHERE match_id = 'syn2'")["player_name"]
    assert names.len() > 0 and names.null_count() == names.len()  # no lineup: no names
    row = run_sql(lake, "SELECT code_versions FROM matches").item()
    assert {"events", "lineups"} <= set(json.loads(row))
    assert [p.status for p in plan_matches(lake)] == ["unchanged"]
    outcomes = _run(lake, instance)
    assert [o.ok for o in outcomes] == [True]


def test_the_sensor_sees_events_landed_on_their_own(lake, instance, truth):
    """The landing sensor fingerprints a match with its events folder as planning does: a published match is not
    requested again, and events landed (or changed) later request a run of the match."""
    import dagster as dg

    from footy_assets.orchestration.automation.sensor import scan_for_runs

    land_synthetic(lake, "footy_stats", "syn3", truth.head(3000))
    events_dir = _land(FOOTOVISION, Path(lake.uri) / "landing" / "events" / "syn3", ("events.jsonl", "match.json"))
    first = scan_for_runs(dg.build_sensor_context(instance=instance), lake)
    assert [r.partition_key for r in first.run_requests] == ["syn3"]
    assert first.run_requests[0].run_key == f"syn3:{find_match(lake, 'syn3').fingerprint}"
    assert [o.ok for o in _run(lake, instance)] == [True]
    with dg.instance_for_test() as fresh:  # a fresh cursor: the lake already holds this delivery
        assert not scan_for_runs(dg.build_sensor_context(instance=fresh), lake).run_requests
    (events_dir / "match.json").write_bytes((FOOTOVISION / "match.json").read_bytes() + b"\n")
    again = scan_for_runs(dg.build_sensor_context(instance=instance, cursor=first.cursor), lake)
    assert [r.partition_key for r in again.run_requests] == ["syn3"]


def test_the_event_checks_warn_on_events_the_tracking_does_not_cover(lake, instance, truth):
    """100 s of another match's events over 80 s of synthetic tracking: both checks warn, nothing is refused."""
    from footy_assets.chain.events import EventsStep

    land_synthetic(lake, "footy_stats", "syn4", truth)
    _land(FOOTOVISION, Path(lake.uri) / "landing" / "events" / "syn4", ("events.jsonl", "match.json"))
    assert [o.ok for o in _run(lake, instance)] == [True]
    table = EventsStep(lake, "syn4").events()
    found = {o.name: o for o in table.checks}
    assert not found["events_in_tracking"].passed and not found["events_in_tracking"].refuses
    assert 0 < found["events_in_tracking"].metadata["outside_tracking"] < 203
    assert not found["ball_events_synced"].passed and found["ball_events_synced"].metadata["ball_events"] == 34
    assert table.frame.height == 203 and not table.refused
