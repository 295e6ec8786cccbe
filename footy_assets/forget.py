"""Forgetting a withdrawn match: its partition in the Dagster instance and, when asked, its rows in the lake.

A vendor withdraws a delivery (wrong match, a test feed, a licence ending). Once its landing folder is gone, the
landing sensor drops the match's partition on its next tick, so the UI stops showing it; its rows stay in the
lake until ``footy-assets forget MATCH --from-lake`` removes them explicitly. The lake side removes the
``matches`` row first (the publish marker: from then on no reader shows the match), then the match's rows of
every per-match table, its raw-feed record and its picture. A second run finds nothing and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import dagster as dg

from footy_assets.lake import Lake, check_match_id
from footy_assets.landing import list_match_folders
from footy_assets.matches import raw_feed_record_uri
from footy_assets.partitions import MATCH_PARTITIONS_NAME
from footy_assets.publish import PER_MATCH_TABLES


class StillLanded(RuntimeError):
    """The match's landing folder is still there: it would be registered (and materialised) again."""


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


def forget_match(lake: Lake, instance: dg.DagsterInstance, match_id: str, from_lake: bool = False,
                 progress: Callable[[str], None] = print) -> Forgotten:
    """Remove ``match_id``'s partition from the instance and, with ``from_lake``, its rows and files from the lake.
    Raises ``StillLanded`` while its landing folder exists (remove the folder first)."""
    from footy_assets import claims
    from footy_assets.assets.claim import holder_is_live

    check_match_id(match_id)
    folder = landed_folder(lake, match_id)
    if folder is not None:
        raise StillLanded(f"{folder} still holds the delivery: it would be registered and materialised again; "
                          "remove the folder first")
    result = Forgotten(match_id, partition_removed=False)
    if from_lake:
        wait_line = lambda other: progress(f"  wait    {match_id}: {other.describe()} is writing it")  # noqa: E731
        # not while a run of it writes (whoever launched it)
        with claims.claimed(lake, match_id, claims.this_process("forget"), holder_is_live(instance), wait_line):
            for table in ("matches", *PER_MATCH_TABLES):  # the publish marker first
                result.deleted_rows[table] = lake.delete_match(table, match_id)
            for uri in (raw_feed_record_uri(lake, match_id), lake.join("_pictures", match_id)):
                if lake.delete_path(uri):
                    result.files_removed.append(uri)
    if instance.has_dynamic_partition(MATCH_PARTITIONS_NAME, match_id):
        instance.delete_dynamic_partition(MATCH_PARTITIONS_NAME, match_id)
        result.partition_removed = True
    return result
