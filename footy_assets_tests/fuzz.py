"""A seeded mutation fuzzer for the readers: every mutant either reads to valid canonical rows or raises a
``FeedError`` that names one of the match's files (or the match); never another exception, a hang, or rows
with non-finite values. Some operators must be refused: a Parquet bomb, a sidecar's colliding track keys, and
a landed file that is a hard link to a copy outside the lake (refused naming the file, its content unquoted).

    python -m footy_assets_tests.fuzz --mutants 200 --seed 1      # what the test suite runs
    make fuzz                                                      # 10x more, a new seed each time

Bases: the real samples (SportVU, also with a ``pitch.json``; three CDF files) and small synthetic deliveries of
every format (footy_stats as JSON and Parquet). Operators work on bytes, lines, numbers and JSON values: truncation,
deleted / duplicated / swapped lines, hostile numbers (NaN, inf, 1e308, values past float32 or int16),
wrong JSON types, invalid UTF-8, an empty file, a contradicting fps in a CDF meta; and
Parquet decompression bombs (rows repeated past the row bound, which the fuzzer lowers to 200,000), columns
stored as booleans, lists or text, sidecar track keys that Python's int() reads ("01", "1_0", Arabic-Indic
digits) or that repeat, duplicate JSON keys, booleans where numbers belong, a BOM or UTF-16 text; and hard links.
Prints one JSON summary: counts per operator and outcome (read / refused / failure), also as a text table (on
stderr too), the same per format, and every failure with its seed.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl

from footy_assets.core.contracts.tracking import Tracking
from footy_assets.formats import FeedError, synthetic
from footy_assets.lake.delivery import read_match
from footy_assets.lake.landing import LandingError, find_match
from footy_assets.lake.store import Lake

SAMPLES = Path(__file__).resolve().parent / "samples"
HOSTILE_NUMBERS = [
    "NaN",
    "Infinity",
    "-Infinity",
    "1e308",
    "-1e308",
    "1e39",
    "3.5e38",
    "99999999999999999999",
    "40000",
    "-40000",
    "-1",
    "0",
    "2147483648",
    "1e-320",
    '"7"',
    "null",
    "true",
    "[]",
    "{}",
    '"abc"',
    "- 1",
    "",
    "0x10",
    "1.5",
]
HOSTILE_JSON = [
    float("nan"),
    float("inf"),
    -float("inf"),
    1e308,
    1e39,
    2**63,
    40000,
    -1,
    "",
    "abc",
    None,
    True,
    [],
    {},
    [1, 2],
    3.5,
]
NUMBER = re.compile(rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
MAX_SECONDS_PER_MUTANT = 20.0


# -- bases ------------------------------------------------------------------------------------------------
def _bases(workdir: Path) -> list[tuple[str, Path]]:
    """(format, folder) of every base delivery."""
    bases = [("sportvu", SAMPLES / "sportvu" / "statsperform_ma25")]
    pitched = workdir / "bases" / "sportvu_pitch" / "statsperform_ma25"  # the optional pitch.json, mutated too
    shutil.copytree(bases[0][1], pitched)
    (pitched / "pitch.json").write_text('{\n "length": 105,\n "width": 68\n}\n')
    bases.append(("sportvu", pitched))
    bases += [
        ("cdf", SAMPLES / "cdf" / name) for name in ("skillcorner_1925299", "validator_v0_2_3", "validator_v0_3_2")
    ]
    spec = synthetic.MatchSpec("fuzzbase", half_seconds=20.0, fps=10, seed=5)
    truth = synthetic.generate_truth(spec)
    for fmt, kw in (
        ("footy_stats", {"file_format": "json"}),
        ("footy_stats", {}),
        ("sportvu", {}),
        ("cdf", {}),
        ("footy_track", {}),
        ("footy_track", {"homography": False}),
    ):
        root = workdir / "bases" / f"{fmt}_{len(bases)}"
        folder = synthetic.write_match(root, fmt, spec, truth=truth, **kw)
        bases.append((fmt, folder))
    return bases


# -- operators ----------------------------------------------------------------------------------------------
def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def op_truncate(rng, data: bytes) -> bytes:
    return data[: rng.randrange(0, max(len(data), 1))]


def op_cut_last_line(rng, data: bytes) -> bytes:
    body = data.rstrip(b"\n")
    last = body.rfind(b"\n")
    return body[: last + 1 + rng.randrange(1, max(len(body) - last - 1, 2))]


def op_delete_line(rng, data: bytes) -> bytes:
    lines = _lines(data)
    del lines[rng.randrange(len(lines))]
    return b"\n".join(lines)


def op_duplicate_line(rng, data: bytes) -> bytes:
    lines = _lines(data)
    i = rng.randrange(len(lines))
    lines.insert(i, lines[i])
    return b"\n".join(lines)


def op_swap_lines(rng, data: bytes) -> bytes:
    lines = _lines(data)
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[i], lines[j] = lines[j], lines[i]
    return b"\n".join(lines)


def op_hostile_number(rng, data: bytes) -> bytes:
    found = list(NUMBER.finditer(data))
    if not found:
        return data + b"NaN"
    for _ in range(rng.choice([1, 1, 1, 3])):
        m = rng.choice(found)
        data = data[: m.start()] + rng.choice(HOSTILE_NUMBERS).encode() + data[m.end() :]
        found = list(NUMBER.finditer(data)) or found
    return data


def op_flip_byte(rng, data: bytes) -> bytes:
    if not data:
        return b"\x00"
    i = rng.randrange(len(data))
    return data[:i] + bytes([rng.randrange(256)]) + data[i + 1 :]


def op_invalid_utf8(rng, data: bytes) -> bytes:
    i = rng.randrange(len(data) + 1)
    return data[:i] + rng.choice([b"\xff\xfe", b"\xc3", b"\xed\xa0\x80", b"\x00"]) + data[i:]


def op_empty(rng, data: bytes) -> bytes:
    return rng.choice([b"", b"\n", b"   \n\n"])


def op_json_value(rng, data: bytes) -> bytes:
    """Parse a JSON (or JSON-lines) document, set one random leaf to a hostile value, write it back."""
    lines = _lines(data)
    candidates = [i for i, line in enumerate(lines) if line.strip()]
    if not candidates:
        return data
    whole = len(candidates) == 1 or data.lstrip().startswith(b"[")
    index = None if whole else rng.choice(candidates)
    try:
        doc = json.loads(data if whole else lines[index])
    except ValueError:
        return op_hostile_number(rng, data)
    leaves = []

    def walk(node, path):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, (*path, k))
        elif isinstance(node, list):
            for k, v in enumerate(node):
                walk(v, (*path, k))
        else:
            leaves.append(path)
        if len(leaves) > 5000:
            return

    walk(doc, ())
    if not leaves:
        return data
    path = rng.choice(leaves)
    node = doc
    for key in path[:-1]:
        node = node[key]
    if rng.random() < 0.15 and isinstance(node, dict):
        del node[path[-1]]
    else:
        node[path[-1]] = rng.choice(HOSTILE_JSON)
    text = json.dumps(doc, allow_nan=True).encode()
    if whole:
        return text
    lines[index] = text
    return b"\n".join(lines)


TEXT_OPERATORS = [
    op_truncate,
    op_cut_last_line,
    op_delete_line,
    op_duplicate_line,
    op_swap_lines,
    op_hostile_number,
    op_hostile_number,
    op_flip_byte,
    op_invalid_utf8,
    op_empty,
]
JSON_OPERATORS = [
    op_json_value,
    op_json_value,
    op_json_value,
    op_hostile_number,
    op_truncate,
    op_invalid_utf8,
    op_flip_byte,
    op_empty,
]


def op_parquet_values(rng, data: bytes) -> bytes:
    """Rewrite a tracking.parquet with hostile values in one column (typed as the file allows)."""
    frame = pl.read_parquet(io.BytesIO(data))
    column = rng.choice(frame.columns)
    n = frame.height
    rows = rng.sample(range(n), k=min(n, rng.choice([1, 3, 50])))
    mask = pl.Series(np.isin(np.arange(n), rows))
    dtype = frame.schema[column]
    if dtype.is_float():
        value = pl.lit(rng.choice([float("nan"), float("inf"), -float("inf"), 3e38, 1e308]))
        expr = pl.when(mask).then(value.cast(pl.Float64)).otherwise(pl.col(column).cast(pl.Float64))
    elif dtype.is_integer():
        expr = (
            pl.when(mask)
            .then(pl.lit(rng.choice([2**40, -(2**31), 40000, -1]), pl.Int64))
            .otherwise(pl.col(column).cast(pl.Int64))
        )
    else:
        expr = pl.when(mask).then(pl.lit(rng.choice(["", "x", "0-99999", "coach", "1-"]))).otherwise(pl.col(column))
    if rng.random() < 0.2:  # or the whole column as text / null
        expr = rng.choice([pl.col(column).cast(pl.String), pl.lit(None, pl.Null)])
    out = io.BytesIO()
    frame.with_columns(expr.alias(column)).write_parquet(out)
    return out.getvalue()


def op_parquet_bytes(rng, data: bytes) -> bytes:
    return rng.choice([op_truncate, op_flip_byte, op_empty])(rng, data)


def op_meta_fps(rng, data: bytes) -> bytes:
    """A CDF meta whose fps contradicts the frames' timestamps."""
    doc = json.loads(data)
    doc.setdefault("meta", {}).setdefault("tracking", {})["fps"] = rng.choice([1, 5, 50, 100, 25.5])
    return json.dumps(doc).encode()


FUZZ_MAX_PARQUET_ROWS = 200_000  # the bound the fuzzer reads with: a bomb of a small base stays cheap


def op_parquet_bomb(rng, data: bytes) -> bytes:
    """A decompression bomb: the file's rows repeated past the (lowered) row bound, zstd-compressed."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(data))
    copies = FUZZ_MAX_PARQUET_ROWS // max(table.num_rows, 1) + rng.choice([1, 2, 5])
    out = io.BytesIO()
    pq.write_table(pa.concat_tables([table] * copies), out, compression="zstd")
    return out.getvalue()


def op_parquet_types(rng, data: bytes) -> bytes:
    """One column stored as another type: booleans (every x on the goal line), a list, text, a fraction."""
    frame = pl.read_parquet(io.BytesIO(data))
    kind = rng.choice(["bool", "list", "text", "half"])
    numeric = [c for c, t in frame.schema.items() if t.is_numeric() or t == pl.Boolean]
    column = rng.choice(numeric if kind in ("bool", "half") and numeric else frame.columns)
    expr = {
        "bool": (pl.col(column).cast(pl.Float64, strict=False) > 1).fill_null(False),
        "list": pl.concat_list(column),
        "text": pl.col(column).cast(pl.String),
        "half": pl.col(column).cast(pl.Float64, strict=False) + 0.5,
    }[kind]
    out = io.BytesIO()
    frame.with_columns(expr.alias(column)).write_parquet(out)
    return out.getvalue()


SIDECAR_KEYS = ["0{}", "{}_0", "+{}", " {}", "{}.0", "\u0661{}", "{}\u0660"]


def op_sidecar_keys(rng, data: bytes) -> bytes:
    """A footy_track sidecar whose track keys collide once Python's int() reads them, or repeat."""
    doc = json.loads(data)
    tracks = doc.get("tracks")
    if not isinstance(tracks, dict) or not tracks:
        return op_duplicate_key(rng, data)
    key = rng.choice(list(tracks))
    if rng.random() < 0.3:  # the same key twice, as text
        text = data.decode()
        at = text.find("{", text.find('"tracks"')) + 1
        return (text[:at] + f'"{key}": {json.dumps(tracks[key])}, ' + text[at:]).encode()
    new = rng.choice(SIDECAR_KEYS).format(key)
    if rng.random() < 0.5:
        tracks[new] = tracks.pop(key)
    else:
        tracks[new] = dict(tracks[key])
    return json.dumps(doc, ensure_ascii=rng.random() < 0.5).encode()


def op_duplicate_key(rng, data: bytes) -> bytes:
    """One object names a key twice (the last would win silently)."""
    keys = list(re.finditer(rb'"([A-Za-z_]+)"\s*:\s*', data))
    if not keys:
        return data
    m = rng.choice(keys)
    value = rng.choice([b"1", b"true", b'"x"', b"null", b"0.5"])
    return data[: m.start()] + m.group(0) + value + b", " + data[m.start() :]


JSON_NUMBER = re.compile(rb"(?<=[:\[,])(\s*)(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(?=\s*[,}\]])")


def op_boolean_number(rng, data: bytes) -> bytes:
    """A boolean where a number belongs (true/false in place of a JSON number value, not of digits in a text)."""
    found = list(JSON_NUMBER.finditer(data))
    if not found:
        return data
    m = rng.choice(found)
    return data[: m.start(2)] + rng.choice([b"true", b"false"]) + data[m.end(2) :]


def op_encoding(rng, data: bytes) -> bytes:
    """A byte order mark, or the text re-encoded as UTF-16 / UTF-32."""
    choice = rng.choice(["bom", "utf-16", "utf-16-le", "utf-32"])
    if choice == "bom":
        return b"\xef\xbb\xbf" + data
    try:
        return data.decode("utf-8").encode(choice)
    except UnicodeDecodeError:
        return data


def operators_for(file: str) -> list:
    """The byte operators for a file of this name (the hard links are drawn apart: they work on the folder)."""
    if file.endswith(".parquet"):
        return [
            op_parquet_values,
            op_parquet_values,
            op_parquet_values,
            op_parquet_bytes,
            op_parquet_bomb,
            op_parquet_types,
            op_parquet_types,
        ]
    if file.endswith((".json", ".jsonl")):
        extra = [op_meta_fps] if file == "meta.json" else []  # a CDF meta
        extra += [op_sidecar_keys, op_sidecar_keys] if file == "tracks_meta.json" else []
        extra += [op_duplicate_key, op_boolean_number, op_encoding] if file.endswith(".json") else []
        return [*JSON_OPERATORS, *TEXT_OPERATORS[:5], *extra]
    return TEXT_OPERATORS


HARD_LINK_SHARE = 0.08  # of the mutants: a landed file replaced by a hard link, before the scan or after it
HARD_LINKS = ("op_hard_link", "op_hard_link_after_scan")
OPERATOR_NAMES = sorted(
    {
        op.__name__
        for name in ("a.parquet", "a.json", "tracks_meta.json", "meta.json", "a.txt")
        for op in operators_for(name)
    }
    | set(HARD_LINKS)
)
# Mutants nothing may read: more rows than the bound, track keys that collide or repeat (every one of
# SIDECAR_KEYS fails the ASCII-decimal rule), a file that is also a name of a file outside the lake.
MUST_REFUSE = {
    "op_parquet_bomb": "over the limit",
    "op_sidecar_keys": "",
    "op_hard_link": "hard link",
    "op_hard_link_after_scan": "hard link",
}
OUTCOMES = ("read", "refused", "failure")


def hard_link(target: Path, file: str, outside: Path) -> str:
    """Replace the landed ``file`` by a hard link to a copy of it in ``outside`` (a folder outside the lake):
    the file is then a second name of a file the lake does not own. Returns the text a refusal must not quote:
    the head of the file's first line with some text."""
    shutil.rmtree(outside, ignore_errors=True)
    outside.mkdir(parents=True)
    shutil.copy2(target / file, outside / file)
    (target / file).unlink()
    os.link(outside / file, target / file)
    lines = (outside / file).read_bytes().decode("utf-8", "replace").splitlines()
    return next((line.strip()[:40] for line in lines if len(line.strip()) >= 8), "")


# -- the check ----------------------------------------------------------------------------------------------
def check_rows(tracking: pl.DataFrame) -> str | None:
    """Why canonical rows are not acceptable (None when they are)."""
    try:
        Tracking.validate(tracking)
    except Exception as exc:  # noqa: BLE001  a reader must never produce rows its own contract rejects
        return f"contract: {str(exc).splitlines()[0][:300]}"
    floats = [c for c, t in tracking.schema.items() if t.is_float()]
    bad = tracking.select([(~pl.col(c).is_finite()).sum() for c in floats]).row(0)
    if any(bad):
        return f"non-finite values in {dict(zip(floats, bad))}"
    return None


def _judge_refusal(name: str, file: str, files: list[str], exc: Exception, secret: str) -> tuple[str, str]:
    """(outcome, detail) of a mutant refused with ``exc``."""
    message = str(exc)
    if name in HARD_LINKS:  # refused on the scan (LandingError) or on the open file (FeedError), by path
        if file not in message or "hard link" not in message:
            return "failure", f"{file}: a hard link refused without naming it as one: {message[:300]}"
        if secret and secret in message:
            return "failure", f"{file}: the refusal of a hard link quotes the file's content: {message[:300]}"
        return "refused", f"{file}: {message}"[:300]
    if not isinstance(exc, FeedError):
        return "failure", f"{file}: {type(exc).__name__} instead of a FeedError: {message[:300]}"
    if exc.file not in files and exc.file != "fuzz":
        return "failure", f"FeedError names {exc.file!r}, not a file of {files}: {message[:300]}"
    if MUST_REFUSE.get(name, "") not in message:
        return "failure", f"{file}: refused for another reason than {MUST_REFUSE[name]!r}: {message[:300]}"
    return "refused", f"{file}: {message}"[:300]


def run_one(lake: Lake, fmt: str, base: Path, rng: random.Random, outside: Path) -> tuple[str, str, str]:
    """Land one mutant as match ``fuzz``; return (operator, outcome, detail). ``outside``: a folder outside the
    lake on the same file system (for the hard links)."""
    shutil.rmtree(Path(lake.uri) / "landing", ignore_errors=True)  # one mutant landed at a time
    target = Path(lake.uri) / "landing" / fmt / "fuzz"
    shutil.copytree(base, target)
    files = sorted(p.name for p in target.iterdir() if p.is_file())
    file = rng.choice(files)
    secret = ""
    if rng.random() < HARD_LINK_SHARE:
        name = rng.choice(HARD_LINKS)
        if name == "op_hard_link":
            secret = hard_link(target, file, outside)
    else:
        operator = rng.choice(operators_for(file))
        name = operator.__name__
        data = (target / file).read_bytes()
        (target / file).write_bytes(operator(rng, data))
    started = time.perf_counter()
    try:
        landed = find_match(lake, "fuzz")
        if name == "op_hard_link_after_scan":  # the same bytes, hashed as one name, read as one of two
            secret = hard_link(target, file, outside)
        result = read_match(lake, landed)
    except (FeedError, LandingError) as exc:
        outcome, detail = _judge_refusal(name, file, files, exc, secret)
    except Exception as exc:  # noqa: BLE001 - the point of the fuzzer
        outcome, detail = "failure", f"{file}: {type(exc).__name__}: {str(exc)[:300]} | {traceback.format_exc()[-600:]}"
    else:
        problem = check_rows(result.tracking)
        if name in MUST_REFUSE:
            problem = f"read, where it must be refused ({name})"
        outcome, detail = ("failure", f"{file}: {problem}") if problem else ("read", file)
    seconds = time.perf_counter() - started
    if seconds > MAX_SECONDS_PER_MUTANT:
        outcome, detail = "failure", f"{file}: took {seconds:.1f} s (hang?)"
    return f"{fmt}:{name}", outcome, detail


def table(by_operator: dict[str, dict[str, int]]) -> list[str]:
    """The per-operator counts as fixed-width lines (to quote as they are)."""
    width = max(len(name) for name in by_operator)
    lines = [f"{'operator':<{width}}  " + "  ".join(f"{o:>7}" for o in OUTCOMES)]
    for name, counts in by_operator.items():
        lines.append(f"{name:<{width}}  " + "  ".join(f"{counts[o]:>7}" for o in OUTCOMES))
    return lines


def fuzz(mutants: int, seed: int) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="footy-fuzz-"))
    saved = os.environ.get("FOOTY_MAX_PARQUET_ROWS")
    os.environ["FOOTY_MAX_PARQUET_ROWS"] = str(FUZZ_MAX_PARQUET_ROWS)  # the bombs stay small
    try:
        lake = Lake.from_env(str(workdir / "lake"))
        bases = _bases(workdir)
        counts: Counter = Counter()
        failures = []
        started = time.perf_counter()
        for number in range(mutants):
            rng = random.Random(seed * 1_000_003 + number)
            fmt, base = rng.choice(bases)
            operator, outcome, detail = run_one(lake, fmt, base, rng, workdir / "outside")
            counts[(operator, outcome)] += 1
            if outcome == "failure":
                failures.append(
                    {"mutant": number, "seed": seed, "base": base.name, "operator": operator, "detail": detail}
                )
        by_outcome = {o: sum(n for (_, outcome), n in counts.items() if outcome == o) for o in OUTCOMES}
        by_operator = {name: dict.fromkeys(OUTCOMES, 0) for name in OPERATOR_NAMES}  # one that never ran shows 0
        by_format = {}
        for (operator, outcome), n in sorted(counts.items()):
            by_operator[operator.split(":", 1)[1]][outcome] += n
            by_format.setdefault(operator, dict.fromkeys(OUTCOMES, 0))[outcome] += n
        return {
            "mutants": mutants,
            "seed": seed,
            "seconds": round(time.perf_counter() - started, 1),
            "outcomes": by_outcome,
            "by_operator": by_operator,
            "table": table(by_operator),
            "by_format": by_format,
            "failures": failures,
        }
    finally:
        if saved is None:
            os.environ.pop("FOOTY_MAX_PARQUET_ROWS", None)
        else:
            os.environ["FOOTY_MAX_PARQUET_ROWS"] = saved
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", type=int, default=200, help="how many mutants (default 200)")
    parser.add_argument("--seed", type=int, default=None, help="the seed (default: a new one, printed)")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 1_000_000)
    summary = fuzz(args.mutants, seed)
    print("\n".join(summary["table"]), file=sys.stderr)  # stdout stays one JSON document
    print(json.dumps(summary, indent=1))
    return 1 if summary["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
