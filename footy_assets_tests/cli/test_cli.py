"""The command line as a person uses it: help on every argument, usage errors in one line, output a person
(and a spreadsheet) can read."""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

import pytest

from footy_assets import cli
from footy_assets_tests.helpers import CLI, copy_lake, run_cli
from footy_assets_tests.seasons import same_size_change_with_old_time


def test_every_argument_has_help_and_the_description_is_plain():
    parser = cli.build_parser()
    assert "``" not in (parser.description or "")
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = [
        f"{name} {action.dest}"
        for name, p in sub.choices.items()
        for action in p._actions
        if not isinstance(action, argparse._HelpAction) and not action.help
    ]
    assert missing == []
    assert {c.dest for c in sub._choices_actions} == set(sub.choices) and all(c.help for c in sub._choices_actions)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["materialize", "--lake", "/no/such/lake"], "no lake at /no/such/lake"),
        (["sql", "SELECT 1", "--lake", "s3//bucket/x"], "looks like a mistyped URI"),
        (["sql", "SELECT 1", "--lake", "gs://bucket/x"], "unsupported lake URI"),
        (["intervals", "--match", "m", "--request", "{}", "--lake", "/no/such/lake"], "no lake at"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(argv, message):
    done = subprocess.run([*CLI, *argv], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and message in done.stderr, done.stderr


def test_sql_on_a_lake_without_tables_says_so(tmp_path, capsys):
    (tmp_path / "lake").mkdir()
    assert cli.main(["sql", "--lake", str(tmp_path / "lake"), "SELECT * FROM tracking"]) == 2
    err = capsys.readouterr().err
    assert "holds no tables yet" in err and "duckdb_indexes" not in err and err.count("\n") == 1


@pytest.mark.slow
def test_csv_encodes_nested_columns_as_json_and_keeps_integer_sums(skillcorner_lake, capsys):
    query = "SELECT match_id, periods, sum(rows) AS rows_sum, sum(frames) AS frames_sum FROM matches GROUP BY ALL"
    assert cli.main(["sql", "--lake", skillcorner_lake.uri, query, "--format", "csv"]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header == "match_id,periods,rows_sum,frames_sum"
    assert row.startswith('skillcorner_1925299,"[{""period"": 1, ""first_frame"": ') and row.endswith(",101")


@pytest.mark.slow
def test_floats_print_as_stored(skillcorner_lake, capsys):
    query = "SELECT CAST(202.64 AS FLOAT)::DOUBLE AS f, sum(x) AS s FROM (VALUES (1), (2)) AS t(x)"
    assert cli.main(["sql", "--lake", skillcorner_lake.uri, query, "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines() == ["f,s", "202.64,3"]


def test_dotenv_gives_dagster_tools_the_project_instance(tmp_path, monkeypatch):
    """make install writes .env with an absolute DAGSTER_HOME; Dagster's own CLI loader reads it from the working
    directory, so `dagster job backfill` and `dg launch` use the project's instance with no export."""
    from dagster._core.secrets.env_file import get_env_var_dict

    from footy_assets.orchestration.instance import write_dotenv

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    (tmp_path / ".env").write_text("OTHER=1\nDAGSTER_HOME=/stale/path\n")
    write_dotenv(tmp_path)
    assert get_env_var_dict(str(tmp_path)) == {"OTHER": "1", "DAGSTER_HOME": str(tmp_path / "home")}
    assert (tmp_path / "home" / "dagster.yaml").read_text().count("enabled: false") == 1  # telemetry off


def test_dotenv_keeps_its_permissions_and_its_link(tmp_path, monkeypatch):
    """A private .env (it may hold secrets) stays private; a .env linked elsewhere is written where it points."""
    from footy_assets.orchestration.instance import write_dotenv

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    real = tmp_path / "secrets" / "real.env"
    real.parent.mkdir()
    real.write_text("TOKEN=abc\n")
    real.chmod(0o600)
    (tmp_path / ".env").symlink_to(real)
    write_dotenv(tmp_path)
    assert (tmp_path / ".env").is_symlink()
    assert real.read_text() == f"TOKEN=abc\nDAGSTER_HOME={tmp_path / 'home'}\n"
    assert real.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in real.parent.iterdir()) == ["real.env"]  # no temporary file left


def test_dg_telemetry_is_off_in_the_project_settings():
    import tomllib

    from footy_assets.lake.store import PROJECT_ROOT

    settings = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["dg"]["cli"]
    assert settings["telemetry"] == {"enabled": False}


@pytest.mark.slow
def test_materialize_rehash_sees_a_same_size_change_with_its_old_time(lake, two_published, tmp_path):
    copy_lake(two_published, Path(lake.uri))  # m1 (cdf) and m2 published, their files' times as recorded
    same_size_change_with_old_time(Path(lake.uri) / "landing" / "cdf" / "m1" / "meta.json")
    home = tmp_path / "home"
    trusted = run_cli("materialize", "--workers", "1", lake=lake, home=home, timeout=300)
    assert trusted.returncode == 0 and "skip    m1 (cdf): unchanged" in trusted.stdout, trusted.stdout + trusted.stderr
    # the edit breaks meta.json, so the run itself may fail: the plan is what counts
    rehashed = run_cli("materialize", "--workers", "1", "--rehash", lake=lake, home=home, timeout=300)
    assert "1 to materialise" in rehashed.stdout and "m1 (cdf, changed)" in rehashed.stdout, rehashed.stdout


def test_intervals_help_describes_the_request(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["intervals", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    for words in (
        '"operator"',
        '"filters"',
        '"type": "frame_state"',
        '"players": "all"',
        '"teams": ["team_1"]',
        "team_possession",
        '"attacking_team": "team_1"',
        '"type": "event"',
        "team 0 (home) or 1 (away)",
        "docs/analysing.md",
    ):
        assert words in out, f"{words} not in:\n{out}"
    from footy_assets.core.metrics.intervals import FILTER_COLUMNS

    assert all(column in out for column in FILTER_COLUMNS)  # the help's list of columns is the filter's


@pytest.mark.slow
def test_json_gives_the_matches_files_and_code_versions_as_nested_objects(skillcorner_lake, capsys):
    """files, code_versions and periods in one form: nested JSON, never JSON text inside the JSON."""
    import json

    from footy_assets.chain.versions import CODE_VERSIONS

    query = "SELECT periods, files, code_versions, code_versions.tracking AS tracking_version FROM matches"
    assert cli.main(["sql", "--lake", skillcorner_lake.uri, query, "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert isinstance(row["periods"], list) and row["periods"][0]["period"] == 1
    assert row["code_versions"] == CODE_VERSIONS and row["tracking_version"] == CODE_VERSIONS["tracking"]
    assert {"tracking.jsonl", "meta.json"} <= {f["name"] for f in row["files"]}
    assert all(isinstance(f["size_bytes"], int) and len(f["sha256"]) == 64 for f in row["files"])
    # the text formats show every nested column as JSON text alike
    assert cli.main(["sql", "--lake", skillcorner_lake.uri, "SELECT files FROM matches", "--format", "csv"]) == 0
    import csv

    header, (text,) = csv.reader(capsys.readouterr().out.splitlines())
    assert header == ["files"] and json.loads(text) == row["files"]


def test_sql_help_names_every_table_a_query_can_read(capsys):
    from footy_assets.lake.sql import TABLES

    with pytest.raises(SystemExit) as done:
        cli.main(["sql", "--help"])
    assert done.value.code == 0
    named = " ".join(capsys.readouterr().out.split()).split("tables: ", 1)[1]
    assert [t for t in TABLES if t not in named] == []


def test_materialize_runs_with_the_imports_and_instance_frozen_and_hands_them_back(lake, truth, tmp_path, monkeypatch):
    """The run's collections skip what the process keeps to its end (``long_lived_setup``); when the command ends
    the frozen objects go back to the collector, so a caller that goes on (this test's process) collects them."""
    import gc

    from footy_assets_tests.helpers import land_synthetic

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    land_synthetic(lake, "footy_stats", "gc_match", truth)
    frozen_at_collections = []

    def watch(phase: str, info: dict) -> None:
        if phase == "start":
            frozen_at_collections.append(gc.get_freeze_count())

    gc.callbacks.append(watch)
    try:
        assert cli.main(["materialize", "--lake", lake.uri]) == 0
    finally:
        gc.callbacks.remove(watch)
    # collections before the instance opens (planning) find nothing frozen; from then to the end of the run, every
    # collection skips the frozen objects
    first = next((i for i, frozen in enumerate(frozen_at_collections) if frozen > 0), None)
    assert first is not None, "no collection of the run skipped frozen objects"
    assert all(frozen > 0 for frozen in frozen_at_collections[first:])
    assert gc.get_freeze_count() == 0 and gc.isenabled()
