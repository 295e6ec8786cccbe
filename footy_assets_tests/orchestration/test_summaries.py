"""The summary tables, computed by the SQL models over a materialised match."""

import polars as pl
import pytest

from footy_assets.chain.versions import MissingModels, model_name, sql_model_files
from footy_assets.orchestration.assets.summaries import leading_comment, referenced_tables, sql_models
from footy_assets.orchestration.runner import materialize_lake
from footy_assets_tests.helpers import land_synthetic


@pytest.fixture(scope="module")
def lake_with_match(tmp_path_factory, truth):
    import dagster as dg

    from footy_assets.lake.store import Lake

    lake = Lake.from_env(str(tmp_path_factory.mktemp("summaries")))
    land_synthetic(lake, "sportvu", "m1", truth)
    with dg.instance_for_test() as instance:
        outcomes = materialize_lake(lake, instance, progress=lambda _: None)
    assert all(o.ok for o in outcomes), [o.error for o in outcomes]
    return lake


def _table(lake, name):
    return pl.from_arrow(lake.read_match(name, "m1"))


@pytest.mark.slow
def test_zone_distances_add_up_to_the_total(lake_with_match):
    players = _table(lake_with_match, "player_match_summary")
    zones = [c for c in players.columns if c.startswith("distance_") and c.endswith("_mps_m")]
    assert len(zones) == 5
    total = players.select(pl.sum_horizontal(zones)).to_series()
    assert ((total - players["distance_m"]).abs() < 1e-6 * players["distance_m"] + 1e-6).all()
    state = _table(lake_with_match, "frame_state")
    expected = state.group_by("player_id").agg(pl.col("distance_m").sum())
    joined = players.join(expected, on="player_id")
    assert joined.height == players.height
    assert ((joined["distance_m"] - joined["distance_m_right"]).abs() < 1e-3).all()


@pytest.mark.slow
def test_counts_equal_the_intervals(lake_with_match):
    players = _table(lake_with_match, "player_match_summary")
    iv = _table(lake_with_match, "intervals")
    for definition, column in (
        ("sprint", "sprints"),
        ("high_speed_run", "high_speed_runs"),
        ("acceleration", "accelerations"),
    ):
        counts = dict(iv.filter(pl.col("definition") == definition).group_by("player_id").len().iter_rows())
        assert {r["player_id"]: r[column] for r in players.iter_rows(named=True) if r[column]} == counts
    assert players["sprints"].sum() > 0


@pytest.mark.slow
def test_minutes_and_top_speed(lake_with_match, truth):
    players = _table(lake_with_match, "player_match_summary")
    gk = players.filter(pl.col("player_id") == "0-1").row(0, named=True)
    assert gk["minutes_tracked"] == pytest.approx(2 * 40 / 60, rel=1e-9)  # two 40-second halves, every frame
    state = _table(lake_with_match, "frame_state")
    top = state.group_by("player_id").agg(pl.col("speed_mps").max().cast(pl.Float64))
    assert dict(top.iter_rows()) == pytest.approx(
        {r["player_id"]: r["top_speed_mps"] for r in players.iter_rows(named=True)}
    )


@pytest.mark.slow
def test_team_summary_sums_players_and_possession(lake_with_match):
    players = _table(lake_with_match, "player_match_summary")
    teams = _table(lake_with_match, "team_match_summary").sort("team")
    assert teams["team"].to_list() == [0, 1]
    sums = players.group_by("team").agg(pl.col("distance_m").sum(), pl.col("sprints").sum()).sort("team")
    assert teams["sprints"].to_list() == sums["sprints"].to_list()
    assert (teams["distance_m"] - sums["distance_m"]).abs().max() < 1e-6
    assert teams["possession_share"].sum() == pytest.approx(1.0)
    ball = _table(lake_with_match, "ball_state")
    home = ball.filter(pl.col("possession_team").is_not_null())["possession_team"]
    assert teams["possession_share"][0] == pytest.approx(float((home == 0).mean()))


def test_sql_models_declare_their_dependencies():
    sql = {model_name(f): f.read_text() for f in sql_model_files()}
    assert referenced_tables(sql["player_period_summary"]) == ["frame_state", "intervals"]
    assert referenced_tables(sql["player_match_summary"]) == ["lineups", "player_period_summary"]
    assert referenced_tables(sql["team_match_summary"]) == ["ball_state", "player_match_summary"]
    assert leading_comment(sql["team_match_summary"]).startswith("team_match_summary: one row per team")


def test_a_models_dependencies_are_its_tables_not_its_ctes_and_sqlglot_agrees():
    import sqlglot
    from sqlglot import exp

    queries = [
        "WITH a AS (SELECT * FROM b) SELECT * FROM a JOIN c USING (x) WHERE y IN (SELECT y FROM d)",
        "SELECT count(*) FROM frame_state WHERE match_id = $match_id",
        *(f.read_text() for f in sql_model_files()),
    ]
    for query in queries:  # DuckDB's parser and sqlglot's agree on every model's tables
        tree = sqlglot.parse_one(query, read="duckdb")
        expected = sorted({t.name for t in tree.find_all(exp.Table)} - {c.alias for c in tree.find_all(exp.CTE)})
        assert referenced_tables(query) == expected
    assert referenced_tables(queries[0]) == ["b", "c", "d"]
    with pytest.raises(ValueError, match="not a query DuckDB can parse"):
        referenced_tables("SELEC nothing FROM")


def test_models_come_from_the_package_and_none_is_an_error(tmp_path):
    """The models are package data (found wherever the package is installed); a folder without any is refused
    rather than giving no summary tables."""
    assert [m.name for m in sql_models()] == ["player_period_summary", "player_match_summary", "team_match_summary"]
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(MissingModels, match="no SQL models"):
        sql_models(tmp_path)
    with pytest.raises(MissingModels, match="no SQL models"):
        sql_models(tmp_path / "missing")
    (tmp_path / "one.sql").write_text("-- one: a model\nSELECT 1 AS x FROM tracking")
    assert [(m.name, m.deps) for m in sql_models(tmp_path)] == [("one", ("tracking",))]


@pytest.mark.slow
def test_cli_intervals_and_sql(lake_with_match, capsys, tmp_path):
    import json

    from footy_assets import cli
    from footy_assets.lake.filter import filter_intervals

    request = {
        "filters": [
            {
                "type": "frame_state",
                "players": ["0-9", "1-9"],
                "column": "speed_mps",
                "gte": 7.0,
                "min_duration_ms": 1000,
            }
        ]
    }
    assert (
        cli.main(["intervals", "--lake", lake_with_match.uri, "--match", "m1", "--request", json.dumps(request)]) == 0
    )
    printed = json.loads(capsys.readouterr().out)
    assert printed == filter_intervals("m1", request, lake_with_match)
    iv = _table(lake_with_match, "intervals").filter(pl.col("definition") == "sprint")
    assert len(printed) == iv.filter(pl.col("player_id").is_in(["0-9", "1-9"])).height
    assert all(
        set(r)
        == {
            "start",
            "end",
            "label",
            "type",
            "player_id",
            "team",
            "period",
            "period_start",
            "start_in_period",
            "end_in_period",
            "match_minute",
        }
        for r in printed
    )
    by_start = {(r["player_id"], round(r["start"], 3)): r for r in printed}
    for row in iv.filter(pl.col("player_id").is_in(["0-9", "1-9"])).iter_rows(named=True):
        answer = by_start[(row["player_id"], round(row["start_s"], 3))]
        assert answer["team"] == row["team"] and answer["period"] == row["period"]
        assert answer["start_in_period"] == pytest.approx(row["start_period_time_s"], abs=1e-3)
        assert answer["match_minute"] == row["match_minute"]

    request_file = tmp_path / "request.json"
    request_file.write_text(json.dumps({"filters": [{"type": "team_possession", "teams": ["team_1"]}]}))
    assert cli.main(["intervals", "--lake", lake_with_match.uri, "--match", "m1", "--request", str(request_file)]) == 0
    assert json.loads(capsys.readouterr().out)[0]["type"] == "team_possession"

    for match, req, message in (
        ("nope", request, "unknown match 'nope'"),
        ("m1", {"filters": [{"type": "frame_state", "players": ["0-9"], "column": "speed_mps"}]}, "needs gte, lte"),
        (
            "m1",
            {"filters": [{"type": "frame_state", "players": ["7-7"], "column": "speed_mps", "gte": 1}]},
            "unknown player(s) 7-7",
        ),
    ):
        assert (
            cli.main(["intervals", "--lake", lake_with_match.uri, "--match", match, "--request", json.dumps(req)]) == 2
        )
        assert message in capsys.readouterr().err

    query = "SELECT team, count(*) AS players FROM player_match_summary GROUP BY team ORDER BY team"
    assert cli.main(["sql", "--lake", lake_with_match.uri, query, "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[:3] == ["team,players", "0,12", "1,11"]
    out = tmp_path / "players.parquet"
    assert cli.main(["sql", "--lake", lake_with_match.uri, query, "--format", "parquet", "-o", str(out)]) == 0
    assert pl.read_parquet(out)["players"].to_list() == [12, 11]
    assert cli.main(["sql", "--lake", lake_with_match.uri, "SELECT * FROM no_such_table"]) == 2


@pytest.mark.slow
def test_clock_within_the_period(lake_with_match):
    """The second half starts 15 min after the first ends (synthetic break): its clock restarts at 0 and its
    match minutes at 45."""
    state = _table(lake_with_match, "frame_state")
    starts = (
        state.group_by("period")
        .agg(
            pl.col("timestamp_ms").min(),
            pl.col("period_time_s").min(),
            pl.col("match_minute").min(),
            last_minute=pl.col("match_minute").max(),
        )
        .sort("period")
    )
    assert starts["timestamp_ms"].to_list() == [0, 40_000 + 15 * 60_000]
    assert starts["period_time_s"].to_list() == [0.0, 0.0]
    assert starts["match_minute"].to_list() == [0, 45] and starts["last_minute"].to_list() == [0, 45]
    clock = state["timestamp_ms"] - (state["period_time_s"].cast(pl.Float64) * 1000).round(0).cast(pl.Int64)
    assert set(clock.unique().to_list()) == {0, 40_000 + 15 * 60_000}
    iv = _table(lake_with_match, "intervals")
    assert ((iv["start_s"] - iv["period_start_s"] - iv["start_period_time_s"]).abs() < 1e-6).all()
    assert ((iv["end_period_time_s"] - iv["start_period_time_s"] - iv["duration_ms"] / 1000).abs() < 1e-6).all()
    assert set(iv.filter(pl.col("period") == 2)["match_minute"].unique().to_list()) == {45}


@pytest.mark.slow
def test_period_summary_roles_and_minutes_on_the_pitch(lake_with_match):
    """Home #9 goes off and #14 comes on half-way through the 40-second second half (synthetic truth)."""
    periods = _table(lake_with_match, "player_period_summary")
    players = _table(lake_with_match, "player_match_summary")
    assert periods.group_by("player_id").len().filter(pl.col("len") > 2).height == 0
    keepers = players.filter(pl.col("role") == "goal_keeper")["player_id"].sort().to_list()
    assert keepers == ["0-1", "1-1"]
    sub_on = periods.filter(pl.col("player_id") == "0-14").row(0, named=True)
    assert sub_on["period"] == 2 and sub_on["on_period_time_s"] == pytest.approx(20.0, abs=0.05)
    assert sub_on["minutes_played"] == pytest.approx(20 / 60, abs=0.002)
    off = periods.filter((pl.col("player_id") == "0-9") & (pl.col("period") == 2)).row(0, named=True)
    assert off["off_period_time_s"] == pytest.approx(20.0, abs=0.05)
    nine = players.filter(pl.col("player_id") == "0-9").row(0, named=True)
    assert nine["minutes_played"] == pytest.approx(60 / 60, abs=0.002) and nine["periods"] == 2
    six = players.filter(pl.col("player_id") == "0-6").row(0, named=True)  # a one-second drop-out in period 1
    assert six["minutes_played"] == pytest.approx(80 / 60, abs=0.002)
    assert six["minutes_tracked"] == pytest.approx(79 / 60, abs=0.002)
    summed = periods.group_by("player_id").agg(pl.col("distance_m", "sprints", "minutes_played").sum())
    joined = players.join(summed, on="player_id")
    assert ((joined["distance_m"] - joined["distance_m_right"]).abs() < 1e-6).all()
    assert (joined["sprints"] == joined["sprints_right"]).all()


@pytest.mark.slow
def test_models_read_a_match_the_same_from_its_parquet_files_and_from_the_arrow_dataset(lake_with_match, tmp_path):
    """On a local lake DuckDB reads the match's current Parquet files itself (less memory than an Arrow
    dataset); the rows are the dataset's. Files missing a column of the table (written before it was added)
    go through the dataset, which gives the column as null."""
    import duckdb

    from footy_assets.lake.publish import published_fingerprint
    from footy_assets.lake.store import Lake
    from footy_assets.orchestration.assets.summaries import register_match_rows

    lake = lake_with_match
    fingerprint = published_fingerprint(lake, "m1")
    for table in ("frame_state", "intervals", "ball_state"):
        con = duckdb.connect()
        assert register_match_rows(con, lake, table, "m1", fingerprint)
        assert (
            "read_parquet"
            in con.execute(f"SELECT sql FROM duckdb_views() WHERE view_name = '{table}'").fetchall()[0][0]
        )
        native = con.sql(f"SELECT * FROM {table} WHERE match_id = 'm1'").pl()
        reference = duckdb.connect()
        reference.register(table, lake.dataset(table))
        via_dataset = reference.sql(f"SELECT * FROM {table} WHERE match_id = 'm1'").pl()
        assert native.height == via_dataset.height > 0
        columns = sorted(native.columns)
        assert columns == sorted(via_dataset.columns)
        key = [c for c in ("frame_id", "player_id", "definition", "first_frame_id") if c in columns]
        assert (
            native.select(columns)
            .sort(key)
            .equals(via_dataset.select(columns).with_columns(pl.col("match_id").cast(pl.String)).sort(key))
        )
    assert not register_match_rows(duckdb.connect(), lake, "no_such_table", "m1", fingerprint)

    # a table whose stored file lacks a column the table has now: the dataset fills it with null
    old = Lake.from_env(str(tmp_path / "old"))
    old.write_delivery("t", "m1", "f1", pl.DataFrame({"match_id": ["m1"], "a": [1]}))
    old.write_delivery("t", "m2", "f2", pl.DataFrame({"match_id": ["m2"], "a": [2], "b": ["x"]}))
    con = duckdb.connect()
    assert register_match_rows(con, old, "t", "m1", "f1")
    assert con.sql("SELECT a, b FROM t WHERE match_id = 'm1'").fetchall() == [(1, None)]
