"""What the asset bodies share to publish a chain step: the asset check specs and results from the checks'
declarations (``footy_assets.chain.checks``), and a step's missing input reported as the step's failure."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import dagster as dg

from footy_assets.chain.checks import Check, Outcome
from footy_assets.chain.inputs import NotReady
from footy_assets.orchestration.metadata import tidy
from footy_assets.orchestration.partitions import match_partitions


def check_specs(checks: Iterable[Check]) -> list[dg.AssetCheckSpec]:
    """One partitioned ``AssetCheckSpec`` per declared check, in their order."""
    return [
        dg.AssetCheckSpec(
            check.name,
            asset=check.asset,
            partitions_def=match_partitions,
            blocking=check.blocking,
            description=check.description,
        )
        for check in checks
    ]


def check_result(found: Outcome) -> dg.AssetCheckResult:
    """A check's outcome on the partition's match: an error when the check blocks, else a warning."""
    severity = dg.AssetCheckSeverity.ERROR if found.check.blocking else dg.AssetCheckSeverity.WARN
    return dg.AssetCheckResult(
        asset_key=found.check.asset,
        check_name=found.name,
        passed=found.passed,
        severity=severity,
        metadata=tidy(found.metadata),
    )


@contextmanager
def inputs_ready() -> Iterator[None]:
    """A chain step's missing input (``NotReady``) as Dagster's ``Failure``: its one line, what to materialise first."""
    try:
        yield
    except NotReady as exc:
        raise dg.Failure(str(exc)) from None
