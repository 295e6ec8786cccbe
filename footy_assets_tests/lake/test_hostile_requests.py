"""Hostile requests: `footy-assets sql` bounded in time, memory and temporary files
(in a private folder, never the caller's), errors without the home directory, a read-only PIVOT run; malformed
`intervals` requests refused with exit 2 and one line naming the field."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from footy_assets import cli
from footy_assets.lake.sql import QueryRefused, QueryStopped, SqlLimits, SqlLimitsInvalid, run_sql
from footy_assets.lake.store import Lake
from footy_assets_tests.helpers import run_cli

ROOT = Path(__file__).resolve().parents[2]


def _cli(args: list[str], cwd: Path, timeout: float = 60, **env) -> subprocess.CompletedProcess:
    """footy-assets in a fresh process; ``timeout`` bounds the test, the query's own timeout must come first."""
    return run_cli(*args, env={"PYTHONPATH": str(ROOT), **env}, timeout=timeout, cwd=cwd)


@pytest.fixture
def empty_lake(tmp_path) -> Lake:
    (tmp_path / "lake").mkdir()
    return Lake.from_env(str(tmp_path / "lake"))


# -- time -----------------------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize(
    "query",
    [
        "SELECT count(*) FROM range(1000000000000)",
        "SELECT count(*) FROM range(100000) a, range(100000) b, range(100000) c",  # a three-way cross join
        "SELECT range FROM range(1000000000000) WHERE range < 0",  # stopped while the result streams
    ],
)
def test_a_query_is_stopped_by_its_timeout(tmp_path, empty_lake, query):
    done = _cli(["sql", "--lake", empty_lake.uri, query], cwd=tmp_path, timeout=60, FOOTY_SQL_TIMEOUT_S="1")
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        "query stopped: the query ran past its timeout of 1 s (FOOTY_SQL_TIMEOUT_S) and was stopped\n"
    ), done.stderr


# -- memory and temporary files ------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_query_is_stopped_by_its_memory_limit(tmp_path, empty_lake):
    query = "SELECT length(string_agg('xxxxxxxxxx', '')) FROM range(300000000)"  # 3 GB of text
    done = _cli(["sql", "--lake", empty_lake.uri, query], cwd=tmp_path, timeout=120, FOOTY_SQL_MEMORY_LIMIT="200MB")
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    stopped = "query stopped: the query needs memory past FOOTY_SQL_MEMORY_LIMIT 200MB"
    assert done.stderr.startswith(stopped), done.stderr


def test_the_default_memory_limit_is_set(empty_lake):
    from footy_assets.lake.sql import connect

    with connect(empty_lake, {}, SqlLimits()) as con:
        assert con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0] in ("1.8 GiB", "1.9 GiB")
        with pytest.raises(Exception, match="lock"):
            con.execute("SET memory_limit = '100GB'")


def test_a_result_larger_than_the_memory_limit_is_stopped(empty_lake):
    with pytest.raises(QueryStopped, match="the result is larger than the memory limit"):
        run_sql(empty_lake, "SELECT range FROM range(100000000)", SqlLimits(memory_limit="100MB"))


def test_spilling_goes_to_a_private_bounded_folder_never_the_working_directory(tmp_path, empty_lake, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    private = tmp_path / "private_tmp"
    private.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("TMPDIR", str(private))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # TMPDIR read again
    query = "SELECT range, random() AS r FROM range(20000000) ORDER BY r"  # a sort that spills
    with pytest.raises(QueryStopped, match="temporary files past FOOTY_SQL_TEMP_LIMIT 20MB"):
        run_sql(empty_lake, query, SqlLimits(memory_limit="64MB", temp_limit="20MB"))
    assert list(work.iterdir()) == []  # no <cwd>/.tmp
    assert list(private.iterdir()) == []  # the private folder is removed with what was spilled
    assert run_sql(empty_lake, "SELECT count(*) AS n FROM range(1000)", SqlLimits(memory_limit="64MB"))["n"][0] == 1000


@pytest.mark.parametrize(
    "env, message",
    [
        ({"FOOTY_SQL_TIMEOUT_S": "soon"}, "FOOTY_SQL_TIMEOUT_S must be a number of seconds above 0, got 'soon'"),
        ({"FOOTY_SQL_TIMEOUT_S": "0"}, "FOOTY_SQL_TIMEOUT_S must be"),
        ({"FOOTY_SQL_TIMEOUT_S": "nan"}, "FOOTY_SQL_TIMEOUT_S must be"),
        ({"FOOTY_SQL_MEMORY_LIMIT": "lots"}, "FOOTY_SQL_MEMORY_LIMIT must be a size"),
        ({"FOOTY_SQL_MEMORY_LIMIT": "10B"}, "FOOTY_SQL_MEMORY_LIMIT must be a size"),
        ({"FOOTY_SQL_TEMP_LIMIT": "-1GB"}, "FOOTY_SQL_TEMP_LIMIT must be a size"),
    ],
)
def test_a_bad_bound_is_one_line_and_exit_2(tmp_path, empty_lake, env, message):
    done = _cli(["sql", "--lake", empty_lake.uri, "SELECT 1"], cwd=tmp_path, **env)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and message in done.stderr, done.stderr


def test_limits_from_env(monkeypatch):
    monkeypatch.setenv("FOOTY_SQL_TIMEOUT_S", "2.5")
    monkeypatch.setenv("FOOTY_SQL_MEMORY_LIMIT", "512 MiB")
    monkeypatch.delenv("FOOTY_SQL_TEMP_LIMIT", raising=False)
    assert SqlLimits.from_env() == SqlLimits(2.5, "512MiB", "4GB")
    monkeypatch.setenv("FOOTY_SQL_TIMEOUT_S", "-3")
    with pytest.raises(SqlLimitsInvalid):
        SqlLimits.from_env()


# -- the home directory ---------------------------------------------------------------------------------------
@pytest.mark.slow
def test_errors_do_not_reveal_the_home_directory(tmp_path, skillcorner_lake):
    home = tmp_path / "home" / "someone"
    (home / "data").mkdir(parents=True)
    (home / "data" / "x.csv").write_text("a\n1\n")
    query = f"SELECT * FROM read_csv('{home}/data/x.csv')"
    done = _cli(["sql", "--lake", skillcorner_lake.uri, query], cwd=home, HOME=str(home))
    assert done.returncode == 2, done.stderr
    assert str(home) not in done.stderr and "someone" not in done.stderr, done.stderr
    assert "~/data/x.csv" in done.stderr, done.stderr


# -- PIVOT ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "query",
    [
        "PIVOT (SELECT range % 3 AS a, range AS b FROM range(10)) ON a USING sum(b)",
        "PIVOT (SELECT range % 3 AS a, range AS b FROM range(10)) ON a USING sum(b); -- a comment",
        "SELECT * FROM (PIVOT (SELECT range % 3 AS a, range AS b FROM range(10)) ON a USING sum(b))",
        "WITH p AS (PIVOT (SELECT range % 3 AS a, range AS b FROM range(10)) ON a USING sum(b)) SELECT * FROM p",
    ],
)
def test_a_read_only_pivot_is_run(empty_lake, query):
    result = run_sql(empty_lake, query)
    assert result.rows() == [(18, 12, 15)] and result.columns == ["0", "1", "2"]


@pytest.mark.slow
def test_pivot_over_a_table(skillcorner_lake):
    query = "PIVOT (SELECT period, role FROM tracking) ON role USING count(*) ORDER BY period"
    result = run_sql(skillcorner_lake, query)
    assert "ball" in result.columns and result["period"].to_list() == [1, 2]


@pytest.mark.parametrize(
    "query",
    [
        "CREATE TABLE x AS PIVOT (SELECT range % 3 AS a, range AS b FROM range(10)) ON a USING sum(b)",
        "CREATE TEMP TABLE x AS PIVOT (SELECT range % 3 AS a, range AS b FROM range(10)) ON a USING sum(b)",
        "INSERT INTO matches PIVOT (SELECT range % 3 AS a, range AS b FROM range(10)) ON a USING sum(b)",
        "COPY (PIVOT (SELECT range % 3 AS a, range AS b FROM range(10)) ON a USING sum(b)) TO 'out.csv'",
        "CREATE VIEW v AS PIVOT (SELECT range % 3 AS a FROM range(10)) ON a IN (0, 1) USING count(*)",
        "PIVOT (SELECT 1 AS a) ON a USING count(*)) AS q, (SELECT 1",  # an attempt to close the wrapping
    ],
)
def test_everything_else_around_a_pivot_is_refused(empty_lake, query, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(QueryRefused):
        run_sql(empty_lake, query)
    assert not (tmp_path / "out.csv").exists()


# -- intervals ------------------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize(
    "change, message",
    [
        ({"gte": 9, "lte": 1}, "error: filters[0]: gte 9 is above lte 1: no value can match"),
        ({"gte": 7, "gtee": 9}, "error: filters[0]: unknown key(s) 'gtee' in a frame_state filter"),
        ({"gte": 7, "min_duration_ms": 1e18}, "error: filters[0]: min_duration_ms 1e+18 is longer than any match"),
        (
            {"ball": {"type": "ball_location", "x_min": 90, "x_max": 10}},
            "error: filters[1]: x_min 90 is above x_max 10: no value can match",
        ),
    ],
)
def test_malformed_intervals_requests_exit_2_naming_the_field(skillcorner_lake, capsys, change, message):
    from footy_assets.lake.filter import filter_intervals
    from footy_assets.lake.sql import run_sql as sql

    player = sql(skillcorner_lake, "SELECT min(player_id) AS p FROM frame_state WHERE player_id LIKE '0-%'")["p"][0]
    spec = {"type": "frame_state", "players": [player], "column": "speed_mps", "gte": 0.0}
    assert filter_intervals("skillcorner_1925299", {"filters": [spec]}, skillcorner_lake)  # well-formed: answered
    filters = [spec, change["ball"]] if "ball" in change else [{**spec, **change}]
    code = cli.main(
        [
            "intervals",
            "--lake",
            skillcorner_lake.uri,
            "--match",
            "skillcorner_1925299",
            "--request",
            json.dumps({"filters": filters}),
        ]
    )
    captured = capsys.readouterr()
    assert code == 2 and captured.out == "", captured
    assert captured.err.startswith(message) and captured.err.count("\n") == 1, captured.err
