"""``footy-assets sql`` is read-only and the ``intervals`` request is hardened: hostile input
gets exit 2 and one line, and nothing is written anywhere."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import polars as pl
import pytest

from footy_assets import cli

pytestmark = pytest.mark.slow  # the real sample materialised (once per session: skillcorner_lake)


def _tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` with its sha256: what 'nothing written' is checked against."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


HOSTILE = [
    "COPY (SELECT 1) TO '{out}/copied.csv'",
    "COPY (SELECT * FROM tracking) TO '{lake}/tracking/_delta_log/00000000000000000099.json' (FORMAT json)",
    "ATTACH '{out}/attached.db' AS other",
    "EXPORT DATABASE '{out}/exported'",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('/proc/self/environ')",
    "SELECT * FROM read_parquet('{lake}/tracking/*/*.parquet')",
    "SELECT 1; COPY (SELECT 1) TO '{out}/second.csv'",
    "SELECT 1; SELECT 2",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET enable_external_access = true",
    "PRAGMA enable_profiling",
    "CREATE TABLE t AS SELECT 1",
    "DROP VIEW tracking",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_sql_is_refused_and_writes_nothing(skillcorner_lake, tmp_path, capsys, query):
    lake_root = Path(skillcorner_lake.uri)
    before = _tree(lake_root)
    status = cli.main(["sql", "--lake", skillcorner_lake.uri, query.format(out=tmp_path, lake=lake_root)])
    err = capsys.readouterr().err
    assert status == 2
    assert len(err.strip().splitlines()) <= 3 and err.strip()
    assert list(tmp_path.iterdir()) == []
    assert _tree(lake_root) == before


def test_output_inside_the_lake_is_refused(skillcorner_lake, capsys, tmp_path):
    lake_root = Path(skillcorner_lake.uri)
    before = _tree(lake_root)
    for target in (lake_root / "tracking" / "x.csv", lake_root / "new.parquet"):
        assert cli.main(["sql", "--lake", skillcorner_lake.uri, "SELECT 1 AS a", "-o", str(target)]) == 2
        assert "inside the lake" in capsys.readouterr().err
    link = tmp_path / "link"
    os.symlink(lake_root / "matches", link)  # a link into the lake is resolved first
    assert cli.main(["sql", "--lake", skillcorner_lake.uri, "SELECT 1 AS a", "-o", str(link / "x.csv")]) == 2
    assert _tree(lake_root) == before


def test_read_only_queries_still_work(skillcorner_lake, capsys):
    for query in (
        "SELECT count(*) AS n FROM tracking",
        "WITH x AS (SELECT 1 AS a) SELECT * FROM x",
        "VALUES (1)",
        "DESCRIBE frame_state",
        "FROM matches SELECT match_id",
    ):
        assert cli.main(["sql", "--lake", skillcorner_lake.uri, query, "--format", "json"]) == 0, query
    capsys.readouterr()
    query = "SELECT count(*) AS n FROM tracking"
    assert cli.main(["sql", "--lake", skillcorner_lake.uri, query, "--format", "csv"]) == 0
    rows = pl.from_arrow(skillcorner_lake.read_match("matches", "skillcorner_1925299"))["rows"].item()
    assert capsys.readouterr().out.splitlines() == ["n", str(rows)]


@pytest.mark.parametrize(
    "request_text, message",
    [
        ('{"filters": [{"type": "frame_state", "players": ["0-1"], "column": "speed_mps", "gte": NaN}]}', "NaN"),
        (
            '{"filters": [{"type": "frame_state", "players": ["0-1"], "column": "speed_mps", "lte": Infinity}]}',
            "Infinity",
        ),
        ('{"filters": [{"type": "frame_state", "players": ["0-1"], "column": "speed_mps", "gte": 1e999}]}', "finite"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"filters": ' + "[" * 5000 + "]" * 5000 + "}", "nested too deeply"),
    ],
)
def test_hostile_interval_requests_exit_2(skillcorner_lake, capsys, request_text, message):
    status = cli.main(
        ["intervals", "--lake", skillcorner_lake.uri, "--match", "skillcorner_1925299", "--request", request_text]
    )
    err = capsys.readouterr().err
    assert status == 2, err[:300]
    assert message in err and len(err) < 1000, err[:300]


def test_a_normal_interval_request_still_answers(skillcorner_lake, capsys):
    player = pl.from_arrow(skillcorner_lake.read_match("frame_state", "skillcorner_1925299"))["player_id"][0]
    request = {
        "filters": [
            {"type": "frame_state", "players": [player], "column": "speed_mps", "lte": 50.0, "min_duration_ms": 0}
        ]
    }
    assert (
        cli.main(
            [
                "intervals",
                "--lake",
                skillcorner_lake.uri,
                "--match",
                "skillcorner_1925299",
                "--request",
                json.dumps(request),
            ]
        )
        == 0
    )
    answer = json.loads(capsys.readouterr().out)
    assert answer and {a["player_id"] for a in answer} == {player}
