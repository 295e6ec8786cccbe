"""Resources, configured from the environment."""

import dagster as dg

from footy_assets.lake.store import Lake


class LakeResource(dg.ConfigurableResource):
    """The lake every asset reads and writes: ``lake_uri``, else ``$FOOTY_DATA_LAKE``, else ``data_lake/``."""

    lake_uri: str | None = None

    @property
    def lake(self) -> Lake:
        return Lake.from_env(self.lake_uri)
