"""The fast paths give what the plain ones gave: line scans, CDF through pyarrow, Delta writes
through polars Parquet and one deltalake commit, frame order in SportVU."""

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from footy_assets.formats.cdf import reader as cdf
from footy_assets.formats.common import (
    FeedError,
    check_line_lengths,
    each_line_opens_an_object,
    scan_line_starts,
    scan_lines,
    text_lines,
)
from footy_assets.lake.delivery import read_match
from footy_assets.lake.landing import find_match
from footy_assets_tests.helpers import SAMPLES, land_sample


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


def test_line_starts_are_those_of_the_non_blank_lines_and_say_which_open_an_object():
    for data in _cases(4, 400):
        kept = [(i + 1, line) for i, line in enumerate(data.split(b"\n")) if line.strip()]
        offsets = [sum(len(line) + 1 for line in data.split(b"\n")[: number - 1]) for number, _ in kept]
        for chunk in (3, 7, 4 << 20):
            numbers, starts = scan_line_starts(data, "f", chunk_bytes=chunk)
            assert numbers.tolist() == [number for number, _ in kept] and starts.tolist() == offsets, data
        lone_return = any(
            data[i : i + 1] == b"\r" and data[i + 1 : i + 2] not in (b"\n", b"") for i in range(len(data))
        )
        expected = all(line.startswith(b"{") for _, line in kept) and not lone_return
        assert each_line_opens_an_object(data, scan_line_starts(data, "f")[1]) == expected, data


BLOCK = 1 << 16  # pyarrow's block size in the child below: the sample (170 kB) is three blocks


def _first_line(lines: list[str], text: str) -> str:
    return "\n".join([text, *lines])


def _carriage_return_at_a_block_edge(lines: list[str], text: str) -> str:
    """``text`` after a carriage return that ends the first block, inside a line that begins with ``{``: pyarrow
    ends lines at ``\r`` too, so its second block begins with ``text``."""
    data = "\n".join(lines)
    end = data.rfind("\n", 0, BLOCK)
    inserted = "\r" + text
    return data[:end] + inserted + " " * (BLOCK - end - len(inserted) + 8) + data[end:]


@pytest.mark.parametrize(
    ("build", "text", "line"),
    [
        *[(_first_line, text, 1) for text in ("null", "null\n{}", "[]", "5", '"frame"', "true")],
        (_carriage_return_at_a_block_edge, "null", None),
    ],
)
def test_a_cdf_line_that_is_not_an_object_is_refused_on_its_line_not_a_crash(tmp_path, build, text, line):
    """pyarrow's JSON reader crashes the process (a segmentation fault) on a block that begins with ``null``: the
    file's first line, or a line after a carriage return at a block's edge. Such a file never reaches it. Read in a
    child process, so a crash is a failure of this test alone."""
    sample = SAMPLES / "cdf" / "skillcorner_1925299"
    lines = (sample / "tracking.jsonl").read_text().splitlines()
    (tmp_path / "tracking.jsonl").write_text(build(lines, text) + "\n")
    (tmp_path / "meta.json").write_bytes((sample / "meta.json").read_bytes())
    child = (
        "import sys\n"
        "from pathlib import Path\n"
        "from footy_assets.formats.cdf import reader\n"
        "from footy_assets.formats.common import Delivery, FeedError\n"
        "reader.ARROW_BLOCK_BYTES = int(sys.argv[2])\n"
        "folder = Path(sys.argv[1])\n"
        "files = {name: (folder / name).read_bytes() for name in ('tracking.jsonl', 'meta.json')}\n"
        "try:\n"
        "    reader.read(Delivery('m1', 'f', files))\n"
        "    print('read')\n"
        "except FeedError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run(  # lines of at most half a block: pyarrow's blocks then stay of that size
        [sys.executable, "-c", child, str(tmp_path), str(BLOCK)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "FOOTY_MAX_LINE_BYTES": str(BLOCK // 2)},
    )
    assert done.returncode == 0, f"the reading process ended with {done.returncode}: {done.stderr[-500:]}"
    expected = "expected a JSON object, found " if line == 1 else "not valid JSON"
    assert done.stdout.startswith(f"tracking.jsonl, line {line}: " if line else "tracking.jsonl, line "), done.stdout
    assert expected in done.stdout, done.stdout


def test_pyarrow_blocks_hold_the_longest_line_allowed(tmp_path):
    """A line longer than pyarrow's block is an error of pyarrow's after which the process may abort as it exits:
    its blocks are made to hold the longest line the readers allow (``FOOTY_MAX_LINE_BYTES``)."""
    sample = SAMPLES / "cdf" / "skillcorner_1925299" / "tracking.jsonl"
    lines = sample.read_text().splitlines()
    lines[5] = lines[5][:-1] + ', "padding": "' + "x" * 200_000 + '"}'  # a field the reader does not read
    (tmp_path / "tracking.jsonl").write_text("\n".join(lines) + "\n")
    child = (
        "import sys\n"
        "from footy_assets.formats.cdf import reader\n"
        "reader.ARROW_BLOCK_BYTES = 1 << 16\n"
        "table = reader._parse_with_arrow(open(sys.argv[1], 'rb').read())\n"
        "print('parsed' if table is not None else 'refused')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", child, str(tmp_path / "tracking.jsonl")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "FOOTY_MAX_LINE_BYTES": str(1 << 18)},
    )
    assert (done.returncode, done.stdout.strip()) == (0, "parsed"), done.stderr[-500:]


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


def test_a_read_once_delivery_lets_go_of_a_parsed_file(lake):
    """The lake's delivery is read once: each reader lets go of its big file's bytes as soon as it has parsed them
    (a full match's file is a few hundred MB of the read's peak); a delivery made otherwise keeps them, and a
    released file says so rather than reading as missing."""
    from footy_assets.formats import read_files
    from footy_assets.formats.common import Delivery
    from footy_assets.lake.delivery import read_delivery

    for fmt, name, big in (
        ("cdf", "validator_v0_3_2", "tracking.jsonl"),
        ("sportvu", "statsperform_ma25", "tracking.txt"),
    ):
        land_sample(lake, fmt, name)
        _, delivery = read_delivery(lake, find_match(lake, name))
        assert delivery.read_once and delivery.contents[big] is not None
        first = read_files(fmt, delivery).tracking
        assert delivery.contents[big] is None and big in delivery.names
        with pytest.raises(FeedError, match=rf"{big}: already parsed: its bytes were released"):
            delivery.read_bytes(big)
        kept = Delivery(
            name,
            delivery.fingerprint,
            {f: (Path(lake.uri) / "landing" / fmt / name / f).read_bytes() for f in delivery.names},
        )
        assert read_files(fmt, kept).tracking.equals(read_files(fmt, kept).tracking)  # read twice, same rows
        assert read_files(fmt, kept).tracking.equals(first)


def _frames_of_players(rng: random.Random, rows: int) -> pl.DataFrame:
    """Canonical-like rows: frame ids in order or not, teams 0/1/null (now and then 2), jerseys up to 30 or past
    1023, nulls, and a repeated (frame, player) or none."""
    frames = sorted(rng.randrange(0, 40) for _ in range(rows))
    if rng.random() < 0.3:
        rng.shuffle(frames)
    team = [rng.choice([0, 1, 1, 0, None]) for _ in range(rows)]
    jersey = [rng.choice([rng.randrange(0, 30), None]) for _ in range(rows)]
    if rng.random() < 0.1:
        team[rng.randrange(rows)] = 2
    if rng.random() < 0.1:
        jersey[rng.randrange(rows)] = rng.choice([1024, 2000, -1])
    frame = pl.DataFrame(
        {"frame_id": frames, "team": team, "jersey": jersey},
        schema={"frame_id": pl.Int64, "team": pl.Int8, "jersey": pl.Int16},
    )
    frame = frame.with_columns(
        player_id=pl.format("{}-{}", "team", "jersey"), x_m=pl.lit(0.0, pl.Float32), role=pl.lit("player")
    )
    # one (frame, team, jersey) at most per frame, unless this frame is to have a repeat
    if rng.random() < 0.6:
        frame = frame.unique(["frame_id", "team", "jersey"], maintain_order=True).filter(
            pl.col("team").is_null()
            | pl.col("jersey").is_null()
            | pl.struct("frame_id", "team", "jersey").is_first_distinct()
        )
    return frame


def test_the_count_of_players_per_frame_agrees_with_the_canonical_search(monkeypatch):
    """may_repeat_players never says "none" where the hashed-key search finds one (in or out of frame order,
    a repeat on either side of a slice's edge, teams and jerseys outside its range), and says "none" where a
    frame in order has no repeat."""
    from footy_assets.core import canonical

    monkeypatch.setattr(canonical, "REPEAT_SLICE_ROWS", 7)  # slices of a few frames: repeats across their edges
    rng = random.Random(17)
    said_none = 0
    for _ in range(600):
        frame = _frames_of_players(rng, rng.randint(0, 80))
        found = canonical.duplicate_players_by_key(frame).height > 0
        assert canonical.duplicate_players(frame).height == canonical.duplicate_players_by_key(frame).height
        may = canonical.may_repeat_players(frame)
        assert may or not found, frame
        if (
            not found
            and frame["frame_id"].is_sorted()
            and frame.select(
                (pl.col("team").is_between(0, 1) | pl.col("team").is_null()).all()
                & (pl.col("jersey").is_between(0, 1023) | pl.col("jersey").is_null()).all()
            ).item()
        ):
            assert not may, frame
            said_none += 1
    assert said_none > 50


def test_player_ids_taken_by_index_are_the_canonical_ones():
    from footy_assets.core import canonical
    from footy_assets.formats.common import player_id_expr

    pairs = pl.DataFrame(
        {"team": [0, 1, None, 0, 1, None, 1], "jersey": [0, 999, 7, None, 32767, None, 10]},
        schema={"team": pl.Int8, "jersey": pl.Int16},
    )
    assert pairs.select(player_id_expr()).equals(pairs.select(canonical.player_id_expr()))
    with pytest.raises(pl.exceptions.PolarsError):  # another team is an error, not a wrong id
        pairs.with_columns(team=pl.lit(2, pl.Int8)).select(player_id_expr())


@pytest.mark.parametrize(
    "message",
    [
        "1598184000150;150,1,0:0,abc,9,52.8,23.6;1,def,4,50.1,30.2;:52.0,34.0,0.5;",  # the vendor's form
        "1598184000150;150,1,0:0,abc,9,52.8,23.6;:::52.0,34.0,0.5;",  # a run of ':' before the ball
        "1598184000150;150,1,0::0,abc,9,52.8,23.6;;52.0,34.0,0.5;",  # ':' starting the first entry, ';;'
        "1598184000150;150,1,0:0,abc,9,52.8,23.6;:",  # the ball out of the tracking area
        "1598184000150;150,1,0:0,a:b,9,52.8,23.6;:52.0,34.0,0.5;",  # a ':' inside an id stays
    ],
)
def test_sportvu_plain_text_reads_as_the_regular_expressions_read_it(message):
    """A file without whitespace is cleaned with literal replacements; they give what the regular expressions
    give, ':' runs included."""
    from footy_assets.formats.common import text_lines
    from footy_assets.formats.sportvu import reader as sportvu

    data = (message + "\n" + message.replace("1598184000150;150", "1598184000190;190") + "\n").encode()
    assert sportvu._plain(data)
    lines = text_lines(data, "t.txt")
    plain = sportvu._parse_lines(lines, "t.txt", plain=True)
    regular = sportvu._parse_lines(lines, "t.txt", plain=False)
    for a, b in zip(plain, regular):
        assert a.equals(b)
    assert not sportvu._plain(data.replace(b",9,", b", 9,")) and not sportvu._plain("é".encode() + data)


def _reference_ndjson_chunks(stream, chunk_bytes, file="tracking.json"):
    """The JSON array's rows cut as the reader first did it (copies of the text, regular expressions): what the
    offsets and the in-place fast case must give."""
    import re

    from footy_assets.formats.common import max_line_bytes, strip_bom

    boundary = re.compile(rb"\}\s*,\s*\{")
    carry, rows_before, opened, closed, stripped_bom = b"", 0, False, False, False
    while True:
        block = stream.read(chunk_bytes)
        data = carry + block
        if not opened:
            if not stripped_bom:
                data, stripped_bom = strip_bom(data, file), True
            stripped = data.lstrip()
            if not stripped and block:
                carry = b""
                continue
            if not stripped.startswith(b"["):
                raise ValueError("expected a JSON array of row objects ([{...}, {...}])")
            data, opened = stripped[1:], True
        if block:
            cut = data.rfind(b"}")
            carry, data = (data[cut + 1 :], data[: cut + 1]) if cut >= 0 else (data, b"")
            if len(carry) > max_line_bytes():
                raise ValueError(f"a row object longer than {max_line_bytes():,} bytes (FOOTY_MAX_LINE_BYTES)")
        else:
            carry = b""
            tail = data.rstrip()
            if not tail.endswith(b"]"):
                raise ValueError("the JSON array is not closed with ']' (truncated file?)")
            data, closed = tail[:-1], True
        piece = data.replace(b"\n", b" ").replace(b"\r", b" ").strip().lstrip(b",").strip()
        if piece:
            ndjson = boundary.sub(b"}\n{", piece)
            yield ndjson, rows_before
            rows_before += ndjson.count(b"\n") + 1
        if closed:
            return


def _json_download(rng: random.Random) -> bytes:
    """A footy_stats JSON download written in one of the ways seen or allowed: a row a line or not, spaces or
    not, CRLF, a '},{' inside a text, a BOM, whitespace around, now and then truncated or not an array."""
    spaced, odd = rng.random() < 0.3, rng.random() < 0.2
    rows = []
    for i in range(rng.randint(0, 40)):
        role = rng.choice(["ball", "a},{b", "a}", "{"]) if odd and rng.random() < 0.2 else "player"
        row = {"timestamp": i * 40, "role": role, "x": i, "y": 1}
        rows.append(json.dumps(row, separators=(", ", ": ") if spaced else (",", ":")))
    between = ",\n" if rng.random() < 0.5 else rng.choice([",", ", ", " ,\n ", ",\r\n", "\n,", ",\n\n", ",\t"])
    doc = rng.choice(["", "\n", "  "]) + "[" + rng.choice(["", "\n", " "]) + between.join(rows)
    doc += rng.choice(["", "\n", " \n"]) + "]" + rng.choice(["", "\n", "\n\n  "])
    if rng.random() < 0.05:
        doc = doc.rstrip()[:-1]  # not closed
    if rng.random() < 0.03:
        doc = "{" + doc
    data = doc.encode()
    return (b"\xef\xbb\xbf" + data) if rng.random() < 0.1 else data


@pytest.mark.parametrize("chunk", [1, 3, 7, 64, 4096])
def test_footy_stats_rows_are_cut_as_the_regular_expressions_cut_them(chunk):
    """The JSON array cut on offsets of the file's bytes, a row a line made in place where the download is
    written that way, gives the rows, row numbers and errors of the copies and regular expressions."""
    import io

    from footy_assets.formats.footy_stats.reader import _ndjson_chunks

    def outcome(chunks):
        try:
            return [([line.strip() for line in c.split(b"\n")], before) for c, before in chunks]
        except ValueError as exc:
            return str(exc)

    rng = random.Random(chunk)
    for _ in range(300):
        doc = _json_download(rng)
        expected = outcome(_reference_ndjson_chunks(io.BytesIO(doc), chunk))
        assert outcome(_ndjson_chunks(doc, chunk)) == expected, doc
        assert outcome(_ndjson_chunks(io.BytesIO(doc), chunk)) == expected, doc


def test_cdf_positions_whose_sum_is_past_float_range_go_to_the_reference(lake):
    """A sum of positions that is not finite sends the file to polars' reader, which names the line (here
    1e308 m twice: finite values, an infinite sum, refused by the contract on the line)."""
    folder = land_sample(lake, "cdf", "skillcorner_1925299")
    path = folder / "tracking.jsonl"
    lines = path.read_text().splitlines()
    for number in (3, 4):
        doc = json.loads(lines[number - 1])
        doc["teams"]["home"]["players"][0]["x"] = 1e308
        lines[number - 1] = json.dumps(doc)
    path.write_text("\n".join(lines) + "\n")
    table = cdf._parse_with_arrow(path.read_bytes())
    assert table is not None and not cdf._entries(table).finite()
    with pytest.raises(FeedError, match=r"tracking.jsonl, line 3: x = '1e\+308' fails less_than_or_equal_to"):
        read_match(lake, find_match(lake, "skillcorner_1925299"))


def test_cdf_ids_are_looked_up_on_their_own_team_s_sheet(lake):
    """An entry's id is looked up on its own team's sheet: an id on both sheets takes the jersey of the team whose
    list it is in, and an away entry whose id is only on the home sheet is unidentified."""
    folder = land_sample(lake, "cdf", "skillcorner_1925299")
    first = json.loads((folder / "tracking.jsonl").read_text().splitlines()[0])["teams"]
    shared, away_id = first["home"]["players"][0]["id"], first["away"]["players"][0]["id"]
    meta = json.loads((folder / "meta.json").read_text())
    home = next(p for p in meta["teams"]["home"]["players"] if p["id"] == shared)
    next(p for p in meta["teams"]["away"]["players"] if p["id"] == away_id)["id"] = shared  # now on both sheets
    (folder / "meta.json").write_text(json.dumps(meta))
    tracking = read_match(lake, find_match(lake, "skillcorner_1925299")).tracking

    def identities(track_id: str) -> list[tuple]:
        rows = tracking.filter(pl.col("track_id") == track_id)
        return rows.select("team", "jersey", "player_id").unique().rows()

    assert identities(shared) == [(0, home["jersey_number"], f"0-{home['jersey_number']}")]
    assert identities(away_id) == [(1, None, None)]


def test_cdf_ids_once_per_frame_counted_or_searched_alike():
    """The count of (frame, id) pairs and the search of repeats (many ids) agree."""
    rng = random.Random(5)
    for _ in range(200):
        rows = rng.randint(1, 60)
        objects = pl.DataFrame(
            {
                "row": sorted(rng.randrange(0, 12) for _ in range(rows)),
                "code": [rng.choice([None, *range(rng.randint(1, 9))]) for _ in range(rows)],
            },
            schema={"row": pl.UInt32, "code": pl.UInt32},
        )
        ids = int(objects["code"].max() or 0) + 1
        counted = cdf._once_per_frame(objects, ids, 12)
        searched = cdf._once_per_frame(objects, ids, 1 << 40)  # frames x ids past the rows: the search
        truth = objects.drop_nulls().select(pl.struct("row", "code").is_duplicated().any().not_()).item()
        assert counted == searched == truth


def test_chunks_parsed_two_at_a_time_report_the_first_error_in_file_order():
    """Later chunks may finish (and fail) first: the error raised is the first chunk's in file order."""
    import time

    from footy_assets.formats.common import in_file_order

    def work(chunk: int) -> int:
        time.sleep(0.02 * (6 - chunk))  # the last chunks finish first
        if chunk in (2, 4):
            raise ValueError(f"chunk {chunk}")
        return chunk * 10

    assert in_file_order(lambda c: c * 10, list(range(6))) == [0, 10, 20, 30, 40, 50]
    with pytest.raises(ValueError, match="chunk 2"):
        in_file_order(work, list(range(6)))


def test_sportvu_first_bad_line_of_many_chunks_is_reported(lake, monkeypatch):
    """Chunks parsed two at a time: with bad lines in the second and the fourth chunk, the first is named."""
    from footy_assets.formats.sportvu import reader as sportvu

    monkeypatch.setattr(sportvu, "CHUNK_LINES", 5)
    folder = land_sample(lake, "sportvu", "statsperform_ma25")
    path = folder / "tracking.txt"
    lines = path.read_text().splitlines()
    lines[7] = "1598184000150;150,1,0:0,abc,9,xx,23.6;"  # line 8: chunk 2
    lines[17] = "garbage without structure"  # line 18: chunk 4
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(FeedError, match=r"tracking.txt, line 8: an object entry with a field that is not a number"):
        read_match(lake, find_match(lake, "statsperform_ma25"))


@pytest.mark.parametrize("name", ["skillcorner_1925299", "validator_v0_2_3", "validator_v0_3_2"])
def test_cdf_identity_columns_taken_by_index_are_the_per_row_ones(lake, monkeypatch, name):
    """Role, team, jersey and player_id worked out once per (kind, id, position) and taken by index equal the
    same expressions run on every row (positions given or not, ids on a sheet or not)."""
    land_sample(lake, "cdf", name)
    by_identity = read_match(lake, find_match(lake, name)).tracking
    monkeypatch.setattr(cdf, "_by_identity", lambda *args: None)
    per_row = read_match(lake, find_match(lake, name)).tracking
    assert by_identity.height > 0 and by_identity.equals(per_row)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda doc, i: doc.update(frame_id=-5 - i),  # the frame's own column
        lambda doc, i: doc["teams"]["home"]["players"][1].update(x=150.0 + i),  # an entry's
        lambda doc, i: doc["ball"].update(z=-20.0) if i else doc.update(frame_id=-1),  # one of each
    ],
    ids=["frame", "entry", "both"],
)
def test_cdf_contract_checked_per_frame_and_per_entry_names_what_every_row_would(lake, monkeypatch, mutate):
    """The contract's frame columns checked on the frames and the entries' on the entries refuse what the
    contract on every row refuses, with the same message (first bad line, count of problems)."""
    folder = land_sample(lake, "cdf", "skillcorner_1925299")
    path = folder / "tracking.jsonl"
    lines = path.read_text().splitlines()
    for i, number in enumerate((40, 12)):  # a later line first: the message names the first in the file
        doc = json.loads(lines[number - 1])
        mutate(doc, i)
        lines[number - 1] = json.dumps(doc)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(FeedError) as split:
        read_match(lake, find_match(lake, "skillcorner_1925299"))
    monkeypatch.setattr(cdf, "passes", lambda schema, frame: False)  # the contract on every row, with its frame
    with pytest.raises(FeedError) as every_row:
        read_match(lake, find_match(lake, "skillcorner_1925299"))
    assert str(split.value) == str(every_row.value)
    assert ", line 12: " in str(split.value) and "fails" in str(split.value)
