"""The test copy of the real samples is the same as the project's shared samples."""

import hashlib

import pytest

from footy_assets_tests.helpers import SAMPLES, SHARED_DATA


def _digests(root):
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file() and p.name != "README.md"
    }


def test_samples_in_sync():
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is not beside this checkout; the test copy is used as it is")
    assert _digests(SAMPLES) == _digests(SHARED_DATA)
