"""Benchmark: what the hostile-input guards of footy_track and footy_stats cost.

1. ``resolve_identities`` on re-ID chains of 3,000 / 100,000 / 1,000,000 tracks, each re-identified from the next
   (the reader before took 5.8 s for 1,000 and over 90 s for 3,000: cubic);
2. a zstd Parquet bomb of 60 M identical footy_stats rows: its size, and the time and peak RSS of its refusal
   (before, 4.7 GB were read before the refusal);
3. a 90-minute synthetic match in footy_stats and footy_track Parquet: rows and uncompressed bytes from the
   footer, beside the default bounds (FOOTY_MAX_PARQUET_ROWS / FOOTY_MAX_PARQUET_BYTES).

Run: ``.venv/bin/python bench/hostile_parquet.py``. Not a timed test: the figures depend on the machine.
"""

from __future__ import annotations

import resource
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from footy_assets.formats import FeedError, synthetic
from footy_assets.formats.common import max_parquet_bytes, max_parquet_rows
from footy_assets.formats.footy_track.reader import resolve_identities
from footy_assets.lake.delivery import read_match
from footy_assets.lake.landing import find_match
from footy_assets.lake.store import Lake


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def chains() -> None:
    for n in (3_000, 100_000, 1_000_000):
        tracks = {str(i): {"team_id": None, "jersey_number": None, "reid_parent_track_id": i + 1} for i in range(1, n)}
        tracks[str(n)] = {"team_id": "home", "jersey_number": 7, "reid_parent_track_id": None}
        started = time.perf_counter()
        ids = resolve_identities(tracks)
        print(
            f"re-ID chain of {n:>9,} tracks: {time.perf_counter() - started:6.3f} s ({ids['jersey'].null_count()} "
            "without a jersey)"
        )


def bomb(root: Path) -> None:
    spec = synthetic.MatchSpec("bomb", half_seconds=5, fps=25)
    truth = synthetic.generate_truth(spec)
    folder = synthetic.write_match(root / "lake" / "landing", "footy_stats", spec, truth=truth)
    row = pq.read_table(folder / "tracking.parquet").slice(0, 1)
    block = pa.concat_tables([row] * 1_000_000).combine_chunks()
    with pq.ParquetWriter(folder / "tracking.parquet", block.schema, compression="zstd") as writer:
        for _ in range(60):
            writer.write_table(block, row_group_size=1_000_000)
    size = (folder / "tracking.parquet").stat().st_size
    lake = Lake.from_env(str(root / "lake"))
    before, started = peak_mb(), time.perf_counter()
    try:
        read_match(lake, find_match(lake, "bomb"))
        outcome = "read (!)"
    except FeedError as exc:
        outcome = str(exc)
    print(
        f"bomb of 60,000,000 rows in {size / 1e6:.1f} MB: {time.perf_counter() - started:.3f} s, peak RSS "
        f"{before:.0f} -> {peak_mb():.0f} MB: {outcome}"
    )


def full_match(root: Path) -> None:
    spec = synthetic.MatchSpec("full", half_seconds=45 * 60)
    truth = synthetic.generate_truth(spec)
    for fmt, file in (("footy_stats", "tracking.parquet"), ("footy_track", "tracks.parquet")):
        folder = synthetic.write_match(root / fmt, fmt, spec, truth=truth)
        meta = pq.ParquetFile(folder / file).metadata
        uncompressed = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        print(
            f"90-minute {fmt:<11}: {meta.num_rows:>10,} rows (bound {max_parquet_rows():,}), "
            f"{uncompressed / 1e6:7.1f} MB uncompressed (bound {max_parquet_bytes() / 1e6:,.0f} MB), "
            f"{(folder / file).stat().st_size / 1e6:.1f} MB on disk"
        )


if __name__ == "__main__":
    chains()
    with tempfile.TemporaryDirectory() as tmp:
        bomb(Path(tmp) / "bomb")
        full_match(Path(tmp) / "full")
