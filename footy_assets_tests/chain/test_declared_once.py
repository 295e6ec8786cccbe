"""Declared once: each table by its pandera contract (the schema the lake stores is derived from it), each asset
check by its declaration in the chain (the audit runs it, Dagster shows it), each run tag's key in
orchestration/tags.py; and the chain's steps compute without Dagster what the assets store."""

import re
from pathlib import Path

import polars as pl
import pytest
from deltalake import Schema as DeltaSchema

from footy_assets.chain import checks
from footy_assets.chain.audit import audit_delivery
from footy_assets.chain.checks import Outcome, refusal_message
from footy_assets.chain.metrics import MetricsStep
from footy_assets.core.canonical import TRACKING_SCHEMA
from footy_assets.core.contracts.derived import (
    BallState,
    FrameState,
    Intervals,
    MatchQuality,
    PlayerMatchSummary,
    PlayerPeriodSummary,
    TeamMatchSummary,
)
from footy_assets.core.contracts.matches import Matches
from footy_assets.core.contracts.tracking import Tracking
from footy_assets.core.contracts.validation import dtypes
from footy_assets.lake.landing import find_match
from footy_assets.orchestration.runner import materialize_lake
from footy_assets_tests.helpers import land_synthetic

CONTRACT_OF_TABLE = {
    "tracking": Tracking,
    "frame_state": FrameState,
    "ball_state": BallState,
    "intervals": Intervals,
    "match_quality": MatchQuality,
    "player_period_summary": PlayerPeriodSummary,
    "player_match_summary": PlayerMatchSummary,
    "team_match_summary": TeamMatchSummary,
    "matches": Matches,
}


def _as_stored(schema: dict[str, pl.DataType]) -> dict[str, pl.DataType]:
    """A polars schema as Delta keeps it: a categorical column is a (dictionary-encoded) string."""
    return {name: pl.String if dtype == pl.Categorical else dtype for name, dtype in schema.items()}


@pytest.fixture(scope="module")
def materialised(tmp_path_factory, truth):
    """A lake holding one materialised match (a small synthetic footy_track feed: boxes and their sizes
    included)."""
    import dagster as dg
    from dagster._core.storage.defs_state.base import _current_storage

    from footy_assets.lake.store import Lake

    root = tmp_path_factory.mktemp("schemas")
    lake = Lake.from_env(str(root / "lake"))
    (root / "lake" / "landing").mkdir(parents=True)
    land_synthetic(lake, "footy_track", "m1", truth)
    _current_storage.set(None)  # as conftest's autouse fixture, which runs after a module's fixtures
    with dg.instance_for_test() as instance:
        outcomes = materialize_lake(lake, instance, progress=lambda line: None)
    assert [o.ok for o in outcomes] == [True], [o.error for o in outcomes]
    return lake


def test_the_schema_of_a_table_is_its_contract_in_declared_order():
    assert list(TRACKING_SCHEMA) == list(Tracking.to_schema().columns)
    assert TRACKING_SCHEMA["fingerprint"] == pl.Categorical and TRACKING_SCHEMA["jersey"] == pl.Int16
    assert dtypes(Matches)["periods"] == pl.List(
        pl.Struct({"period": pl.Int8, "first_frame": pl.Int64, "last_frame": pl.Int64, "frames": pl.Int64})
    )
    assert dtypes(Tracking) is not dtypes(Tracking)  # a copy each time: a caller may change its own


@pytest.mark.parametrize("table", list(CONTRACT_OF_TABLE))
def test_the_derived_schema_is_the_stored_tables(materialised, table):
    derived = dtypes(CONTRACT_OF_TABLE[table])
    dt = materialised.open_table(table)
    # the Delta table's schema, column for column and in order, is the derived one's
    expected = pl.DataFrame(schema=_as_stored(derived)).to_arrow().schema
    assert dt.schema() == DeltaSchema.from_arrow(expected), (dt.schema(), expected)  # types (not the order)
    assert [field.name for field in dt.schema().fields] == list(derived)
    stored = pl.from_arrow(dt.to_pyarrow_table())
    assert stored.height > 0
    assert stored.schema == pl.Schema(_as_stored(derived))


def test_every_column_is_described_with_its_meaning():
    for table, contract in CONTRACT_OF_TABLE.items():
        for name, column in contract.to_schema().columns.items():
            description = column.description or ""
            assert len(description) >= 10, (table, name, description)
            if column.nullable and name not in ("match_id",):
                assert "null" in description or "0 for" in description, (table, name, description)


def test_the_asset_check_specs_are_the_declared_checks():
    from footy_assets.definitions import defs

    graph = defs.get_repository_def().asset_graph
    specs = {
        (graph.get_check_spec(key).asset_key.to_user_string(), key.name): graph.get_check_spec(key)
        for key in graph.asset_check_keys
    }
    declared = {(check.asset, check.name): check for check in checks.CHECKS.values()}
    assert set(specs) == set(declared)
    for key, spec in specs.items():
        assert (spec.blocking, spec.description) == (declared[key].blocking, declared[key].description), key
    blocking = [c.name for c in checks.TRACKING_CHECKS if c.blocking]
    assert blocking == ["no_duplicate_player_frames", "positions_on_pitch"]
    assert [c.name for c in checks.FRAME_STATE_CHECKS if c.blocking] == ["covers_tracking"]


def test_the_audit_runs_the_declared_tracking_checks_in_their_order(lake, truth):
    land_synthetic(lake, "sportvu", "m1", truth)
    audit = audit_delivery(lake, find_match(lake, "m1"))
    assert [found.name for found in audit.checks] == [c.name for c in checks.TRACKING_CHECKS]
    assert all(found.passed for found in audit.checks) and audit.refused == []
    assert audit.facts["frames"] == audit.tracking["frame_id"].n_unique() and audit.facts["periods"] == [1, 2]
    frame = audit.take_tracking()
    assert audit.tracking is None and frame.height > 0


def test_a_failing_check_refuses_only_when_it_blocks():
    off = Outcome(
        "positions_on_pitch", False, {"rows_off_pitch": 2, "margin_m": 5.0, "examples": [{"frame_id": 7, "x_m": 80.0}]}
    )
    assert off.refuses and off.check is checks.POSITIONS_ON_PITCH
    assert not Outcome("ball_tracked", False, {"frames_without_ball": 900}).refuses
    assert not Outcome("positions_on_pitch", True, {}).refuses
    assert refusal_message("m1", ["tracking.txt"], off) == (
        "m1: delivery refused, nothing written (tracking.txt): check positions_on_pitch failed "
        '(rows_off_pitch = 2, margin_m = 5.0); first: {"frame_id": 7, "x_m": 80.0}'
    )


def test_run_tag_keys_are_written_in_one_place():
    root = Path(__file__).resolve().parents[2] / "footy_assets"
    literal = re.compile(r"""["']footy_assets/[a-z_]+["']""")
    found = [
        f"{path.relative_to(root)}:{number}"
        for path in sorted(root.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if literal.search(line) and path.name != "tags.py"
    ]
    assert found == []


def test_the_metrics_step_computes_without_dagster_what_the_lake_stores(materialised):
    """The chain's step, run again on the stored delivery, gives the stored rows of each of its tables."""
    tables = ("ball_state", "frame_state", "intervals", "match_quality")
    step = MetricsStep(materialised, "m1", set(tables))
    computed = [step.ball_state(), step.frame_state(), step.intervals(), step.match_quality()]
    for table in computed:
        stored = pl.from_arrow(materialised.read_match(table.table, "m1"))
        assert stored.height == table.frame.height > 0, table.table
        assert stored.equals(table.frame.with_columns(pl.col("fingerprint").cast(pl.String))), table.table
    frame_state = computed[1]
    assert [found.name for found in frame_state.checks] == ["speeds_plausible", "covers_tracking"]
    assert frame_state.refused == [] and frame_state.picture.startswith(b"\x89PNG")
    assert frame_state.facts["frames"] == frame_state.frame["frame_id"].n_unique()


def test_a_blocking_check_refuses_the_delivery_with_one_line_and_writes_nothing(lake, truth, instance):
    home_players = (pl.col("role") == "player") & (pl.col("team") == 0)
    player = truth.filter((pl.col("frame") == 10) & home_players).row(0, named=True)
    moved = (pl.col("frame") == 10) & (pl.col("team") == 0) & (pl.col("jersey") == player["jersey"])
    land_synthetic(lake, "sportvu", "m_off", truth.with_columns(x=pl.when(moved).then(70.0).otherwise(pl.col("x"))))
    [outcome] = materialize_lake(lake, instance, progress=lambda line: None)
    assert not outcome.ok
    assert (
        f"m_off: delivery refused, nothing written (tracking.txt): check positions_on_pitch failed "
        f'(rows_off_pitch = 1, margin_m = 5.0); first: {{"frame_id": 10, "role": "player", '
        f'"player_id": "0-{player["jersey"]}"'
    ) in outcome.error
    assert lake.open_table("tracking") is None
    import dagster as dg

    found = {}
    [run] = instance.get_runs()
    for entry in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = entry.dagster_event.event_specific_data
        found[evaluation.check_name] = (evaluation.passed, evaluation.severity)
    assert found == {
        "no_duplicate_player_frames": (True, dg.AssetCheckSeverity.ERROR),
        "positions_on_pitch": (False, dg.AssetCheckSeverity.ERROR),
        "ball_tracked": (True, dg.AssetCheckSeverity.WARN),
    }


def test_the_event_tables_are_what_depends_on_the_event_data():
    """The tables whose rows carry the event data's fingerprint (lake.publish.EVENT_TABLES) and what an event-only
    re-delivery runs (planning.EVENT_ASSETS) are exactly events, lineups and everything below them in the chain."""
    import dagster as dg

    from footy_assets.chain.planning import EVENT_ASSETS
    from footy_assets.lake.publish import EVENT_TABLES
    from footy_assets.orchestration.registry import chain_assets

    below = dg.AssetSelection.assets("events", "lineups").downstream().resolve(chain_assets)
    assert {key.to_user_string() for key in below} == set(EVENT_ASSETS) == {*EVENT_TABLES, "matches"}
    assert set(EVENT_TABLES) == {"events", "lineups", "player_match_summary", "team_match_summary"}
