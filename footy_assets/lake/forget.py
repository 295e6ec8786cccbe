"""Forgetting a withdrawn match in the lake: its ``matches`` row first (the publish marker: from then on no reader
shows the match), then its rows of every per-match table, its raw-feed record and its picture. A second run finds
nothing and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa

from footy_assets.lake import claims
from footy_assets.lake.landing import list_match_folders
from footy_assets.lake.matches import raw_feed_record_uri
from footy_assets.lake.publish import PER_MATCH_TABLES
from footy_assets.lake.store import Lake, check_match_id


class StillLanded(RuntimeError):
    """The match's landing folder is still there: it would be registered (and materialised) again."""


class NothingToForget(LookupError):
    """Neither the Dagster instance nor the lake knows the match: an id never landed, mistyped, or forgotten."""


@dataclass
class Forgotten:
    match_id: str
    partition_removed: bool
    deleted_rows: dict[str, int] = field(default_factory=dict)  # table -> rows deleted (lake side only)
    files_removed: list[str] = field(default_factory=list)


def landed_folder(lake: Lake, match_id: str) -> str | None:
    """landing/<format>/<match_id> if the match is still landed (under any format), else None."""
    usable, refused = list_match_folders(lake)
    if match_id in usable:
        return f"landing/{usable[match_id][0]}/{match_id}"
    names = [key for key in refused if key == match_id or key.endswith(f"/{match_id}")]
    return f"landing/{names[0]}" if names else None


def check_not_landed(lake: Lake, match_id: str) -> None:
    """Raise ``StillLanded`` while the match's landing folder exists (remove the folder first)."""
    check_match_id(match_id)
    folder = landed_folder(lake, match_id)
    if folder is not None:
        raise StillLanded(
            f"{folder} still holds the delivery: it would be registered and materialised again; remove the folder first"
        )


def traces(lake: Lake, match_id: str) -> list[str]:
    """What the lake holds of ``match_id``: the tables with data files in its partition (from each table's log, no
    data file read), its raw-feed record and its picture folder, by name; empty when it holds nothing of it."""
    check_match_id(match_id)
    found = []
    for table in ("matches", *PER_MATCH_TABLES):
        dt = lake.open_table(table)
        if dt is None:
            continue
        actions = pa.table(dt.get_add_actions(flatten=True))
        if "partition.match_id" in actions.column_names:
            holds = match_id in set(actions["partition.match_id"].to_pylist())
        else:  # a table not partitioned by match (none is today): its rows
            holds = bool(lake.read_match(table, match_id, ["match_id"]).num_rows)
        if holds:
            found.append(table)
    for uri in (raw_feed_record_uri(lake, match_id), lake.join("_pictures", match_id)):
        if lake.kind_of(uri) is not None:
            found.append(uri[len(lake.uri) + 1 :])
    return found


def forget_rows(
    lake: Lake,
    match_id: str,
    result: Forgotten,
    is_live: Callable[[claims.Holder], bool],
    progress: Callable[[str], None] = print,
) -> None:
    """Delete the match's rows and files from the lake into ``result``, once no run of it writes (``is_live`` tells
    whether a claim's holder still runs)."""
    wait_line = lambda other: progress(f"  wait    {match_id}: {other.describe()} is writing it")  # noqa: E731
    with claims.claimed(lake, match_id, claims.this_process("forget"), is_live, wait_line):
        for table in ("matches", *PER_MATCH_TABLES):  # the publish marker first
            result.deleted_rows[table] = lake.delete_match(table, match_id)
        for uri in (raw_feed_record_uri(lake, match_id), lake.join("_pictures", match_id)):
            if lake.delete_path(uri):
                result.files_removed.append(uri)
