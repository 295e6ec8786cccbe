"""The documentation site builds with `mkdocs build --strict`, its generated reference is complete, and the
documents name only what exists: tables and columns of the contracts, command-line options, Dagster jobs,
schedules and sensors, files of the repository, settings the code reads. (test_readme.py runs their commands.)"""

from __future__ import annotations

import html
import importlib
import inspect
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pandera.polars as pa
import pytest

from footy_assets.lake.store import PROJECT_ROOT

DOCUMENTS = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").rglob("*.md"))]
# references that resolve nowhere in the repository: the rule itself belongs in the text instead (the product
# document's name is spelled with a character class, so this pattern is not itself such a reference)
UNRESOLVED = re.compile(r"CONTRAC[T]S[ .§]|\b[Ii]ssue #?\d|\.\./shared|\bshared/|\b[Ss]eed (§|section|doc)")
TOP_LEVEL = ("footy_assets/", "footy_assets_tests/", "bench/", "deploy/", "docs/")


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path_factory.mktemp("dagster_home"))}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        check=False,
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    return out


def _page(site: Path, path: str) -> str:
    return html.unescape(_text(site / path / "index.html"))


def _contracts() -> list[type]:
    """Every table contract: the leaf DataFrameModels of footy_assets.core.contracts whose table the lake holds."""
    import footy_assets.core.contracts as package
    from footy_assets.lake.sql import TABLES

    modules = [importlib.import_module(f"{package.__name__}.{m.name}") for m in pkgutil.iter_modules(package.__path__)]
    return [
        cls
        for module in modules
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if cls.__module__ == module.__name__
        and issubclass(cls, pa.DataFrameModel)
        and not cls.__subclasses__()
        and re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower() in TABLES
    ]


def test_every_table_page_lists_every_column_of_its_contract(site):
    from footy_assets.lake.sql import TABLES

    pages = {
        p.name: _page(site, f"reference/tables/{p.name}") for p in (site / "reference/tables").iterdir() if p.is_dir()
    }
    assert set(pages) == set(TABLES), "one generated page per table of the lake"
    contracts = _contracts()
    assert len(contracts) == len(TABLES)
    for contract in contracts:
        named = [table for table, text in pages.items() if f"<code>{contract.__name__}</code>" in text]
        assert len(named) == 1, f"{contract.__name__}: pages naming it: {named}"
        text = pages[named[0]]
        for column, spec in contract.to_schema().columns.items():
            assert f"<td><code>{column}</code></td>" in text, f"{named[0]}: column {column} missing"
            assert (spec.description or "") in text, f"{named[0]}.{column}: description missing"
    index = _page(site, "reference/tables")
    for table in TABLES:
        assert f'href="{table}/"' in index, f"the tables' index does not link {table}"


def test_the_command_line_page_lists_every_command_and_option(site):
    import argparse

    from footy_assets.cli import build_parser

    text = _page(site, "reference/cli")
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in sub.choices.items():
        assert f"footy-assets {name}" in text
        for action in command._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            for option in action.option_strings or [action.metavar or action.dest]:
                cell = re.compile(rf"<td><code>[^<]*(?<![\w-]){re.escape(option)}(?![\w-])")
                assert cell.search(text), f"footy-assets {name} {option} is not in the command-line reference"


def _definitions():
    from footy_assets.definitions import defs

    repo = defs.get_repository_def()
    return (
        {j.name for j in repo.get_all_jobs()},
        {s.name for s in repo.schedule_defs},
        {s.name for s in repo.sensor_defs},
    )


def test_the_dagster_page_lists_every_job_schedule_and_sensor(site):
    text = _page(site, "reference/dagster")
    jobs, schedules, sensors = _definitions()
    for name in (jobs - {"__ASSET_JOB"}) | schedules | sensors:
        assert f"<code>{name}</code>" in text, name


def test_the_documents_name_only_jobs_schedules_and_sensors_that_exist():
    jobs, schedules, sensors = _definitions()
    wrong = [
        f"{doc.relative_to(PROJECT_ROOT)}: {name}"
        for doc in DOCUMENTS
        for name in re.findall(r"`(\w+_(?:job|schedule|sensor))`", _text(doc))
        if name not in jobs | schedules | sensors
    ]
    assert not wrong, "not in footy_assets.definitions: " + ", ".join(wrong)


def test_the_documents_name_only_files_that_exist():
    """Every repository path in backquotes (``<name>`` placeholders match any name) exists."""
    missing = []
    for doc in DOCUMENTS:
        for path in re.findall(rf"`((?:{'|'.join(map(re.escape, TOP_LEVEL))})[\w./<>*-]*)`", _text(doc)):
            pattern = re.sub(r"<[^>]*>", "*", path.rstrip("/"))
            if not any(PROJECT_ROOT.glob(pattern)):
                missing.append(f"{doc.relative_to(PROJECT_ROOT)}: {path}")
    assert not missing, "paths that do not exist: " + ", ".join(missing)


def test_every_setting_is_documented_and_every_documented_setting_exists():
    code = {
        name
        for path in (PROJECT_ROOT / "footy_assets").rglob("*.py")
        for name in re.findall(r"FOOTY_[A-Z0-9_]*[A-Z0-9]", _text(path))
    }
    code -= {"FOOTY_SQL"}  # a prefix the SQL limits are built from
    settings = set(re.findall(r"FOOTY_[A-Z0-9_]*[A-Z0-9]", _text(PROJECT_ROOT / "docs/reference/settings.md")))
    assert code - settings == set(), "read by the code, missing from docs/reference/settings.md"
    documented = {name for doc in DOCUMENTS for name in re.findall(r"FOOTY_[A-Z0-9_]*[A-Z0-9]", _text(doc))}
    assert documented - code == set(), "documented, read nowhere in footy_assets/"


def test_the_documents_cite_nothing_outside_the_repository():
    found = [
        f"{doc.relative_to(PROJECT_ROOT)}:{number}: {line.strip()}"
        for doc in DOCUMENTS
        for number, line in enumerate(_text(doc).splitlines(), 1)
        if UNRESOLVED.search(line)
    ]
    assert not found, "\n".join(found)
