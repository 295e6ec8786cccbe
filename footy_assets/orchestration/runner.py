"""Materialising the matches that need work in-process, one match per run (which ones: ``planning``)."""

from __future__ import annotations

import gc
import os
import re
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import replace

import dagster as dg

import footy_assets
from footy_assets import ALLOCATOR_ENV, MATCH_AFTER_MATCH_ALLOCATOR
from footy_assets.chain import handover, prefetch

# planning is Dagster-free (the CLI plans and starts reading before Dagster is imported)
from footy_assets.chain.planning import MatchOutcome, MatchPlan, plan_matches, stored_status
from footy_assets.lake.publish import published_row
from footy_assets.lake.store import Lake, TableUnreadable, check_match_id
from footy_assets.orchestration.partitions import MATCH_PARTITIONS_NAME
from footy_assets.orchestration.sqlite_events import keep_connections_open


def _error_message(result: dg.ExecuteInProcessResult) -> str:
    """The user-facing message of the first failed step (the innermost cause Dagster wrapped)."""
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            # Dagster wraps the step's own error: go down to it, but no further (our errors name the table or
            # file; the low-level cause they wrap does not)
            while error is not None and error.cause is not None and (error.cls_name or "").startswith("Dagster"):
                error = error.cause
            if error is not None:
                return f"{event.step_key}: {_message_line(error.message)}"
    return "the run failed"


def _message_line(message: str) -> str:
    """One line of an error's message: the last line (where Python and pandera put what went wrong), unless the
    message carries a Rust backtrace (Delta errors): then its text before the backtrace."""
    from footy_assets.lake.store import _BACKTRACE_LINE, one_line

    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if any(_BACKTRACE_LINE.match(line) for line in lines[1:]):
        line = one_line(RuntimeError(message))
    else:
        line = lines[-1] if lines else "the step failed"
    # our own errors say what and where already: not which class of ours raised them
    return re.sub(r"^footy_assets(\.\w+)+: ", "", line)


def run_match(lake: Lake, instance: dg.DagsterInstance, plan: MatchPlan, assets: list | None = None) -> MatchOutcome:
    """Materialise the assets of one match its plan asks for (``plan.assets``: the whole chain, or what depends on
    the event data alone) in-process; report, never raise, on failure."""
    started = time.perf_counter()
    with _instance_defs_state(instance):
        result = _materialize(lake, instance, plan, assets)
    seconds = time.perf_counter() - started
    if not result.success:
        return MatchOutcome(plan, False, seconds, error=_error_message(result))
    rows = frames = events = None
    for event in result.get_asset_materialization_events():
        mat = event.materialization
        if mat.asset_key == dg.AssetKey("tracking"):
            rows = mat.metadata["dagster/row_count"].value
            frames = mat.metadata["frames"].value
        elif mat.asset_key == dg.AssetKey("events"):
            events = mat.metadata["dagster/row_count"].value
    return MatchOutcome(plan, True, seconds, rows=rows, frames=frames, events=events)


@contextmanager
def _instance_defs_state(instance: dg.DagsterInstance):
    """Make ``instance`` the process's current "defs state storage" while a run's Definitions are built.

    Dagster keeps that storage in a process-wide context variable set by whichever instance was created
    last; one dropped without being closed leaves it pointing at a dead instance and building Definitions
    then fails. Processes that create several instances (tests, notebooks) meet this; setting it to the
    instance we run with is always right. Uses a private Dagster module, so it degrades to a no-op.
    """
    try:
        from dagster._core.storage.defs_state.base import set_defs_state_storage
    except ImportError:  # pragma: no cover - a Dagster without it
        yield
        return
    with set_defs_state_storage(instance.defs_state_storage):
        yield


def _materialize(lake: Lake, instance: dg.DagsterInstance, plan: MatchPlan, assets: list | None):
    from footy_assets.orchestration.instance import process_tags
    from footy_assets.orchestration.registry import RESOURCES, chain_assets
    from footy_assets.orchestration.resources import LakeResource
    from footy_assets.orchestration.tags import FINGERPRINT_TAG, TRIGGER_TAG, WHOLE_CHAIN_TAG

    # a run of the whole chain: the automation sensor does not answer its writes with a run of its own (a run of
    # part of it records its selection, which the automation leaves out the same way)
    whole = {WHOLE_CHAIN_TAG: "true"} if assets is None and plan.assets is None else {}
    selection = None if plan.assets is None or assets is not None else [dg.AssetKey(a) for a in plan.assets]

    return dg.materialize(
        assets or chain_assets,
        selection=selection,
        partition_key=plan.match_id,
        instance=instance,
        resources={**RESOURCES, "lake": LakeResource(lake_uri=lake.uri)},
        raise_on_error=False,
        # The CLI prints one line per match; Dagster's event log stays in the instance (and the UI).
        run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
        # who runs it: a later process marks the run failed if this one dies (instance.sweep_dead_runs)
        tags={FINGERPRINT_TAG: plan.delivery or "", TRIGGER_TAG: "cli", **whole, **process_tags()},
    )


@contextmanager
def match_lock(lake: Lake, match_id: str, progress: Callable[[str], None]):
    """One process at a time materialises a match of a local lake: a second one waits for the first (one line),
    then re-decides (the match is usually unchanged by then). An flock dies with its process, so a killed run
    never leaves the match locked. On an object store the instance's one-run-per-match limit applies."""
    if not lake.is_local:
        yield False
        return
    from pathlib import Path

    from footy_assets.lake.locks import exclusive

    path = Path(lake.uri) / "_locks" / f"{check_match_id(match_id)}.lock"
    lake.check_inside(str(path))  # _locks/ swapped for a link out of the lake: refused, nothing created there
    wait_line = f"  wait    {match_id}: another process is materialising it; waiting for it to finish"
    with exclusive(path, on_wait=lambda: progress(wait_line)) as waited:
        yield waited


def _still_to_do(lake: Lake, plan: MatchPlan) -> MatchPlan:
    """``plan`` as the lake's ``matches`` row decides it now, for the same landed files (not read again), when the
    match was published after the plan was made: a process that published this very delivery meanwhile turns it
    "unchanged". A plan made after the last publish stands as it is (``doctor --repair`` rebuilds a published
    delivery on purpose)."""
    try:
        row = published_row(lake, plan.match_id, None)
    except TableUnreadable:  # the run goes ahead as planned and its publish step says what is wrong, for this match
        return plan
    if row is None or (row.get("materialized_at_ms") or 0) <= plan.planned_at_ms:
        return plan
    status, reason = stored_status(row, plan.fingerprint, plan.events_fingerprint)
    return plan if status == plan.status else replace(plan, status=status, reason=reason)


def _one_match(
    lake: Lake, instance: dg.DagsterInstance, plan: MatchPlan, progress: Callable[[str], None]
) -> MatchOutcome:
    """Materialise one planned match under its lock (re-deciding if another process held it)."""
    from footy_assets.lake import claims
    from footy_assets.orchestration.assets.claim import holder_is_live

    with match_lock(lake, plan.match_id, progress) as waited:
        try:
            now = plan
            try:  # a run another launcher started (the sensor, the UI, dg launch), or upkeep/forget, holds it
                waited = (
                    claims.wait_until_free(
                        lake,
                        plan.match_id,
                        holder_is_live(instance),
                        on_wait=lambda other: progress(
                            f"  wait    {plan.match_id}: {other.describe()} is writing it; waiting for it to finish"
                        ),
                    )
                    or waited
                )
            except claims.MatchBusy as exc:
                progress(f"  FAILED  {plan.match_id} ({plan.format}): {exc}")
                return MatchOutcome(plan, False, error=str(exc))
            if waited:  # the other process has probably done it: decide again
                now = {p.match_id: p for p in plan_matches(lake, [plan.match_id])}.get(plan.match_id, plan)
            else:  # another process may have held it and finished between our plan and our lock: ask the lake
                now = _still_to_do(lake, plan)
            if not now.needs_work:
                ok = now.status != "refused"
                progress(f"  skip    {plan.match_id} ({plan.format}): {now.status} ({now.reason})")
                return MatchOutcome(now, ok, error=None if ok else now.reason)
            outcome = run_match(lake, instance, now)
        finally:
            # an audit ahead of this match, taken or not (run, skipped, busy), is not held past its turn: a file it
            # wrote ahead and no run committed goes
            prefetch.discard()
            handover.discard()  # nor its tracking rows handed from ingest to the metrics step
    if outcome.ok and outcome.frames is None:  # the event data alone
        progress(
            f"  ok      {plan.match_id} ({plan.format}): event data only, {outcome.events or 0:,} events, "
            f"{outcome.seconds:.1f} s"
        )
    elif outcome.ok:
        progress(
            f"  ok      {plan.match_id} ({plan.format}): {outcome.frames:,} frames, {outcome.rows:,} rows, "
            f"{outcome.seconds:.1f} s"
        )
    else:
        progress(f"  FAILED  {plan.match_id} ({plan.format}): {outcome.error}")
    return outcome


_WORKER_INSTANCES: dict[str, dg.DagsterInstance] = {}


def _worker_match(lake_uri: str, instance_home: str, plan: MatchPlan) -> MatchOutcome:
    """One match in a worker process: the same instance (by its home), its own Dagster run. A worker process
    serves several matches: it opens the instance once (it is closed when the process ends)."""
    instance = _worker_instance(instance_home)
    return _one_match(Lake(lake_uri), instance, plan, lambda line: print(line, flush=True))


def _worker_instance(instance_home: str) -> dg.DagsterInstance:
    """The worker process's instance, opened by its first match. The collector was paused when the process started
    (``_worker_pool``), before this module and Dagster were imported: what they made and the instance live as long
    as the process, so they are frozen out of its passes (``footy_assets.long_lived_setup``) and it runs again."""
    instance = _WORKER_INSTANCES.get(instance_home)
    if instance is None:
        try:
            instance = _WORKER_INSTANCES[instance_home] = dg.DagsterInstance.from_config(instance_home)
            keep_connections_open(instance)
        finally:
            gc.freeze()
            gc.enable()
    return instance


def _worker_pool(workers: int):
    """A pool of ``workers`` processes, spawned (not forked: Dagster and Arrow hold threads that a fork would copy
    half-way), each with the cyclic garbage collector paused until its first match opens the instance."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=gc.disable
    )


@contextmanager
def _worker_allocator():
    """Worker processes started meanwhile inherit the allocator setting for match after match, unless a setting was
    found when footy_assets was imported (the user's, or polars'); the setting is read when polars loads (which
    appends it to its own defaults), so this process keeps its own."""
    if footy_assets.USER_ALLOCATOR is not None:
        yield
        return
    before = os.environ.get(ALLOCATOR_ENV)
    os.environ[ALLOCATOR_ENV] = MATCH_AFTER_MATCH_ALLOCATOR
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(ALLOCATOR_ENV, None)
        else:
            os.environ[ALLOCATOR_ENV] = before


def materialize_lake(
    lake: Lake,
    instance: dg.DagsterInstance,
    match_ids: Iterable[str] | None = None,
    progress: Callable[[str], None] = print,
    workers: int = 1,
    plans: list[MatchPlan] | None = None,
) -> list[MatchOutcome]:
    """Register a partition for every landed match and materialise those that need work: one by one, or
    ``workers`` matches at a time in worker processes (each a run of its own in the same instance).
    ``plans``: the planning already done (``plan_matches(lake, match_ids)``), else it is done here."""
    if plans is None:
        plans = plan_matches(lake, match_ids)
    usable = [p.match_id for p in plans if p.status != "refused"]
    known = set(instance.get_dynamic_partitions(MATCH_PARTITIONS_NAME))
    new_keys = [m for m in usable if m not in known]
    if new_keys:
        instance.add_dynamic_partitions(MATCH_PARTITIONS_NAME, new_keys)
    todo = [p for p in plans if p.needs_work]
    progress(
        f"lake {lake.uri}: {len(usable)} landed match(es), {len(todo)} to materialise, "
        f"{sum(p.status == 'unchanged' for p in plans)} unchanged, {sum(p.status == 'refused' for p in plans)} refused"
    )
    outcomes: list[MatchOutcome] = []
    for plan in plans:
        if plan.status == "refused":
            outcomes.append(MatchOutcome(plan, False, error=plan.reason))
            progress(f"  REFUSED {plan.match_id}: {plan.reason}")
        elif plan.status == "unchanged":
            outcomes.append(MatchOutcome(plan, True))
            progress(f"  skip    {plan.match_id} ({plan.format}): unchanged")
    if workers > 1 and len(todo) > 1 and instance.root_directory:
        from concurrent.futures import as_completed

        with _worker_pool(min(workers, len(todo))) as pool:
            futures = {}
            with _worker_allocator():  # the pool starts its processes as matches are submitted
                for number, plan in enumerate(todo, start=1):
                    progress(f"  [{number}/{len(todo)}] {plan.match_id} ({plan.format}, {plan.status}) queued")
                    futures[pool.submit(_worker_match, lake.uri, instance.root_directory, plan)] = plan
            for future in as_completed(futures):
                try:
                    outcomes.append(future.result())
                except Exception as exc:  # noqa: BLE001  a worker that died (out of memory, killed): that match failed
                    plan = futures[future]
                    outcomes.append(MatchOutcome(plan, False, error=f"worker process failed: {exc}"))
                    progress(f"  FAILED  {plan.match_id} ({plan.format}): worker process failed: {exc}")
        return outcomes
    for number, plan in enumerate(todo, start=1):
        progress(f"  [{number}/{len(todo)}] {plan.match_id} ({plan.format}, {plan.status}) ...")
        outcomes.append(_one_match(lake, instance, plan, progress))
    return outcomes
