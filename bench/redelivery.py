"""Benchmark: a full match materialised, then re-delivered (a corrected delivery of the same match) and materialised
again, each by ``footy-assets materialize`` in a fresh process: wall time and peak RSS of both.

The first run is the chain of a new match; the second writes the new delivery beside the published one, flips
``matches`` and drops what the publish supersedes. Run from a checkout of any version of the project
(``python bench/redelivery.py``, from its root) to compare versions on the same machine; prints one line per run.
Not a timed test: figures depend on the machine and go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from readers import USER_ENV  # first: the user's environment, before polars is imported

# isort: split
import polars as pl

from footy_assets.formats import synthetic


def materialize(lake: Path, home: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one ``footy-assets materialize`` in a fresh process."""
    started = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", sys.executable, "-m", "footy_assets.cli", "materialize", "--lake", str(lake)],
        env={**USER_ENV, "DAGSTER_HOME": str(home)},
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(done.stdout + done.stderr)
    return seconds, int(done.stderr.strip().splitlines()[-1]) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=45.0, help="length of each half")
    parser.add_argument("--rounds", type=int, default=2, help="first delivery + re-delivery, this many times")
    args = parser.parse_args()
    spec = synthetic.MatchSpec("full", half_seconds=args.minutes * 60, fps=25, seed=21)
    truth = synthetic.generate_truth(spec)
    corrected = truth.with_columns(pl.col("x") * 0.99)
    for number in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="footy_redelivery_") as tmp:
            lake, home = Path(tmp) / "lake", Path(tmp) / "home"
            synthetic.write_match(lake / "landing", "footy_stats", spec, truth=truth)
            first = materialize(lake, home)
            synthetic.write_match(lake / "landing", "footy_stats", spec, truth=corrected)
            again = materialize(lake, home)
            print(
                f"round {number + 1}: first delivery {first[0]:5.1f} s, {first[1]:6.0f} MB; "
                f"re-delivery {again[0]:5.1f} s, {again[1]:6.0f} MB",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
