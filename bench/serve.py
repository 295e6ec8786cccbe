"""Benchmark: ``footy-assets serve`` under load, on loopback, bounded in clients and time.

On one synthetic match (footy_stats, 25 fps; 90 minutes by default, ~3.2 M tracking rows) in a temporary lake, or
on a match of a lake given with ``--lake``:
1. downloads: ``--clients`` clients (default 20) download the tracking as Parquet at once, while one slow client
   reads its own download at 1 KB/s. Every body is compared with the bytes ``footy-assets export`` writes; the
   server's peak RSS (VmHWM) and each download's time are reported, and how far the slow client got meanwhile.
2. filters: ``--filter-clients`` clients (default 8) send five filter requests (``FILTER_REQUESTS``: sprinting,
   jogging, pressing, running in possession, sprinting into the final third) ``--rounds`` times each; every
   answer is compared with ``footy-assets intervals``' and p50/p95 latency reported.

Run: ``.venv/bin/python bench/serve.py [--minutes 45] [--lake LAKE --match ID]`` (``--minutes`` is each half's
length). Not a timed test: figures depend on the machine; docs/performance.md records them with the machine they
came from. Exits 1 when a body or an answer differs.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from footy_assets.formats import synthetic

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "footy_assets.cli"]
TOKEN = "bench-" + "k" * 32
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# one request of each kind a client sends: sprinting, jogging, pressing, running in possession, sprinting into
# the final third (AND with a frame-state filter: team possession, the ball's location)
FILTER_REQUESTS = [
    {
        "filters": [
            {"type": "frame_state", "players": ["0-10"], "column": "speed_mps", "gte": 7.0, "min_duration_ms": 1000}
        ]
    },
    {
        "filters": [
            {
                "type": "frame_state",
                "players": ["0-10"],
                "column": "speed_mps",
                "gte": 2.0,
                "lte": 4.0,
                "min_duration_ms": 2000,
            }
        ]
    },
    {
        "filters": [
            {
                "type": "frame_state",
                "players": ["0-7", "0-8", "0-10"],
                "column": "nearest_opp_dist_m",
                "lte": 2.0,
                "min_duration_ms": 500,
            }
        ]
    },
    {
        "operator": "AND",
        "filters": [
            {"type": "frame_state", "players": ["0-10"], "column": "speed_mps", "gte": 6.0, "min_duration_ms": 1000},
            {"type": "team_possession", "teams": ["team_0"]},
        ],
    },
    {
        "operator": "AND",
        "filters": [
            {"type": "frame_state", "players": ["0-10"], "column": "speed_mps", "gte": 7.0, "min_duration_ms": 1000},
            {"type": "ball_location", "x_min": 70, "x_max": 105},
        ],
    },
]
TIME_LIMIT_S = 900  # each phase; the bench stops its clients after it


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak(pid: int) -> None:
    """Start the peak RSS (VmHWM) over from the current RSS, where the kernel allows it (Linux 4.0+)."""
    with contextlib.suppress(OSError):
        Path(f"/proc/{pid}/clear_refs").write_text("5")


def run(command: list[str], env: dict) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=TIME_LIMIT_S)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[2:])} failed:\n{done.stdout}{done.stderr}")
    return done


def download(base: str) -> tuple[float, str, int]:
    started = time.perf_counter()
    digest, size = hashlib.sha256(), 0
    with httpx.stream("GET", f"{base}/analyses/{MATCH}/tracking/download", headers=AUTH, timeout=TIME_LIMIT_S) as r:
        r.raise_for_status()
        for part in r.iter_raw():
            digest.update(part)
            size += len(part)
    return time.perf_counter() - started, digest.hexdigest(), size


def slow_reader(base: str, stop: threading.Event, got: list[int]) -> None:
    """Read a download 1 KB a second (a small socket buffer, so the server really waits) until ``stop``."""
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        request = (
            f"GET /analyses/{MATCH}/tracking/download HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
        )
        sock.sendall(request.encode())
        while not stop.is_set():
            data = sock.recv(1024)
            if not data:
                break
            got[0] += len(data)
            stop.wait(1.0)


def filter_request(base: str, client: httpx.Client, request: dict) -> tuple[float, list]:
    started = time.perf_counter()
    response = client.post(f"{base}/analyses/{MATCH}/filters", json=request)
    response.raise_for_status()
    return time.perf_counter() - started, response.json()


def downloads(base: str, expected: str, clients: int, pid: int) -> int:
    """Part 1; the number of bodies that differ from the export."""
    alone, digest, size = download(base)
    print(f"one download alone: {alone:.2f} s ({size / 1e6:.1f} MB)")
    reset_peak(pid)
    stop, got = threading.Event(), [0]
    slow = threading.Thread(target=slow_reader, args=(base, stop, got), daemon=True)
    slow.start()
    time.sleep(1.0)
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(lambda _: download(base), range(clients)))
    wall = time.perf_counter() - started
    stop.set()
    slow.join(timeout=5)
    times = sorted(t for t, _, _ in results)
    same = sum(d == expected for _, d, _ in results)
    print(
        f"{clients} concurrent Parquet downloads: {wall:.1f} s wall, each {times[0]:.1f}-{times[-1]:.1f} s "
        f"(median {statistics.median(times):.1f} s); {same}/{clients} byte-identical to the export"
    )
    print(f"  slow client (1 KB/s) meanwhile: {got[0] / 1024:.0f} KB read, still connected")
    print(f"  server peak RSS during the downloads: {status_mb(pid, 'VmHWM'):.0f} MB")
    return (digest != expected) + clients - same


def filters(base: str, lake: str, env: dict, clients: int, rounds: int, pid: int) -> int:
    """Part 2; the number of answers that differ from footy-assets intervals'."""
    reference = []
    for request in FILTER_REQUESTS:
        done = run([*CLI, "intervals", "--lake", lake, "--match", MATCH, "--request", json.dumps(request)], env)
        reference.append(json.loads(done.stdout))
    reset_peak(pid)
    jobs = [(i % len(FILTER_REQUESTS)) for i in range(len(FILTER_REQUESTS) * rounds)]

    def one_client(_):
        with httpx.Client(headers=AUTH, timeout=TIME_LIMIT_S) as client:
            return [(i, *filter_request(base, client, FILTER_REQUESTS[i])) for i in jobs]

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        answers = [a for client in pool.map(one_client, range(clients)) for a in client]
    wall = time.perf_counter() - started
    latencies = sorted(t for _, t, _ in answers)
    wrong = sum(found != reference[i] for i, _, found in answers)
    p50 = statistics.median(latencies)
    p95 = latencies[max(0, round(0.95 * len(latencies)) - 1)]
    print(
        f"{clients} concurrent filter clients, {len(answers)} requests in {wall:.1f} s: "
        f"p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms (target p95 < 500 ms); "
        f"{len(answers) - wrong}/{len(answers)} answers as footy-assets intervals'"
    )
    print(f"  server peak RSS during the filters: {status_mb(pid, 'VmHWM'):.0f} MB")
    return wrong


def main() -> int:
    global MATCH  # noqa: PLW0603 - the match the clients ask for, named once on the command line
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=45.0, help="length of each half of the synthetic match")
    parser.add_argument("--lake", help="serve this lake instead (its --match must be published)")
    parser.add_argument("--match", default="bench_serve", help="the match to download and filter")
    parser.add_argument("--clients", type=int, default=20, help="concurrent downloads (at most 64)")
    parser.add_argument("--filter-clients", type=int, default=8, help="concurrent filter clients (at most 64)")
    parser.add_argument("--rounds", type=int, default=3, help="times each filter client sends the five examples")
    parser.add_argument("--only", choices=["downloads", "filters"], help="run one of the two parts")
    args = parser.parse_args()
    MATCH = args.match
    with tempfile.TemporaryDirectory(prefix="footy_bench_serve_") as tmp:
        env = {**os.environ, "DAGSTER_HOME": str(Path(tmp) / "dagster_home"), "FOOTY_SERVE_TOKENS": TOKEN}
        if args.lake:
            lake = args.lake
        else:
            lake = str(Path(tmp) / "lake")
            spec = synthetic.MatchSpec(MATCH, half_seconds=args.minutes * 60)
            print(f"generating and materialising a {2 * args.minutes:g}-minute match ...", flush=True)
            synthetic.write_match(Path(lake) / "landing", "footy_stats", spec)
            run([*CLI, "materialize", "--lake", lake], env)
        run([*CLI, "export", "--lake", lake, "--match", MATCH, "--format", "tracking_download", "-o", f"{tmp}/x"], env)
        exported = Path(f"{tmp}/x/tracking.parquet").read_bytes()
        print(f"export: {len(exported) / 1e6:.1f} MB of Parquet")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [*CLI, "serve", "--lake", lake, "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        failures = 0
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(f"{base}/healthz")
                    break
                except httpx.TransportError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit("the server did not start") from None
                    time.sleep(0.1)
            print(f"server pid {server.pid}: RSS at start {status_mb(server.pid, 'VmRSS'):.0f} MB")
            if args.only != "filters":
                expected = hashlib.sha256(exported).hexdigest()
                failures += downloads(base, expected, min(args.clients, 64), server.pid)
            if args.only != "downloads":
                failures += filters(base, lake, env, min(args.filter_clients, 64), args.rounds, server.pid)
        finally:
            server.terminate()
            server.wait(timeout=60)
    return 1 if failures else 0


MATCH = "bench_serve"

if __name__ == "__main__":
    sys.exit(main())
