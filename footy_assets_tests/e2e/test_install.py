"""An installed wheel works from any folder: what the package reads (the SQL models, the interval catalog) ships
inside it, and nothing is looked up in the source tree or the working directory.

The wheel is built from a copy of the tracked files (no network: setuptools of this venv, no build isolation),
installed into a new venv that sees this venv's dependencies through a plain path line in a ``.pth`` file (so
the editable install of the checkout is not activated there), and run from an empty folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import polars as pl
import pytest

from footy_assets.chain.versions import CODE_VERSIONS
from footy_assets.lake.store import PROJECT_ROOT
from footy_assets_tests.helpers import ASSETS

pytestmark = pytest.mark.slow


SUMMARIES = ("player_period_summary", "player_match_summary", "team_match_summary")

# Run in the installed venv: where the package comes from, its assets and its code versions.
PROBE = """
import json, sys
import footy_assets, footy_assets.definitions as d
from footy_assets.chain.versions import CODE_VERSIONS
print(json.dumps({"package": footy_assets.__file__,
                  "editable_finder": any("editable" in name for name in sys.modules),
                  "assets": sorted(k.to_user_string() for k in d.defs.resolve_asset_graph().materializable_asset_keys),
                  "code_versions": CODE_VERSIONS}))
"""


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    out = subprocess.run(args, capture_output=True, text=True, timeout=600, check=False, **kwargs)
    assert out.returncode == 0, f"{args}:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict[str, Path]:
    """A venv with the wheel of this checkout installed; its python, its site-packages and a clean environment."""
    if not (PROJECT_ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("needs a git checkout (the wheel is built from the tracked files)")
    work = tmp_path_factory.mktemp("install")
    source = work / "source"
    tracked = _run(["git", "ls-files", "-z"], cwd=PROJECT_ROOT).stdout.split("\0")
    for name in filter(None, tracked):
        if (PROJECT_ROOT / name).is_file():  # a file deleted but not yet committed is skipped
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(PROJECT_ROOT / name, source / name)
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--quiet",
            "-w",
            str(work / "dist"),
            str(source),
        ],
        cwd=work,
    )
    (wheel,) = (work / "dist").glob("footy_assets-*.whl")

    venv = work / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            str(wheel),
        ]
    )
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]).stdout.strip())
    # the dependencies of this venv, as a plain path: its .pth files (the editable finder) are not run
    dependencies = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (site / "footy_dependencies.pth").write_text("".join(f"{path}\n" for path in sorted(dependencies)))

    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSAFEPATH")
    }
    env.update(
        DAGSTER_HOME=str(work / "home"), FOOTY_DATA_LAKE=str(work / "lake"), PATH=f"{venv / 'bin'}:{env['PATH']}"
    )
    elsewhere = work / "elsewhere"  # the working directory: empty, not the source tree
    elsewhere.mkdir()
    return {"python": python, "bin": venv / "bin", "site": site, "env": env, "cwd": elsewhere, "lake": work / "lake"}


def test_the_installed_package_is_complete(installed):
    """From an empty folder, the installed package (not the checkout) defines all 13 assets (a missing one would
    still be listed as a dependency of matches, but not materialisable) and the same code versions as the
    checkout: the SQL models and the interval catalog are shipped byte for byte."""
    out = _run([str(installed["python"]), "-c", PROBE], cwd=installed["cwd"], env=installed["env"])
    probe = json.loads(out.stdout.strip().splitlines()[-1])
    assert Path(probe["package"]).resolve().is_relative_to(installed["site"].resolve()), probe["package"]
    assert not probe["editable_finder"]
    assert set(probe["assets"]) == ASSETS
    assert probe["code_versions"] == CODE_VERSIONS


def test_demo_from_another_folder_materialises_the_summaries(installed):
    out = _run([str(installed["bin"] / "footy-assets"), "demo"], cwd=installed["cwd"], env=installed["env"])
    assert "0 failed" in out.stdout, out.stdout[-3000:]
    lake = installed["lake"]
    matches = set(pl.read_delta(str(lake / "matches"))["match_id"])
    assert len(matches) == 4  # one synthetic match per format
    for table in SUMMARIES:
        assert (lake / table).is_dir(), f"{table} was not written"
        rows = pl.read_delta(str(lake / table))
        assert rows.height > 0 and set(rows["match_id"]) == matches, table
    players = pl.read_delta(str(lake / "player_match_summary")).group_by("match_id").len()
    assert players["len"].min() >= 22  # every player of each match
    # nothing was written beside the working directory: lake and instance are where the environment says
    assert not any(installed["cwd"].iterdir())
