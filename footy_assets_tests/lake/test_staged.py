"""Rows written ahead and committed later (``Lake.stage_delivery``, ``write_delivery(staged=...)``): the staged file
is in no version until its commit, the commit is of exactly that file, and a staged file that is not committed is
removed; a table whose schema changed in between gets the rows written again."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from deltalake import DeltaTable

from footy_assets.lake.store import Lake

FINGERPRINT = "a" * 64


def _rows(n: int = 1000, match_id: str = "m1") -> pl.DataFrame:
    return pl.DataFrame({"match_id": match_id, "frame_id": range(n), "x_m": [float(i) / 10 for i in range(n)]})


def _parquet_files(lake: Lake, table: str) -> list[Path]:
    return sorted(Path(lake.uri, table).rglob("*.parquet"))


def test_a_staged_file_is_in_no_version_until_its_commit(lake):
    lake.write_delivery("t", "m1", FINGERPRINT, _rows(10))  # the table as readers know it
    before = DeltaTable(f"{lake.uri}/t").version()
    staged = lake.stage_delivery("t", "m2", FINGERPRINT, _rows(match_id="m2"))
    assert len(_parquet_files(lake, "t")) == 2
    assert DeltaTable(f"{lake.uri}/t").version() == before
    assert pl.read_delta(f"{lake.uri}/t").filter(pl.col("match_id") == "m2").height == 0  # readers see nothing

    version = lake.write_delivery("t", "m2", FINGERPRINT, pl.DataFrame(), staged=staged)
    assert version == before + 1 and staged.committed
    table = DeltaTable(f"{lake.uri}/t")
    files = [f for f in table.file_uris() if "match_id=m2" in f]
    assert len(files) == 1 and files[0].endswith(staged.written.relative)
    got = pl.read_delta(f"{lake.uri}/t").filter(pl.col("match_id") == "m2").sort("frame_id")
    assert got.select("frame_id", "x_m").equals(_rows(match_id="m2").select("frame_id", "x_m"))
    assert len(_parquet_files(lake, "t")) == 2  # nothing written twice, the committed file kept


def test_a_staged_file_not_committed_is_removed(lake):
    staged = lake.stage_delivery("t", "m1", FINGERPRINT, _rows())
    assert len(_parquet_files(lake, "t")) == 1
    lake.drop_staged(staged)
    assert _parquet_files(lake, "t") == [] and staged.frame is None
    lake.drop_staged(staged)  # twice: nothing more


def test_staged_rows_are_written_again_when_the_table_is_not_of_their_schema(lake):
    """A table written by an older footy_assets (a column fewer): the staged file is not committed as it is; the
    rows go through the write that merges the new column in, and the staged file is removed."""
    lake.write_delivery("t", "m2", FINGERPRINT, _rows(5, "m2"))
    staged = lake.stage_delivery("t", "m1", FINGERPRINT, _rows().with_columns(y_m=pl.lit(1.0)))
    lake.write_delivery("t", "m1", FINGERPRINT, pl.DataFrame(), staged=staged)
    table = pl.read_delta(f"{lake.uri}/t")
    got = table.filter(pl.col("match_id") == "m1").sort("frame_id")
    assert got.select("frame_id", "x_m").equals(_rows().select("frame_id", "x_m")) and (got["y_m"] == 1.0).all()
    assert table.filter(pl.col("match_id") == "m2")["y_m"].is_null().all()
    assert staged.dropped and not Path(lake.uri, "t", staged.written.relative).exists()


def test_staged_rows_are_committed_only_for_their_own_delivery(lake):
    staged = lake.stage_delivery("t", "m1", FINGERPRINT, _rows())
    with pytest.raises(ValueError, match="staged"):
        lake.write_delivery("t", "m1", "b" * 64, _rows(), staged=staged)
    assert staged.dropped is False and DeltaTable(f"{lake.uri}/t").version() == 0  # created empty, nothing else


def test_a_staged_file_whose_commit_may_have_been_made_is_never_removed(lake, monkeypatch):
    """The commit was made but finding its version failed (a store's error reading the log): the write fails, yet
    the file the new version names stays (removing it would leave that version naming a missing file)."""
    from footy_assets.lake import delta_files
    from footy_assets.lake.store import LakeWriteError

    staged = lake.stage_delivery("t", "m1", FINGERPRINT, _rows())

    def unreadable_log(*args, **kwargs):
        raise OSError("the store refused to read the log")

    monkeypatch.setattr(delta_files, "_version_of_commit", unreadable_log)
    with pytest.raises(LakeWriteError, match="not written"):
        lake.write_delivery("t", "m1", FINGERPRINT, pl.DataFrame(), staged=staged)
    monkeypatch.undo()
    assert Path(lake.uri, "t", staged.written.relative).exists()
    got = pl.read_delta(f"{lake.uri}/t").sort("frame_id")  # the version the commit made reads
    assert got.select("frame_id", "x_m").equals(_rows().select("frame_id", "x_m"))
