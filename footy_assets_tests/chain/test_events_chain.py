"""Event data in the lake: landed in a CDF match folder or in landing/events/<match_id>/, a delivery of its own on top
of the match's tracking (``events_fingerprint``, whole or nothing), synchronised with the tracking and published by
matches as the ``events`` and ``lineups`` tables; the ``event_frames`` view joins them to frame_state and
ball_state. A re-delivery of the event data alone re-runs only what depends on it."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from footy_assets.chain.planning import EVENT_ASSETS, plan_matches
from footy_assets.core.metrics.intervals import FilterError
from footy_assets.lake.filter import filter_intervals
from footy_assets.lake.landing import find_match, scan_landing
from footy_assets.lake.matches import raw_feed_record_uri
from footy_assets.lake.publish import EVENT_TABLES, PER_MATCH_TABLES, published_fingerprint, published_fingerprints
from footy_assets.lake.sql import run_sql
from footy_assets.lake.store import Lake
from footy_assets.orchestration.runner import materialize_lake
from footy_assets_tests.helpers import SAMPLES, land_synthetic

pytestmark = pytest.mark.slow  # every test materialises

FOOTOVISION = SAMPLES / "cdf_events" / "footovision_h1"


def _quiet(line: str) -> None:
    pass


def _land(folder: Path, target: Path, names: tuple[str, ...] | None = None) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for f in folder.iterdir():
        if names is None or f.name in names:
            shutil.copyfile(f, target / f.name)
    return target


def _run(lake: Lake, instance) -> list:
    return materialize_lake(lake, instance, progress=_quiet)


def _count(lake: Lake, table: str, match_id: str) -> int:
    return run_sql(lake, f"SELECT count(*) FROM {table} WHERE match_id = '{match_id}'").item()


# the tables computed from the tracking alone: an event re-delivery never writes them
TRACKING_TABLES = tuple(t for t in PER_MATCH_TABLES if t not in EVENT_TABLES)


def _tracking_side(lake: Lake, match_id: str) -> dict:
    """What an event-only re-delivery must leave alone: each tracking table's Delta version and the deliveries it
    holds of the match."""
    return {t: (lake.table_version(t), sorted(lake.deliveries(t, match_id))) for t in TRACKING_TABLES}


def _materialised(instance, since: int) -> list[set[str]]:
    """The assets each run after the first ``since`` runs of the instance materialised, one set per run in order."""
    import dagster as dg

    out = []
    for record in sorted(instance.get_run_records(), key=lambda r: r.create_timestamp)[since:]:
        logs = instance.all_logs(record.dagster_run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
        out.append({e.dagster_event.asset_key.to_user_string() for e in logs})
    return out


@pytest.fixture
def footovision(lake: Lake, instance) -> Lake:
    """footovision_h1 (tracking, meta, events, match sheet) landed as one CDF match folder and materialised."""
    _land(FOOTOVISION, Path(lake.uri) / "landing" / "cdf" / "fv1")
    outcomes = _run(lake, instance)
    assert [o.ok for o in outcomes] == [True], [o.error for o in outcomes]
    return lake


def test_a_cdf_folder_with_events_publishes_synced_events_and_the_lineup(footovision, instance):
    lake = footovision
    assert _count(lake, "events", "fv1") == 203
    roles = dict(run_sql(lake, "SELECT role, count(*) FROM lineups GROUP BY role").iter_rows())
    assert roles == {"player": 31, "main_referee": 1}
    status = dict(run_sql(lake, "SELECT sync_status, count(*) FROM events GROUP BY 1").iter_rows())
    # 34 ball events (passes, carries, recoveries); the two recoveries of vendor person 0 have no actor on the sheet
    assert status == {"synced": 32, "unmatched: no identified actor": 2, "unmatched: not a ball event": 169}
    kick_off = run_sql(
        lake, "SELECT frame_id, offset_ms, player_id, ball_x_m, ball_y_m FROM events WHERE event_id = '6742527193'"
    ).row(0, named=True)
    assert kick_off["frame_id"] == 0 and kick_off["offset_ms"] == 0 and kick_off["player_id"] == "1-8"
    assert abs(kick_off["ball_x_m"]) < 0.5 and abs(kick_off["ball_y_m"]) < 0.5
    # the event_frames view: the passer's frame_state row at the pass's frame (at the ball) and the receiver's
    passes = run_sql(
        lake,
        "SELECT actor_speed_mps, actor_ball_dist_m, receiver_id, receiver_nearest_opp_dist_m "
        "FROM event_frames WHERE type = 'pass' AND sync_status = 'synced'",
    )
    assert passes.height == 21
    assert passes["actor_speed_mps"].null_count() == 0 and passes["actor_ball_dist_m"].median() < 2.0
    received = passes.filter(pl.col("receiver_id").is_not_null())
    assert received.height > 5 and received["receiver_nearest_opp_dist_m"].null_count() == 0
    # the summaries name the players of the lineup
    names = dict(run_sql(lake, "SELECT player_id, player_name FROM player_match_summary").iter_rows())
    assert len(names) == 22 and names["0-1"] == "BART VERBRUGGEN" and None not in names.values()
    # the same delivery again: nothing to do
    assert [p.status for p in plan_matches(lake)] == ["unchanged"]


def test_the_interval_filter_takes_windows_around_events(footovision):
    # the pressing player's runs at 5.5 m/s or more in the 5 s before each of his presses (at 59.6 s and 63.08 s)
    press = {"type": "event", "event_types": ["defending"], "sub_types": ["pressing"], "before_ms": 5000}
    runs = {"type": "frame_state", "players": ["0-25"], "column": "speed_mps", "gte": 5.5}
    found = filter_intervals("fv1", {"filters": [runs, {**press, "actor": True}]}, footovision)
    assert [(r["player_id"], r["start"], r["end"]) for r in found] == [("0-25", 57.04, 60.32), ("0-25", 62.96, 63.12)]
    # without the window the second run goes on to 66.52 s: the window (to the last press's frame) clips it
    alone = filter_intervals("fv1", {"filters": [runs]}, footovision)
    assert [(r["start"], r["end"]) for r in alone] == [(57.04, 60.32), (62.96, 66.52)]
    # every press, as windows of the match (OR): 12 presses, overlapping windows merged
    windows = filter_intervals("fv1", {"operator": "OR", "filters": [press]}, footovision)
    assert windows and all(r["type"] == "event" and r["player_id"] is None for r in windows)
    assert all(a["end"] < b["start"] for a, b in itertools.pairwise(windows))
    # types the match lacks answer nothing; a malformed window is named
    assert filter_intervals("fv1", {"filters": [runs, {**press, "event_types": ["shot"]}]}, footovision) == []
    with pytest.raises(FilterError, match=r"filters\[1\]: before_ms must be a number of ms from 0"):
        filter_intervals("fv1", {"filters": [runs, {**press, "before_ms": -5}]}, footovision)


def test_the_filter_cache_answers_the_match_as_published_now(footovision, instance):
    """A server's cache of prepared matches: threads asking at once share one read; an event-only re-delivery
    (another events_fingerprint) is prepared anew, never answered from the old rows."""
    from concurrent.futures import ThreadPoolExecutor

    from footy_assets.lake.filter import FilterCache

    lake = footovision
    cache = FilterCache(lake, size=1)
    with ThreadPoolExecutor(4) as pool:
        prepared = list(pool.map(lambda _: cache.get("fv1"), range(4)))
    assert all(p is prepared[0] for p in prepared)
    press = {"type": "event", "event_types": ["defending"], "sub_types": ["pressing"]}
    request = {"operator": "OR", "filters": [press]}
    assert cache.filter_intervals("fv1", request) == filter_intervals("fv1", request, lake) != []
    # the presses taken out of the event data and the match re-run: the cache reads the new publish
    path = Path(lake.uri) / "landing" / "cdf" / "fv1" / "events.jsonl"
    kept = [line for line in path.read_text().splitlines(keepends=True) if '"pressing"' not in line]
    path.write_text("".join(kept))
    outcomes = _run(lake, instance)
    assert [o.ok for o in outcomes] == [True], [o.error for o in outcomes]
    again = cache.get("fv1")
    assert again is not prepared[0] and again.key[1] == prepared[0].key[1] and again.key[2] != prepared[0].key[2]
    assert cache.filter_intervals("fv1", request) == []


def test_the_ui_shows_a_matchs_events_and_their_sync(footovision, instance):
    """The events asset's materialisation: a markdown table of the first 30 events (clock, type, the player's name
    from the lineup, frame, sync status) and the counts of events synced and unmatched by reason, a few kB."""
    import dagster as dg

    record = instance.fetch_materializations(dg.AssetKey("events"), limit=1).records[0]
    metadata = record.asset_materialization.metadata
    table = metadata["events_preview"].value
    lines = table.splitlines()
    assert lines[0] == (
        "| time | period | minute | type | sub_type | player_id | player_name | frame_id | sync_status |"
    )
    assert len(lines) == 2 + 30 and len(table) < 8_000
    kick_off = next(line for line in lines if "kick_off" in line)
    assert kick_off == "| 12:45:00.000 | 1 | 0 | pass | kick_off | 1-8 | DOMINIK SZOBOSZLAI | 0 | synced |"
    assert "| 0-24 | FERDI KADIOGLU | 654 | synced |" in table  # the throw-in, at its frame
    assert metadata["events"].value == 203 and metadata["events_synced"].value == 32
    assert metadata["events_unmatched"].value == {"not a ball event": 169, "no identified actor": 2}
    assert next(iter(metadata)) == "events_preview"  # first: the UI lists it on top


def test_the_event_preview_stays_bounded_and_whole():
    """Free strings (a vendor's long type, a '|' in a name) are cut and escaped: 30 rows, one table."""
    import polars as pl

    from footy_assets.chain.events import EVENTS_SCHEMA, LINEUPS_SCHEMA, events_preview

    events = pl.DataFrame(
        {
            "event_index": list(range(100)),
            "time": [None] * 100,
            "period": [1] * 100,
            "match_minute": [3] * 100,
            "type": ["x" * 500] * 100,
            "sub_type": ["a|b"] * 100,
            "player_id": ["0-7"] * 100,
            "frame_id": list(range(100)),
            "sync_status": ["synced"] * 100,
        }
    ).cast({c: EVENTS_SCHEMA[c] for c in ("event_index", "time", "period", "match_minute", "frame_id")})
    lineups = pl.DataFrame({"player_id": ["0-7"], "short_name": ["A | B"]}, schema_overrides=LINEUPS_SCHEMA)
    preview = events_preview(events, lineups)
    assert preview.height == 30 and preview["type"].str.len_chars().max() == 32
    assert preview["sub_type"].to_list() == ["a/b"] * 30 and preview["player_name"][0] == "A / B"


def test_a_bad_events_line_refuses_the_delivery_and_the_published_events_stay(footovision, instance):
    """A corrected events.jsonl with a bad line (the tracking unchanged): an event-only re-delivery, refused with
    file and line; every table, the raw-feed record and the publish marker stay exactly as they were."""
    lake = footovision
    before = published_fingerprints(lake, "fv1")
    versions = {t: lake.table_version(t) for t in (*PER_MATCH_TABLES, "matches")}
    record = lake.read_bytes(raw_feed_record_uri(lake, "fv1"))
    path = Path(lake.uri) / "landing" / "cdf" / "fv1" / "events.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    lines[4] = '{"match": {"id": "28116"}, "event": {"id": 5}}\n'
    path.write_text("".join(lines))
    assert [(p.status, p.assets) for p in plan_matches(lake)] == [("events_changed", EVENT_ASSETS)]
    outcomes = _run(lake, instance)
    assert not outcomes[0].ok
    assert "landing/cdf/fv1/events.jsonl, line 5" in outcomes[0].error
    assert published_fingerprints(lake, "fv1") == before
    assert {t: lake.table_version(t) for t in (*PER_MATCH_TABLES, "matches")} == versions  # not one commit
    assert lake.read_bytes(raw_feed_record_uri(lake, "fv1")) == record
    assert _count(lake, "events", "fv1") == 203 and _count(lake, "lineups", "fv1") == 32


def test_events_on_their_own_join_a_match_of_another_format(lake, instance, truth):
    """landing/events/<match_id>/ beside a footy_stats match: read with the match's clock from its tracking,
    synchronised, published. The event files are a delivery of their own: the tracking's fingerprint stays."""
    land_synthetic(lake, "footy_stats", "syn1", truth)
    events_dir = Path(lake.uri) / "landing" / "events" / "syn1"
    # no tracking-format folder of this match yet: the events wait, they are not refused
    _land(FOOTOVISION, Path(lake.uri) / "landing" / "events" / "later", ("events.jsonl", "match.json"))
    scan = scan_landing(lake)
    assert set(scan.matches) == {"syn1"} and not scan.refused
    without = find_match(lake, "syn1")
    assert without.events_fingerprint == without.fingerprint  # no event data: one delivery
    _land(FOOTOVISION, events_dir, ("events.jsonl", "match.json"))
    landed = find_match(lake, "syn1")
    assert [f.name for f in landed.all_files if f.name.startswith("events/")] == [
        "events/events.jsonl",
        "events/match.json",
    ]
    assert landed.fingerprint == without.fingerprint and landed.events_fingerprint != without.events_fingerprint
    outcomes = _run(lake, instance)
    assert [o.ok for o in outcomes] == [True], [o.error for o in outcomes]
    assert published_fingerprints(lake, "syn1") == {
        "fingerprint": landed.fingerprint,
        "events_fingerprint": landed.events_fingerprint,
    }
    assert _count(lake, "events", "syn1") == 203 and _count(lake, "lineups", "syn1") == 32
    # the rows of each table carry the delivery of its kind
    stored = {
        t: run_sql(lake, f"SELECT DISTINCT fingerprint FROM {t}")["fingerprint"].to_list() for t in PER_MATCH_TABLES
    }
    assert stored == {
        t: [landed.events_fingerprint if t in EVENT_TABLES else landed.fingerprint]
        for t in PER_MATCH_TABLES
        if stored[t]  # (intervals may have no rows in 80 s)
    } | {t: [] for t in PER_MATCH_TABLES if not stored[t]}
    first = run_sql(lake, "SELECT min(timestamp_ms) FROM events WHERE period = 1").item()
    assert first == run_sql(lake, "SELECT min(timestamp_ms) FROM tracking WHERE period = 1").item()
    # every event has a sync status; the tracking is 40 s long and not this match's: nothing can be synced
    assert run_sql(lake, "SELECT count(*) FROM events WHERE sync_status IS NULL").item() == 0


def test_an_event_only_redelivery_reruns_only_what_depends_on_it(lake, instance, truth):
    """Event files corrected, removed, added again: each time only events, lineups, the summaries that show names
    and matches run; tracking, frame_state, ball_state, intervals, match_quality and player_period_summary keep
    their Delta versions and deliveries, and the publish marker keeps the tracking's fingerprint."""
    land_synthetic(lake, "footy_stats", "syn1", truth)
    events_dir = _land(FOOTOVISION, Path(lake.uri) / "landing" / "events" / "syn1", ("events.jsonl", "match.json"))
    assert [o.ok for o in _run(lake, instance)] == [True]
    tracking_side = _tracking_side(lake, "syn1")
    tracking_fp = published_fingerprint(lake, "syn1")
    assert _count(lake, "events", "syn1") == 203

    def redelivered(events: int, names: bool) -> None:
        [plan] = plan_matches(lake, ["syn1"])
        assert (plan.status, plan.assets) == ("events_changed", EVENT_ASSETS)
        runs = len(instance.get_runs())
        outcomes = _run(lake, instance)
        assert [o.ok for o in outcomes] == [True], [o.error for o in outcomes]
        assert _materialised(instance, runs) == [set(EVENT_ASSETS)]  # one run, the dependent assets only
        assert _tracking_side(lake, "syn1") == tracking_side  # not one commit to the tracking's tables
        landed = find_match(lake, "syn1")
        assert published_fingerprints(lake, "syn1") == {
            "fingerprint": tracking_fp,
            "events_fingerprint": landed.events_fingerprint,
        }
        assert landed.fingerprint == tracking_fp
        assert _count(lake, "events", "syn1") == events
        named = run_sql(lake, "SELECT count(player_name) FROM player_match_summary").item()
        assert (named > 0) == names
        assert [p.status for p in plan_matches(lake, ["syn1"])] == ["unchanged"]

    path = events_dir / "events.jsonl"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:150]))  # corrected
    redelivered(150, names=True)
    shutil.rmtree(events_dir)  # withdrawn: the match keeps its tracking, without events
    redelivered(0, names=False)
    assert published_fingerprints(lake, "syn1")["events_fingerprint"] == tracking_fp
    _land(FOOTOVISION, events_dir, ("events.jsonl", "match.json"))  # delivered again
    redelivered(203, names=True)


def test_events_added_later_leave_no_superseded_delivery_of_the_event_tables(lake, instance, truth, monkeypatch):
    """A match published without event data, then given its events: once no reader can hold the old marker, the
    event tables keep only the event data's delivery and the tracking's tables only the tracking's; upkeep finds
    nothing superseded and the doctor nothing wrong."""
    from footy_assets.lake.doctor import diagnose
    from footy_assets.lake.upkeep import drop_superseded, superseded_deliveries

    monkeypatch.setenv("FOOTY_READER_HOLD_HOURS", "0")
    land_synthetic(lake, "footy_stats", "syn2", truth)
    assert [o.ok for o in _run(lake, instance)] == [True]
    tracking_fp = published_fingerprint(lake, "syn2")
    assert set(lake.deliveries("player_match_summary", "syn2")) == {tracking_fp}
    _land(FOOTOVISION, Path(lake.uri) / "landing" / "events" / "syn2", ("events.jsonl", "match.json"))
    assert [o.ok for o in _run(lake, instance)] == [True]
    published = published_fingerprints(lake, "syn2")
    assert published["fingerprint"] == tracking_fp != published["events_fingerprint"]
    # the event tables' old delivery is superseded (the tracking's tables' is not); upkeep drops it
    assert superseded_deliveries(lake) == {"syn2": {tracking_fp}}
    assert drop_superseded(lake, progress=_quiet) >= 2  # player_match_summary, team_match_summary at least
    for table in PER_MATCH_TABLES:
        held = set(lake.deliveries(table, "syn2"))
        want = published["events_fingerprint"] if table in EVENT_TABLES else tracking_fp
        assert held <= {want}, (table, held)
    assert set(lake.deliveries("player_match_summary", "syn2")) == {published["events_fingerprint"]}
    assert superseded_deliveries(lake) == {}
    findings = [f for report in diagnose(lake, {"syn2"}) for f in report.findings]
    assert findings == [], findings


def test_lineups_materialised_alone_do_not_record_the_event_delivery(lake, instance, truth):
    """A run of lineups alone (the UI allows any subset) writes its rows but leaves the delivery unrecorded until
    events hold it too: the summaries and matches never move on to event data the events table lacks."""
    import dagster as dg

    from footy_assets.definitions import RESOURCES, all_assets
    from footy_assets.orchestration.resources import LakeResource

    land_synthetic(lake, "footy_stats", "syn4", truth)
    assert [o.ok for o in _run(lake, instance)] == [True]
    tracking_fp = published_fingerprint(lake, "syn4")
    _land(FOOTOVISION, Path(lake.uri) / "landing" / "events" / "syn4", ("events.jsonl", "match.json"))
    record = lambda: json.loads(Path(raw_feed_record_uri(lake, "syn4")).read_text())  # noqa: E731
    result = dg.materialize(
        all_assets,
        partition_key="syn4",
        instance=instance,
        resources={**RESOURCES, "lake": LakeResource(lake_uri=lake.uri)},
        selection=dg.AssetSelection.assets("lineups"),
    )
    assert result.success
    assert record().get("events_fingerprint", tracking_fp) == tracking_fp  # not recorded yet
    assert [p.status for p in plan_matches(lake, ["syn4"])] == ["events_changed"]
    assert [o.ok for o in _run(lake, instance)] == [True]  # the event run records it
    assert record()["events_fingerprint"] == find_match(lake, "syn4").events_fingerprint != tracking_fp
    assert _count(lake, "events", "syn4") == 203


def test_readers_see_the_previous_events_until_the_new_ones_are_published(lake, instance, truth):
    """An event-only re-delivery run step by step: while events and lineups hold the new delivery beside the
    published one, every reader sees the previous events (never none); matches flips them all at once."""
    import dagster as dg

    from footy_assets.orchestration.registry import RESOURCES, chain_assets
    from footy_assets.orchestration.resources import LakeResource

    land_synthetic(lake, "footy_stats", "syn1", truth)
    events_dir = _land(FOOTOVISION, Path(lake.uri) / "landing" / "events" / "syn1", ("events.jsonl", "match.json"))
    assert [o.ok for o in _run(lake, instance)] == [True]
    old = published_fingerprints(lake, "syn1")
    path = events_dir / "events.jsonl"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:120]))
    new = find_match(lake, "syn1").events_fingerprint
    resources = {**RESOURCES, "lake": LakeResource(lake_uri=lake.uri)}

    def step(*assets: str) -> None:
        selection = [dg.AssetKey(a) for a in assets]
        run = dg.materialize(
            chain_assets, selection=selection, partition_key="syn1", instance=instance, resources=resources
        )
        assert run.success

    def seen() -> tuple:
        return (
            _count(lake, "events", "syn1"),
            _count(lake, "lineups", "syn1"),
            run_sql(lake, "SELECT count(player_name) FROM player_match_summary").item(),
        )

    published = seen()
    assert published[0] == 203 and published[2] > 0
    step("events", "lineups")
    stored = run_sql(lake, "SELECT DISTINCT fingerprint FROM _all_events ORDER BY 1")["fingerprint"].to_list()
    assert stored == sorted([old["events_fingerprint"], new])  # the new delivery beside the published one
    assert seen() == published and published_fingerprints(lake, "syn1") == old
    step("player_match_summary", "team_match_summary")
    assert seen() == published and published_fingerprints(lake, "syn1") == old
    step("matches")  # the flip
    assert published_fingerprints(lake, "syn1") == {**old, "events_fingerprint": new}
    assert seen()[0] == 120 and seen()[1:] == published[1:]


def test_a_tracking_redelivery_synchronises_the_stored_events_again(lake, instance, truth):
    """The event files unchanged, the tracking corrected: the whole chain runs, events included (they are
    synchronised with the tracking), and every table holds the new deliveries."""
    land_synthetic(lake, "footy_stats", "syn1", truth)
    _land(FOOTOVISION, Path(lake.uri) / "landing" / "events" / "syn1", ("events.jsonl", "match.json"))
    assert [o.ok for o in _run(lake, instance)] == [True]
    old = published_fingerprints(lake, "syn1")
    land_synthetic(lake, "footy_stats", "syn1", truth.with_columns(pl.col("x") * 0.9))
    [plan] = plan_matches(lake, ["syn1"])
    assert (plan.status, plan.assets) == ("changed", None)
    runs = len(instance.get_runs())
    assert [o.ok for o in _run(lake, instance)] == [True]
    assert _materialised(instance, runs) == [{"raw_feed", *PER_MATCH_TABLES, "matches"}]
    landed = find_match(lake, "syn1")
    now = published_fingerprints(lake, "syn1")
    assert now == {"fingerprint": landed.fingerprint, "events_fingerprint": landed.events_fingerprint}
    assert now["fingerprint"] != old["fingerprint"] and now["events_fingerprint"] != old["events_fingerprint"]
    assert run_sql(lake, "SELECT DISTINCT fingerprint FROM events")["fingerprint"].to_list() == [
        now["events_fingerprint"]
    ]
    assert _count(lake, "events", "syn1") == 203


def test_a_lake_written_before_the_event_fingerprint_reads_as_before(lake, instance, truth):
    """A matches table without events_fingerprint (written before it existed): a match without event data reads
    unchanged and its tables stay readable; one with event data (its one fingerprint covered every file) reads as
    changed once, runs the whole chain, and then names both."""
    from deltalake import write_deltalake

    land_synthetic(lake, "footy_stats", "old1", truth)
    land_synthetic(lake, "footy_stats", "old2", truth)
    _land(FOOTOVISION, Path(lake.uri) / "landing" / "events" / "old2", ("events.jsonl", "match.json"))
    assert [o.ok for o in _run(lake, instance)] == [True, True]
    # as the older code wrote it: no events_fingerprint column; one fingerprint over every landed file
    every_file = find_match(lake, "old2").events_fingerprint
    stored = pl.from_arrow(lake.open_table("matches").to_pyarrow_table())  # as stored (sql reads files nested)
    rows = stored.sort("match_id").drop("events_fingerprint")
    rows = rows.with_columns(
        fingerprint=pl.when(pl.col("match_id") == "old2").then(pl.lit(every_file)).otherwise(pl.col("fingerprint"))
    )
    write_deltalake(
        lake.table_uri("matches"), rows.to_arrow(), mode="overwrite", schema_mode="overwrite", partition_by=["match_id"]
    )
    assert "events_fingerprint" not in run_sql(lake, "SELECT * FROM matches").columns
    assert _count(lake, "frame_state", "old1") > 0  # its tables are read by the one fingerprint
    assert published_fingerprints(lake, "old1")["events_fingerprint"] == published_fingerprint(lake, "old1")
    assert {p.match_id: p.status for p in plan_matches(lake)} == {"old1": "unchanged", "old2": "changed"}
    outcomes = _run(lake, instance)
    assert [(o.plan.match_id, o.ok) for o in outcomes] == [("old1", True), ("old2", True)]
    landed = find_match(lake, "old2")
    assert published_fingerprints(lake, "old2") == {
        "fingerprint": landed.fingerprint,
        "events_fingerprint": landed.events_fingerprint,
    }
    assert _count(lake, "events", "old2") == 203 and _count(lake, "frame_state", "old1") > 0
    assert {p.status for p in plan_matches(lake)} == {"unchanged"}


def test_events_in_the_match_folder_and_in_landing_events_are_refused(lake):
    _land(FOOTOVISION, Path(lake.uri) / "landing" / "cdf" / "fv1")
    _land(FOOTOVISION, Path(lake.uri) / "landing" / "events" / "fv1", ("events.jsonl", "match.json"))
    [plan] = plan_matches(lake)
    assert plan.status == "refused" and "remove one of them" in plan.reason


def test_a_match_without_events_has_none_and_keeps_its_fingerprint(lake, instance, truth):
    folder = land_synthetic(lake, "footy_stats", "syn2", truth)
    import hashlib

    digest = hashlib.sha256()
    for f in sorted(folder.iterdir()):
        digest.update(f"{f.name}\0{hashlib.sha256(f.read_bytes()).hexdigest()}\n".encode())
    outcomes = _run(lake, instance)
    assert [o.ok for o in outcomes] == [True], [o.error for o in outcomes]
    assert published_fingerprint(lake, "syn2") == digest.hexdigest()  # the folder's files alone, as before
    assert _count(lake, "events", "syn2") == 0 and _count(lake, "lineups", "syn2") == 0
    assert _count(lake, "frame_state", "syn2") > 0
    names = run_sql(lake, "SELECT player_name FROM player_match_summary WHERE match_id = 'syn2'")["player_name"]
    assert names.len() > 0 and names.null_count() == names.len()  # no lineup: no names
    row = run_sql(lake, "SELECT code_versions FROM matches").item()  # {asset: version}
    assert {"events", "lineups"} <= {asset for asset, version in row.items() if version}
    assert [p.status for p in plan_matches(lake)] == ["unchanged"]
    outcomes = _run(lake, instance)
    assert [o.ok for o in outcomes] == [True]


def test_the_sensor_sees_events_landed_on_their_own(lake, instance, truth, monkeypatch):
    """The landing sensor fingerprints a match with its events folder as planning does: a published match is not
    requested again; events changed later request a run of the assets that depend on them alone, a changed tracking
    a run of the whole chain; the nightly backfill asks the same."""
    from datetime import datetime

    import dagster as dg

    from footy_assets.orchestration.automation.schedule import backfill_requests
    from footy_assets.orchestration.automation.sensor import scan_for_runs

    land_synthetic(lake, "footy_stats", "syn3", truth.head(3000))
    events_dir = _land(FOOTOVISION, Path(lake.uri) / "landing" / "events" / "syn3", ("events.jsonl", "match.json"))
    first = scan_for_runs(dg.build_sensor_context(instance=instance), lake)
    assert [(r.partition_key, r.asset_selection) for r in first.run_requests] == [("syn3", None)]  # the whole chain
    assert first.run_requests[0].run_key == f"syn3:{find_match(lake, 'syn3').events_fingerprint}"
    assert [o.ok for o in _run(lake, instance)] == [True]
    with dg.instance_for_test() as fresh:  # a fresh cursor: the lake already holds this delivery
        assert not scan_for_runs(dg.build_sensor_context(instance=fresh), lake).run_requests
    (events_dir / "match.json").write_bytes((FOOTOVISION / "match.json").read_bytes() + b"\n")
    again = scan_for_runs(dg.build_sensor_context(instance=instance, cursor=first.cursor), lake)
    [request] = again.run_requests
    assert request.partition_key == "syn3" and request.run_key == f"syn3:{find_match(lake, 'syn3').events_fingerprint}"
    assert request.asset_selection == [dg.AssetKey(a) for a in EVENT_ASSETS]
    assert request.tags["footy_assets/status"] == "events_changed"
    [nightly], _ = backfill_requests(lake, instance, datetime(2030, 1, 1))
    assert nightly.asset_selection == [dg.AssetKey(a) for a in EVENT_ASSETS]
    # the run the daemon launches for it: match_job with that selection writes those assets and publishes
    from footy_assets.definitions import defs

    side = _tracking_side(lake, "syn3")
    monkeypatch.setenv("FOOTY_DATA_LAKE", lake.uri)  # the definitions' lake resource, as a deployment sets it
    run = defs.resolve_job_def("match_job").execute_in_process(
        partition_key="syn3",
        tags=request.tags,
        asset_selection=request.asset_selection,
        instance=instance,
        raise_on_error=False,
    )
    assert run.success
    assert {e.asset_key.to_user_string() for e in run.get_asset_materialization_events()} == set(EVENT_ASSETS)
    assert _tracking_side(lake, "syn3") == side
    assert published_fingerprints(lake, "syn3")["events_fingerprint"] == find_match(lake, "syn3").events_fingerprint
    # the tracking changes too: the whole chain
    land_synthetic(lake, "footy_stats", "syn3", truth.head(2900))
    third = scan_for_runs(dg.build_sensor_context(instance=instance, cursor=again.cursor), lake)
    assert [(r.partition_key, r.asset_selection) for r in third.run_requests] == [("syn3", None)]


def test_the_event_checks_warn_on_events_the_tracking_does_not_cover(lake, instance, truth):
    """100 s of another match's events over 80 s of synthetic tracking: both checks warn, nothing is refused."""
    from footy_assets.chain.events import EventsStep

    land_synthetic(lake, "footy_stats", "syn4", truth)
    _land(FOOTOVISION, Path(lake.uri) / "landing" / "events" / "syn4", ("events.jsonl", "match.json"))
    assert [o.ok for o in _run(lake, instance)] == [True]
    table = EventsStep(lake, "syn4").events()
    found = {o.name: o for o in table.checks}
    assert not found["events_in_tracking"].passed and not found["events_in_tracking"].refuses
    assert 0 < found["events_in_tracking"].metadata["outside_tracking"] < 203
    assert not found["ball_events_synced"].passed and found["ball_events_synced"].metadata["ball_events"] == 34
    assert table.frame.height == 203 and not table.refused


def test_a_file_named_like_event_data_in_another_formats_folder_is_that_formats(lake, instance, truth):
    """Only a CDF folder's events.jsonl and match.json are event data: in a footy_stats folder a match.json is one
    of its files (part of the tracking delivery, its fingerprint), never read as a match sheet."""
    folder = land_synthetic(lake, "footy_stats", "syn5", truth)
    before = find_match(lake, "syn5")
    (Path(folder) / "match.json").write_text('{"note": "the club\'s own file"}')
    landed = find_match(lake, "syn5")
    assert landed.fingerprint != before.fingerprint  # a file of the tracking delivery
    assert landed.events_fingerprint == landed.fingerprint  # and no event data
    assert [f.name for f in landed.tracking_files if f.name == "match.json"] == ["match.json"]
