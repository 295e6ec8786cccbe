"""Forgetting a withdrawn match: its partition in the Dagster instance and, when asked, its rows in the lake.

A vendor withdraws a delivery (wrong match, a test feed, a licence ending). Once its landing folder is gone, the
landing sensor drops the match's partition on its next tick, so the UI stops showing it; its rows stay in the
lake until ``footy-assets forget MATCH --from-lake`` removes them explicitly. The lake side removes the
``matches`` row first (the publish marker: from then on no reader shows the match), then the match's rows of
every per-match table, its raw-feed record and its picture. A second run changes nothing; once neither the
instance nor the lake knows the match, forgetting it is an unknown id (``NothingToForget``).
"""

from __future__ import annotations

from collections.abc import Callable

import dagster as dg

from footy_assets.lake.forget import (
    Forgotten,
    NothingToForget,
    StillLanded,
    check_not_landed,
    forget_rows,
    landed_folder,
    traces,
)
from footy_assets.lake.store import Lake
from footy_assets.orchestration.assets.claim import holder_is_live
from footy_assets.orchestration.partitions import MATCH_PARTITIONS_NAME


def forget_match(
    lake: Lake,
    instance: dg.DagsterInstance,
    match_id: str,
    from_lake: bool = False,
    progress: Callable[[str], None] = print,
) -> Forgotten:
    """Remove ``match_id``'s partition from the instance and, with ``from_lake``, its rows and files from the lake.
    Raises ``StillLanded`` while its landing folder exists (remove the folder first), ``NothingToForget`` when
    neither the instance (no partition) nor the lake (no rows, record or picture) knows the match."""
    check_not_landed(lake, match_id)
    if not instance.has_dynamic_partition(MATCH_PARTITIONS_NAME, match_id) and not traces(lake, match_id):
        raise NothingToForget(
            f"nothing to forget of {match_id!r}: no partition in the Dagster instance and nothing of it in the lake "
            f"at {lake.uri} (an id never landed, mistyped, or already forgotten)"
        )
    result = Forgotten(match_id, partition_removed=False)
    if from_lake:  # not while a run of it writes (whoever launched it)
        forget_rows(lake, match_id, result, holder_is_live(instance), progress)
    if instance.has_dynamic_partition(MATCH_PARTITIONS_NAME, match_id):
        instance.delete_dynamic_partition(MATCH_PARTITIONS_NAME, match_id)
        result.partition_removed = True
    return result


__all__ = ["Forgotten", "NothingToForget", "StillLanded", "forget_match", "landed_folder"]
