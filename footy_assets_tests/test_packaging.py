"""pyproject.toml as ``make install`` reads it: the build backend's metadata hook runs without a deprecation
warning (setuptools printed a box for a license given as a TOML table), the license is an SPDX expression, and the
build-system's setuptools knows that form."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from footy_assets.lake.store import PROJECT_ROOT

# run in the copy: setuptools' metadata hook, every warning it gives kept
HOOK = """
import json, sys, warnings
from setuptools import build_meta
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    name = build_meta.prepare_metadata_for_build_wheel(sys.argv[1])
print(json.dumps({"dist_info": name, "warnings": [
    f"{w.category.__name__}: {str(w.message).strip().splitlines()[0]}" for w in caught
    if "Deprecat" in w.category.__name__]}))
"""


def build_metadata(pyproject: str, work: Path) -> tuple[str, list[str]]:
    """(the wheel's METADATA, the deprecation warnings of the build backend) for a project with ``pyproject`` and
    this checkout's README and package, built in ``work``."""
    source, out = work / "source", work / "metadata"
    shutil.copytree(
        PROJECT_ROOT / "footy_assets", source / "footy_assets", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy2(PROJECT_ROOT / "README.md", source / "README.md")
    (source / "pyproject.toml").write_text(pyproject)
    out.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", HOOK, str(out)], cwd=source, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return (out / found["dist_info"] / "METADATA").read_text(), found["warnings"]


def test_the_license_is_an_spdx_expression_and_the_build_gives_no_deprecation(tmp_path):
    text = (PROJECT_ROOT / "pyproject.toml").read_text()
    project = tomllib.loads(text)
    assert isinstance(project["project"]["license"], str)  # an SPDX expression, not a {text = ...} table
    (setuptools,) = [r for r in project["build-system"]["requires"] if r.startswith("setuptools")]
    floor = tuple(int(p) for p in setuptools.split(">=")[1].split(".")[:2])
    assert floor >= (77, 0), setuptools  # the first setuptools that reads a license expression
    metadata, warnings = build_metadata(text, tmp_path)
    assert warnings == []
    assert "License-Expression: BSD-3-Clause" in metadata.splitlines()
