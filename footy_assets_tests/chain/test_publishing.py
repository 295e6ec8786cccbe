"""The ``matches`` row's tracking counts: counted by ingest from the rows it writes and recorded with the delivery,
so the publish step does not read tracking again; a record without them (written by an older footy_assets) has
them from the published row or tracking's rows, as before."""

from __future__ import annotations

import json

import polars as pl
import pytest

from footy_assets.chain.publishing import matches_row
from footy_assets.formats import synthetic
from footy_assets.lake.matches import TRACKING_COUNTS, raw_feed_record_uri, tracking_counts
from footy_assets_tests.helpers import materialized

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    root = tmp_path_factory.mktemp("publishing") / "lake"
    spec = synthetic.MatchSpec("counted_match", half_seconds=20)
    return materialized(root, lambda lake: synthetic.write_match(root / "landing", "footy_stats", spec))


def _record(lake) -> dict:
    return json.loads(lake.read_bytes(raw_feed_record_uri(lake, "counted_match")))


def test_ingest_records_the_counts_of_the_rows_it_wrote(lake):
    recorded = _record(lake)["tracking_counts"]
    tracking = pl.read_delta(f"{lake.uri}/tracking").filter(pl.col("match_id") == "counted_match")
    assert recorded == json.loads(json.dumps(tracking_counts(tracking)))
    assert recorded["rows"] == tracking.height > 0
    published = pl.read_delta(f"{lake.uri}/matches").row(0, named=True)
    assert published["frames"] == recorded["frames"] and published["rows"] == recorded["rows"]


def test_the_matches_row_takes_the_recorded_counts_without_reading_tracking(lake):
    record = _record(lake)
    record["tracking_counts"]["rows_referee"] += 7  # visible only if the row is built from the record
    lake.write_bytes_atomic(raw_feed_record_uri(lake, "counted_match"), json.dumps(record).encode())
    _, row = matches_row(lake, "counted_match")
    assert row["rows_referee"][0] == record["tracking_counts"]["rows_referee"]
    del record["tracking_counts"]  # a record of an older footy_assets: the counts come from the lake as before
    lake.write_bytes_atomic(raw_feed_record_uri(lake, "counted_match"), json.dumps(record).encode())
    _, counted = matches_row(lake, "counted_match")
    published = pl.read_delta(f"{lake.uri}/matches")
    assert counted.select(TRACKING_COUNTS).equals(published.select(TRACKING_COUNTS))
