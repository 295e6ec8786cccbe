"""Benchmark: one 90-minute, 25 fps match (22 players + referee + ball, ~3.2 M tracking rows).

Generates the match in footy_stats format (Parquet) into a temporary lake, then
1. times each stage of the chain in this process (read, validate, Delta write), with the peak RSS so far;
2. runs ``footy-assets materialize`` on the lake in a fresh process (twice, each with new tables and an instance of
   its own, created beforehand as ``make install`` does: the faster run counts, and the higher peak RSS) and
   reports its wall time and peak RSS.

3. for footy_stats, runs the bare prototype (bench/prototype.py) on the same file, then reads the same match
   landed as CDF, SportVU and footy_stats JSON (bench/readers.py, with fast-forward-football in an environment
   of its own for the CDF yardstick), and prints every speed and memory goal with its measured value.

Run: ``make bench`` (or ``.venv/bin/python bench/full_match.py [--format footy_stats|sportvu|cdf|footy_track]``).
Not a timed test: figures depend on the machine; docs/performance.md records them with the machine they came from.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dagster_floor
import readers  # before footy_assets: it captures the user's environment (USER_ENV) before polars is imported
from readers import USER_ENV

from footy_assets.core.canonical import TRACKING_SCHEMA
from footy_assets.core.contracts.tracking import Tracking
from footy_assets.formats import synthetic
from footy_assets.lake.delivery import read_match
from footy_assets.lake.landing import find_match
from footy_assets.lake.store import Lake


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stage(name: str, fn, results: list):
    started = time.perf_counter()
    value = fn()
    results.append((name, time.perf_counter() - started, peak_mb()))
    print(f"  {name:<28} {results[-1][1]:6.2f} s   peak RSS so far {results[-1][2]:7.0f} MB", flush=True)
    return value


def warm_memory(gigabytes: float) -> float:
    """Touch ``gigabytes`` of memory once in a throwaway process; its seconds. A new virtual machine backs its
    memory on first use, at a few seconds per GB: the first process to touch a page pays for it, whichever it is.
    Touching it first makes the figures below measure the code, not the age of the machine."""
    started = time.perf_counter()
    touch = f"import numpy; numpy.ones(int({gigabytes} * 2**27))"
    subprocess.run([sys.executable, "-c", touch], check=True)
    return time.perf_counter() - started


def compile_bytecode() -> float:
    """Write footy_assets' bytecode caches (``__pycache__``) once; its seconds. An installed package has them, and
    Python writes them on a first import, except where ``PYTHONDONTWRITEBYTECODE`` is set (some sandboxes and
    containers): then every process compiles the package again (0.1 s), which is not what a run costs."""
    import compileall

    import footy_assets

    started = time.perf_counter()
    compileall.compile_dir(str(Path(footy_assets.__file__).parent), quiet=1)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--format", default="footy_stats", choices=["footy_stats", "sportvu", "cdf", "footy_track"])
    parser.add_argument("--minutes", type=float, default=45.0, help="length of each half")
    parser.add_argument(
        "--no-readers",
        action="store_true",
        help="skip the full-match reads of CDF, SportVU and footy_stats JSON (bench/readers.py)",
    )
    args = parser.parse_args()
    print(f"warming the machine's memory (3 GB touched once): {warm_memory(3):.1f} s", flush=True)
    print(f"compiling footy_assets' bytecode once: {compile_bytecode():.1f} s", flush=True)
    with tempfile.TemporaryDirectory(prefix="footy_bench_") as tmp:
        root = Path(tmp) / "lake"
        spec = synthetic.MatchSpec("bench_full_match", half_seconds=args.minutes * 60)
        print(f"generating a {2 * args.minutes:g}-minute match ({args.format}) ...", flush=True)
        started = time.perf_counter()
        folder = synthetic.write_match(root / "landing", args.format, spec)
        size = sum(f.stat().st_size for f in folder.iterdir())
        print(f"  landed {size / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s (generation is not timed below)")

        print("stages in this process:")
        lake = Lake.from_env(str(root))
        results: list = []
        landed = find_match(lake, spec.match_id)
        result = stage("read (parse+validate+normalise)", lambda: read_match(lake, landed), results)
        frame = stage("validate tracking (pandera)", lambda: Tracking.validate(result.tracking), results)
        stage(
            "write tracking (Delta)",
            lambda: lake.write_delivery("tracking", spec.match_id, landed.fingerprint, frame, TRACKING_SCHEMA),
            results,
        )
        print(f"  rows: {frame.height:,}, frames: {frame['frame_id'].n_unique():,}")
        result = frame = None  # free them before the materialize run below

        print(f"footy-assets materialize (a fresh process, all assets, new tables), {RUNS} runs:")
        runs = fresh_runs(root, Path(tmp) / "dagster_home")
        if isinstance(runs, int):
            return runs
        proc, wall, child_peak, env = runs
        print("    " + "\n    ".join(proc.stdout.strip().splitlines()))
        print("  per asset (from the run's materialisation metadata; peak RSS is the process's so far):")
        import dagster as dg

        with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
            for key in (
                "raw_feed",
                "tracking",
                "ball_state",
                "frame_state",
                "intervals",
                "match_quality",
                "events",
                "lineups",
                "player_period_summary",
                "player_match_summary",
                "team_match_summary",
                "matches",
            ):
                event = instance.get_latest_materialization_event(dg.AssetKey(key))
                if event is None:
                    continue
                meta = event.asset_materialization.metadata
                seconds = meta["seconds"].value if "seconds" in meta else float("nan")
                rss = meta["peak_rss_mb"].value if "peak_rss_mb" in meta else float("nan")
                # the steps inside it: read, compute, validate, checks and picture, write
                inside = ", ".join(
                    f"{name.removesuffix('_seconds')} {meta[name].value:.2f}"
                    for name in meta
                    if name.endswith("_seconds") and name != "seconds"
                )
                print(f"    {key:<22} {seconds:6.2f} s   peak RSS {rss:7.0f} MB   {inside}")
        if args.format == "footy_stats":  # the speed goals, against the bare prototype on the same file
            prototype = Path(__file__).resolve().parent / "prototype.py"
            walls = []
            for _ in range(2):  # the yardstick at its fastest: the better of two runs
                done, proto_wall, proto_peak = timed(
                    [sys.executable, str(prototype), str(folder / "tracking.parquet"), str(Path(tmp) / "prototype")],
                    USER_ENV,
                )
                if done.returncode != 0:
                    print(done.stderr[-2000:], file=sys.stderr)
                    return done.returncode
                walls.append(proto_wall)
            proto_wall = min(walls)
            print(
                f"bare prototype (bench/prototype.py, same file): wall {proto_wall:.2f} s (the better of "
                f"{walls[0]:.2f} s and {walls[1]:.2f} s), peak RSS {proto_peak:.0f} MB"
            )
            # what a run costs whatever the match: Python, Dagster, opening the instance, new tables, one run of
            # the chain; a 24-second match (two 12 s halves: a period spans at least 10 s)
            tiny_root = Path(tmp) / "tiny"
            synthetic.write_match(
                tiny_root / "landing", "footy_stats", synthetic.MatchSpec("bench_tiny_match", half_seconds=12)
            )
            runs = fresh_runs(tiny_root, Path(tmp) / "tiny_home")
            if isinstance(runs, int):
                return runs
            _, fixed_wall, fixed_peak, _ = runs
            own = wall - fixed_wall
            print(
                f"fixed cost (a 24-second match, new tables): wall {fixed_wall:.2f} s, peak RSS "
                f"{fixed_peak:.0f} MB; the full match's own cost {own:.2f} s = {own / proto_wall:.2f}x the "
                f"prototype; materialize / prototype {wall / proto_wall:.2f}x"
            )
            floor = min(dagster_floor.floor_walls(USER_ENV, Path(tmp) / "floor"))
            print(
                f"Dagster's floor (bench/dagster_floor.py: one asset that does nothing, a fresh process, the faster "
                f"of {dagster_floor.RUNS}): wall {floor:.2f} s; the fixed cost above it {fixed_wall - floor:.2f} s"
            )
            goals = [
                ("full match's own cost / prototype", own / proto_wall, 1.5, "x"),
                ("fixed cost of a run", fixed_wall, 2.0, "s"),
                ("materialize peak RSS", child_peak / 1024, 1.1, "GB"),
            ]
            if not args.no_readers:
                print("reading full matches of the other formats:")
                goals += readers.run(Path(tmp) / "readers", args.minutes, USER_ENV)
            print("goals:")
            readers.print_goals(goals)
    return 0


RUNS = 2  # each materialize is timed this many times, each time new tables: the fastest counts
# a user's home is made once (``make install``, or the first command), not by every run: the same here, untimed
MAKE_INSTANCE = "from footy_assets.orchestration.instance import open_instance; open_instance().dispose()"


def fresh_runs(root: Path, home: Path) -> tuple[subprocess.CompletedProcess, float, float, dict] | int:
    """``footy-assets materialize`` of the lake ``root`` ``RUNS`` times, each on the landing zone alone (every table
    removed) with an instance of its own (``home`` and a run number) made beforehand: (the fastest run, its wall s,
    the highest peak RSS MB of all runs, its environment), printing every run; the exit status of a run that
    failed."""
    cli = Path(sys.executable).parent / "footy-assets"
    done = []
    for attempt in range(1, RUNS + 1):
        for path in root.iterdir():
            if path.name != "landing":
                subprocess.run(["rm", "-rf", str(path)], check=True)
        env = dict(USER_ENV, DAGSTER_HOME=f"{home}_{attempt}")
        subprocess.run([sys.executable, "-c", MAKE_INSTANCE], env=env, check=True)
        os.sync()  # what earlier runs wrote (and removed) goes to disk now, not under this run's timing
        proc, wall, peak = timed([str(cli), "materialize", "--lake", str(root)], env)
        if proc.returncode != 0:
            print(proc.stderr[-3000:], file=sys.stderr)
            return proc.returncode
        print(
            f"  {root.name}, run {attempt}: wall {wall:.2f} s (Python and Dagster start-up in it), peak {peak:.0f} MB"
        )
        done.append((wall, peak, proc, env))
    wall, _, proc, env = min(done, key=lambda run: run[0])
    return proc, wall, max(run[1] for run in done), env


def timed(command: list[str], env: dict) -> tuple[subprocess.CompletedProcess, float, float]:
    """Run ``command``; its wall time (s) and the peak RSS (MB) of its largest process, measured from outside
    (/usr/bin/time)."""
    started = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "footy-peak-kb %M", *command], env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    peaks = [int(line.split()[-1]) for line in done.stderr.splitlines() if line.startswith("footy-peak-kb")]
    done.stderr = "\n".join(line for line in done.stderr.splitlines() if not line.startswith("footy-peak-kb"))
    return done, wall, (peaks[-1] / 1024 if peaks else float("nan"))


if __name__ == "__main__":
    sys.exit(main())
