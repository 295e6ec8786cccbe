"""The one-query validation path (contracts/validation.py) agrees with pandera on every table of a real chain:
it passes what pandera passes, and whatever it does not pass goes to pandera, which raises its usual error.

Each table of a materialised match is broken in every way its contract names (a null where none is allowed, a
value outside each range or set, a wrong dtype, a missing, extra or moved column, a duplicated row) and the
shortcut's verdict is compared with pandera's own on the same frame."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl
import pytest

from footy_assets.core.contracts.derived import BallState, FrameState, Intervals, MatchQuality
from footy_assets.core.contracts.matches import Matches
from footy_assets.core.contracts.tracking import Tracking
from footy_assets.core.contracts.validation import passes
from footy_assets.orchestration.assets.summaries import CONTRACT_OF_SUMMARY
from footy_assets.orchestration.runner import materialize_lake
from footy_assets_tests.helpers import land_synthetic

CONTRACT_OF_TABLE = {
    "tracking": Tracking,
    "frame_state": FrameState,
    "ball_state": BallState,
    "intervals": Intervals,
    "match_quality": MatchQuality,
    "matches": Matches,
    **CONTRACT_OF_SUMMARY,
}


@pytest.fixture(scope="module")
def tables(tmp_path_factory, truth):
    import dagster as dg

    from footy_assets.lake.store import Lake

    root = tmp_path_factory.mktemp("validation") / "lake"
    (root / "landing").mkdir(parents=True)
    lake = Lake.from_env(str(root))
    land_synthetic(lake, "footy_stats", "m", truth)
    with dg.instance_for_test() as instance:
        assert all(o.ok for o in materialize_lake(lake, instance, progress=lambda _: None))
    out = {}
    for table, contract in CONTRACT_OF_TABLE.items():
        frame = pl.from_arrow(lake.read_match(table, "m"))
        # as the assets hold them in memory: the fingerprint as a category (Delta stores strings)
        declared = contract.to_schema().columns
        if "fingerprint" in frame.columns and str(declared["fingerprint"].dtype) == "Categorical":
            frame = frame.with_columns(pl.col("fingerprint").cast(pl.Categorical))
        out[table] = frame.select(list(declared)) if contract.Config.strict else frame
    return out


def pandera_passes(contract, frame: pl.DataFrame) -> bool:
    try:
        pa.DataFrameModel.validate.__func__(contract, frame)  # pandera's own validate, without the shortcut
    except (pa.errors.SchemaError, pa.errors.SchemaErrors):
        return False
    return True


def mutants(frame: pl.DataFrame, contract):
    """(what, broken frame): each way the contract says the frame may be wrong."""
    schema = contract.to_schema()
    first = pl.int_range(pl.len()) == 0
    for name, column in schema.columns.items():
        dtype = frame.schema[name]
        if not column.nullable:
            yield f"{name} null", frame.with_columns(pl.when(first).then(None).otherwise(pl.col(name)).alias(name))
        if dtype in (pl.Float32, pl.Float64) and not column.nullable:
            yield (
                f"{name} NaN",
                frame.with_columns(pl.when(first).then(float("nan")).otherwise(pl.col(name)).cast(dtype).alias(name)),
            )
        for check in column.checks:
            stats = check.statistics or {}
            bad = None
            if "min_value" in stats and dtype.is_numeric():
                bad = stats["min_value"] - (1 if check.name != "greater_than" else 0)
            elif "max_value" in stats and dtype.is_numeric():
                bad = stats["max_value"] + 1
            elif "allowed_values" in stats:
                bad = 99 if dtype.is_numeric() else "not-allowed"
            elif "pattern" in stats:
                bad = "no match!"
            if bad is not None:
                yield (
                    f"{name} {check.name}",
                    frame.with_columns(
                        pl.when(first)
                        .then(pl.lit(bad))
                        .otherwise(pl.col(name).cast(pl.String if isinstance(bad, str) else dtype))
                        .cast(dtype, strict=False)
                        .alias(name)
                    ),
                )
        if dtype.is_nested():
            continue
        other = pl.String if dtype == pl.Categorical else pl.Int32 if dtype != pl.Int32 else pl.Int64
        yield f"{name} as {other}", frame.with_columns(pl.col(name).cast(other, strict=False))
    yield "a column missing", frame.drop(frame.columns[-1])
    yield "an extra column", frame.with_columns(extra=pl.lit(1))
    yield "two columns swapped", frame.select(frame.columns[1], frame.columns[0], *frame.columns[2:])
    if frame.height:
        yield "a row twice", pl.concat([frame, frame.head(1)])
        yield "a row twice, next to itself", pl.concat([frame.head(1), frame])  # frame order kept
    if frame.height and "match_id" in frame.columns:
        yield (
            "another match_id",
            frame.with_columns(pl.when(first).then(pl.lit("other")).otherwise(pl.col("match_id")).alias("match_id")),
        )


@pytest.mark.slow
@pytest.mark.parametrize("table", list(CONTRACT_OF_TABLE))
def test_valid_tables_take_the_shortcut(tables, table):
    frame, contract = tables[table], CONTRACT_OF_TABLE[table]
    assert frame.height > 0
    assert passes(contract.to_schema(), frame)
    assert contract.validate(frame) is frame  # returned as is: pandera did not run


@pytest.mark.slow
@pytest.mark.parametrize("table", list(CONTRACT_OF_TABLE))
def test_the_shortcut_never_passes_what_pandera_refuses(tables, table):
    frame, contract = tables[table], CONTRACT_OF_TABLE[table]
    refused = 0
    for what, broken in mutants(frame, contract):
        verdict = pandera_passes(contract, broken)
        assert passes(contract.to_schema(), broken) == verdict, f"{table}: {what}"
        if not verdict:
            refused += 1
            with pytest.raises((pa.errors.SchemaError, pa.errors.SchemaErrors)):
                contract.validate(broken)  # pandera's error, as before
    assert refused >= 5


def test_a_contract_feature_the_shortcut_does_not_evaluate_goes_to_pandera():
    from footy_assets.core.contracts.validation import Contract

    class Coerced(Contract):
        x: pl.Int64 = pa.Field(ge=0)

        class Config:
            coerce = True

    frame = pl.DataFrame({"x": [1, 2]}, schema={"x": pl.Int32})
    assert not passes(Coerced.to_schema(), frame)
    assert Coerced.validate(frame)["x"].dtype == pl.Int64  # pandera coerced it


def test_a_players_key_in_one_frame_is_distinct_for_every_team_and_jersey():
    """Home 1024 and away 0 share no key (they did when a jersey's room was 1024 numbers), and a repeat of
    jersey 5000 is found; frame ids beyond the key's range are compared column by column."""
    from footy_assets.core import canonical

    frame = pl.DataFrame(
        {
            "frame_id": [7, 7, 8, 8, 2**40, 2**40],
            "team": pl.Series([0, 1, 0, 0, 1, 0], dtype=pl.Int8),
            "jersey": pl.Series([1024, 0, 5000, 5000, 3, 3], dtype=pl.Int16),
            "player_id": ["0-1024", "1-0", "0-5000", "0-5000", "1-3", "0-3"],
        }
    )
    assert canonical.duplicate_players(frame).rows() == [(8, "0-5000")]
    assert canonical.duplicate_players(frame.filter(pl.col("frame_id") != 8)).height == 0
    assert canonical.duplicate_players_by_key(frame.filter(pl.col("frame_id") == 2**40)).height == 0
