"""Code versions of the assets, in one place.

A change in how an asset computes its rows changes its version here: ``footy-assets materialize`` (and
the Dagster UI) then treat every stored match as stale and recompute it. The versions of the last
successful run of a match are stored in its ``matches`` row, so the decision comes from the lake itself.

Some versions are derived from what defines the asset's numbers: the Savitzky-Golay parameters of
frame_state, the interval catalog's content, each SQL model's text.

The SQL models (``sql_models/<table>.sql``, one summary table each) live here, in the lowest layer that reads
them: their text is part of the code versions, and the orchestration layer above turns them into assets. They
are package data, read through ``importlib.resources``, so an installed package finds them wherever it runs.
"""

import hashlib
from importlib.resources import files
from importlib.resources.abc import Traversable

from footy_assets.core.metrics.intervals import CATALOG
from footy_assets.core.metrics.kinematics import MAX_ACCEL_MPS2, MAX_SPEED_MPS, MAX_STEP_SPEED_MPS, SMOOTHER
from footy_assets.core.sync import SyncParams

SQL_DIR: Traversable = files("footy_assets.chain") / "sql_models"


class MissingModels(RuntimeError):
    """The package has no SQL models: installed without its package data."""


def sql_model_files(folder: Traversable = SQL_DIR) -> list[Traversable]:
    """The ``<table>.sql`` files of ``folder``, by name; an error if there are none (the summary tables would
    silently be missing)."""
    listed = folder.iterdir() if folder.is_dir() else []
    found = sorted((f for f in listed if f.name.endswith(".sql") and f.is_file()), key=lambda f: f.name)
    if not found:
        raise MissingModels(f"no SQL models in {folder}: the package was installed without its data files")
    return found


def model_name(file: Traversable) -> str:
    """A model's (and its table's) name: its file name without ``.sql``."""
    return file.name.removesuffix(".sql")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def _sql_versions() -> dict[str, str]:
    return {model_name(file): f"1+sql.{_digest(file.read_bytes())}" for file in sql_model_files()}


CODE_VERSIONS: dict[str, str] = {
    "raw_feed": "1",
    "tracking": "4",
    # 4: valid also needs a plausible speed and acceleration in the SG window
    "frame_state": (
        f"4+sg{SMOOTHER['window']}.{SMOOTHER['polyorder']}+step{MAX_STEP_SPEED_MPS:g}"
        f"+speed{MAX_SPEED_MPS:g}+accel{MAX_ACCEL_MPS2:g}"
    ),
    "ball_state": "2",
    "intervals": f"4+catalog.{_digest(CATALOG.read_bytes())}",  # 4: sums over runs in float64, fixed order
    "match_quality": "2",
    # events and lineups: a version missing from a stored match's matches row makes that match stale once
    "events": f"1+sync.{_digest(repr(SyncParams()).encode())}",  # the synchroniser's constants
    "lineups": "1",  # 2: totals of dropout_s from whole frames (the same bits on every run)
    **_sql_versions(),
    "matches": "3",
}
