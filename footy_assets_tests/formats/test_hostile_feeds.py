"""Hostile feeds get a clear error naming the file and the line or row: truncated and malformed files, wrong JSON
types, bad encodings, NaN, infinities and numbers past float32 / int16 in every format, and the memory limits."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from footy_assets.formats import FeedError
from footy_assets.lake.delivery import read_match
from footy_assets.lake.landing import find_match
from footy_assets_tests.helpers import land_sample, land_synthetic


def _read(lake, match_id):
    return read_match(lake, find_match(lake, match_id))


def _error(lake, match_id) -> str:
    with pytest.raises(FeedError) as err:
        _read(lake, match_id)
    return str(err.value)


def _edit_jsonl(path: Path, line: int, change) -> None:
    lines = path.read_text().splitlines()
    doc = json.loads(lines[line - 1])
    change(doc)
    lines[line - 1] = json.dumps(doc, allow_nan=True)
    path.write_text("\n".join(lines) + "\n")


# -- SportVU ------------------------------------------------------------------------------------------------
def test_sportvu_last_message_cut_in_the_middle(lake):
    folder = land_sample(lake, "sportvu", "statsperform_ma25")
    text = (folder / "tracking.txt").read_text().rstrip("\n")
    (folder / "tracking.txt").write_text(text[:-4])  # the transfer stopped inside the ball's numbers
    message = _error(lake, "statsperform_ma25")
    assert message.startswith("tracking.txt, line 93: the message is cut short"), message


def test_sportvu_empty_file(lake):
    folder = land_sample(lake, "sportvu", "statsperform_ma25")
    (folder / "tracking.txt").write_text("")
    assert _error(lake, "statsperform_ma25") == "tracking.txt: is empty: no messages"


@pytest.mark.parametrize("value", ["NaN", "inf", "-inf", "1e308", "1e39"])
def test_sportvu_non_finite_coordinates(lake, value):
    folder = land_sample(lake, "sportvu", "statsperform_ma25")
    lines = (folder / "tracking.txt").read_text().splitlines()
    header, body = lines[9].split(":", 1)
    first, rest = body.split(";", 1)
    fields = first.split(",")
    fields[3] = value  # the first object's x
    lines[9] = header + ":" + ",".join(fields) + ";" + rest
    (folder / "tracking.txt").write_text("\n".join(lines) + "\n")
    message = _error(lake, "statsperform_ma25")
    assert message.startswith("tracking.txt, line 10: x ="), message


def test_sportvu_not_utf8(lake):
    folder = land_sample(lake, "sportvu", "statsperform_ma25")
    data = (folder / "tracking.txt").read_bytes().split(b"\n")
    data[4] = data[4][:20] + b"\xff\xfe" + data[4][20:]
    (folder / "tracking.txt").write_bytes(b"\n".join(data))
    assert _error(lake, "statsperform_ma25").startswith("tracking.txt, line 5: not UTF-8 text (byte 0xff at column 21)")


# -- CDF ----------------------------------------------------------------------------------------------------
def test_cdf_ball_z_past_float32(lake):
    folder = land_sample(lake, "cdf", "skillcorner_1925299")
    _edit_jsonl(folder / "tracking.jsonl", 12, lambda d: d["ball"].update(z=1e308))
    message = _error(lake, "skillcorner_1925299")
    assert message.startswith("tracking.jsonl, line 12: z = ") and "1e+308" in message, message


@pytest.mark.parametrize(
    "value, expected",
    [
        (float("nan"), "line 20: not valid JSON (NaN is not a JSON number)"),
        (float("inf"), "line 20: not valid JSON (Infinity is not a JSON number)"),
        (1e39, "line 20: x = "),  # valid JSON, past float32: the vendor contract bounds it
    ],
)
def test_cdf_non_finite_player_x(lake, value, expected):
    folder = land_sample(lake, "cdf", "skillcorner_1925299")
    _edit_jsonl(folder / "tracking.jsonl", 20, lambda d: d["teams"]["away"]["players"][2].update(x=value))
    message = _error(lake, "skillcorner_1925299")
    assert message.startswith(f"tracking.jsonl, {expected}"), message


@pytest.mark.parametrize(
    "value, expected",
    [
        ("abc", 'expected a finite number, found "abc"'),
        ([1, 2], "expected a finite number, found [1, 2]"),
        (True, "expected a finite number, found true"),
    ],
)
def test_cdf_wrong_json_type_names_line_and_path(lake, value, expected):
    folder = land_sample(lake, "cdf", "skillcorner_1925299")
    _edit_jsonl(folder / "tracking.jsonl", 33, lambda d: d["teams"]["home"]["players"][5].update(y=value))
    message = _error(lake, "skillcorner_1925299")
    assert message == f"tracking.jsonl, line 33: teams.home.players[5].y: {expected}", message


def test_cdf_meta_not_utf8(lake):
    folder = land_sample(lake, "cdf", "skillcorner_1925299")
    meta = (folder / "meta.json").read_bytes()
    (folder / "meta.json").write_bytes(meta[:50] + b"\xe9" + meta[50:])
    assert _error(lake, "skillcorner_1925299").startswith("meta.json, line 1: not UTF-8 text")


def test_cdf_meta_fps_contradicts_timestamps(lake):
    folder = land_sample(lake, "cdf", "skillcorner_1925299")
    meta = json.loads((folder / "meta.json").read_text())
    meta["meta"]["tracking"]["fps"] = 25  # the frames are 100 ms apart: 10 fps
    (folder / "meta.json").write_text(json.dumps(meta))
    message = _error(lake, "skillcorner_1925299")
    assert message == (
        "meta.json: meta.tracking.fps = 25 contradicts the timestamps of tracking.jsonl: consecutive "
        "frames are 100 ms apart (10 fps)"
    ), message


@pytest.mark.parametrize("jersey", [40000, -1, "10", 7.5, True])
def test_cdf_meta_jersey_out_of_range_or_type(lake, jersey):
    folder = land_sample(lake, "cdf", "skillcorner_1925299")
    meta = json.loads((folder / "meta.json").read_text())
    meta["teams"]["home"]["players"][0]["jersey_number"] = jersey
    (folder / "meta.json").write_text(json.dumps(meta))
    assert "jersey_number in 0..999" in _error(lake, "skillcorner_1925299")


def test_cdf_empty_tracking(lake):
    folder = land_sample(lake, "cdf", "validator_v0_3_2")
    (folder / "tracking.jsonl").write_text("\n\n")
    assert _error(lake, "validator_v0_3_2") == "tracking.jsonl: is empty: no frames"


# -- footy_stats --------------------------------------------------------------------------------------------
def test_footy_stats_json_nan_names_row(lake, truth):
    folder = land_synthetic(lake, "footy_stats", "m1", truth.head(300), file_format="json")
    text = (folder / "tracking.json").read_text()
    start = text.index('"x":', text.index("{", 200))
    end = text.index(",", start)
    (folder / "tracking.json").write_text(text[:start] + '"x": NaN' + text[end:])
    message = _error(lake, "m1")
    assert message.startswith("tracking.json, row ") and "NaN is not a JSON number" in message, message


@pytest.mark.parametrize(
    "column, value, what",
    [
        ("player_id_conf", float("nan"), "player_id_conf"),
        ("player_id_conf", float("inf"), "player_id_conf"),
        ("bbox_x", 40000, "bbox_x = 40000 is not a Int16"),
        ("x", 2**40, "x = 1099511627776 is not a Int32"),
    ],
)
def test_footy_stats_parquet_hostile_values_name_row(lake, truth, column, value, what):
    folder = land_synthetic(lake, "footy_stats", "m1", truth.head(300))
    frame = pl.read_parquet(folder / "tracking.parquet")
    dtype = pl.Float64 if isinstance(value, float) else pl.Int64
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 17)
        .then(pl.lit(value, dtype))
        .otherwise(pl.col(column).cast(dtype))
        .alias(column)
    )
    frame.write_parquet(folder / "tracking.parquet")
    message = _error(lake, "m1")
    assert message.startswith("tracking.parquet, row 17: ") and what in message, message


# -- memory limits ------------------------------------------------------------------------------------------
def test_a_line_over_the_limit_is_refused(lake, monkeypatch):
    folder = land_sample(lake, "sportvu", "statsperform_ma25")
    lines = (folder / "tracking.txt").read_text().splitlines()
    lines[40] = lines[40][:-1] + ";" * 5000 + ";"
    (folder / "tracking.txt").write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("FOOTY_MAX_LINE_BYTES", "4096")
    message = _error(lake, "statsperform_ma25")
    assert message.startswith("tracking.txt, line 41: a line of ") and "FOOTY_MAX_LINE_BYTES" in message


def test_a_file_over_the_limit_is_refused_unopened(lake, monkeypatch):
    land_sample(lake, "cdf", "skillcorner_1925299")
    monkeypatch.setenv("FOOTY_MAX_FILE_BYTES", "10000")
    message = _error(lake, "skillcorner_1925299")
    assert message.startswith("tracking.jsonl: ") and "over the limit of 10,000 bytes" in message


def test_a_json_download_without_row_boundaries_is_refused_in_bounded_memory(lake, truth, monkeypatch):
    folder = land_synthetic(lake, "footy_stats", "m1", truth.head(50), file_format="json")
    (folder / "tracking.json").write_text("[" + '"x"' * 300_000)  # one 'row' of 900 kB, never closed
    monkeypatch.setenv("FOOTY_MAX_LINE_BYTES", "65536")
    from footy_assets.formats.footy_stats import reader as footy_stats

    monkeypatch.setattr(footy_stats, "JSON_CHUNK_BYTES", 65536)
    message = _error(lake, "m1")
    assert message.startswith("tracking.json: a row object longer than 65,536 bytes"), message


# the event classes the reader's rules keep, and the ones they refuse (formats/cdf/events.py)
EVENTS_READ = (
    "op_event_unknown_person",
    "op_event_time_shift",
    "op_event_other_period",
    "op_event_versions_agree",
    "op_event_related_nowhere",
    "op_event_long_line",
    "op_sheet_drop_player",
)
EVENTS_REFUSED = (
    "op_event_duplicate_id",
    "op_event_other_team",
    "op_event_time_far",
    "op_event_unknown_period",
    "op_event_versions_contradict",
    "op_event_huge_line",
    "op_sheet_time_far",
    "op_meta_time_far",
)


@pytest.mark.slow
def test_fuzzer_200_mutants_in_a_subprocess():
    """The seeded mutation fuzzer (footy_assets_tests/fuzz.py): 200 mutants over every format and the event data,
    each one either valid canonical rows (events and lineups too, through the events step) or a one-line FeedError
    naming its file (and line, in an event file); a hang fails by the time limit. Every hostile class ran (a seed
    that skipped one would pass without testing it), every event class too, the ones nothing may read were all
    refused and the ones the event reader keeps were all read."""
    done = subprocess.run(
        [sys.executable, "-m", "footy_assets_tests.fuzz", "--mutants", "200", "--seed", "1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    summary = json.loads(done.stdout)
    assert summary["failures"] == [], json.dumps(summary["failures"][:5], indent=1)
    assert done.returncode == 0
    assert summary["outcomes"]["failure"] == 0 and sum(summary["outcomes"].values()) == 200
    assert summary["outcomes"]["refused"] > 50 and summary["outcomes"]["read"] > 10
    by_operator = summary["by_operator"]
    assert sum(sum(counts.values()) for counts in by_operator.values()) == 200
    for name in (
        "op_hard_link",
        "op_hard_link_after_scan",
        "op_parquet_bomb",
        "op_sidecar_keys",
        "op_boolean_number",
        "op_duplicate_key",
        "op_encoding",
    ):
        assert sum(by_operator[name].values()) >= 1, f"{name} never ran: " + "\n".join(summary["table"])
    for name in ("op_hard_link", "op_hard_link_after_scan", "op_parquet_bomb", "op_sidecar_keys"):
        assert by_operator[name]["read"] == 0 and by_operator[name]["refused"] >= 1, by_operator[name]
    # the event classes, each on the event bases: refused for its reason, or read, as the reader's rules say
    assert len(summary["event_classes"]) == 16
    for name in summary["event_classes"]:
        counts = by_operator[name]
        assert sum(counts.values()) >= 2, f"{name} ran {counts}: " + "\n".join(summary["table"])
        if name in EVENTS_READ:
            assert counts["read"] == sum(counts.values()), (name, counts)
        if name in EVENTS_REFUSED:
            assert counts["refused"] == sum(counts.values()), (name, counts)
    # the byte operators changed the event files too: events.jsonl and match.json, read and refused
    for file in ("events.jsonl", "match.json"):
        generic = [c for n, c in summary["by_event_file"][file].items() if n not in summary["event_classes"]]
        read, refused = sum(c["read"] for c in generic), sum(c["refused"] for c in generic)
        assert read >= 1 and refused >= 3, (file, summary["by_event_file"][file])
    assert summary["table"][0].split() == ["operator", "read", "refused", "failure"]
    assert len(summary["table"]) == len(by_operator) + 1


def test_footy_stats_second_ball_in_a_frame_names_row(lake, truth):
    folder = land_synthetic(lake, "footy_stats", "m1", truth.head(400))
    frame = pl.read_parquet(folder / "tracking.parquet")
    ball = frame.with_row_index("i").filter(pl.col("role") == "ball").head(1)
    pl.concat([frame, ball.drop("i")]).write_parquet(folder / "tracking.parquet")
    message = _error(lake, "m1")
    assert message == f"tracking.parquet, row {frame.height}: a second ball in frame 0", message


def test_sportvu_position_off_any_pitch_names_line(lake):
    folder = land_sample(lake, "sportvu", "statsperform_ma25")
    lines = (folder / "tracking.txt").read_text().splitlines()
    header, body = lines[20].split(":", 1)
    first, rest = body.split(";", 1)
    fields = first.split(",")
    fields[3] = "180.0"  # within the vendor schema's margin, 127.5 m from the centre spot once centred
    lines[20] = header + ":" + ",".join(fields) + ";" + rest
    (folder / "tracking.txt").write_text("\n".join(lines) + "\n")
    message = _error(lake, "statsperform_ma25")
    assert message.startswith("tracking.txt, line 21: position (") and "off any pitch" in message, message


def test_messages_quote_a_short_excerpt_only(lake, truth):
    folder = land_synthetic(lake, "footy_stats", "m1", truth.head(300))
    frame = pl.read_parquet(folder / "tracking.parquet")
    secret = "SECRET" * 2000
    frame.with_columns(
        player_id=pl.when(pl.int_range(pl.len()) == 5).then(pl.lit(secret)).otherwise(pl.col("player_id"))
    ).write_parquet(folder / "tracking.parquet")
    message = _error(lake, "m1")
    assert message.startswith("tracking.parquet, row 5: player_id = 'SECRETSECRET") and len(message) < 250, message


# -- Parquet that crashes a native reader ---------------------------------------------------------------------
READ_IN_CHILD = """
import sys
from pathlib import Path
from footy_assets.formats import read_files
from footy_assets.formats.common import Delivery, FeedError
folder = Path(sys.argv[2])
try:
    read_files(sys.argv[1], Delivery("m1", "f", {p.name: p.read_bytes() for p in sorted(folder.iterdir())}))
    print("read")
except FeedError as exc:
    print(exc)
"""


def _read_in_child(tmp_path: Path, fmt: str, files: dict[str, bytes]) -> str:
    """What a reader of ``fmt`` says of ``files``, read in a child process (a crash fails the test, not the run)."""
    folder = tmp_path / "delivery"
    folder.mkdir(parents=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    done = subprocess.run(
        [sys.executable, "-c", READ_IN_CHILD, fmt, str(folder)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"the reading process ended with {done.returncode}: {done.stderr[-600:]}"
    return done.stdout.strip()


def _footy_stats_parquet(rows: int, **options) -> bytes:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "timestamp": pa.array([i // 23 * 40 for i in range(rows)], pa.int64()),
            "role": ["player"] * rows,
            "player_id": ["0-1"] * rows,
            "x": pa.array([5000] * rows, pa.int32()),
            "y": pa.array([3000] * rows, pa.int32()),
        }
    )
    out = io.BytesIO()
    pq.write_table(table, out, **options)  # pyarrow writes each column chunk's size statistics
    return out.getvalue()


@pytest.mark.parametrize("change", ["a nullable column marked required", "a text column marked as integers"])
def test_a_parquet_footer_whose_statistics_contradict_its_schema_is_refused_not_a_crash(tmp_path, change):
    """pyarrow's metadata of such a column chunk throws a C++ exception nothing catches (the process aborts): the
    decompression bound is taken from the row groups' totals, and polars' reader refuses the file."""
    from footy_assets_tests.parquet_thrift import BINARY, I64, field, join_parquet, split_parquet

    body, meta = split_parquet(_footy_stats_parquet(60))
    schema = field(meta, 2)[2][2]  # FileMetaData.schema: the root, then one SchemaElement a column
    if change == "a nullable column marked required":
        repetition = field(schema[1], 3)  # timestamp's repetition_type
        assert repetition[2] == 1  # OPTIONAL
        repetition[2] = 0  # REQUIRED
    else:
        physical = field(schema[2], 1)  # role's type
        assert physical[2] == BINARY - 2  # BYTE_ARRAY (6)
        physical[2] = I64 - 4  # INT64 (2)
    said = _read_in_child(tmp_path, "footy_stats", {"tracking.parquet": join_parquet(body, meta)})
    assert said.startswith("tracking.parquet: not a readable Parquet file ("), said


def _with_first_page_values(data: bytes, column: str, count: int) -> bytes:
    """``data`` with the first data page of ``column`` declaring ``count`` values (an encoding of the same length)."""
    from footy_assets_tests.parquet_thrift import field, read_struct, split_parquet, write_struct

    _, meta = split_parquet(data)
    chunks = field(field(meta, 4)[2][2][0], 1)[2][2]  # the first row group's column chunks
    offset = next(
        field(field(c, 3)[2], 9)[2] for c in chunks if field(field(c, 3)[2], 3)[2][2] == [column.encode()]
    )  # ColumnMetaData.data_page_offset of the column
    header, end = read_struct(data, offset)
    field(field(header, 5)[2], 1)[2] = count  # PageHeader.data_page_header.num_values
    encoded = write_struct(header)
    assert len(encoded) == end - offset
    return data[:offset] + encoded + data[end:]


PLAIN_PAGES = {"compression": "none", "use_dictionary": False, "data_page_version": "1.0"}


def test_a_parquet_page_that_declares_more_values_than_it_holds_is_refused(tmp_path):
    """polars panics on it (an exception that is not an ``Exception``): the reader turns the panic into its error."""
    hostile = _with_first_page_values(_footy_stats_parquet(3000, **PLAIN_PAGES), "role", 4000)
    said = _read_in_child(tmp_path, "footy_stats", {"tracking.parquet": hostile})
    assert said.startswith("tracking.parquet: not a readable Parquet file ("), said


def test_a_parquet_page_with_a_negative_count_of_values_is_refused_not_a_crash(tmp_path):
    """polars asks for 2**61 bytes for it and aborts the process (the footer is true): the page headers are read
    first, and the count refused."""
    hostile = _with_first_page_values(_footy_stats_parquet(3000, **PLAIN_PAGES), "role", -100)
    said = _read_in_child(tmp_path, "footy_stats", {"tracking.parquet": hostile})
    assert said == "tracking.parquet: not a readable Parquet file (a page's count of values is -100, below zero)"


def test_a_parquet_page_declaring_more_rows_than_its_row_group_is_refused(tmp_path):
    hostile = _with_first_page_values(_footy_stats_parquet(3000, **PLAIN_PAGES), "x", 3001)
    said = _read_in_child(tmp_path, "footy_stats", {"tracking.parquet": hostile})
    assert said == (
        "tracking.parquet: not a readable Parquet file (column x's pages declare more values than its row group "
        "has rows)"
    )


def test_a_bomb_whose_footer_understates_its_size_is_refused_by_its_pages(tmp_path, monkeypatch):
    """The footer says each column chunk decompresses to 1,000 bytes; the pages say 2,000 bytes a value: the pages'
    own sizes count, and the file is refused before anything is decompressed."""
    from footy_assets_tests.parquet_thrift import I64, field, join_parquet, split_parquet

    rows = 2000
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "timestamp": pa.array([i // 23 * 40 for i in range(rows)], pa.int64()),
            "role": ["x" * 2000] * rows,  # 4 MB of text, a few kB compressed
            "player_id": ["0-1"] * rows,
            "x": pa.array([5000] * rows, pa.int32()),
            "y": pa.array([3000] * rows, pa.int32()),
        }
    )
    out = io.BytesIO()
    pq.write_table(table, out, compression="zstd", use_dictionary=False, write_page_index=False)
    body, meta = split_parquet(out.getvalue())
    for group in field(meta, 4)[2][2]:
        field(group, 2)[2] = 1000  # RowGroup.total_byte_size
        for chunk in field(group, 1)[2][2]:
            field(field(chunk, 3)[2], 6)[2] = 1000  # ColumnMetaData.total_uncompressed_size
    hostile = join_parquet(body, meta)
    assert len(hostile) < 100_000 and field(meta, 3)[1] == I64
    monkeypatch.setenv("FOOTY_MAX_PARQUET_BYTES", str(1 << 20))
    said = _read_in_child(tmp_path, "footy_stats", {"tracking.parquet": hostile})
    assert said.startswith("tracking.parquet: decompresses to 4,0"), said
    assert "over the limit of 1,048,576 (FOOTY_MAX_PARQUET_BYTES" in said


def test_the_parquet_layout_counts_pages_and_bytes_as_pyarrow_does(monkeypatch):
    import io

    import pyarrow.parquet as pq

    from footy_assets.formats import parquet_layout as layout_module

    data = _footy_stats_parquet(3000, **PLAIN_PAGES, row_group_size=1000, data_page_size=1024, write_batch_size=64)
    meta = pq.ParquetFile(io.BytesIO(data)).metadata
    layout = layout_module.parquet_layout(data)
    assert (layout.rows, layout.group_rows) == (3000, 3000)
    groups = [meta.row_group(i) for i in range(meta.num_row_groups)]
    assert layout.decompressed_bytes == sum(g.total_byte_size for g in groups) > 0
    assert layout.pages > 3 * 5  # three row groups of five columns, some of several pages
    monkeypatch.setattr(layout_module, "_MAX_PAGES", 10)
    with pytest.raises(layout_module.MalformedParquet, match="more than 10 pages"):
        layout_module.parquet_layout(data)


def test_the_parquet_layout_of_any_mutant_is_read_or_refused_never_another_error():
    """The footer and page headers are read in plain Python: a mutant of them (bytes flipped, set to 0x00, 0xff,
    0x80 or 0x0f, cut short) gives a layout or ``MalformedParquet``, never another exception or a hang."""
    import random

    from footy_assets.formats.parquet_layout import MalformedParquet, parquet_layout

    data = _footy_stats_parquet(3000, **PLAIN_PAGES)
    assert parquet_layout(data).rows == 3000
    rng = random.Random(5)
    outcomes = set()
    for _ in range(3000):
        mutant = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            where = rng.randrange(len(mutant))
            mutant[where] = rng.choice([0x00, 0xFF, 0x80, 0x0F, rng.randrange(256)])
        if rng.random() < 0.1:
            mutant = mutant[: rng.randrange(len(mutant))] + b"PAR1"
        try:
            parquet_layout(bytes(mutant))
            outcomes.add("read")
        except MalformedParquet:
            outcomes.add("refused")
    assert outcomes == {"read", "refused"}


def test_files_parquet_writers_make_are_not_refused_by_their_layout():
    """An empty row group (pyarrow: no data page, a dictionary page at offset 4), every category of a categorical
    column in the dictionary of a row group of one row (pyarrow, polars), a nested column, a page index."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    from footy_assets.formats.parquet_layout import parquet_layout

    written = []
    empty = pa.table({"role": pa.array([], pa.string()), "x": pa.array([], pa.int32())})
    out = io.BytesIO()
    with pq.ParquetWriter(out, empty.schema) as writer:
        writer.write_table(empty)
        writer.write_table(pa.table({"role": ["ball"], "x": pa.array([1], pa.int32())}))
    written.append(out.getvalue())
    roles = pl.DataFrame({"role": ["player", "ball", "referee"] * 3 + ["ball"], "x": list(range(10))})
    for categorical in (pl.Categorical, pl.Enum(["player", "ball", "referee"])):
        out = io.BytesIO()
        roles.with_columns(pl.col("role").cast(categorical)).write_parquet(out, row_group_size=3)
        written.append(out.getvalue())
    out = io.BytesIO()
    pq.write_table(roles.with_columns(pl.col("role").cast(pl.Categorical)).to_arrow(), out, row_group_size=3)
    written.append(out.getvalue())
    out = io.BytesIO()
    nested = pa.table({"x": pa.array(range(10), pa.int64()), "around": [[1, 2]] * 10, "at": [{"a": 1.0}] * 10})
    pq.write_table(nested, out, write_page_index=True, data_page_version="2.0")
    written.append(out.getvalue())
    for data in written:
        layout = parquet_layout(data, max_rows=1000, max_memory_bytes=1 << 20)
        assert layout.rows == pl.read_parquet(io.BytesIO(data)).height


def test_a_parquet_file_whose_values_would_not_fit_in_memory_is_refused_before_it_is_read(tmp_path, monkeypatch):
    """A value repeated compresses to nothing on disk and reads as gigabytes: 100 fixed-width values of 64 MiB
    (all null, 2 kB on disk) would take 6.7 GB. Refused from the footer's counts and the columns' widths."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = 100
    table = pa.table(
        {
            "timestamp": pa.array([i * 40 for i in range(rows)], pa.int64()),
            "role": ["player"] * rows,
            "player_id": ["0-1"] * rows,
            "x": pa.array([5000] * rows, pa.int32()),
            "y": pa.array([3000] * rows, pa.int32()),
            "blob": pa.nulls(rows, pa.binary(64 << 20)),
        }
    )
    out = io.BytesIO()
    pq.write_table(table, out)
    said = _read_in_child(tmp_path, "footy_stats", {"tracking.parquet": out.getvalue()})
    assert said.startswith("tracking.parquet: would take 6,71"), said
    assert "bytes in memory, over 4 times the limit of 1,073,741,824 (FOOTY_MAX_PARQUET_BYTES" in said


def test_a_parquet_column_read_from_its_dictionary_offset_is_walked_from_there(tmp_path):
    """polars starts a column chunk at its dictionary page's offset where there is one: a chunk whose honest pages
    sit at the data page's offset and a copy with a negative count at the dictionary page's is refused."""
    from footy_assets_tests.parquet_thrift import I64, field, join_parquet, read_struct, split_parquet, write_struct

    data = _footy_stats_parquet(3000, **PLAIN_PAGES)
    body, meta = split_parquet(data)
    chunks = field(field(meta, 4)[2][2][0], 1)[2][2]
    column = next(field(c, 3)[2] for c in chunks if field(field(c, 3)[2], 3)[2][2] == [b"role"])
    offset, size = field(column, 9)[2], field(column, 7)[2]
    header, end = read_struct(data[offset : offset + size], 0)
    field(field(header, 5)[2], 1)[2] = -100
    copy = write_struct(header) + data[offset + end : offset + size]
    column.append([11, I64, len(body)])  # dictionary_page_offset: the copy, after the honest pages
    column.sort(key=lambda f: f[0])
    hostile = join_parquet(body + copy, meta)
    said = _read_in_child(tmp_path, "footy_stats", {"tracking.parquet": hostile})
    assert said == "tracking.parquet: not a readable Parquet file (a page's count of values is -100, below zero)"


def test_a_parquet_schema_nested_deep_or_with_deep_arrow_types_is_refused_not_a_crash(tmp_path):
    """polars overflows its stack on a schema thousands of levels deep, and on Arrow type metadata (which it
    builds recursively) a thousand lists deep."""
    import base64

    import pyarrow as pa

    from footy_assets_tests.parquet_thrift import BINARY, I32, STRUCT, field, join_parquet, split_parquet

    body, meta = split_parquet(_footy_stats_parquet(60))
    root, *leaves = field(meta, 2)[2][2]
    groups = [[[4, BINARY, f"g{i}".encode()], [5, I32, 1]] for i in range(40)]  # 40 deep, one child each
    field(meta, 2)[2] = ("list", STRUCT, [root, *groups, *leaves])  # the first column at the bottom
    said = _read_in_child(tmp_path / "deep", "footy_stats", {"tracking.parquet": join_parquet(body, meta)})
    assert said == "tracking.parquet: not a readable Parquet file (its schema nests more than 16 deep)"

    lists = pa.int64()
    for _ in range(1000):
        lists = pa.list_(lists)
    arrow_schema = pa.schema([("timestamp", lists), ("role", pa.string())]).serialize().to_pybytes()
    body, meta = split_parquet(_footy_stats_parquet(60))
    for entry in field(meta, 5)[2][2]:
        if field(entry, 1)[2] == b"ARROW:schema":
            field(entry, 2)[2] = base64.b64encode(arrow_schema)
    said = _read_in_child(tmp_path / "arrow", "footy_stats", {"tracking.parquet": join_parquet(body, meta)})
    assert said == "tracking.parquet: not a readable Parquet file (its Arrow schema metadata is over 16,384 bytes)"


def test_parquet_column_chunks_that_overlap_are_refused():
    """Chunks pointing at one page would have its header read once a chunk (a 1 MB file took minutes)."""
    from footy_assets.formats.parquet_layout import MalformedParquet, parquet_layout
    from footy_assets_tests.parquet_thrift import field, join_parquet, split_parquet

    body, meta = split_parquet(_footy_stats_parquet(3000, **PLAIN_PAGES))
    chunks = field(field(meta, 4)[2][2][0], 1)[2][2]
    first = field(field(chunks[0], 3)[2], 9)[2]
    field(field(chunks[1], 3)[2], 9)[2] = first  # the second column's pages: the first's
    with pytest.raises(MalformedParquet, match="column chunks overlap"):
        parquet_layout(join_parquet(body, meta))
