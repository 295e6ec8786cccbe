"""Benchmark: what frame_state's `valid` rule keeps and rejects on real samples, with and without injected swaps
and jitter.

For each real sample (SkillCorner broadcast CDF, the 25 Hz Premier League window of footovision_h1 read as a CDF
match, the Sportec snippet, SportVU), the same sample with broadcast glitches injected that stay under the 12 m/s
step threshold (identity swaps of players less than a step apart, runaway positions at the end of a track, jitter
bursts), and the synthetic truth (``footy_assets.formats.synthetic``: realistic runs, top speeds 7-10 m/s), it prints,
for the old rule (raw steps only) and the current one (``footy_assets.core.metrics.kinematics``): the share of valid
frames, the highest valid speed of any player and how many players' top valid speed is above 12.5 m/s, and the
largest |acceleration| on valid frames (tangential, as ``accel_mps2``). Also the quantiles of |accel_mps2| and
of the speed on clean data, which the thresholds are chosen against.

Run: ``.venv/bin/python bench/glitches.py`` (a few seconds).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from footy_assets.core.metrics import kinematics as K
from footy_assets.core.metrics.frame_state import identified_players
from footy_assets.formats import synthetic
from footy_assets.lake.delivery import read_match
from footy_assets.lake.landing import find_match
from footy_assets.lake.store import Lake

SAMPLES = ROOT / "footy_assets_tests" / "samples"
REAL = [  # (name, format, folder, files to land: the CDF reader refuses extra .json/.jsonl files)
    ("skillcorner_1925299", "cdf", SAMPLES / "cdf" / "skillcorner_1925299", None),
    ("footovision_h1", "cdf", SAMPLES / "cdf_events" / "footovision_h1", {"tracking.jsonl", "meta.json"}),
    ("sportec_snippet", "cdf", SAMPLES / "cdf_events" / "sportec_snippet", {"tracking.jsonl", "meta.json"}),
    ("statsperform_ma25", "sportvu", SAMPLES / "sportvu" / "statsperform_ma25", None),
]
OLD = {"max_speed_mps": np.inf, "max_accel_mps2": np.inf}  # the rule before: raw steps only
NEW: dict = {}  # the module's defaults


def people(fmt: str, folder: Path, files: set[str] | None) -> tuple[pl.DataFrame, int]:
    """The identified players' rows of a real sample, read by the project's reader from a scratch landing."""
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "lake" / "landing" / fmt / folder.name
        target.mkdir(parents=True)
        for f in folder.iterdir():
            if files is None or f.name in files:
                shutil.copy(f, target / f.name)
        lake = Lake.from_env(str(Path(tmp) / "lake"))
        result = read_match(lake, find_match(lake, folder.name))
    rows = identified_players(result.tracking)
    return rows.select("player_id", "period", "frame_id", "x_m", "y_m"), result.info.fps


def synthetic_people(seed: int, fps: int = 25, half_seconds: float = 600.0) -> tuple[pl.DataFrame, int]:
    """The synthetic truth's players (positions as generated, no vendor noise)."""
    truth = synthetic.generate_truth(synthetic.MatchSpec("syn", half_seconds=half_seconds, fps=fps, seed=seed))
    rows = truth.filter(pl.col("role").is_in(["player", "goal_keeper"]))
    return rows.select(player_id="track", period="period", frame_id="frame", x_m="x", y_m="y"), fps


def inject_glitches(rows: pl.DataFrame, fps: int, seed: int = 19, per_player_minute: float = 1.0) -> pl.DataFrame:
    """Broadcast glitches that no raw step above 12 m/s betrays (each kept only if every step of the track stays
    at or below 11.9 m/s): identity swaps with an opponent or team mate closer than one step, a position running
    1 s of jitter (1.5-3 Hz, its steps up to 8-11.5 m/s), and the same jitter just before a track is lost for 1 s
    (the SG derivative at a segment's last frames is the fitted parabola's slope, which amplifies it). About
    ``per_player_minute`` glitches per player and minute of tracking."""
    rng = np.random.default_rng(seed)
    rows = rows.sort("player_id", "period", "frame_id")
    pid, period = rows["player_id"].to_numpy(), rows["period"].to_numpy()
    frame = rows["frame_id"].to_numpy()
    x, y = rows["x_m"].to_numpy().astype(float).copy(), rows["y_m"].to_numpy().astype(float).copy()
    drop = np.zeros(rows.height, bool)
    limit = 11.9 / fps

    def ok(idx):
        i = np.arange(max(idx.min() - 1, 0), min(idx.max() + 2, x.size))
        same = (pid[i][1:] == pid[i][:-1]) & (np.diff(frame[i]) == 1) & ~drop[i][1:] & ~drop[i][:-1]
        return np.all(np.hypot(np.diff(x[i]), np.diff(y[i]))[same] <= limit)

    key = {(p, q, f): i for i, (p, q, f) in enumerate(zip(pid, period, frame))}
    n_glitches = int(per_player_minute * rows.height / fps / 60)
    kept = {"swap": 0, "runaway": 0, "jitter": 0}
    for _ in range(n_glitches * 20):
        if sum(kept.values()) >= n_glitches:
            break
        kind = ("swap", "runaway", "jitter")[rng.integers(3)]
        i = int(rng.integers(rows.height))
        saved = x.copy(), y.copy(), drop.copy()
        if kind == "swap":  # another player closer than one step in this frame: swap for 2..15 frames
            length = int(rng.integers(2, 16))
            same_frame = np.flatnonzero((frame == frame[i]) & (period == period[i]) & (pid != pid[i]))
            d = np.hypot(x[same_frame] - x[i], y[same_frame] - y[i])
            if not same_frame.size or d.min() > limit:
                continue
            other = pid[same_frame[np.argmin(d)]]
            a = [key.get((pid[i], period[i], frame[i] + k)) for k in range(length)]
            b = [key.get((other, period[i], frame[i] + k)) for k in range(length)]
            if None in a or None in b:
                continue
            a, b = np.array(a), np.array(b)
            x[a], x[b], y[a], y[b] = x[b], x[a], y[b], y[a]
            idx = np.r_[a, b]
        else:  # 1 s of jitter (1.5-3 Hz, steps up to 8-11.5 m/s); "runaway": the track is lost after it for 1 s
            n = fps + (fps if kind == "runaway" else 0)
            idx = np.array([key.get((pid[i], period[i], frame[i] + k)) for k in range(n)], dtype=object)
            if None in idx:
                continue
            idx = idx.astype(int)
            angle, hz, phase = rng.uniform(0, 2 * np.pi), rng.uniform(1.5, 3.0), rng.uniform(0, 2 * np.pi)
            amplitude = rng.uniform(8.0, 11.5) / (2 * np.pi * hz)
            wobble = amplitude * (np.sin(2 * np.pi * hz * np.arange(fps) / fps + phase) - np.sin(phase))
            x[idx[:fps]] += wobble * np.cos(angle)
            y[idx[:fps]] += wobble * np.sin(angle)
            drop[idx[fps:]] = True
            idx = idx[:fps]
        if ok(idx):
            kept[kind] += 1
        else:
            x, y, drop = saved
    out = rows.with_columns(x_m=pl.Series(x, dtype=pl.Float32), y_m=pl.Series(y, dtype=pl.Float32))
    return out.filter(~pl.Series(drop)), kept


def figures(rows: pl.DataFrame, fps: int, rule: dict) -> dict:
    code = rows["player_id"].cast(pl.Categorical).to_physical().to_numpy().astype(np.int64)
    kin = K.kinematics(
        code,
        rows["period"].to_numpy(),
        rows["frame_id"].to_numpy(),
        rows["x_m"].to_numpy(),
        rows["y_m"].to_numpy(),
        fps,
        **rule,
    )
    frame = pl.DataFrame(
        {"player_id": rows["player_id"], "speed": kin.speed_mps, "accel": kin.accel_mps2, "valid": kin.valid},
        nan_to_null=True,
    )
    top = frame.filter("valid").group_by("player_id").agg(pl.col("speed").max())["speed"]
    return {
        "valid share": frame["valid"].mean(),
        "top valid speed": top.max(),
        "players > 12.5": int((top > 12.5).sum()),
        "max |accel| valid": frame.filter("valid")["accel"].abs().max(),
        "max raw speed": frame["speed"].max(),
    }


def clean_quantiles(rows: pl.DataFrame, fps: int) -> str:
    code = rows["player_id"].cast(pl.Categorical).to_physical().to_numpy().astype(np.int64)
    kin = K.kinematics(
        code,
        rows["period"].to_numpy(),
        rows["frame_id"].to_numpy(),
        rows["x_m"].to_numpy(),
        rows["y_m"].to_numpy(),
        fps,
        **OLD,
    )
    a, v = np.abs(kin.accel_mps2[kin.valid]), kin.speed_mps[kin.valid]
    qa = np.quantile(a, [0.5, 0.99, 0.999, 1.0]) if a.size else [np.nan] * 4
    qv = np.quantile(v, [0.99, 1.0]) if v.size else [np.nan] * 2
    return "|accel| p50 {:.1f} p99 {:.1f} p99.9 {:.1f} max {:.1f} m/s2; speed p99 {:.1f} max {:.1f} m/s".format(
        *qa, *qv
    )


def main() -> None:
    print(
        f"thresholds: step {K.MAX_STEP_SPEED_MPS:g} m/s, speed {K.MAX_SPEED_MPS:g} m/s, "
        f"|accel| {K.MAX_ACCEL_MPS2:g} m/s2 (anywhere in the SG window)"
    )
    cases = []
    for name, fmt, folder, files in REAL:
        rows, fps = people(fmt, folder, files)
        cases.append((name, rows, fps))
    for seed in (3, 7):
        rows, fps = synthetic_people(seed)
        cases.append((f"synthetic seed {seed} (2 x 10 min)", rows, fps))
    header = f"{'data':44} {'fps':>3} {'rows':>7} {'rule':4} {'valid':>7} {'top v':>6} {'>12.5':>5} {'max|a|':>6} {'raw v':>6}"  # noqa: E501
    print(header)
    for name, rows, fps in cases:
        print(f"  clean {name}: {clean_quantiles(rows, fps)}")
    for name, rows, fps in cases:
        variants = [(name, rows)]
        if not name.startswith("synthetic"):
            hostile, kept = inject_glitches(rows, fps)
            variants.append((f"{name} + glitches {sum(kept.values())}", hostile))
        for label, data in variants:
            for rule_name, rule in (("old", OLD), ("new", NEW)):
                f = figures(data, fps, rule)
                print(
                    f"{label:44} {fps:>3} {data.height:>7} {rule_name:4} {f['valid share']:>7.2%} "
                    f"{f['top valid speed']:>6.2f} {f['players > 12.5']:>5} {f['max |accel| valid']:>6.1f} "
                    f"{f['max raw speed']:>6.1f}"
                )


if __name__ == "__main__":
    main()
