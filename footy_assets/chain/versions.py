"""Code versions of the assets, in one place.

A change in how an asset computes its rows changes its version here: ``footy-assets materialize`` (and
the Dagster UI) then treat every stored match as stale and recompute it. The versions of the last
successful run of a match are stored in its ``matches`` row, so the decision comes from the lake itself.

Some versions are derived from what defines the asset's numbers: the Savitzky-Golay parameters of
frame_state, the interval catalog's content, each SQL model's text.
"""

import hashlib

from footy_assets.lake.store import PROJECT_ROOT
from footy_assets.core.metrics.intervals import CATALOG_PATH
from footy_assets.core.metrics.kinematics import MAX_ACCEL_MPS2, MAX_SPEED_MPS, MAX_STEP_SPEED_MPS, SMOOTHER

SQL_DIR = PROJECT_ROOT / "dbt_like_sql"


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def _sql_versions() -> dict[str, str]:
    return {path.stem: f"1+sql.{_digest(path.read_bytes())}" for path in sorted(SQL_DIR.glob("*.sql"))}


CODE_VERSIONS: dict[str, str] = {
    "raw_feed": "1",
    "tracking": "4",
    # 4: valid also needs a plausible speed and acceleration in the SG window
    "frame_state": (f"4+sg{SMOOTHER['window']}.{SMOOTHER['polyorder']}+step{MAX_STEP_SPEED_MPS:g}"
                    f"+speed{MAX_SPEED_MPS:g}+accel{MAX_ACCEL_MPS2:g}"),
    "ball_state": "2",
    "intervals": f"4+catalog.{_digest(CATALOG_PATH.read_bytes())}",  # 4: sums over runs in float64, fixed order
    "match_quality": "2",  # 2: totals of dropout_s from whole frames (the same bits on every run)
    **_sql_versions(),
    "matches": "3",
}
