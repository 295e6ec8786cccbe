"""Synthetic matches in any vendor format: the truth (``core.synthetic``) and each format's writer, for the demo,
tests and bench."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from footy_assets.core.synthetic import *  # noqa: F403  (the truth: MatchSpec, generate_truth, constants)
from footy_assets.core.synthetic import MatchSpec, generate_truth
from footy_assets.formats.cdf.synthetic import *  # noqa: F403
from footy_assets.formats.cdf.synthetic import write_cdf
from footy_assets.formats.footy_stats.synthetic import *  # noqa: F403
from footy_assets.formats.footy_stats.synthetic import write_footy_stats
from footy_assets.formats.footy_track.synthetic import *  # noqa: F403
from footy_assets.formats.footy_track.synthetic import write_footy_track
from footy_assets.formats.sportvu.synthetic import *  # noqa: F403
from footy_assets.formats.sportvu.synthetic import write_sportvu


def write_match(lake_landing: Path, fmt: str, spec: MatchSpec, truth: pl.DataFrame | None = None, **kw) -> Path:
    """Write ``spec``'s match into ``<landing>/<fmt>/<match_id>/`` and return the folder."""
    truth = generate_truth(spec) if truth is None else truth
    folder = lake_landing / fmt / spec.match_id
    if fmt == "footy_stats":
        write_footy_stats(truth, folder, **kw)
    elif fmt == "sportvu":
        write_sportvu(truth, folder, **kw)
    elif fmt == "cdf":
        write_cdf(truth, folder, spec.match_id, fps=spec.fps, **kw)
    elif fmt == "footy_track":
        write_footy_track(truth, folder, spec.match_id, fps=spec.fps, **kw)
    else:
        raise ValueError(f"no synthetic writer for format {fmt!r}")
    return folder
