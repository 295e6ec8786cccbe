"""Planning cost with and without a full re-hash: N landed matches (default 1,000) recorded in a ``matches``
table as they are, then ``plan_matches`` timed trusting size+mtime (no file read) and with ``rehash=True``
(``footy-assets materialize --rehash``: every file read and hashed again).

Each match holds two files: ``tracking.jsonl`` of ``--kb`` KiB (default 64) and a small ``meta.json``. A full
match is ~23 MB of Parquet (docs/performance.md), so the bench also times sha256 over 256 MiB in memory and
projects the re-hash of 1,000 full matches from it (reading from disk or S3 adds its own time).

``--ticks`` also times what Dagster bounds at 60 s: a sensor tick with a fresh cursor, one on its cursor and the
nightly schedule's evaluation (the timings test_planning.py asserted before they failed on a loaded machine; the
test now counts the files hashed).

Run: ``.venv/bin/python bench/rehash.py [--matches 1000] [--kb 64] [--ticks]``. Not a timed test:
docs/performance.md records the figures with the machine they came from.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's code


from footy_assets.chain.planning import plan_matches
from footy_assets.lake.store import Lake
from footy_assets_tests.seasons import recorded_season

FULL_MATCH_MB = 22.8  # a 90-minute footy_stats download (docs/performance.md)


def land(lake: Lake, matches: int, kib: int) -> int:
    """Land ``matches`` matches and record them in ``matches``; returns the bytes landed."""
    return recorded_season(lake, matches, lambda _: os.urandom(kib * 1024))


def timed(label: str, fn) -> float:
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    statuses = {p.status for p in result} if isinstance(result, list) else ""
    print(f"{label:<44} {seconds:7.2f} s {statuses}")
    return seconds


def ticks(lake: Lake) -> None:
    """Time a sensor tick (fresh cursor, then on its cursor) and the nightly schedule's evaluation."""
    import dagster as dg

    from footy_assets.orchestration.automation.schedule import backfill_requests
    from footy_assets.orchestration.automation.sensor import scan_for_runs

    with dg.instance_for_test() as instance:
        first = []
        timed(
            "sensor tick, fresh cursor (limit 60 s)",
            lambda: first.append(scan_for_runs(dg.build_sensor_context(instance=instance), lake)),
        )
        instance.add_dynamic_partitions("match_id", list(first[0].dynamic_partitions_requests[0].partition_keys))
        timed(
            "sensor tick, on its cursor (limit 60 s)",
            lambda: scan_for_runs(dg.build_sensor_context(instance=instance, cursor=first[0].cursor), lake),
        )
        timed("nightly schedule evaluation (limit 60 s)", lambda: backfill_requests(lake, instance))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matches", type=int, default=1000)
    parser.add_argument("--kb", type=int, default=64, help="KiB of tracking.jsonl per match (default 64)")
    parser.add_argument("--ticks", action="store_true", help="also time the sensor's ticks and the schedule")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="footy_rehash_") as tmp:
        lake = Lake.from_env(str(Path(tmp) / "lake"))
        (Path(lake.uri) / "landing").mkdir(parents=True)
        landed = land(lake, args.matches, args.kb)
        print(f"{args.matches} matches landed, {landed / 1e6:.1f} MB")
        timed("plan, trusting size+mtime (no file read)", lambda: plan_matches(lake))
        timed("plan, --rehash (every file hashed again)", lambda: plan_matches(lake, rehash=True))
        if args.ticks:
            ticks(lake)
    block = os.urandom(256 << 20)
    started = time.perf_counter()
    hashlib.sha256(block).hexdigest()
    rate = 256 * 1.048576 / (time.perf_counter() - started)  # MB/s
    print(
        f"sha256 in memory: {rate:.0f} MB/s -> {args.matches} full matches ({FULL_MATCH_MB} MB each): "
        f"{args.matches * FULL_MATCH_MB / rate:.0f} s of hashing alone"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
