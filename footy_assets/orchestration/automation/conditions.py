"""The automation condition of a match's chain: Dagster's eager condition, except that an upstream update made
by a run of the whole chain does not count.

Eager requests an asset when an upstream partition was updated since the previous tick and the asset is not in
progress. A tick reads the updates from the asset records it fetched when it started, but asks whether the asset
is in progress later, when it reaches it. A tick overlapping a run of ``match_job`` (the landing sensor's, the
nightly backfill's, a backfill of the job from the UI or ``dagster job backfill``, ``dg launch --job``) could thus
see frame_state written and intervals not yet, then find intervals no longer in progress because the run had
written it meanwhile, and request a second run that rewrote intervals alone. Dagster leaves out the updates of a
run that selected the asset too, but a run of a whole job records no selection. Every run of ``match_job``
carries ``WHOLE_CHAIN_TAG`` instead, and the updates such runs make are left out here, match by match.

A run of part of the chain (from the asset catalog, ``dg launch --assets``, tracking re-materialised) still
refreshes everything below it. A run of ``match_job`` counts as the whole chain, so a subset of the job launched
from the job's own page refreshes nothing below it: launch a subset from the asset catalog instead.
"""

from collections.abc import Sequence

import dagster as dg

from footy_assets.orchestration.tags import WHOLE_CHAIN_TAG

# on every run of match_job (a job's tags are given to each of its runs, however launched)


def chain_condition() -> dg.AutomationCondition:
    """Eager, with the upstream updates made by runs tagged ``WHOLE_CHAIN_TAG`` left out of its trigger."""
    by_a_chain_run = (
        # the latest update of the upstream match was a whole-chain run's, which writes this asset after it
        # (Dagster knows the latest run only while that match is the upstream asset's latest materialisation)
        dg.AutomationCondition.executed_with_tags(tag_keys={WHOLE_CHAIN_TAG})
        # every update of the upstream match since the previous tick was a whole-chain run's, however many
        # matches run at once (Dagster answers this once a previous tick has seen an event of the instance)
        | dg.AutomationCondition.all_new_updates_have_run_tags(tag_keys={WHOLE_CHAIN_TAG})
    ).with_label("updated_by_a_whole_chain_run")
    updated_outside_a_chain_run = (
        dg.AutomationCondition.newly_updated() & ~dg.AutomationCondition.executed_with_root_target() & ~by_a_chain_run
    ).with_label("newly_updated_outside_a_chain_run")
    return dg.AutomationCondition.eager().replace("newly_updated_without_root", updated_outside_a_chain_run)


def with_chain_condition(assets: Sequence[dg.AssetsDefinition]) -> list[dg.AssetsDefinition]:
    """``assets`` with ``chain_condition()`` in place of each automation condition they declare; an asset that
    declares none stays without."""
    condition = chain_condition()

    def replace(spec: dg.AssetSpec) -> dg.AssetSpec:
        if spec.automation_condition is None:
            return spec
        return spec.replace_attributes(automation_condition=condition)

    return [asset.map_asset_specs(replace) for asset in assets]
