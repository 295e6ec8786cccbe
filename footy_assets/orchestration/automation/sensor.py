"""The landing sensor: a new or changed delivery in <lake>/landing/ starts a run of that match.

Each tick lists the landing zone (names, sizes and modification times: cheap) and compares every match folder with
what the lake records of the delivery it publishes (``matches.files``: each file's size, time and sha256). A folder
the lake records as it is now is done: nothing is read and the cursor says nothing of it. The others are hashed
(only their files the lake does not record as they are) and decided as ``footy-assets materialize`` and the
backfill schedule decide (``chain.planning.stored_status``): a run of the whole chain, or when only its event data
changed, a run of the assets that depend on it alone. The run key is ``match_id:fingerprint`` (the fingerprint of
every landed file, event data included), so a re-scan never runs the same delivery twice.

The cursor is bounded, whatever the season: one short entry per delivery waiting for its run (a digest of its
folder's listing and of its fingerprint, so an unchanged or touched-but-same waiting folder is neither hashed again
nor requested twice; at most ``MAX_WAITING``), and one digest for the matches whose files were touched but hold the
delivery the lake publishes (checked once, then again only when that set changes). Invalid folder names and matches
landed under two formats are logged with the reason, never raised. A partition whose landing folder is gone (a
withdrawn delivery) is removed from the instance; its rows stay in the lake (``footy-assets forget``).
"""

import hashlib
import json
import os
from dataclasses import replace

import dagster as dg

from footy_assets.chain.planning import MatchPlan, recorded_files, stored_status
from footy_assets.lake.landing import (
    LandedFile,
    LandedMatch,
    LandingError,
    events_folders,
    landed_files,
    list_match_folders,
    stat_signature,
    with_events,
)
from footy_assets.lake.matches import read_matches
from footy_assets.lake.store import Lake
from footy_assets.orchestration.automation.jobs import match_job
from footy_assets.orchestration.partitions import MATCH_PARTITIONS_NAME
from footy_assets.orchestration.resources import LakeResource
from footy_assets.orchestration.tags import FINGERPRINT_TAG, MATCH_TAG, STATUS_TAG, TRIGGER_TAG

# Deliveries waiting for their run that the cursor remembers (a dozen bytes each); one beyond is hashed again on
# each tick until its run publishes it (correct, only slower).
MAX_WAITING = 1000
DIGEST_CHARS = 12  # hex of a sha256 kept per digest: 48 bits, to tell one folder state from the next
SETTLED = "*settled"  # the cursor's key of the touched-but-published digest ("*" is in no match_id)


def _short(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:DIGEST_CHARS]


def _load_cursor(text: str | None) -> dict:
    """The cursor's entries; an unreadable or older cursor (its entries were objects) reads as empty: the lake's
    records decide, and at most the folders the lake does not record are hashed once."""
    try:
        cursor = json.loads(text) if text else {}
    except json.JSONDecodeError:
        cursor = {}
    return {k: v for k, v in cursor.items() if isinstance(v, str)} if isinstance(cursor, dict) else {}


def as_recorded(row: dict | None, fmt: str, files: tuple[LandedFile, ...]) -> bool:
    """Whether a folder's listing is the delivery the lake publishes (its ``matches`` row): the same format and file
    names, each with the size and modification time recorded, so its fingerprints are the recorded ones."""
    if row is None or row["format"] != fmt:
        return False
    recorded = recorded_files(row)
    return len(recorded) == len(files) and all(
        f.mtime_ns and recorded.get(f.name, (None, None))[:2] == (f.size_bytes, f.mtime_ns) for f in files
    )


def scan_for_runs(context: dg.SensorEvaluationContext, lake: Lake) -> dg.SensorResult:
    """One sensor tick over ``lake`` (kept apart from the decorator for tests)."""
    cursor = _load_cursor(context.cursor)
    usable, refused = list_match_folders(lake)
    events, refused_events = events_folders(lake)
    refused.update(refused_events)
    for key, reason in sorted(refused.items()):
        context.log.warning(f"landing/{key}: not materialised: {reason}")
    known = set(context.instance.get_dynamic_partitions(MATCH_PARTITIONS_NAME))
    stored = {row["match_id"]: row for row in read_matches(lake).iter_rows(named=True)}
    new_partitions, requests, waiting = [], [], {}
    published, unpublished = [], []  # folders to decide: (match_id, fmt, uri, state), in the lake or not
    for match_id, (fmt, uri) in usable.items():
        try:
            files = landed_files(lake, uri, with_hashes=False)
            if match_id in events:  # the events folder's files are part of the delivery
                files += tuple(
                    replace(f, name=f"events/{f.name}") for f in landed_files(lake, events[match_id], with_hashes=False)
                )
        except LandingError as exc:  # a link, FIFO or unreadable file: this match only, the tick goes on
            context.log.warning(f"landing/{fmt}/{match_id}: not materialised: {exc}")
            continue
        if not files:
            context.log.warning(f"landing/{fmt}/{match_id} holds no files")
            continue
        state = None if as_recorded(stored.get(match_id), fmt, files) else _short(f"{fmt}\0{stat_signature(files)}")
        previous = cursor.get(match_id, "")
        if state is None or previous[:DIGEST_CHARS] == state:
            # the published delivery, or one waiting for its run and unchanged since: nothing to read
            if state is not None:
                waiting[match_id] = previous
            if match_id not in known:
                new_partitions.append(match_id)
            continue
        (published if match_id in stored else unpublished).append((match_id, fmt, uri, state))
    # folders of published matches touched since their delivery was recorded: checked when that set changes (one
    # of them changed, or another was touched), not on every tick
    settled_now = [(m, state) for m, _, _, state in published]
    to_hash = list(unpublished)
    if published and _settled_digest(settled_now) == cursor.get(SETTLED):
        new_partitions += [m for m, _ in settled_now if m not in known]
    else:
        to_hash, settled_now = to_hash + published, []
    hashed = 0
    for match_id, fmt, uri, state in sorted(to_hash):
        try:
            # files whose size and modification time the lake recorded are not read again
            recorded = recorded_files(stored[match_id]) if match_id in stored else None
            landed = with_events(
                lake,
                LandedMatch(match_id, fmt, uri, landed_files(lake, uri, known=recorded)),
                events.get(match_id),
                recorded,
            )
        except LandingError as exc:
            context.log.warning(f"landing/{fmt}/{match_id}: not materialised: {exc}")
            continue
        hashed += 1
        if match_id not in known:
            new_partitions.append(match_id)
        delivery = landed.events_fingerprint  # every landed file: the tracking's and the event data's
        row = stored.get(match_id)
        if row is not None and (row["fingerprint"], row.get("events_fingerprint") or row["fingerprint"]) == (
            landed.fingerprint,
            delivery,
        ):
            settled_now.append((match_id, state))  # touched, the delivery the lake publishes
        else:
            previous, waiting[match_id] = cursor.get(match_id, ""), state + delivery[:DIGEST_CHARS]
            if previous[DIGEST_CHARS:] == delivery[:DIGEST_CHARS]:
                continue  # touched but not changed: its run is requested already
        status, reason = stored_status(row, landed.fingerprint, landed.events_fingerprint)
        if status == "unchanged":
            context.log.info(f"{match_id}: already in the lake with this fingerprint: no run")
            continue
        context.log.info(f"{match_id} ({fmt}): {status} ({reason}): requesting a run")
        requests.append(match_run_request(match_id, status, delivery, "sensor", run_key=f"{match_id}:{delivery}"))
    next_cursor = next_cursor_of(context, waiting, settled_now)
    partitions_request = [match_partitions_request(new_partitions)] if new_partitions else []
    withdrawn = withdrawn_matches(context, known, usable, refused)
    if withdrawn:
        partitions_request.append(dg.DeleteDynamicPartitionsRequest(MATCH_PARTITIONS_NAME, withdrawn))
    if not requests and not new_partitions and not withdrawn:
        return dg.SensorResult(
            skip_reason=f"no new or changed delivery ({len(usable)} matches, {hashed} hashed)", cursor=next_cursor
        )
    return dg.SensorResult(run_requests=requests, dynamic_partitions_requests=partitions_request, cursor=next_cursor)


def next_cursor_of(context: dg.SensorEvaluationContext, waiting: dict[str, str], settled: list) -> str:
    """The cursor: the deliveries waiting for their run (at most ``MAX_WAITING``, by match_id) and the digest of
    the touched-but-published folders (``settled``: (match_id, state) pairs)."""
    if len(waiting) > MAX_WAITING:
        context.log.warning(
            f"{len(waiting)} deliveries wait for their run; the cursor keeps {MAX_WAITING}: the others are hashed "
            "again on each tick until their runs publish them"
        )
    kept = dict(sorted(waiting.items())[:MAX_WAITING])
    if settled:
        kept[SETTLED] = _settled_digest(settled)
    return json.dumps(kept, sort_keys=True)


def _settled_digest(settled: list[tuple[str, str]]) -> str:
    """One digest of the (match_id, folder state) pairs of the touched folders holding the published delivery."""
    return _short("\n".join(f"{match_id}\0{state}" for match_id, state in sorted(settled)))


def match_run_request(match_id: str, status: str, delivery: str, trigger: str, run_key: str) -> dg.RunRequest:
    """The run of one match that needs work: of the whole chain (match_job), or when only its event data changed
    (``status`` events_changed) of the assets that depend on it alone (``EVENT_ASSETS``)."""
    assets = MatchPlan(match_id, None, None, status).assets
    return dg.RunRequest(
        run_key=run_key,
        partition_key=match_id,
        asset_selection=None if assets is None else [dg.AssetKey(a) for a in assets],
        tags={MATCH_TAG: match_id, FINGERPRINT_TAG: delivery, TRIGGER_TAG: trigger, STATUS_TAG: status},
    )


def withdrawn_matches(context: dg.SensorEvaluationContext, known: set[str], usable: dict, refused: dict) -> list[str]:
    """Partitions whose landing folder is gone (a withdrawn delivery): the UI stops showing them; their rows stay
    in the lake until ``footy-assets forget ID --from-lake``. An empty landing zone (unmounted, emptied by
    mistake) withdraws nothing: a whole season never disappears from the UI because a disk is missing."""
    present = set(usable) | {key.rsplit("/", 1)[-1] for key in refused}
    gone = sorted(known - present)
    if gone and not present:
        context.log.warning(
            f"the landing zone holds no match folder: {len(gone)} partition(s) kept; "
            "remove them with footy-assets forget ID if they were withdrawn"
        )
        return []
    for match_id in gone:
        context.log.info(
            f"{match_id}: its landing folder is gone: partition removed (rows stay in the lake; "
            f"footy-assets forget {match_id} --from-lake deletes them)"
        )
    return gone


def match_partitions_request(match_ids: list[str]) -> dg.AddDynamicPartitionsRequest:
    return dg.AddDynamicPartitionsRequest(MATCH_PARTITIONS_NAME, sorted(match_ids))


SENSOR_INTERVAL_S = int(os.environ.get("FOOTY_SENSOR_INTERVAL_S", "30"))


@dg.sensor(
    job=match_job,
    minimum_interval_seconds=SENSOR_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts a run of every match whose landed files are new or changed.",
)
def landing_sensor(context: dg.SensorEvaluationContext, lake: LakeResource) -> dg.SensorResult:
    return scan_for_runs(context, lake.lake)


@dg.sensor(
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Marks failed the command-line runs whose process is gone (killed mid-run), so none stays "
    "STARTED and the run queue is never held up by them.",
)
def dead_cli_runs_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    from footy_assets.orchestration.instance import sweep_dead_runs

    marked = sweep_dead_runs(context.instance)
    for run_id in marked:
        context.log.warning(f"run {run_id}: its process is gone: marked failed")
    return dg.SkipReason(f"{len(marked)} dead command-line run(s) marked failed")


AUTOMATION_INTERVAL_S = int(os.environ.get("FOOTY_AUTOMATION_INTERVAL_S", "30"))

# Declarative automation runs by default (Dagster's own default sensor starts STOPPED): re-materialising
# tracking of a match, in the UI or anywhere, refreshes that match's downstream assets (conditions.py: eager,
# except after a run of match_job, which writes them itself).
automation_sensor = dg.AutomationConditionSensorDefinition(
    "automation_condition_sensor",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=AUTOMATION_INTERVAL_S,
    description="Evaluates every asset's automation condition (eager below tracking): a new tracking "
    "materialisation of a match refreshes that match's frame_state, ball_state, intervals, quality, summaries "
    "and matches. A run of match_job (sensor, nightly backfill, job backfill) writes them itself: no second run.",
)
