"""The README and the documentation run as written: every command block, in a clean copy of the project, after
`make demo`.

The copy holds the project's tracked files only (what a clone holds, with the working tree's edits), its own
lake and Dagster instance, and nothing exported: a user's shell. The project's virtualenv is linked in (it is
what `make install` would build from the same pyproject.toml), with the copy first on the import path so the
copy's code is what runs. `make demo` runs once, first; then each document's blocks run in order, README.md
first, then docs/**/*.md. Blocks:

* ```bash blocks run as one bash script each (``make test``, the servers, which never exit, and the site build,
  which test_docs.py runs, are left out; ``make demo`` has run already);
* blocks of ``$ command`` lines run the command, and the lines shown after it must appear in its output, in
  order (a line ``...`` stands for lines left out; ``…`` inside a line stands for any text, such as a time);
* ```python blocks run with the project's Python; an output block right after one is checked the same way;
* blocks in any other language (```text, ```yaml, ...) are shown, not run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from footy_assets.lake.store import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"
DOCS = sorted((PROJECT_ROOT / "docs").rglob("*.md"))
DOCUMENTS = [README, *DOCS]
NEVER_RUN = (
    "make test",
    "make dev",
    "dagster dev",  # the suite itself; servers that run until stopped
    ".venv/bin/mkdocs",
)  # the site: test_docs.py builds it
RUN_ONCE = "make demo"  # the clone fixture runs it first; its output is kept for the blocks that show it
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.DOTALL | re.MULTILINE)


@dataclass
class Block:
    line: int  # where it starts in its document
    lang: str
    body: str
    output: str | None = None  # the output block that follows it directly, if any


def readme_blocks(text: str) -> list[Block]:
    """The fenced blocks of a document, each with the output block shown right after it."""
    blocks: list[Block] = []
    last_end = None
    for match in FENCE.finditer(text):
        lang, body = match.group(1), match.group(2)
        block = Block(text[: match.start()].count("\n") + 1, lang, body)
        follows = last_end is not None and not text[last_end : match.start()].strip()
        if not lang and follows and blocks and blocks[-1].lang == "python" and not body.startswith("$ "):
            blocks[-1].output = body
            continue
        blocks.append(block)
        last_end = match.end()
    return blocks


def shell_commands(body: str) -> list[tuple[str, str]]:
    """(command, expected output) of a block of ``$ command`` lines; a command continues on lines indented by
    four spaces."""
    found: list[tuple[list[str], list[str]]] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            found.append(([line[2:]], []))
        elif found and line.startswith("    ") and not found[-1][1]:
            found[-1][0].append(line)
        elif found:
            found[-1][1].append(line)
    return [("\n".join(cmd), "\n".join(out)) for cmd, out in found]


def _shown(want: str) -> re.Pattern[str]:
    """A line as shown: literal, except that ``…`` stands for any text."""
    return re.compile(".*".join(re.escape(part) for part in want.split("…")))


def assert_shows(expected: str, actual: str, where: str) -> None:
    """Every line the document shows is in the actual output, in order (``...`` lines are skipped, ``…`` inside a
    line matches any text)."""
    lines = [line.rstrip() for line in actual.splitlines()]
    at = 0
    for want in (line.rstrip() for line in expected.splitlines()):
        if not want.strip() or want.strip() == "...":
            continue
        pattern = _shown(want)
        found = next((i for i in range(at, len(lines)) if pattern.fullmatch(lines[i])), None)
        if found is None:
            pytest.fail(f"{where}: the document shows\n  {want}\nbut the output (from line {at + 1}) is:\n{actual}")
        at = found + 1


@pytest.mark.slow
def test_assert_shows_can_fail():
    assert_shows("a\n...\ndone in … s: 4 materialised", "a\nb\ndone in 12.5 s: 4 materialised\n", "here")
    for wrong in ("done in … s: 3 materialised", "b\na", "a … c"):
        with pytest.raises(pytest.fail.Exception):
            assert_shows(wrong, "a\nb\ndone in 12.5 s: 4 materialised\n", "here")


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> tuple[Path, dict, str]:
    """A clean copy of the project (tracked files, mtimes kept) with the project's virtualenv, after `make demo`
    (its output is the third item)."""
    if not (PROJECT_ROOT / ".git").exists() or shutil.which("make") is None:
        pytest.skip("needs the project's git checkout and make")
    venv = PROJECT_ROOT / ".venv"
    if subprocess.run(
        ["make", "-q", ".venv/.installed"], check=False, cwd=PROJECT_ROOT, capture_output=True
    ).returncode:
        pytest.fail(
            "pyproject.toml changed since .venv was installed: run `make install` first "
            "(the copy shares .venv and must not reinstall it)"
        )
    root = tmp_path_factory.mktemp("readme") / "footy_assets"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT_ROOT, capture_output=True, check=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        source = PROJECT_ROOT / name
        if source.is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / name)  # mtimes kept: make sees .venv as installed
    (root / ".venv").symlink_to(venv)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "FOOTY_", "PYTEST_"))}
    env["PYTHONPATH"] = str(root)  # the copy's code, not the project's (the editable finder comes after it)
    # what `make install` does after installing: the .env with this copy's DAGSTER_HOME
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "footy_assets.orchestration.instance"], cwd=root, env=env, check=True
    )
    assert f"DAGSTER_HOME={root}/.dagster_home" in (root / ".env").read_text()
    demo = _run(["make", "demo"], root, env, "make demo")
    return root, env, demo


def _run(command: list[str], root: Path, env: dict, where: str) -> str:
    done = subprocess.run(command, check=False, cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, (
        f"{where} failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done.stdout


def _name(path: Path) -> str:
    return path.relative_to(PROJECT_ROOT).as_posix()


@pytest.mark.slow
def test_blocks_parse():
    blocks = readme_blocks(README.read_text())
    assert blocks[0].lang == "bash" and "make demo" in blocks[0].body
    assert DOCS, "docs/ holds the documentation"
    every = {_name(doc): readme_blocks(doc.read_text()) for doc in DOCUMENTS}
    assert any(b.lang == "python" and b.output for blocks in every.values() for b in blocks)
    commands = [
        c for blocks in every.values() for b in blocks if b.body.startswith("$ ") for c in shell_commands(b.body)
    ]
    assert any(cmd.startswith(".venv/bin/footy-assets intervals") and "'0-10'" not in out for cmd, out in commands)
    assert any(cmd == RUN_ONCE and "4 materialised" in out for cmd, out in commands)


@pytest.mark.slow
@pytest.mark.parametrize("document", DOCUMENTS, ids=_name)
def test_every_command_runs_as_written(clone, document):
    root, env, demo = clone
    name = _name(document)
    ran = 0
    for block in readme_blocks((root / name).read_text()):  # in document order
        where = f"{name} line {block.line}"
        if block.lang == "bash":
            script = "\n".join(line for line in block.body.splitlines() if not line.startswith((*NEVER_RUN, RUN_ONCE)))
            _run(["bash", "-euo", "pipefail", "-c", script], root, env, where)
            ran += 1
        elif block.lang == "python":
            out = _run([str(root / ".venv" / "bin" / "python"), "-c", block.body], root, env, where)
            if block.output:
                assert_shows(block.output, out, where)
            ran += 1
        elif block.body.startswith("$ "):
            for command, expected in shell_commands(block.body):
                here = f"{where}: {command[:60]}"
                out = (
                    demo if command == RUN_ONCE else _run(["bash", "-euo", "pipefail", "-c", command], root, env, here)
                )
                assert_shows(expected, out, here)
                ran += 1
    if document == README:
        assert ran >= 2
        assert (root / "data_lake" / "matches" / "_delta_log").is_dir()  # the demo wrote the copy's own lake
        assert (root / ".dagster_home" / "dagster.yaml").is_file()
