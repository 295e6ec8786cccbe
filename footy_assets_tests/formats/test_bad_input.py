"""Bad input: a clear error naming the file and line or row; nothing read outside the lake."""

import json
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from footy_assets.formats import FeedError
from footy_assets.lake.landing import LandingError, find_match, scan_landing
from footy_assets.lake.store import InvalidMatchId, check_match_id
from footy_assets_tests.helpers import land_sample, land_synthetic, read_landed


def _replace_line(path: Path, number: int, text: str) -> None:
    lines = path.read_text().splitlines()
    lines[number - 1] = text
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    "bad, what",
    [
        ("garbage without structure", "no ':'"),
        ("15.57.31.20:0,2277,-1,58.41,40.34;", "time-code"),
        ("1598184000150;150,1,0:0,abc,9,xx,23.6;", "not a number"),
        ("1598184000150;150,1,0:7,abc,9,52.8,23.6;", "team_code"),
        ("1598184000150;150,1,0:0,abc,9,52.8;", "neither an object"),
    ],
)
def test_sportvu_bad_line_names_file_and_line(lake, bad, what):
    folder = land_sample(lake, "sportvu", "statsperform_ma25")
    _replace_line(folder / "tracking.txt", 7, bad)
    with pytest.raises(FeedError) as err:
        read_landed(lake, "statsperform_ma25")
    message = str(err.value)
    assert message.startswith("tracking.txt, line 7: "), message
    assert what in message


def test_sportvu_tolerates_spaces_in_numbers(lake):
    folder = land_sample(lake, "sportvu", "statsperform_ma25")
    path = folder / "tracking.txt"
    path.write_text(path.read_text().replace(",2,30.595,", ",2, 30.595,").replace(",32,68.689", ", 32,68.689"))
    t = read_landed(lake, "statsperform_ma25").tracking
    assert t.filter(pl.col("player_id") == "0-32").height == 93 - 1


def test_footy_stats_json_bad_object_names_row(lake, truth):
    folder = land_synthetic(lake, "footy_stats", "m1", truth.head(500), file_format="json")
    path = folder / "tracking.json"
    lines = path.read_text().splitlines()
    lines[11] = lines[11].replace('"timestamp":', '"timestamp" ')  # row 10 (0-based) broken
    path.write_text("\n".join(lines))
    with pytest.raises(FeedError) as err:
        read_landed(lake, "m1")
    assert str(err.value).startswith("tracking.json, row 10: row object not valid JSON"), str(err.value)


def test_footy_stats_parquet_bad_value_names_row(lake, truth):
    folder = land_synthetic(lake, "footy_stats", "m1", truth.head(300))
    table = pq.read_table(folder / "tracking.parquet")
    roles = table["role"].to_pylist()
    roles[123] = "coach"
    pq.write_table(table.set_column(1, "role", pa.array(roles)), folder / "tracking.parquet")
    with pytest.raises(FeedError) as err:
        read_landed(lake, "m1")
    assert str(err.value).startswith("tracking.parquet, row 123: role = 'coach' fails isin"), str(err.value)


def test_footy_stats_missing_column_and_not_parquet(lake, truth):
    folder = land_synthetic(lake, "footy_stats", "m1", truth.head(300))
    table = pq.read_table(folder / "tracking.parquet").drop(["x"])
    pq.write_table(table, folder / "tracking.parquet")
    with pytest.raises(FeedError, match=r"tracking.parquet: missing column\(s\) x"):
        read_landed(lake, "m1")
    (folder / "tracking.parquet").write_text("this is not parquet")
    with pytest.raises(FeedError, match=r"tracking\.parquet: not a readable Parquet file"):
        read_landed(lake, "m1")


def test_footy_stats_duplicate_player_in_frame(lake, truth):
    folder = land_synthetic(lake, "footy_stats", "m1", truth.head(300))
    table = pq.read_table(folder / "tracking.parquet")
    pq.write_table(pa.concat_tables([table, table.slice(40, 1)]), folder / "tracking.parquet")
    with pytest.raises(FeedError, match=r"tracking.parquet, row \d+: player \d-\d+ appears twice at timestamp"):
        read_landed(lake, "m1")


def test_cdf_bad_line_and_meta(lake):
    folder = land_sample(lake, "cdf", "skillcorner_1925299")
    path = folder / "tracking.jsonl"
    lines = path.read_text().splitlines()
    lines[41] = lines[41][:200]  # line 42 cut short
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(FeedError, match=r"^tracking.jsonl, line 42: not valid JSON"):
        read_landed(lake, "skillcorner_1925299")
    meta = json.loads((folder / "meta.json").read_text())
    del meta["meta"]["tracking"]["fps"]
    (folder / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(FeedError, match=r"^meta.json: meta.tracking.fps must be a frame rate"):
        read_landed(lake, "skillcorner_1925299")


def test_cdf_unknown_period_names_line(lake):
    folder = land_sample(lake, "cdf", "skillcorner_1925299")
    path = folder / "tracking.jsonl"
    lines = path.read_text().splitlines()
    lines[4] = lines[4].replace('"first_half"', '"third_half"')
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(FeedError, match=r"^tracking.jsonl, line 5: period_name = 'third_half'"):
        read_landed(lake, "skillcorner_1925299")


def test_cdf_player_twice_in_a_frame_names_the_line(lake):
    folder = land_sample(lake, "cdf", "skillcorner_1925299")
    path = folder / "tracking.jsonl"
    lines = path.read_text().splitlines()
    frame = json.loads(lines[6])
    frame["teams"]["away"]["players"].append(dict(frame["teams"]["away"]["players"][0], x=1.0))
    lines[6] = json.dumps(frame)
    path.write_text("\n".join(lines) + "\n")
    player = frame["teams"]["away"]["players"][0]["id"]
    with pytest.raises(FeedError, match=rf"^tracking.jsonl, line 7: object '{player}' appears twice in one frame"):
        read_landed(lake, "skillcorner_1925299")


def test_cdf_sheet_giving_two_players_one_jersey_is_refused(lake):
    folder = land_sample(lake, "cdf", "skillcorner_1925299")
    meta = json.loads((folder / "meta.json").read_text())
    home = meta["teams"]["home"]["players"]
    seen = json.loads((folder / "tracking.jsonl").read_text().splitlines()[0])["teams"]["home"]["players"]
    on_pitch = {p["id"] for p in seen}
    first, second = [p for p in home if str(p["id"]) in on_pitch][:2]
    second["jersey_number"] = first["jersey_number"]
    (folder / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(FeedError, match=rf"^meta.json: two players share jersey 0-{first['jersey_number']} in frame"):
        read_landed(lake, "skillcorner_1925299")
    home.append(dict(home[0]))  # one id listed twice
    (folder / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(FeedError, match=rf"^meta.json: teams.home.players lists id '{home[0]['id']}' twice"):
        read_landed(lake, "skillcorner_1925299")


def test_cdf_repeat_search_is_exact_in_and_out_of_frame_order():
    import polars as pl

    from footy_assets.core.contracts.checks import once_per_frame

    def _some_object_twice_in_a_frame(frame: pl.DataFrame) -> bool:  # as the CDF reader asks it
        return not once_per_frame(frame.lazy(), "object_id", frame="line").collect().item()

    ordered = pl.DataFrame({"line": [1, 1, 1, 2, 2, 3], "object_id": ["a", "b", None, "a", "b", "a"]})
    assert not _some_object_twice_in_a_frame(ordered)
    assert _some_object_twice_in_a_frame(ordered.with_columns(object_id=pl.Series(["a", "b", None, "a", "a", "b"])))
    shuffled = ordered.reverse()  # out of frame order: the (line, id) pairs are counted
    assert not _some_object_twice_in_a_frame(shuffled)
    assert _some_object_twice_in_a_frame(pl.concat([shuffled, shuffled.head(1)]))
    assert not _some_object_twice_in_a_frame(ordered.filter(pl.col("object_id").is_null()))


@pytest.mark.parametrize("name", ["../etc", "a.b", "-x", "a b", "x" * 65, "", "ü"])
def test_invalid_match_ids_are_refused(name):
    with pytest.raises(InvalidMatchId):
        check_match_id(name)


def test_invalid_folder_and_ambiguous_match_are_refused(lake, truth):
    land_synthetic(lake, "footy_stats", "good", truth.head(200))
    land_synthetic(lake, "footy_stats", "bad.name", truth.head(200))
    land_synthetic(lake, "footy_stats", "twice", truth.head(200))
    land_synthetic(lake, "cdf", "twice", truth.head(200))
    scan = scan_landing(lake)
    assert set(scan.matches) == {"good"}
    assert "invalid match_id 'bad.name'" in scan.refused["footy_stats/bad.name"]
    assert "landed under more than one format" in scan.refused["twice"]
    with pytest.raises(LandingError, match="more than one format"):
        find_match(lake, "twice")
    with pytest.raises(InvalidMatchId):
        find_match(lake, "../twice")


@pytest.mark.parametrize("chunk", [1, 3, 7, 64, 1 << 20])
def test_footy_stats_json_chunking_keeps_rows_and_row_numbers(chunk):
    import io

    from footy_assets.formats.footy_stats.reader import _ndjson_chunks

    rows = [f'{{"timestamp": {i}, "role": "ball", "x": {i}, "y": 1}}' for i in range(50)]
    doc = ("\n[\n" + ",\n  ".join(rows) + "\n]\n").encode()
    chunks = list(_ndjson_chunks(io.BytesIO(doc), chunk))
    objects = [line for c, _ in chunks for line in c.split(b"\n")]
    assert [json.loads(o)["timestamp"] for o in objects] == list(range(50))
    starts = [before for _, before in chunks]
    sizes = [c.count(b"\n") + 1 for c, _ in chunks]
    assert starts == [sum(sizes[:i]) for i in range(len(sizes))]
    with pytest.raises(ValueError, match="not closed"):
        list(_ndjson_chunks(io.BytesIO(doc.rstrip()[:-1]), chunk))
