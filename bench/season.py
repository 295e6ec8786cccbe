"""Season benchmark: the fixed and the marginal cost of materialising full matches with ``--workers W``, from runs
of different sizes (by default 2 and 6 matches), locally or on an S3 lake.

Each run lands its matches (the footy_stats download, 90 minutes at 25 fps, a different seed each) in a lake of
its own, then runs ``footy-assets materialize --workers W`` in a fresh process with a fresh instance, ``--runs``
times (each on new tables; the fastest counts: the machine drifts by seconds between runs). The marginal cost per
match is the slope between the two sizes' wall times, the fixed cost what is left at zero matches; with them the
projected time of a season of 380 matches, and the peak RSS of the largest process.

Run: ``.venv/bin/python bench/season.py [--sizes 2 6] [--runs 2] [--workers 2] [--minutes 45] [--s3 s3://bucket/prefix]``.
Not a timed test: docs/performance.md records the figures with the machine they came from.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from readers import USER_ENV  # first: the user's environment, before polars is imported

from footy_assets.chain.planning import default_workers
from footy_assets.formats import synthetic

SEASON = 380
MARGINAL_GOAL_S = 3.9  # a season of 380 full matches in under 25 minutes


def land(local: Path, matches: int, minutes: float, truth) -> None:
    for number in range(matches):
        spec = synthetic.MatchSpec(f"season_{number:03d}", half_seconds=minutes * 60, seed=100 + number)
        synthetic.write_match(local / "landing", "footy_stats", spec, truth=truth, seed=number)


def materialise(tmp: Path, matches: int, args, truth) -> tuple[float, float]:
    """``args.runs`` runs of ``matches`` matches, each on new tables with a new instance: (the fastest run's wall s,
    the highest peak RSS MB of the largest process of any run)."""
    local = tmp / f"lake_{matches}"
    land(local, matches, args.minutes, truth)
    runs = []
    for attempt in range(1, args.runs + 1):
        for path in local.iterdir():
            if path.name != "landing":
                shutil.rmtree(path)
        runs.append(_materialise_once(tmp, local, matches, args, attempt))
    return min(run[0] for run in runs), max(run[1] for run in runs)


def _materialise_once(tmp: Path, local: Path, matches: int, args, attempt: int) -> tuple[float, float]:
    lake = str(local)
    if args.s3:
        import pyarrow.fs as pafs

        from footy_assets.lake.store import Lake

        target = Lake.from_env(f"{args.s3.rstrip('/')}/{matches}_{attempt}")
        fs, root = target.filesystem()
        pafs.copy_files(
            str(local / "landing"),
            f"{root}/landing",
            source_filesystem=pafs.LocalFileSystem(),
            destination_filesystem=fs,
        )
        lake = target.uri
    env = dict(USER_ENV, DAGSTER_HOME=str(tmp / f"home_{matches}_{attempt}"))
    command = [str(Path(sys.executable).parent / "footy-assets"), "materialize", "--lake", lake]
    command += ["--workers", str(args.workers)]
    started = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "%M", *command], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"materialize failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    ok = len(re.findall(r"^  ok ", done.stdout, re.M))
    if ok != matches:
        raise RuntimeError(f"{ok} of {matches} matches materialised:\n{done.stdout[-3000:]}")
    peak_mb = int(done.stderr.strip().splitlines()[-1]) / 1024
    print(
        f"  {matches} matches, run {attempt}: {ok} materialised in {seconds:.1f} s, largest process peak RSS "
        f"{peak_mb:.0f} MB"
    )
    return seconds, peak_mb


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[2, 6], help="matches in the two runs (default 2 6)")
    parser.add_argument("--workers", type=int, default=default_workers(), help="worker processes (default: cores)")
    parser.add_argument("--minutes", type=float, default=45.0, help="length of each half (default 45)")
    parser.add_argument("--runs", type=int, default=2, help="runs of each size; the fastest counts (default 2)")
    parser.add_argument("--s3", metavar="URI", help="an s3://bucket/prefix lake instead of a local one")
    args = parser.parse_args()
    small, large = sorted(args.sizes)
    if args.runs < 1:
        parser.error("--runs: at least 1")
    if large <= small:
        parser.error("--sizes: two different numbers of matches")
    if small % args.workers or large % args.workers:  # else the wall time grows in steps, not per match
        parser.error(f"--sizes: multiples of --workers ({args.workers})")
    from full_match import warm_memory

    print(f"warming the machine's memory (3 GB touched once): {warm_memory(3):.1f} s", flush=True)
    print(f"{small} and {large} matches of 2 x {args.minutes:g} minutes, {args.workers} worker(s) ...", flush=True)
    # one truth, moved a little per match: generating a truth per match would dominate the benchmark
    truth = synthetic.generate_truth(synthetic.MatchSpec("season", half_seconds=args.minutes * 60, seed=100))
    with tempfile.TemporaryDirectory(prefix="footy_season_") as tmp:
        t_small, peak_small = materialise(Path(tmp), small, args, truth)
        t_large, peak_large = materialise(Path(tmp), large, args, truth)
    marginal = (t_large - t_small) / (large - small)
    fixed = t_small - small * marginal
    season_min = (fixed + SEASON * marginal) / 60
    mark = "ok" if marginal <= MARGINAL_GOAL_S else "MISSED"
    print(
        f"fixed cost {fixed:.1f} s, marginal cost {marginal:.2f} s per match (goal <= {MARGINAL_GOAL_S} s: {mark}); "
        f"projected {SEASON} matches: {season_min:.0f} min; largest process peak RSS "
        f"{max(peak_small, peak_large):.0f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
