"""Digests of every table of a lake, column by column, so a change meant to make the chain faster can be shown to
leave its results as they were (``footy_assets_tests/chain/test_outputs_unchanged.py``).

A column's digest is taken in a canonical row order (each table sorted by all its columns, floats rounded to 1e-6 of
their unit for the sort). Integers, booleans and strings: the sha256 of their values, exact; nested values as
sorted-key JSON, hashed the same way. Floats: which rows are null (hashed, exact) and, per block of consecutive rows
in that order (``FLOAT_BLOCK_ROWS``, at most ``FLOAT_BLOCKS`` blocks), the sum of the values and of their absolute
values, compared within ``FLOAT_TOLERANCE`` of the block's absolute sum. The last bits of a float differ between
machines (the same numpy and scipy take other vector instructions on another CPU: a hash of rounded values changed on
3 M speeds), while a change of results moves a block's sums far more than that. Columns that record when, by which
code or from which delivery a row was written (``materialized_at_ms``, ``code_versions``, ``fingerprint``) are left
out.

Run ``python -m footy_assets_tests.digests`` to print the digests of the lakes the test builds, and with
``--write`` to record them as the reference (only when a change of results is intended: say why in the commit).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import polars as pl

from footy_assets.formats import synthetic
from footy_assets.lake.publish import PER_MATCH_TABLES
from footy_assets.lake.store import Lake

REFERENCE = Path(__file__).resolve().parent / "chain" / "outputs_reference.json"
# when and by which code, not what; and from which delivery: a fingerprint hashes the landed bytes, which for a
# synthetic match hold floats printed to their last bit (they differ between machines as floats do)
NOT_RESULTS = {"materialized_at_ms", "code_versions", "fingerprint"}
FULL_MATCH = synthetic.MatchSpec("full_match", half_seconds=45 * 60)  # the bench's full match (its seed)
# a short match in every format the synthetic writer lands, read by each format's own reader
SHORT_FORMATS = {
    "footy_stats": ("footy_stats", {}),
    "footy_stats_json": ("footy_stats", {"file_format": "json"}),
    "sportvu": ("sportvu", {}),
    "cdf": ("cdf", {}),
    "footy_track": ("footy_track", {}),
}
SHORT_MATCH_S = 60.0
# A block's float sums may differ by this share of its absolute sum: between machines a few rows differ by a last bit
# (6e-8 of a float32), while a row moved by a centimetre, or many by a millimetre, moves a block's sum further.
FLOAT_TOLERANCE = 1e-8
FLOAT_BLOCKS = 64
FLOAT_BLOCK_ROWS = 1000


def _digestible(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as integers or strings that compare exactly (see the module docstring)."""
    columns = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if dtype.is_float():
            columns.append((col.cast(pl.Float64).fill_nan(None) * 1e6).round().cast(pl.Int64))
        elif dtype.is_temporal():
            columns.append(col.to_physical().cast(pl.Int64))
        elif dtype.is_integer() or dtype == pl.Boolean:
            columns.append(col.cast(pl.Int64))
        elif dtype == pl.String:
            columns.append(col)
        else:  # nested: lists and structs, as JSON (few rows: matches' periods, events' related ids)
            values = [json.dumps(v, sort_keys=True, default=str) for v in frame[name].to_list()]
            columns.append(pl.Series(name, values, dtype=pl.String))
    return frame.select(columns)


def _column_digest(series: pl.Series) -> str:
    h = hashlib.sha256()
    h.update(series.is_null().to_numpy().tobytes())
    if series.dtype == pl.String:
        h.update("\x1f".join(series.fill_null("").to_list()).encode())
    else:
        h.update(series.fill_null(0).to_numpy().astype(np.int64).tobytes())
    return h.hexdigest()[:16]


def _float_digest(series: pl.Series) -> dict[str, str | list]:
    """A float column: its null rows (hashed) and its sums per block of rows (see the module docstring)."""
    values = series.cast(pl.Float64).fill_nan(None)
    nulls = hashlib.sha256(values.is_null().to_numpy().tobytes()).hexdigest()[:16]
    x = values.fill_null(0.0).to_numpy()
    blocks = np.array_split(x, max(1, min(FLOAT_BLOCKS, -(-x.size // FLOAT_BLOCK_ROWS))))
    return {"nulls": nulls, "blocks": [[float(b.sum()), float(np.abs(b).sum())] for b in blocks]}


def same_digest(reference, found) -> bool:
    """Whether a column's digest is the reference's: exactly, or for floats within ``FLOAT_TOLERANCE``."""
    if not (isinstance(reference, dict) and isinstance(found, dict)):
        return reference == found
    if reference["nulls"] != found["nulls"] or len(reference["blocks"]) != len(found["blocks"]):
        return False
    return all(
        abs(r_sum - f_sum) <= FLOAT_TOLERANCE * max(r_abs, f_abs) + 1e-9
        and abs(r_abs - f_abs) <= FLOAT_TOLERANCE * max(r_abs, f_abs) + 1e-9
        for (r_sum, r_abs), (f_sum, f_abs) in zip(reference["blocks"], found["blocks"])
    )


def table_digest(frame: pl.DataFrame) -> dict[str, str | dict]:
    """{column: digest} of one table, plus its row count under ``"(rows)"``."""
    kept = frame.drop([c for c in frame.columns if c in NOT_RESULTS])
    exact = _digestible(kept)
    if exact.height:  # the canonical row order, found on the exact forms
        rows = exact.with_row_index("_row").sort(exact.columns, nulls_last=True)["_row"]
        kept, exact = kept[rows], exact[rows]
    return {
        "(rows)": str(exact.height),  # not a column name: match_quality has a column "rows"
        **{c: _float_digest(kept[c]) if kept.schema[c].is_float() else _column_digest(exact[c]) for c in exact.columns},
    }


def lake_digests(lake: Lake) -> dict[str, dict[str, str]]:
    """{table: {column: digest}} of every per-match table of ``lake`` that exists (a local lake)."""
    out = {}
    for table in sorted(PER_MATCH_TABLES):
        path = Path(lake.uri) / table
        if path.exists():
            out[table] = table_digest(pl.read_delta(str(path)))
    return out


def land_real_samples(lake: Lake) -> None:
    """Every real vendor sample of the test suite, each in its own landing folder."""
    from footy_assets_tests.helpers import SAMPLES, land_sample

    for fmt_dir in sorted(p for p in SAMPLES.iterdir() if p.is_dir()):
        for sample in sorted(p for p in fmt_dir.iterdir() if p.is_dir()):
            if fmt_dir.name == "cdf_events":  # CDF tracking with its event data and match sheet
                shutil.copytree(sample, Path(lake.uri) / "landing" / "cdf" / sample.name)
            else:
                land_sample(lake, fmt_dir.name, sample.name)


def land_short_matches(lake: Lake) -> None:
    """One synthetic minute-long match per landing format, all from one truth."""
    spec = synthetic.MatchSpec("short", half_seconds=SHORT_MATCH_S / 2, seed=11)
    truth = synthetic.generate_truth(spec)
    for name, (fmt, kw) in SHORT_FORMATS.items():
        one = synthetic.MatchSpec(f"short_{name}", half_seconds=SHORT_MATCH_S / 2, seed=11)
        synthetic.write_match(Path(lake.uri) / "landing", fmt, one, truth=truth, **kw)


def land_full_match(lake: Lake) -> None:
    synthetic.write_match(Path(lake.uri) / "landing", "footy_stats", FULL_MATCH)


LAKES = {"real_samples": land_real_samples, "short_matches": land_short_matches, "full_match": land_full_match}


def build_digests(name: str, root: Path) -> dict[str, dict[str, str]]:
    """Materialise the lake ``name`` of ``LAKES`` at ``root`` and digest it."""
    from footy_assets_tests.helpers import materialized

    return lake_digests(materialized(root, LAKES[name]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="record the digests as the reference")
    parser.add_argument("--only", choices=sorted(LAKES), help="one lake only")
    args = parser.parse_args()
    reference = json.loads(REFERENCE.read_text()) if REFERENCE.exists() else {}
    for name in [args.only] if args.only else LAKES:
        with tempfile.TemporaryDirectory(prefix="footy_digests_") as tmp:
            reference[name] = build_digests(name, Path(tmp) / "lake")
        print(name, json.dumps(reference[name], indent=1)[:2000])
    if args.write:
        REFERENCE.write_text(json.dumps(reference, indent=1, sort_keys=True) + "\n")
        print(f"written: {REFERENCE}")


if __name__ == "__main__":
    main()
