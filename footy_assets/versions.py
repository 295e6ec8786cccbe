"""Code versions of the assets, in one place.

A change in how an asset computes its rows bumps its version here: ``footy-assets materialize`` (and the
Dagster UI) then treat every stored match as stale and recompute it. The versions of the last successful
run of a match are stored in its ``matches`` row, so the decision comes from the lake itself.
"""

CODE_VERSIONS: dict[str, str] = {
    "raw_feed": "1",
    "tracking": "1",
    "matches": "1",
}
