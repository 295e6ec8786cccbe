"""The fast paths give what the plain ones gave: line scans, CDF through pyarrow, Delta writes
through polars Parquet and one deltalake commit, frame order in SportVU."""

import json
import random
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from footy_assets.formats.cdf import reader as cdf
from footy_assets.formats.common import FeedError, check_line_lengths, scan_lines, text_lines
from footy_assets.lake.delivery import read_match
from footy_assets.lake.landing import find_match
from footy_assets_tests.helpers import land_sample


def _cases(seed: int, count: int) -> list[bytes]:
    rng = random.Random(seed)
    fixed = [
        b"",
        b"a",
        b"a\n",
        b"a\n\nb",
        b"\n\n",
        b"  \n{}\n \r\n{}\n",
        b"x" * 100 + b"\n  \t\n" + b"y",
        "é;ü\n\nà".encode(),
        b"{}\r\n\r\n{}",
        b"\x0b",
        b"a\x0c\n",
        b" {}\n{}",
    ]
    return fixed + [bytes(rng.choice(b"ab \n\r\t\x0b\x0c{}") for _ in range(rng.randint(0, 60))) for _ in range(count)]


def test_line_numbers_are_those_of_the_non_blank_lines():
    for data in _cases(3, 400):
        expected = [i + 1 for i, line in enumerate(data.split(b"\n")) if line.strip()]
        for chunk in (3, 7, 4 << 20):  # chunk edges anywhere, and one chunk
            assert scan_lines(data, "f", chunk_bytes=chunk).tolist() == expected, data
        lines = text_lines(data, "f")
        assert list(zip(lines["line"].to_list(), lines["text"].to_list())) == [
            (i + 1, line.decode().rstrip("\r\n")) for i, line in enumerate(data.split(b"\n")) if line.strip()
        ]


def test_the_first_line_over_the_limit_is_named(monkeypatch):
    monkeypatch.setenv("FOOTY_MAX_LINE_BYTES", "10")
    rng = random.Random(5)
    for _ in range(2000):
        data = bytes(rng.choice(b"ab\n") for _ in range(rng.randint(0, 80)))
        first = next((i + 1 for i, line in enumerate(data.split(b"\n")) if len(line) > 10), None)
        try:
            check_line_lengths(data, "f")
            found = None
        except FeedError as exc:
            found = exc.line
        assert found == first, data


def test_bytes_that_are_not_utf8_are_located():
    with pytest.raises(FeedError, match=r"f.jsonl, line 2: not UTF-8 text \(byte 0xff at column 7\)"):
        scan_lines(b'{"a":1}\n{"b":"\xff"}\n', "f.jsonl")


def _read_both_ways(lake, monkeypatch, name: str):
    fast = read_match(lake, find_match(lake, name))
    monkeypatch.setattr(cdf, "_parse_with_arrow", lambda data: None)  # polars' reader, the reference
    reference = read_match(lake, find_match(lake, name))
    monkeypatch.undo()
    return fast, reference


@pytest.mark.parametrize("name", ["skillcorner_1925299", "validator_v0_2_3", "validator_v0_3_2"])
def test_cdf_through_pyarrow_equals_polars_reader(lake, monkeypatch, name):
    land_sample(lake, "cdf", name)
    fast, reference = _read_both_ways(lake, monkeypatch, name)
    assert fast.tracking.equals(reference.tracking)
    assert fast.info == reference.info
    assert fast.tracking.height > 0


def test_cdf_integer_ids_fall_back_to_polars_and_read_the_same(lake, monkeypatch):
    """pyarrow refuses a number where a string is declared; the reference reader takes it as text."""
    folder = land_sample(lake, "cdf", "validator_v0_2_3")
    path = folder / "tracking.jsonl"
    lines = path.read_text().splitlines()
    frames = [json.loads(line) for line in lines if line.strip()]
    ids = {p["id"] for f in frames for side in ("home", "away") for p in f["teams"][side]["players"]}
    numeric = {old: 9000 + i for i, old in enumerate(sorted(ids))}
    for f in frames:
        for side in ("home", "away"):
            for p in f["teams"][side]["players"]:
                p["id"] = numeric[p["id"]]
    path.write_text("\n".join(json.dumps(f) for f in frames) + "\n")
    meta = json.loads((folder / "meta.json").read_text())
    for side in ("home", "away"):
        for p in meta["teams"][side]["players"]:
            p["id"] = numeric.get(p["id"], p["id"])
    (folder / "meta.json").write_text(json.dumps(meta))
    assert cdf._parse_with_arrow(path.read_bytes()) is None
    fast, reference = _read_both_ways(lake, monkeypatch, "validator_v0_2_3")
    assert fast.tracking.equals(reference.tracking)
    assert fast.tracking.filter(pl.col("role") == "player")["track_id"].str.contains(r"^9\d{3}$").all()


def test_sportvu_keeps_each_message_in_order_ball_last(lake):
    """Objects of a message first, in the message's order, its ball last (the merge of the two must not
    interleave them)."""
    land_sample(lake, "sportvu", "statsperform_ma25")
    tracking = read_match(lake, find_match(lake, "statsperform_ma25")).tracking
    positions = (
        tracking.with_row_index("i")
        .group_by("frame_id")
        .agg(last=pl.col("i").max(), ball=pl.col("i").filter(pl.col("role") == "ball").first())
    )
    framed = positions.filter(pl.col("ball").is_not_null())
    assert framed.height > 50
    assert (framed["ball"] == framed["last"]).all()


def test_delta_write_commits_stats_and_reads_back(lake):
    """A match written as polars Parquet and one deltalake commit: polars, DuckDB and Arrow read the same rows,
    the commit's statistics are right, and rewriting the match replaces its file."""
    import duckdb

    schema = {
        "match_id": pl.String,
        "frame_id": pl.Int64,
        "speed_mps": pl.Float32,
        "player_id": pl.String,
        "fingerprint": pl.Categorical,
    }
    frame = pl.DataFrame(
        {
            "match_id": ["m1"] * 4,
            "frame_id": [3, 1, 2, 9],
            "speed_mps": [1.5, None, 7.25, 0.0],
            "player_id": ["0-1", "1-9", None, "0-1"],
            "fingerprint": ["a" * 64] * 4,
        }
    )
    first = lake.write_match("scores", "m1", frame, schema)
    lake.write_match("scores", "m2", frame.with_columns(match_id=pl.lit("m2")), schema)
    second = lake.write_match("scores", "m1", frame.with_columns(pl.col("frame_id") + 100), schema)
    assert second > first
    dt = lake.open_table("scores")
    actions = pl.DataFrame(dt.get_add_actions(flatten=True))
    assert actions.height == 2  # m1's first file was replaced
    m1 = actions.filter(pl.col("partition.match_id") == "m1").row(0, named=True)
    assert m1["num_records"] == 4
    assert (m1["min.frame_id"], m1["max.frame_id"]) == (101, 109)
    assert m1["null_count.speed_mps"] == 1 and m1["null_count.player_id"] == 1
    assert (m1["min.player_id"], m1["max.player_id"]) == ("0-1", "1-9")
    back = pl.read_delta(lake.table_uri("scores")).filter(pl.col("match_id") == "m1").sort("frame_id")
    assert back["frame_id"].to_list() == [101, 102, 103, 109]
    assert back.schema["fingerprint"] == pl.String  # a categorical is stored as a plain string
    con = duckdb.connect()
    con.register("scores", lake.dataset("scores"))  # as footy-assets sql reads the lake
    assert con.sql("select count(*), sum(frame_id) from scores where match_id = 'm2'").fetchall() == [(4, 15)]
    assert pl.from_arrow(lake.dataset("scores").to_table()).height == 8
    history = {h["version"]: h for h in dt.history()}
    assert history[second]["match_id"] == "m1"


def test_concurrent_writers_each_get_the_version_of_their_own_commit(lake):
    """Writers racing on one table (delta-rs retries the losers): each write returns the version whose commit
    is its own, found by reading the log forward from the version it started on."""
    import json
    from concurrent.futures import ThreadPoolExecutor

    schema = {"match_id": pl.String, "value": pl.Int64}
    lake.write_match("race", "m00", pl.DataFrame({"match_id": ["m00"], "value": [0]}), schema)

    def write(i: int) -> tuple[str, int]:
        match_id = f"m{i:02d}"
        return match_id, lake.write_match(
            "race", match_id, pl.DataFrame({"match_id": [match_id], "value": [i]}), schema
        )

    with ThreadPoolExecutor(max_workers=6) as pool:
        written = list(pool.map(write, range(1, 25)))
    versions = [v for _, v in written]
    assert len(set(versions)) == len(versions) and min(versions) >= 1
    log = Path(lake.table_uri("race")) / "_delta_log"
    for match_id, version in written:
        lines = (log / f"{version:020d}.json").read_text().splitlines()
        info = next(json.loads(line)["commitInfo"] for line in lines if "commitInfo" in line)
        assert info["match_id"] == match_id  # the commit of that version is this write's
    back = pl.read_delta(lake.table_uri("race"))
    assert back.height == 25 and sorted(back["value"].to_list()) == list(range(25))


def test_a_table_without_a_new_column_gains_it_through_a_merge(lake):
    old = {"match_id": pl.String, "value": pl.Int64}
    lake.write_match("grow", "m1", pl.DataFrame({"match_id": ["m1"], "value": [1]}), old)
    new = {**old, "extra": pl.Float64}
    lake.write_match("grow", "m2", pl.DataFrame({"match_id": ["m2"], "value": [2], "extra": [0.5]}), new)
    lake.write_match("grow", "m3", pl.DataFrame({"match_id": ["m3"], "value": [3], "extra": [1.5]}), new)
    back = pl.read_delta(lake.table_uri("grow")).sort("match_id")
    assert back["extra"].to_list() == [None, 0.5, 1.5]
    assert np.array_equal(back["value"].to_numpy(), [1, 2, 3])


def test_cdf_fast_path_and_reference_agree_on_mutants(lake, monkeypatch):
    """Differential fuzzing: the reader's mutations of the real CDF files (bytes flipped, lines cut, duplicated,
    swapped, hostile numbers, JSON values changed) give the same error, or the same rows, with pyarrow's parser
    as with polars' reference parser."""
    import shutil
    from pathlib import Path

    from footy_assets_tests import fuzz

    rng = random.Random(11)
    bases = [fuzz.SAMPLES / "cdf" / name for name in ("skillcorner_1925299", "validator_v0_2_3", "validator_v0_3_2")]

    def outcome():
        try:
            return "rows", read_match(lake, find_match(lake, "fuzz")).tracking
        except FeedError as exc:
            return "error", str(exc)

    fast_parse = cdf._parse_with_arrow
    outcomes = set()
    for _ in range(120):
        shutil.rmtree(Path(lake.uri) / "landing", ignore_errors=True)
        target = Path(lake.uri) / "landing" / "cdf" / "fuzz"
        shutil.copytree(rng.choice(bases), target)
        operator = rng.choice(fuzz.operators_for("tracking.jsonl"))
        (target / "tracking.jsonl").write_bytes(operator(rng, (target / "tracking.jsonl").read_bytes()))
        fast = outcome()
        monkeypatch.setattr(cdf, "_parse_with_arrow", lambda data: None)
        reference = outcome()
        monkeypatch.setattr(cdf, "_parse_with_arrow", fast_parse)
        assert fast[0] == reference[0], (operator.__name__, fast[1], reference[1])
        assert fast[1].equals(reference[1]) if fast[0] == "rows" else fast[1] == reference[1], operator.__name__
        outcomes.add(fast[0])
    assert outcomes == {"rows", "error"}  # the mutants exercised both
