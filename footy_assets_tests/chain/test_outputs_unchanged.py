"""The chain's results stay what they were, column by column, through changes meant to make it faster: every
table of three lakes (the real vendor samples; a minute-long synthetic match in every landing format; the bench's
90-minute synthetic match) against the digests recorded in ``outputs_reference.json``
(``python -m footy_assets_tests.digests --write`` records them; see that module for what a digest holds: floats
within a tolerance, since their last bits differ from one CPU to another)."""

from __future__ import annotations

import json

import pytest

from footy_assets_tests.digests import LAKES, REFERENCE, build_digests, same_digest

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", sorted(LAKES))
def test_every_table_column_by_column(name, tmp_path):
    reference = json.loads(REFERENCE.read_text())[name]
    found = build_digests(name, tmp_path / "lake")
    assert sorted(found) == sorted(reference), "the tables written changed"
    changed = {
        f"{table}.{column}": (reference[table].get(column), digest)
        for table, columns in found.items()
        for column, digest in columns.items()
        if not same_digest(reference[table].get(column), digest)
    }
    missing = {f"{t}.{c}" for t, cols in reference.items() for c in cols if c not in found.get(t, {})}
    assert not changed and not missing, f"changed: {changed}; missing: {missing}"
