"""A withdrawn match: the sensor drops its partition, ``footy-assets forget`` removes it, and from the lake only
when asked; other matches are untouched."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest

from footy_assets import cli
from footy_assets.lake.publish import PER_MATCH_TABLES
from footy_assets.lake.sql import run_sql
from footy_assets.orchestration.automation.sensor import scan_for_runs
from footy_assets.orchestration.partitions import MATCH_PARTITIONS_NAME
from footy_assets_tests.helpers import copy_lake, land_synthetic


def _tick(instance, lake, cursor=None):
    result = scan_for_runs(dg.build_sensor_context(instance=instance, cursor=cursor), lake)
    for request in result.dynamic_partitions_requests or []:
        if isinstance(request, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        else:
            for key in request.partition_keys:
                instance.delete_dynamic_partition(request.partitions_def_name, key)
    return result


def test_sensor_drops_the_partition_of_a_withdrawn_folder(lake, instance, truth):
    land_synthetic(lake, "footy_stats", "m1", truth.head(2000))
    land_synthetic(lake, "cdf", "m2", truth.head(2000))
    first = _tick(instance, lake)
    assert sorted(instance.get_dynamic_partitions(MATCH_PARTITIONS_NAME)) == ["m1", "m2"]
    shutil.rmtree(Path(lake.uri) / "landing" / "footy_stats" / "m1")
    second = _tick(instance, lake, first.cursor)
    deletes = [r for r in second.dynamic_partitions_requests if isinstance(r, dg.DeleteDynamicPartitionsRequest)]
    assert [list(r.partition_keys) for r in deletes] == [["m1"]]
    assert instance.get_dynamic_partitions(MATCH_PARTITIONS_NAME) == ["m2"]
    assert not second.run_requests


def test_an_empty_landing_zone_withdraws_nothing(lake, instance, truth):
    """An unmounted or emptied landing zone must not make a season disappear from the UI."""
    land_synthetic(lake, "footy_stats", "m1", truth.head(2000))
    first = _tick(instance, lake)
    shutil.rmtree(Path(lake.uri) / "landing" / "footy_stats")
    second = _tick(instance, lake, first.cursor)
    assert not [r for r in second.dynamic_partitions_requests or [] if isinstance(r, dg.DeleteDynamicPartitionsRequest)]
    assert instance.get_dynamic_partitions(MATCH_PARTITIONS_NAME) == ["m1"]


def _counts(lake, match_id: str) -> dict[str, int]:
    return {
        t: run_sql(lake, f"SELECT count(*) AS n FROM _all_{t} WHERE match_id = '{match_id}'")["n"][0]
        for t in (*PER_MATCH_TABLES, "matches")
    }


@pytest.mark.slow
def test_forget_removes_the_partition_then_explicitly_the_rows(lake, two_published, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    copy_lake(two_published, Path(lake.uri))  # m1 (cdf) and m2 (footy_stats) published
    assert cli.main(["materialize", "--lake", lake.uri]) == 0  # nothing to do: the instance learns the partitions
    m2_before = _counts(lake, "m2")
    # every table holds m1's rows but events and lineups (no event data delivered)
    assert all(n > 0 for t, n in _counts(lake, "m1").items() if t not in ("events", "lineups"))

    assert cli.main(["forget", "m1", "--lake", lake.uri]) == 2  # still landed: it would come back
    assert "landing/cdf/m1 still holds the delivery" in capsys.readouterr().err

    shutil.rmtree(Path(lake.uri) / "landing" / "cdf" / "m1")
    assert cli.main(["forget", "m1", "--lake", lake.uri]) == 0
    out = capsys.readouterr().out
    assert "partition removed from the Dagster instance" in out and "stay in the lake" in out
    with dg.DagsterInstance.get() as instance:
        assert instance.get_dynamic_partitions(MATCH_PARTITIONS_NAME) == ["m2"]
    assert run_sql(lake, "SELECT count(*) AS n FROM frame_state WHERE match_id = 'm1'")["n"][0] > 0

    assert cli.main(["forget", "m1", "--from-lake", "--lake", lake.uri]) == 0
    out = capsys.readouterr().out
    assert "rows deleted from the lake" in out and "_raw_feed/m1.json" in out
    assert set(_counts(lake, "m1").values()) == {0}
    assert _counts(lake, "m2") == m2_before  # the other match untouched
    assert not (Path(lake.uri) / "_raw_feed" / "m1.json").exists()
    assert not (Path(lake.uri) / "_pictures" / "m1").exists()
    assert (Path(lake.uri) / "_pictures" / "m2" / "frame_state.png").exists()

    assert cli.main(["forget", "m1", "--from-lake", "--lake", lake.uri]) == 2  # again: nothing left, no change
    assert "nothing to forget of 'm1'" in capsys.readouterr().err
    assert run_sql(lake, "SELECT match_id FROM matches")["match_id"].to_list() == ["m2"]


def test_forgetting_a_match_nothing_knows_is_an_unknown_id(lake, tmp_path, monkeypatch, capsys):
    """A mistyped or never landed id is exit 2 with one line, as every other unknown id; a match known to the
    instance alone, or to the lake alone, is forgotten (exit 0)."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    for extra in ([], ["--from-lake"]):
        assert cli.main(["forget", "nope_match", "--lake", lake.uri, *extra]) == 2
        captured = capsys.readouterr()
        assert captured.err.count("\n") == 1 and "nope_match" in captured.err and "nothing to forget" in captured.err
        assert "partition" not in captured.out  # no "not in the Dagster instance" report of a success

    with dg.DagsterInstance.get() as instance:  # a partition, nothing in the lake
        instance.add_dynamic_partitions(MATCH_PARTITIONS_NAME, ["m_ui"])
    assert cli.main(["forget", "m_ui", "--lake", lake.uri]) == 0
    assert "m_ui: partition removed from the Dagster instance" in capsys.readouterr().out

    record = Path(lake.uri) / "_raw_feed" / "m_lake.json"  # in the lake alone (its partition already gone)
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text("{}")
    assert cli.main(["forget", "m_lake", "--lake", lake.uri]) == 0
    assert "m_lake: its rows stay in the lake" in capsys.readouterr().out
    assert cli.main(["forget", "m_lake", "--from-lake", "--lake", lake.uri]) == 0
    assert not record.exists()
    assert cli.main(["forget", "m_lake", "--from-lake", "--lake", lake.uri]) == 2  # now nothing knows it
    assert "nothing to forget" in capsys.readouterr().err
