"""Write-audit-publish and glitch-proof summaries, on real assets and real lakes."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl
import pytest
from scipy.signal import savgol_filter

from footy_assets.lake.matches import raw_feed_record_uri
from footy_assets.lake.publish import PER_MATCH_TABLES
from footy_assets.lake.sql import run_sql
from footy_assets.orchestration.runner import materialize_lake
from footy_assets_tests.helpers import SAMPLES, land_sample, land_synthetic, quiet

TABLES = (*PER_MATCH_TABLES, "matches")


def _snapshot(lake, match_id: str) -> dict[str, pl.DataFrame]:
    """Every table's rows of one match, in a stable order (content, not counts)."""
    out = {}
    for table in TABLES:
        rows = pl.from_arrow(lake.read_match(table, match_id))  # every delivery stored
        out[table] = rows.sort(rows.columns, nulls_last=True) if table != "matches" else rows.drop("materialized_at_ms")
    return out


def _assert_same(before: dict, after: dict) -> None:
    for table, rows in before.items():
        assert after[table].equals(rows), f"{table} changed"


@pytest.mark.slow
def test_off_pitch_redelivery_keeps_every_table(lake, instance, truth):
    land_synthetic(lake, "footy_stats", "m1", truth)
    assert all(o.ok for o in materialize_lake(lake, instance, progress=quiet))
    before = _snapshot(lake, "m1")
    assert all(before[t].height > 0 for t in ("tracking", "frame_state", "intervals", "match_quality"))
    record = lake.read_bytes(raw_feed_record_uri(lake, "m1"))
    versions = {t: lake.table_version(t) for t in TABLES}

    # the re-delivery: home #5 stands 20 m outside the touchline for 10 s
    bad = truth.with_columns(
        y=pl.when((pl.col("team") == 0) & (pl.col("jersey") == 5) & pl.col("frame").is_between(100, 350))
        .then(pl.lit(54.0))
        .otherwise(pl.col("y"))
    )
    land_synthetic(lake, "footy_stats", "m1", bad)
    lines = []
    outcomes = materialize_lake(lake, instance, progress=lines.append)
    assert [o.ok for o in outcomes] == [False]
    assert "positions_on_pitch" in outcomes[0].error and "nothing written" in outcomes[0].error
    assert "tracking.parquet" in outcomes[0].error and "0-5" in outcomes[0].error
    _assert_same(before, _snapshot(lake, "m1"))
    assert lake.read_bytes(raw_feed_record_uri(lake, "m1")) == record
    assert {t: lake.table_version(t) for t in TABLES} == versions  # not one commit
    records = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey("tracking"), "positions_on_pitch")]
    )
    evaluation = next(iter(records.values())).event.dagster_event.event_specific_data
    assert evaluation.passed is False and evaluation.partition == "m1"  # the UI shows why


@pytest.mark.slow
def test_a_half_done_chain_is_never_read_as_a_mix(lake, instance, truth, monkeypatch):
    """tracking holds a new delivery while the derived tables hold only the old one: every reader still sees the
    old delivery whole (tracking included), matches refuses to publish, and a rerun converges; the delivery it
    superseded stays for readers of the old marker until the next one is published."""
    from footy_assets.orchestration.registry import RESOURCES, all_assets
    from footy_assets.orchestration.resources import LakeResource

    land_synthetic(lake, "cdf", "m1", truth)
    materialize_lake(lake, instance, progress=quiet)
    old_fp = run_sql(lake, "SELECT fingerprint FROM matches").item()
    old = {t: run_sql(lake, f"SELECT count(*) AS n FROM {t}").item() for t in PER_MATCH_TABLES}
    land_synthetic(lake, "cdf", "m1", truth.with_columns(pl.col("x") * 0.9))
    resources = {**RESOURCES, "lake": LakeResource(lake_uri=lake.uri)}
    ingest = [a for a in all_assets if "tracking" in {k.path[-1] for k in a.keys}]
    assert dg.materialize(ingest, partition_key="m1", instance=instance, resources=resources).success
    stored = run_sql(lake, "SELECT DISTINCT fingerprint FROM _all_tracking ORDER BY 1")["fingerprint"].to_list()
    assert len(stored) == 2 and old_fp in stored  # the new delivery beside the published one
    new_fp = next(f for f in stored if f != old_fp)
    # the publish marker refuses: frame_state & co do not hold the new delivery yet
    matches_asset = [a for a in all_assets if dg.AssetKey("matches") in a.keys]
    result = dg.materialize(
        matches_asset, partition_key="m1", instance=instance, resources=resources, raise_on_error=False
    )
    assert not result.success
    assert run_sql(lake, "SELECT fingerprint FROM matches").item() == old_fp
    # every reader sees the old delivery whole
    assert {t: run_sql(lake, f"SELECT count(*) AS n FROM {t}").item() for t in PER_MATCH_TABLES} == old
    assert run_sql(lake, "SELECT DISTINCT fingerprint FROM tracking")["fingerprint"].to_list() == [old_fp]
    from footy_assets.lake.exports import published_match
    from footy_assets.lake.filter import filter_intervals

    player = run_sql(lake, "SELECT min(player_id) AS p FROM frame_state").item()
    request = {"filters": [{"type": "frame_state", "players": [player], "column": "speed_mps", "gte": 0.0}]}
    assert filter_intervals("m1", request, lake)
    tracking, row = published_match(lake, "m1")
    assert tracking.height == old["tracking"] and row["fingerprint"] == old_fp
    assert tracking["fingerprint"].unique().to_list() == [old_fp]
    # a rerun converges: the new delivery is published whole, the old one is kept beside it for readers that
    # read the marker before the flip
    outcomes = materialize_lake(lake, instance, progress=quiet)
    assert [(o.ok, o.plan.status) for o in outcomes] == [(True, "changed")]
    fps = run_sql(lake, " UNION ".join(f"SELECT DISTINCT fingerprint FROM {t}" for t in TABLES))
    assert fps["fingerprint"].to_list() == [new_fp]
    assert all(set(lake.deliveries(t, "m1")) == {old_fp, new_fp} for t in PER_MATCH_TABLES)
    # a third delivery right after: the first was superseded a moment ago (a reader may still hold the marker
    # that named it): every delivery stays
    land_synthetic(lake, "cdf", "m1", truth.with_columns(pl.col("x") * 0.8))
    assert all(o.ok for o in materialize_lake(lake, instance, progress=quiet))
    third = run_sql(lake, "SELECT fingerprint FROM matches").item()
    assert all(set(lake.deliveries(t, "m1")) == {old_fp, new_fp, third} for t in PER_MATCH_TABLES)
    # once no reader can hold those markers (FOOTY_READER_HOLD_HOURS=0 here), the next publish drops what the
    # previous one superseded and keeps what it supersedes itself
    monkeypatch.setenv("FOOTY_READER_HOLD_HOURS", "0")
    land_synthetic(lake, "cdf", "m1", truth.with_columns(pl.col("x") * 0.7))
    assert all(o.ok for o in materialize_lake(lake, instance, progress=quiet))
    fourth = run_sql(lake, "SELECT fingerprint FROM matches").item()
    assert all(set(lake.deliveries(t, "m1")) == {third, fourth} for t in PER_MATCH_TABLES)


@pytest.mark.slow
def test_the_intervals_filter_refuses_an_unpublished_match(lake, instance, truth):
    """Tracking and frame_state written, the chain stopped before matches: nothing is published, no answer."""
    from footy_assets.core.metrics.intervals import FilterError
    from footy_assets.lake.filter import filter_intervals
    from footy_assets.orchestration.registry import RESOURCES, all_assets
    from footy_assets.orchestration.resources import LakeResource

    land_synthetic(lake, "cdf", "m1", truth)
    instance.add_dynamic_partitions("match_id", ["m1"])
    upto_frame_state = [a for a in all_assets if a.keys & {dg.AssetKey("tracking"), dg.AssetKey("frame_state")}]
    assert dg.materialize(
        upto_frame_state,
        partition_key="m1",
        instance=instance,
        resources={**RESOURCES, "lake": LakeResource(lake_uri=lake.uri)},
    ).success
    request = {"filters": [{"type": "frame_state", "players": ["0-1"], "column": "speed_mps", "gte": 0.0}]}
    with pytest.raises(FilterError, match="nothing published"):
        filter_intervals("m1", request, lake)


@pytest.mark.slow
def test_every_real_sample_materialises_end_to_end(lake, instance):
    landed = []
    from footy_assets.formats import READERS

    for fmt_dir in sorted(SAMPLES.iterdir()):
        if fmt_dir.is_dir() and fmt_dir.name in READERS:  # (cdf_events: event data, not a landing format yet)
            for match in sorted(p for p in fmt_dir.iterdir() if p.is_dir()):
                land_sample(lake, fmt_dir.name, match.name)
                landed.append(match.name)
    outcomes = materialize_lake(lake, instance, progress=quiet)
    assert {o.plan.match_id: (o.ok, o.error) for o in outcomes} == dict.fromkeys(landed, (True, None))
    counts = run_sql(lake, "SELECT match_id, rows, frames FROM matches ORDER BY match_id")
    assert counts["match_id"].to_list() == sorted(landed)
    # one-frame clips: no speeds, no intervals, and that is valid
    clip = run_sql(
        lake,
        "SELECT (SELECT count(*) FROM intervals WHERE match_id = 'validator_v0_3_2') AS iv, "
        "(SELECT count(*) FROM frame_state WHERE match_id = 'validator_v0_3_2' AND valid) AS ok",
    )
    assert clip.row(0) == (0, 0)
    quality = run_sql(
        lake,
        "SELECT match_id, sum(rows) AS rows FROM match_quality WHERE player_id IS NULL "
        "AND team IS NOT NULL GROUP BY match_id ORDER BY match_id",
    )
    people = run_sql(
        lake,
        "SELECT match_id, count(*) AS rows FROM tracking WHERE role IN ('player', 'goal_keeper') "
        "AND team IS NOT NULL GROUP BY match_id ORDER BY match_id",
    )
    assert quality.equals(people.cast({"rows": pl.Int64}))
    whole = run_sql(
        lake,
        "SELECT match_id, sum(rows) AS rows FROM match_quality WHERE team IS NULL GROUP BY match_id ORDER BY match_id",
    )
    everyone = run_sql(
        lake,
        "SELECT match_id, count(*) AS rows FROM tracking WHERE role IN ('player', 'goal_keeper') "
        "GROUP BY match_id ORDER BY match_id",
    )
    assert whole.equals(everyone.cast({"rows": pl.Int64}))


def _jump(path: Path, frame_line: int, player_id: str, dx: float) -> None:
    lines = path.read_text().splitlines()
    doc = json.loads(lines[frame_line])
    for side in ("home", "away"):
        for p in doc["teams"][side]["players"]:
            if str(p["id"]) == player_id:
                p["x"] += dx
                break
    lines[frame_line] = json.dumps(doc)
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.slow
def test_a_jump_in_a_real_sample_does_not_make_a_top_speed(lake, instance):
    folder = land_sample(lake, "cdf", "skillcorner_1925299")
    first = json.loads((folder / "tracking.jsonl").read_text().splitlines()[0])
    victim = str(first["teams"]["home"]["players"][3]["id"])
    _jump(folder / "tracking.jsonl", 30, victim, 40.0)  # one frame 40 m away: an identity swap
    assert all(o.ok for o in materialize_lake(lake, instance, progress=quiet))
    jersey = run_sql(lake, f"SELECT DISTINCT player_id FROM tracking WHERE track_id = '{victim}'").item()
    state = run_sql(
        lake,
        f"SELECT frame_id, period, x_m, y_m, speed_mps, valid FROM frame_state "
        f"WHERE player_id = '{jersey}' ORDER BY frame_id",
    )
    assert state["speed_mps"].max() > 20  # the raw SG speed sees the jump ...
    summary = run_sql(lake, "SELECT max(top_speed_mps) AS top FROM player_match_summary").item()
    assert summary <= 12.5  # ... the summary does not
    peaks = run_sql(lake, "SELECT coalesce(max(peak), 0) AS peak FROM intervals WHERE \"column\" = 'speed_mps'").item()
    assert peaks <= 12.5
    quality = run_sql(
        lake, f"SELECT invalid_frames, top_speed_mps FROM match_quality WHERE player_id = '{jersey}' AND period = 1"
    )
    assert quality["invalid_frames"].item() >= 9 and quality["top_speed_mps"].item() <= 12.5
    # speed_mps is still scipy's SG(9, 2) per segment
    for _, seg in state.group_by("period"):
        frames = seg["frame_id"].to_numpy()
        assert (np.diff(frames) == 1).all()
        if seg.height < 9:
            continue
        ref = np.hypot(
            savgol_filter(seg["x_m"].to_numpy().astype(np.float64), 9, 2, deriv=1, delta=0.1),
            savgol_filter(seg["y_m"].to_numpy().astype(np.float64), 9, 2, deriv=1, delta=0.1),
        )
        np.testing.assert_allclose(seg["speed_mps"].to_numpy(), ref, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("table", ["intervals", "ball_state"])
def test_empty_derived_tables_pass_their_contract(table):
    from footy_assets.core.contracts.derived import BallState, Intervals
    from footy_assets.core.metrics.ball_state import BALL_STATE_SCHEMA
    from footy_assets.orchestration.assets.derived import INTERVALS_SCHEMA

    contract, schema = {"intervals": (Intervals, INTERVALS_SCHEMA), "ball_state": (BallState, BALL_STATE_SCHEMA)}[table]
    assert contract.validate(pl.DataFrame(schema=schema)).height == 0


def test_match_quality_counts_the_known_dropout_and_unidentified_rows(lake, truth):
    """Pure function on a synthetic delivery: home #6 is missing for one second in period 1 (a drop-out), away
    #10's jersey is unreadable for a while (unidentified rows of team 1)."""
    from footy_assets.core.contracts.derived import MatchQuality
    from footy_assets.core.metrics.frame_state import build_frame_state
    from footy_assets.core.quality.match_quality import build_match_quality
    from footy_assets.lake.delivery import read_match
    from footy_assets.lake.landing import find_match

    land_synthetic(lake, "cdf", "m1", truth)
    tracking = read_match(lake, find_match(lake, "m1")).tracking
    state = build_frame_state(tracking, 25)
    quality = MatchQuality.validate(
        build_match_quality(tracking, state, 25, (105.0, 68.0), "m1", tracking["fingerprint"][0])
    )
    six = quality.filter((pl.col("player_id") == "0-6") & (pl.col("period") == 1)).row(0, named=True)
    assert six["dropouts"] == 1 and six["dropout_s"] == pytest.approx(1.0, abs=0.05)
    # away #10 unreadable for 3 s: their identified track breaks too (the rows are in the team's totals)
    ten = quality.filter((pl.col("player_id") == "1-10") & (pl.col("period") == 1)).row(0, named=True)
    assert ten["dropouts"] == 1 and ten["dropout_s"] == pytest.approx(3.0, abs=0.05)
    others = quality.filter(pl.col("player_id").is_not_null() & ~pl.col("player_id").is_in(["0-6", "1-10"]))
    assert others["dropouts"].sum() == 0
    teams = {
        r["team"]: r
        for r in quality.filter(
            pl.col("player_id").is_null() & pl.col("team").is_not_null() & (pl.col("period") == 1)
        ).iter_rows(named=True)
    }
    assert teams[0]["unidentified_share"] == 0 and 0 < teams[1]["unidentified_share"] < 0.1
    match = quality.filter(pl.col("team").is_null() & (pl.col("period") == 1)).row(0, named=True)
    assert match["rows"] == teams[0]["rows"] + teams[1]["rows"] and match["dropouts"] == 2
    assert (
        teams[0]["dropouts"] == 1
        and teams[0]["rows"]
        == quality.filter((pl.col("team") == 0) & (pl.col("period") == 1) & pl.col("player_id").is_not_null())[
            "rows"
        ].sum()
    )
    assert quality["rows_off_pitch"].sum() == 0 and quality["invalid_frames"].sum() >= 0
    assert quality["id_confidence_p50"].null_count() == quality.height  # CDF gives no confidence


def test_the_version_reported_is_the_one_this_write_made(lake):
    """Four threads write four matches into one table at once: each gets its own commit's version back."""
    from concurrent.futures import ThreadPoolExecutor

    schema = {"match_id": pl.String, "value": pl.Int64}
    lake.write_match("scores", "m0", pl.DataFrame({"match_id": ["m0"], "value": [0]}), schema)

    def write(i: int) -> int:
        return lake.write_match("scores", f"m{i}", pl.DataFrame({"match_id": [f"m{i}"] * 3, "value": [i] * 3}), schema)

    with ThreadPoolExecutor(max_workers=4) as pool:
        versions = dict(zip(range(1, 5), pool.map(write, range(1, 5))))
    assert sorted(versions.values()) == [2, 3, 4, 5]
    dt = lake.open_table("scores")
    history = {h["version"]: h for h in dt.history()}
    for i, version in versions.items():
        assert history[version]["match_id"] == f"m{i}"  # the commit names the match it replaced
    assert pl.from_arrow(lake.dataset("scores").to_table()).sort("match_id")["value"].to_list() == [
        0,
        1,
        1,
        1,
        2,
        2,
        2,
        3,
        3,
        3,
        4,
        4,
        4,
    ]
