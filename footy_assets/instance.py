"""The Dagster instance home the CLI and the Makefile use (``DAGSTER_HOME``, default ``.dagster_home/``).

Its ``dagster.yaml`` is written once, if missing: no usage statistics sent, and at most one run per match
at a time (a tag concurrency limit on the partition tag that Dagster puts on every partitioned run), so a
sensor run, a scheduled backfill and a UI launch never write the same match at once.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from footy_assets.lake import PROJECT_ROOT

INSTANCE_YAML = """\
# Written by footy_assets (footy_assets/instance.py); edit freely, it is not overwritten.
telemetry:
  enabled: false
run_queue:
  tag_concurrency_limits:
    - key: "dagster/partition"
      value:
        applyLimitPerUniqueValue: true
      limit: 1
"""


def ensure_dagster_home() -> Path:
    """``$DAGSTER_HOME`` (default ``.dagster_home/`` in the project root), created with its dagster.yaml."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT / ".dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(INSTANCE_YAML)
    return home


if __name__ == "__main__":  # `python -m footy_assets.instance`: used by `make dev`
    print(ensure_dagster_home(), file=sys.stderr)
