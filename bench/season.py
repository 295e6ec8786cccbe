"""Season benchmark: N synthetic full-length matches (default 20; 380 for a whole season) through
``footy-assets materialize --workers W``, locally or on an S3 lake.

Lands the matches (the footy_stats download, 90 minutes at 25 fps, a different seed each), then runs the CLI in a
fresh process with a fresh instance and prints matches per hour, the peak RSS of the largest worker, and the
projected time for a season of 380 matches. With ``--s3 s3://bucket/prefix`` the matches are uploaded there and
the lake is on S3 (the standard ``AWS_*`` variables say where).

Run: ``.venv/bin/python bench/season.py [--matches 20] [--workers 2] [--minutes 45] [--s3 s3://bucket/prefix]``.
Not a timed test: docs/performance.md records the figures with the machine they came from.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from footy_assets.chain.planning import default_workers
from footy_assets.formats import synthetic

SEASON = 380


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matches", type=int, default=20, help="matches to land and materialise (default 20)")
    parser.add_argument("--workers", type=int, default=default_workers(), help="worker processes (default: cores)")
    parser.add_argument("--minutes", type=float, default=45.0, help="length of each half (default 45)")
    parser.add_argument("--s3", metavar="URI", help="an s3://bucket/prefix lake instead of a local one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="footy_season_") as tmp:
        local = Path(tmp) / "lake"
        print(f"landing {args.matches} matches of 2 x {args.minutes:g} minutes ...", flush=True)
        started = time.perf_counter()
        truth = None
        for number in range(args.matches):
            spec = synthetic.MatchSpec(f"season_{number:03d}", half_seconds=args.minutes * 60, seed=100 + number)
            # one truth, moved a little per match: generating 380 truths would dominate the benchmark
            truth = synthetic.generate_truth(spec) if truth is None else truth
            synthetic.write_match(local / "landing", "footy_stats", spec, truth=truth, seed=number)
        print(f"  landed in {time.perf_counter() - started:.0f} s (not timed below)", flush=True)
        lake = str(local)
        if args.s3:
            import pyarrow.fs as pafs

            from footy_assets.lake.store import Lake

            target = Lake.from_env(args.s3)
            fs, root = target.filesystem()
            pafs.copy_files(
                str(local / "landing"),
                f"{root}/landing",
                source_filesystem=pafs.LocalFileSystem(),
                destination_filesystem=fs,
            )
            lake = target.uri
        env = dict(os.environ, DAGSTER_HOME=str(Path(tmp) / "home"))
        command = [
            str(Path(sys.executable).parent / "footy-assets"),
            "materialize",
            "--lake",
            lake,
            "--workers",
            str(args.workers),
        ]
        print(f"materialising with {args.workers} worker(s) on {lake} ...", flush=True)
        started = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-f", "%M", *command], env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            print(done.stdout[-3000:], done.stderr[-3000:])
            return 1
        ok = len(re.findall(r"^  ok ", done.stdout, re.M))
        peak_mb = int(done.stderr.strip().splitlines()[-1]) / 1024
        per_hour = ok / seconds * 3600
        print(
            f"{ok} matches in {seconds:.0f} s: {per_hour:.0f} matches per hour; largest process peak RSS "
            f"{peak_mb:.0f} MB; projected {SEASON} matches: {SEASON / per_hour * 60:.0f} min"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
