"""Contracts validated in one polars query, with pandera's own checks, and pandera's errors when one fails.

pandera's polars backend collects every check on its own and materialises each check's boolean column before
reducing it, which costs seconds on a full match and Python time per contract on a small table.
``Contract.validate`` first asks the same questions at once — each declared column present
and of its dtype, no null (nor NaN) where the column is not nullable, no duplicate where it is unique, and every
column and dataframe check, each built by pandera's own check function and reduced to one boolean as pandera
reduces it — in one ``pl.collect_all``. Only a frame that passes all of them is returned as is; anything else
(a failure, a check it cannot evaluate this way, a contract using a feature it does not handle) goes to
pandera's ``validate``, which decides and raises its usual error with the failure cases. So the shortcut can
only ever say "valid" where pandera would: it is at least as strict.
"""

from __future__ import annotations

from functools import cache

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData
from pandera.backends.polars.container import DataFrameSchemaBackend
from pandera.config import ValidationDepth, get_config_context


class Contract(pa.DataFrameModel):
    """A pandera DataFrameModel whose ``validate`` of a DataFrame tries the one-query path first."""

    @classmethod
    def validate(cls, check_obj, head=None, tail=None, sample=None, random_state=None, lazy=False, inplace=False):
        if (
            isinstance(check_obj, pl.DataFrame)
            and head is None
            and tail is None
            and sample is None
            and passes(cls.to_schema(), check_obj)
        ):
            return check_obj
        return super().validate(
            check_obj, head=head, tail=tail, sample=sample, random_state=random_state, lazy=lazy, inplace=inplace
        )


def dtypes(model: type[pa.DataFrameModel]) -> dict[str, pl.DataType]:
    """The polars schema a contract declares: {column: dtype} in its declared order. A table is declared once,
    by its contract; the lake writes (and casts to) this schema, so it is the stored table's."""
    return dict(_dtypes(model))


@cache
def _dtypes(model: type[pa.DataFrameModel]) -> tuple[tuple[str, pl.DataType], ...]:
    columns = model.to_schema().columns
    missing = [name for name, column in columns.items() if column.dtype is None]
    if missing:
        raise TypeError(f"{model.__name__}: no dtype declared for {', '.join(missing)}")
    return tuple((name, column.dtype.type) for name, column in columns.items())


def passes(schema, frame: pl.DataFrame) -> bool:
    """Whether ``frame`` certainly passes ``schema`` (a pandera polars DataFrameSchema); False also when the
    question is for pandera to answer (a feature of the schema this path does not evaluate)."""
    config = get_config_context()
    if not config.validation_enabled or config.validation_depth not in (None, ValidationDepth.SCHEMA_AND_DATA):
        return False
    if not _plain(schema):
        return False
    # registers pandera's backends for polars (its check functions dispatch on them); the native polars
    # backend's checks only: with the narwhals one configured, pandera answers
    if type(schema.get_backend(frame)) is not DataFrameSchemaBackend:
        return False
    names = frame.columns
    declared = list(schema.columns)
    if schema.strict or schema.ordered:
        if names != declared:  # stricter than pandera's (it allows undeclared columns when only ordered)
            return False
    elif not set(declared) <= set(names):
        return False
    lf = frame.lazy()
    dtypes = frame.schema
    questions: list[pl.LazyFrame] = []
    try:
        for name, column in schema.columns.items():
            if column.dtype is not None and not column.dtype.check(dtypes[name], PolarsData(lf, name)):
                return False
            if not column.nullable:
                present = pl.col(name).is_not_null()
                if dtypes[name] in (pl.Float32, pl.Float64):
                    present = present & pl.col(name).is_not_nan()  # pandera counts NaN as missing
                questions.append(lf.select(present.all()))
            if column.unique:
                questions.append(lf.select(pl.col(name).is_duplicated().any().not_()))
            for check in column.checks:
                questions.append(_reduced(check, lf, name))
        for check in schema.checks:
            questions.append(_reduced(check, lf, "*"))
        if any(q is None for q in questions):
            return False
        answers = pl.collect_all(questions)
    except Exception:  # noqa: BLE001 — whatever went wrong, pandera's own run reports it properly
        return False
    return all(answer.to_series(0).item() is True for answer in answers)


def _plain(schema) -> bool:
    """Whether the schema uses only what ``passes`` evaluates (no coercion, defaults, regex columns,
    parsers, subsampling, dataframe dtype or uniqueness, dropping of invalid rows)."""
    if (
        schema.strict not in (True, False)
        or schema.coerce
        or schema.add_missing_columns
        or schema.dtype is not None
        or schema.unique
        or getattr(schema, "drop_invalid_rows", False)
        or getattr(schema, "parsers", None)
    ):
        return False
    for column in schema.columns.values():
        if (
            column.coerce
            or column.regex
            or not column.required
            or column.default is not None
            or getattr(column, "drop_invalid_rows", False)
            or getattr(column, "parsers", None)
        ):
            return False
    return all(
        not check.element_wise and not check.raise_warning and check.groupby is None
        for check in [*schema.checks, *(c for column in schema.columns.values() for c in column.checks)]
    )


def _reduced(check, lf: pl.LazyFrame, key: str) -> pl.LazyFrame | None:
    """One row, one boolean: whether ``check`` passes on column ``key`` ("*": the frame), reduced as pandera
    reduces a check's output (a null passes when the check ignores nulls, else fails; several output
    columns must all pass). None where the check function's output is not a frame this can reduce."""
    function = check._check_fn
    name = getattr(function, "__name__", None)
    if name is not None and check.is_builtin_check(name):  # as Check.__call__: the polars implementation
        function = check.get_builtin_check_fn(name)
    out = function(PolarsData(lf, key), **check._check_kwargs)
    if isinstance(out, bool):
        return pl.LazyFrame({"passed": [out]})
    if not isinstance(out, pl.LazyFrame) or any(t != pl.Boolean for t in out.collect_schema().dtypes()):
        return None
    passing = [
        (pl.col(c) | pl.col(c).is_null()) if check.ignore_na else pl.col(c).fill_null(False)
        for c in out.collect_schema().names()
    ]
    return out.select(pl.all_horizontal(*[p.all() for p in passing]).alias("passed"))
