"""Dagster automation: the landing sensor, the match job and the nightly backfill schedule."""
