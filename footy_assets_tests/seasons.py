"""A season of landed matches recorded in the ``matches`` table as they are (nothing to do for planning): the
planning tests and ``bench/rehash.py`` build it the same way."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import polars as pl
from deltalake import write_deltalake

from footy_assets.chain.versions import CODE_VERSIONS
from footy_assets.lake.landing import LandedMatch, landed_files
from footy_assets.lake.matches import MATCHES_SCHEMA
from footy_assets.lake.store import Lake


def recorded_season(lake: Lake, matches: int, tracking: Callable[[int], bytes]) -> int:
    """Land ``matches`` CDF matches (``tracking(number)`` as tracking.jsonl, a small meta.json) and record each in
    ``matches`` with its files' sizes, times and sha256; the bytes landed."""
    rows, total = [], 0
    for number in range(matches):
        match_id = f"m{number:04d}"
        folder = Path(lake.uri) / "landing" / "cdf" / match_id
        folder.mkdir(parents=True)
        (folder / "tracking.jsonl").write_bytes(tracking(number))
        (folder / "meta.json").write_text(json.dumps({"match": {"id": match_id}}))
        files = landed_files(lake, lake.landing_uri("cdf", match_id))
        landed = LandedMatch(match_id, "cdf", lake.landing_uri("cdf", match_id), files)
        total += landed.total_bytes
        rows.append(
            {
                "match_id": match_id,
                "format": "cdf",
                "fps": 25,
                "pitch_length_m": 105.0,
                "pitch_width_m": 68.0,
                "periods": [],
                "frames": 1,
                "frames_outside_play": 0,
                "flipped_periods": [],
                "fingerprint": landed.fingerprint,
                "files": json.dumps([f.__dict__ for f in files]),
                "landed_bytes": landed.total_bytes,
                "vendor_rows": 1,
                "rows": 1,
                "rows_player": 1,
                "rows_goal_keeper": 0,
                "rows_ball": 0,
                "rows_referee": 0,
                "rows_unidentified": 0,
                "rows_interpolated": 0,
                "vendor_rows_dropped": 0,
                "code_versions": json.dumps(CODE_VERSIONS, sort_keys=True),
                "materialized_at_ms": 0,
            }
        )
    write_deltalake(
        lake.table_uri("matches"), pl.DataFrame(rows, schema=MATCHES_SCHEMA).to_arrow(), partition_by=["match_id"]
    )
    return total


def same_size_change_with_old_time(path: Path) -> None:
    """Edit a file without changing its size, then put its old modification time back (as rsync -a, cp -p or
    tar x leave a re-delivered file)."""
    before = path.stat()
    data = bytearray(path.read_bytes())
    data[-2:-1] = b"7" if data[-2:-1] != b"7" else b"8"
    path.write_bytes(bytes(data))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size and path.stat().st_mtime_ns == before.st_mtime_ns
