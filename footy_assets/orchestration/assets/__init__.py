"""Dagster assets, grouped by layer: ingest (raw_feed, tracking, matches)."""
