"""The layer contract in pyproject.toml holds, and it can fail: a wrong import in a copy of the package breaks it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = [
    sys.executable,
    "-c",
    "import sys; from importlinter.cli import lint_imports_command as c; sys.exit(c())",
]


def _lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*LINT_IMPORTS, "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
    )


def test_the_layers_hold():
    done = _lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 kept, 0 broken" in done.stdout


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "footy_assets", tmp_path / "footy_assets", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _add_import(module: Path, line: str) -> None:
    module.write_text(module.read_text() + f"\n{line}  # a wrong import\n")


def test_a_reader_that_imports_the_lake_breaks_the_contract(tmp_path):
    root = _copy(tmp_path)
    _add_import(root / "footy_assets/formats/sportvu/reader.py", "from footy_assets.lake.store import Lake")
    done = _lint(root)
    assert done.returncode != 0
    assert "BROKEN" in done.stdout and "footy_assets.formats.sportvu.reader -> footy_assets.lake.store" in done.stdout


def test_dagster_in_the_lake_layer_breaks_the_contract(tmp_path):
    root = _copy(tmp_path)
    _add_import(root / "footy_assets/lake/upkeep.py", "import dagster")
    done = _lint(root)
    assert done.returncode != 0
    assert "footy_assets.lake.upkeep -> dagster" in done.stdout


def test_the_server_that_imports_the_orchestration_layer_breaks_the_contract(tmp_path):
    """The server reads the lake and never imports Dagster, not even through the orchestration layer."""
    root = _copy(tmp_path)
    _add_import(root / "footy_assets/server/app.py", "from footy_assets.orchestration import runner")
    done = _lint(root)
    assert done.returncode != 0
    assert "footy_assets.server.app -> footy_assets.orchestration.runner" in done.stdout
