"""Planning at season scale: "unchanged" is decided from each file's size and modification time against what the
lake recorded, so a season is planned without reading its files; only a touched or new file is hashed."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from footy_assets.chain.planning import plan_matches
from footy_assets.lake import landing
from footy_assets.lake.store import Lake
from footy_assets_tests.seasons import recorded_season, same_size_change_with_old_time

_same_size_change_with_old_time = same_size_change_with_old_time  # the name test_automation imports from here

SEASON = 1000


def _season(lake: Lake, matches: int = SEASON) -> None:
    """Landed matches (two small files each) and a matches table recording them as they are."""
    recorded_season(lake, matches, lambda number: f'{{"frame_id": {number}}}\n'.encode() * 50)


@pytest.mark.slow
def test_a_season_with_nothing_changed_is_planned_without_reading_a_file(lake, monkeypatch):
    _season(lake)
    reads = []
    original = landing._sha256
    monkeypatch.setattr(landing, "_sha256", lambda lk, uri: reads.append(uri) or original(lk, uri))
    plans = plan_matches(lake)
    assert len(plans) == SEASON and {p.status for p in plans} == {"unchanged"}
    assert reads == []  # no file hashed (the time it takes: bench/rehash.py)

    touched = Path(lake.uri) / "landing" / "cdf" / "m0007" / "tracking.jsonl"
    os.utime(touched, ns=(time.time_ns(), time.time_ns()))  # touched, same content: read, still unchanged
    edited = Path(lake.uri) / "landing" / "cdf" / "m0042" / "meta.json"
    edited.write_text(json.dumps({"match": {"id": "m0042", "note": "corrected"}}))
    plans = {p.match_id: p.status for p in plan_matches(lake)}
    assert sorted(Path(uri).parent.name + "/" + Path(uri).name for uri in reads) == [
        "m0007/tracking.jsonl",
        "m0042/meta.json",
    ]
    assert plans["m0007"] == "unchanged" and plans["m0042"] == "changed"
    assert sum(status != "unchanged" for status in plans.values()) == 1


@pytest.mark.slow
def test_sensor_and_schedule_ticks_over_5000_matches_hash_only_what_they_must(lake, instance, monkeypatch):
    """Dagster stops a sensor or schedule evaluation after 60 s: with 5,000 landed matches a fresh-cursor sensor
    tick and a tick on its cursor decide from sizes and times, hashing no file, and the nightly schedule hashes
    only tonight's share of the rolling verification (their seconds: ``bench/rehash.py --ticks``, never asserted
    here)."""
    from datetime import datetime

    import dagster as dg

    from footy_assets.chain.planning import verified_on
    from footy_assets.orchestration.automation.schedule import backfill_requests
    from footy_assets.orchestration.automation.sensor import scan_for_runs

    _season(lake, 5000)
    hashed = []
    original = landing._sha256
    monkeypatch.setattr(landing, "_sha256", lambda lk, uri: hashed.append(uri) or original(lk, uri))
    first = scan_for_runs(dg.build_sensor_context(instance=instance), lake)
    assert not first.run_requests and len(first.dynamic_partitions_requests[0].partition_keys) == 5000
    assert hashed == []
    instance.add_dynamic_partitions("match_id", list(first.dynamic_partitions_requests[0].partition_keys))
    again = scan_for_runs(dg.build_sensor_context(instance=instance, cursor=first.cursor), lake)
    assert not again.run_requests and hashed == []
    night = datetime(2026, 11, 23, 2, 0)
    requests, missing = backfill_requests(lake, instance, when=night)
    assert requests == [] and missing == []
    tonight = verified_on(night.date())  # the rolling verification: tonight's share is hashed again, no other
    assert sorted({Path(uri).parent.name for uri in hashed}) == sorted(
        f"m{n:04d}" for n in range(5000) if tonight(f"m{n:04d}")
    )
    assert len(hashed) == 2 * len({Path(uri).parent.name for uri in hashed}) < 5000 / 2
    hashed.clear()

    touched = Path(lake.uri) / "landing" / "cdf" / "m0123" / "meta.json"
    touched.write_text(json.dumps({"match": {"id": "m0123", "note": "corrected"}}))
    later = scan_for_runs(dg.build_sensor_context(instance=instance, cursor=again.cursor), lake)
    assert [Path(uri).parent.name + "/" + Path(uri).name for uri in hashed] == ["m0123/meta.json"]  # that file only
    assert [r.partition_key for r in later.run_requests] == ["m0123"]


def test_a_same_size_change_with_its_old_time_is_seen_only_when_rehashed(lake):
    _season(lake, 20)
    same_size_change_with_old_time(Path(lake.uri) / "landing" / "cdf" / "m0003" / "meta.json")
    trusted = {p.match_id: p.status for p in plan_matches(lake)}
    assert trusted["m0003"] == "unchanged"  # the shortcut's limit: size and time are those recorded
    rehashed = {p.match_id: p.status for p in plan_matches(lake, rehash=True)}
    assert rehashed["m0003"] == "changed"
    assert {m for m, status in rehashed.items() if status != "unchanged"} == {"m0003"}
    only = {p.match_id: p.status for p in plan_matches(lake, rehash=lambda match_id: match_id == "m0004")}
    assert only["m0003"] == "unchanged"  # a predicate re-hashes those matches only


def test_the_rolling_verification_covers_every_match_once_in_its_days():
    from datetime import date, timedelta

    from footy_assets.chain.planning import verified_on

    ids = [f"m{n:04d}" for n in range(700)]
    start = date(2026, 11, 23)
    nights = [{m for m in ids if verified_on(start + timedelta(days=d), 7)(m)} for d in range(7)]
    assert sorted(m for night in nights for m in night) == ids  # each match exactly once a week
    assert all(60 <= len(night) <= 140 for night in nights), [len(n) for n in nights]
    assert nights[0] == {m for m in ids if verified_on(start + timedelta(days=7), 7)(m)}  # the week repeats
    assert not any(verified_on(start, 0)(m) for m in ids)  # 0: off
    assert all(verified_on(start, 1)(m) for m in ids)  # 1: every night
