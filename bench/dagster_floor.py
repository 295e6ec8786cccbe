"""Dagster's own floor on this machine: a fresh process that imports Dagster, opens a SQLite instance made
beforehand and materialises one asset that does nothing. No run of the chain can cost less (bench/full_match.py
prints it beside the fixed cost of a run).

Run: ``.venv/bin/python bench/dagster_floor.py`` (a temporary instance; prints the wall time of each run).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 2  # the floor at its lowest: the fastest of these runs counts

# the whole measured process: nothing footy_assets imports or does
ONE_ASSET_RUN = """
import dagster as dg

@dg.asset
def nothing() -> None:
    return None

with dg.DagsterInstance.get() as instance:
    assert dg.materialize([nothing], instance=instance).success
"""
MAKE_INSTANCE = "import dagster as dg; dg.DagsterInstance.get().dispose()"


def floor_walls(env: dict, home: Path) -> list[float]:
    """The wall time (s) of ``RUNS`` fresh processes materialising one asset, each with an instance of its own made
    beforehand under ``home``."""
    walls = []
    for attempt in range(1, RUNS + 1):
        run_env = dict(env, DAGSTER_HOME=str(home / f"floor_{attempt}"))
        Path(run_env["DAGSTER_HOME"]).mkdir(parents=True)
        (Path(run_env["DAGSTER_HOME"]) / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")  # as ours
        subprocess.run([sys.executable, "-c", MAKE_INSTANCE], env=run_env, check=True)
        os.sync()  # what earlier processes wrote goes to disk now, not under this run's timing
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", ONE_ASSET_RUN], env=run_env, check=True, capture_output=True)
        walls.append(time.perf_counter() - started)
    return walls


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="footy_bench_floor_") as tmp:
        walls = floor_walls(dict(os.environ), Path(tmp))
    print(f"Dagster's floor (one asset that does nothing, a fresh process): {', '.join(f'{w:.2f} s' for w in walls)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
