"""Benchmark: reading full matches (the readers' speed and memory goals), each in a fresh process measured from outside.

For one synthetic 90-minute, 25 fps match landed as CDF (JSONL + meta), SportVU text and footy_stats JSON, a
process runs ``footy_assets.lake.delivery.read_match`` (parse, vendor validation, canonical rows) and
``/usr/bin/time`` reports its CPU time (user + sys, imports included) and peak RSS. The child processes import
the same footy_assets as this script (its folder first on their ``PYTHONPATH``; each says which it imported, and a
different one is an error). The CDF file is also read by fast-forward-football (a Rust loader on PyPI),
installed in an environment of its own under ``bench/.venv-fastforward`` (never a dependency of the project), the
same way. Each is run ``READ_RUNS`` times, in turns (fast-forward-football, then each of footy_assets' reads),
and counts at its fastest: fast-forward-football's lowest CPU time is the yardstick, each of footy_assets' reads
its lowest wall and CPU time and its highest peak RSS (the first process after the files are landed runs slower,
whichever it is). The landed files are written back (``sync``) first. In the same turns, a process that imports
pyarrow alone parses the CDF tracking file as footy_assets' reader does (its schema and options, nothing else): the
least any CDF read parsing with pyarrow can cost, printed against the yardstick.

Run: ``.venv/bin/python bench/readers.py`` (``make bench`` runs it after the full chain).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

# the environment as the user gave it, for every child process of the benchmarks: captured when this module is
# first imported, before polars and footy_assets (which set the allocator's options in this process's environment)
USER_ENV = dict(os.environ)
BENCH = Path(__file__).resolve().parent
FASTFORWARD = "fast-forward-football==0.3.0"
FASTFORWARD_ENV = BENCH / ".venv-fastforward"

READ_ONE = """
import sys
import footy_assets
from footy_assets.lake.store import Lake
from footy_assets.lake.landing import find_match
from footy_assets.lake.delivery import read_match
lake = Lake.from_env(sys.argv[1])
result = read_match(lake, find_match(lake, sys.argv[2]))
print(result.tracking.height, footy_assets.__file__)
"""
# pyarrow's JSON parse of the tracking file alone, in a process that imports nothing else: the floor of any CDF
# reader parsing with pyarrow (footy_assets' does, with this schema, written by the bench, and these options)
ARROW_PARSE_ONLY = """
import sys
import pyarrow as pa
import pyarrow.json as pajson
with open(sys.argv[2], "rb") as schema_file:
    schema = pa.ipc.read_schema(pa.py_buffer(schema_file.read()))
with open(sys.argv[1], "rb") as tracking:
    data = tracking.read()
frames = pajson.read_json(
    pa.py_buffer(data),
    read_options=pajson.ReadOptions(block_size=int(sys.argv[3])),
    parse_options=pajson.ParseOptions(
        explicit_schema=schema, unexpected_field_behavior="ignore", newlines_in_values=False
    ),
)
print(frames.num_rows)
"""
# each reader and fast-forward-football are run this many times, in turn: each counts at its fastest (a reader's
# lowest wall and CPU, its highest peak RSS), as the yardstick does; the machine's noise is larger than the
# differences measured
READ_RUNS = 2
# what the readers must reach: CPU against the Rust loader's, wall seconds, peak memory
CDF_CPU_RATIO = 1.0  # CDF read CPU / fast-forward-football's
SPORTVU_WALL_S = 3.0
FOOTY_STATS_JSON_WALL_S = 4.0
PEAK_GB = 1.0

FASTFORWARD_CDF = """
import sys
import fastforward
dataset = fastforward.cdf.load_tracking(sys.argv[1], sys.argv[2], only_alive=False)
print(dataset.tracking.height)
"""


def measure(command: list[str], env: dict | None = None) -> tuple[float, float, float, str]:
    """(wall s, CPU s = user + sys, peak RSS MB, stdout) of one process, from /usr/bin/time."""
    done = subprocess.run(
        ["/usr/bin/time", "-f", "footy-time %e %U %S %M", *command], capture_output=True, text=True, env=env
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    line = next(x for x in done.stderr.splitlines() if x.startswith("footy-time"))
    wall, user, system, kb = (float(v) for v in line.split()[1:])
    return wall, user + system, kb / 1024, done.stdout.strip()


def fastforward_python() -> Path:
    """The fast-forward-football environment's python, created and installed on first use."""
    python = FASTFORWARD_ENV / "bin" / "python"
    if (
        not python.exists()
        or subprocess.run([str(python), "-c", "import fastforward"], capture_output=True).returncode != 0
    ):
        print(f"  installing {FASTFORWARD} into {FASTFORWARD_ENV} (its own environment) ...", flush=True)
        venv.create(FASTFORWARD_ENV, with_pip=True, clear=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", FASTFORWARD], check=True, stderr=subprocess.DEVNULL
        )
    return python


def child_env() -> dict:
    """The environment of a reading process: the user's (``USER_ENV``), with the folder of the footy_assets this
    script imports first on ``PYTHONPATH`` (a worktree's copy, not the one installed in the virtual environment)."""
    import footy_assets

    root = str(Path(footy_assets.__file__).resolve().parent.parent)
    env = dict(USER_ENV)
    env["PYTHONPATH"] = os.pathsep.join([root, *[p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]])
    return env


class Yardstick:
    """fast-forward-football reading the CDF folder, in its own environment (installed when first needed; where it
    cannot be, no yardstick, and the output says why); beside it, pyarrow's parse of the same file alone
    (``ARROW_PARSE_ONLY``), the floor of footy_assets' CDF read."""

    def __init__(self, folder: Path, env: dict, parse_env: dict, scratch: Path):
        self.command, self.env, self.runs, self.missing = None, env, [], ""
        self.parse_env, self.parse_runs = parse_env, []
        self.parse_command = self._parse_only(folder, scratch)
        try:
            python = fastforward_python()
        except (subprocess.CalledProcessError, OSError) as exc:  # offline
            self.missing = str(exc).splitlines()[0][:120]
            return
        self.command = [str(python), "-c", FASTFORWARD_CDF, str(folder / "tracking.jsonl"), str(folder / "meta.json")]

    @staticmethod
    def _parse_only(folder: Path, scratch: Path) -> list[str]:
        """The command parsing the folder's tracking file with pyarrow alone (the reader's schema written to
        ``scratch``)."""
        from footy_assets.formats.cdf.reader import ARROW_BLOCK_BYTES, arrow_frame_schema
        from footy_assets.formats.common import max_line_bytes

        schema = scratch / "cdf_frame_schema.arrow"
        schema.write_bytes(arrow_frame_schema().serialize().to_pybytes())
        block = max(ARROW_BLOCK_BYTES, max_line_bytes() + 2)
        return [sys.executable, "-c", ARROW_PARSE_ONLY, str(folder / "tracking.jsonl"), str(schema), str(block)]

    def run(self) -> None:
        self.parse_runs.append(measure(self.parse_command, self.parse_env))
        if self.command is None:
            return
        try:
            self.runs.append(measure(self.command, self.env))
        except RuntimeError as exc:
            self.command, self.missing = None, str(exc).splitlines()[0][:120]

    def goal(self, cdf_cpu: float) -> list[tuple[str, float, float, str]]:
        """Print the runs; the CPU ratio goal of a CDF read of ``cdf_cpu`` s, if there is a yardstick."""
        for i, (wall, cpu, peak, rows) in enumerate(self.runs, start=1):
            label = f"fast-forward-football cdf, run {i}"
            print(f"  {label:<42} {wall:5.2f} s {cpu:5.2f} s {peak:6.0f} MB   {int(rows):,}")
        for i, (wall, cpu, peak, rows) in enumerate(self.parse_runs, start=1):
            label = f"pyarrow's parse alone, run {i}"
            print(f"  {label:<42} {wall:5.2f} s {cpu:5.2f} s {peak:6.0f} MB   {int(rows):,}")
        parse_cpu = min(run[1] for run in self.parse_runs)
        if self.command is None or not self.runs:
            print(f"  fast-forward-football not measured ({self.missing}): no CDF CPU ratio")
            return []
        cpu = min(run[1] for run in self.runs)
        print(f"  the yardstick: fast-forward-football's lowest CPU of its {len(self.runs)} runs, {cpu:.2f} s")
        print(
            f"  pyarrow's parse alone (import pyarrow, read the file, parse it; nothing else): {parse_cpu:.2f} s CPU "
            f"at its lowest, {parse_cpu / cpu:.2f}x the yardstick: no CDF read parsing with pyarrow costs less"
        )
        return [("CDF read CPU / fast-forward's", cdf_cpu / cpu, CDF_CPU_RATIO, "x")]


def run(tmp: Path, minutes: float = 45.0, yardstick_env: dict | None = None) -> list[tuple[str, float, float, str]]:
    """Land the three formats in ``tmp``, time the reads; rows of (what, measured, goal, unit) for the goals.
    ``yardstick_env``: the environment fast-forward-football runs in (the user's, before footy_assets was
    imported: footy_assets sets polars' allocator options for its own processes)."""
    from footy_assets.formats import synthetic

    tmp.mkdir(parents=True, exist_ok=True)
    landing = tmp / "lake" / "landing"
    truth = synthetic.generate_truth(synthetic.MatchSpec("bench_readers", half_seconds=minutes * 60))
    folders = {}
    for fmt, kw in (("cdf", {}), ("sportvu", {}), ("footy_stats", {"file_format": "json"})):
        spec = synthetic.MatchSpec(f"bench_read_{fmt}", half_seconds=minutes * 60)
        folders[fmt] = synthetic.write_match(landing, fmt, spec, truth=truth, **kw)
    del truth
    os.sync()  # the landed files written back before anything is timed (not under the first read)
    # in turns: fast-forward-football, then each of footy_assets' reads (the first process after landing the files
    # runs slower, whichever it is)
    import footy_assets

    env, ours = child_env(), str(Path(footy_assets.__file__).resolve())
    yardstick = Yardstick(folders["cdf"], yardstick_env or USER_ENV, env, tmp)
    runs: dict[str, list[tuple[float, float, float]]] = {fmt: [] for fmt in folders}
    print(f"  footy_assets read from {Path(ours).parent.parent}")
    print(f"  {'reader (a fresh process each)':<42} {'wall':>7} {'CPU':>7} {'peak RSS':>9}   rows")
    for attempt in range(1, READ_RUNS + 1):
        yardstick.run()
        for fmt, folder in folders.items():
            size = sum(f.stat().st_size for f in folder.iterdir()) / 1e6
            wall, cpu, peak, out = measure([sys.executable, "-c", READ_ONE, str(tmp / "lake"), folder.name], env)
            rows, imported = out.split(maxsplit=1)
            if str(Path(imported).resolve()) != ours:
                raise RuntimeError(f"the {fmt} reading process imported {imported}, not {ours}")
            runs[fmt].append((wall, cpu, peak))
            label = f"footy_assets {fmt} ({size:.0f} MB), run {attempt}"
            print(f"  {label:<42} {wall:5.2f} s {cpu:5.2f} s {peak:6.0f} MB   {int(rows):,}", flush=True)
    results = {fmt: (min(r[0] for r in rs), min(r[1] for r in rs), max(r[2] for r in rs)) for fmt, rs in runs.items()}
    print(
        f"  footy_assets at its fastest of {READ_RUNS} runs: "
        + ", ".join(f"{fmt} {wall:.2f} s wall, {cpu:.2f} s CPU" for fmt, (wall, cpu, _) in results.items())
    )
    goals = yardstick.goal(results["cdf"][1])
    return [
        *goals,
        ("CDF read peak RSS", results["cdf"][2] / 1024, PEAK_GB, "GB"),
        ("SportVU read wall", results["sportvu"][0], SPORTVU_WALL_S, "s"),
        ("SportVU read peak RSS", results["sportvu"][2] / 1024, PEAK_GB, "GB"),
        ("footy_stats JSON read wall", results["footy_stats"][0], FOOTY_STATS_JSON_WALL_S, "s"),
        ("footy_stats JSON read peak RSS", results["footy_stats"][2] / 1024, PEAK_GB, "GB"),
    ]


def print_goals(rows: list[tuple[str, float, float, str]]) -> None:
    for what, measured, goal, unit in rows:
        mark = "ok" if measured <= goal else "MISSED"
        print(f"  {what:<36} {measured:8.2f} {unit:<2} {'<= ' + format(goal, 'g') + ' ' + unit:>10}   {mark}")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="footy_bench_readers_") as tmp:
        rows = run(Path(tmp))
    print("goals (readers):")
    print_goals(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
