"""The summary tables, computed by the SQL models over a materialised match."""

import polars as pl
import pytest

from footy_assets.assets.summaries import leading_comment, referenced_tables
from footy_assets.pipeline import materialize_lake
from footy_assets.versions import SQL_DIR

from .conftest import land_synthetic


@pytest.fixture(scope="module")
def lake_with_match(tmp_path_factory, truth):
    import dagster as dg

    from footy_assets.lake import Lake

    lake = Lake.from_env(str(tmp_path_factory.mktemp("summaries")))
    land_synthetic(lake, "sportvu", "m1", truth)
    with dg.instance_for_test() as instance:
        outcomes = materialize_lake(lake, instance, progress=lambda _: None)
    assert all(o.ok for o in outcomes), [o.error for o in outcomes]
    return lake


def _table(lake, name):
    return pl.from_arrow(lake.read_match(name, "m1"))


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


def test_counts_equal_the_intervals(lake_with_match):
    players = _table(lake_with_match, "player_match_summary")
    iv = _table(lake_with_match, "intervals")
    for definition, column in (("sprint", "sprints"), ("high_speed_run", "high_speed_runs"),
                               ("acceleration", "accelerations")):
        counts = dict(iv.filter(pl.col("definition") == definition).group_by("player_id").len().iter_rows())
        assert {r["player_id"]: r[column] for r in players.iter_rows(named=True) if r[column]} == counts
    assert players["sprints"].sum() > 0


def test_minutes_and_top_speed(lake_with_match, truth):
    players = _table(lake_with_match, "player_match_summary")
    gk = players.filter(pl.col("player_id") == "0-1").row(0, named=True)
    assert gk["minutes_tracked"] == pytest.approx(2 * 40 / 60, rel=1e-9)  # two 40-second halves, every frame
    state = _table(lake_with_match, "frame_state")
    top = state.group_by("player_id").agg(pl.col("speed_mps").max().cast(pl.Float64))
    assert dict(top.iter_rows()) == pytest.approx({r["player_id"]: r["top_speed_mps"] for r in players.iter_rows(named=True)})


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
    sql = {p.stem: p.read_text() for p in SQL_DIR.glob("*.sql")}
    assert referenced_tables(sql["player_match_summary"]) == ["frame_state", "intervals"]
    assert referenced_tables(sql["team_match_summary"]) == ["ball_state", "player_match_summary"]
    assert leading_comment(sql["team_match_summary"]).startswith("team_match_summary: one row per team")


def test_cli_intervals_and_sql(lake_with_match, capsys, tmp_path):
    import json

    from footy_assets import cli
    from footy_assets.analysis import filter_intervals

    request = {"filters": [{"type": "frame_state", "players": ["0-9", "1-9"], "column": "speed_mps", "gte": 7.0,
                            "min_duration_ms": 1000}]}
    assert cli.main(["intervals", "--lake", lake_with_match.uri, "--match", "m1", "--request", json.dumps(request)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == filter_intervals("m1", request, lake_with_match)
    iv = _table(lake_with_match, "intervals").filter(pl.col("definition") == "sprint")
    assert len(printed) == iv.filter(pl.col("player_id").is_in(["0-9", "1-9"])).height
    assert all(set(r) == {"start", "end", "label", "type", "player_id"} for r in printed)

    request_file = tmp_path / "request.json"
    request_file.write_text(json.dumps({"filters": [{"type": "team_possession", "teams": ["team_1"]}]}))
    assert cli.main(["intervals", "--lake", lake_with_match.uri, "--match", "m1", "--request", str(request_file)]) == 0
    assert json.loads(capsys.readouterr().out)[0]["type"] == "team_possession"

    for match, req, message in (
        ("nope", request, "unknown match 'nope'"),
        ("m1", {"filters": [{"type": "frame_state", "players": ["0-9"], "column": "speed_mps"}]}, "needs gte, lte"),
        ("m1", {"filters": [{"type": "frame_state", "players": ["7-7"], "column": "speed_mps", "gte": 1}]},
         "unknown player(s) 7-7"),
    ):
        assert cli.main(["intervals", "--lake", lake_with_match.uri, "--match", match, "--request", json.dumps(req)]) == 2
        assert message in capsys.readouterr().err

    query = "SELECT team, count(*) AS players FROM player_match_summary GROUP BY team ORDER BY team"
    assert cli.main(["sql", "--lake", lake_with_match.uri, query, "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[:3] == ["team,players", "0,12", "1,11"]
    out = tmp_path / "players.parquet"
    assert cli.main(["sql", "--lake", lake_with_match.uri, query, "--format", "parquet", "-o", str(out)]) == 0
    assert pl.read_parquet(out)["players"].to_list() == [12, 11]
    assert cli.main(["sql", "--lake", lake_with_match.uri, "SELECT * FROM no_such_table"]) == 2
