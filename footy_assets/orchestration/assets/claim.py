"""Every step of a match's run claims the match first (``footy_assets.lake.claims``): a CLI run, a sensor's, the UI's, a
backfill's and ``dg launch``'s never write one match at once, nor do upkeep and forget while a run writes it."""

from __future__ import annotations

from collections.abc import Callable

import dagster as dg

from footy_assets.lake import claims
from footy_assets.lake.store import Lake


def run_is_live(instance: dg.DagsterInstance) -> Callable[[str], bool]:
    """Whether a run still runs, by the instance: not finished. A run this instance does not know (another home on
    the same lake) is judged by its process, like upkeep's."""

    def live(run_id: str) -> bool:
        run = instance.get_run_by_id(run_id)
        return run is not None and not run.is_finished

    return live


def holder_is_live(instance: dg.DagsterInstance) -> Callable[[claims.Holder], bool]:
    known = run_is_live(instance)

    def is_live(holder: claims.Holder) -> bool:
        if holder.kind == "run" and instance.get_run_by_id(holder.id) is None:
            return claims.process_is_live(holder)
        return claims.holder_is_live(known)(holder)

    return is_live


def hold_match(context: dg.AssetExecutionContext, lake: Lake) -> None:
    """Claim the step's match for its run before anything is written (waits, with one warning, while another
    run, upkeep or forget holds it; fails with one line after ``FOOTY_MATCH_WAIT_S``)."""
    holder = claims.this_process("run", context.run.run_id)
    try:
        claims.claim(
            lake,
            context.partition_key,
            holder,
            holder_is_live(context.instance),
            on_wait=lambda other: context.log.warning(
                f"{context.partition_key}: waiting for {other.describe()}, which is writing this match"
            ),
        )
    except claims.MatchBusy as exc:
        raise dg.Failure(str(exc)) from None


def release_match(context: dg.AssetExecutionContext, lake: Lake) -> None:
    """The run's last step gives the match up (a failed run's claim lapses when the run ends)."""
    claims.release(lake, context.partition_key, context.run.run_id)


__all__ = ["hold_match", "holder_is_live", "release_match", "run_is_live"]
