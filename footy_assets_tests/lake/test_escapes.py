"""Data loss and escapes: an export never writes into a match's landing folder, over a
file it did not create, or out of the lake through a link; a hard link in a landing folder is refused unread;
a match folder swapped for a link after it was hashed is refused, not followed (also by the read ahead); and
a delivery is published under the fingerprint of exactly the bytes parsed."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import dagster as dg
import pytest

from footy_assets.chain import audit as audit_module
from footy_assets.formats import FeedError
from footy_assets.lake.landing import find_match
from footy_assets.lake.publish import published_fingerprint
from footy_assets.lake.store import PROJECT_ROOT, Lake
from footy_assets.orchestration.assets import ingest
from footy_assets.orchestration.runner import materialize_lake
from footy_assets_tests.helpers import SAMPLES, copy_lake, land_sample, land_synthetic, run_cli

pytestmark = pytest.mark.slow  # CLI processes and materialised lakes throughout

SECRET = "footy-secret-4b1e0d"


def _tree(folder: Path) -> dict[str, str]:
    """{name: sha256} of the files of a folder (what an export must leave untouched)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _cli(*args: str, tmp: Path) -> subprocess.CompletedProcess:
    return run_cli(*args, home=tmp / "dagster_home", timeout=300, cwd=PROJECT_ROOT)


@pytest.fixture(scope="module")
def published(tmp_path_factory, two_published) -> Lake:
    """A lake with two published matches: m1 (cdf) and m2 (footy_stats), a copy of the session's (the tests write
    into its landing zone)."""
    return copy_lake(two_published, tmp_path_factory.mktemp("escapes") / "lake")


# -- export ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["direct", "dotdot", "link"])
def test_export_never_writes_into_an_existing_match_folder(published, tmp_path, how):
    landing = Path(published.uri) / "landing"
    before = _tree(landing / "cdf" / "m1")
    output = {
        "direct": landing / "cdf" / "m1",
        "dotdot": Path(f"{landing}/footy_stats/m2/../../cdf/m1"),
        "link": landing / "cdf" / "alias",
    }[how]
    if how == "link":
        os.symlink(landing / "cdf" / "m1", output)
    try:
        done = _cli(
            "export", "--lake", published.uri, "--match", "m2", "--format", "cdf", "--output", str(output), tmp=tmp_path
        )
    finally:
        if how == "link":
            os.unlink(output)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and done.stderr.startswith("error: --output ")
    assert _tree(landing / "cdf" / "m1") == before


def test_export_under_landing_through_a_link_out_of_the_lake_is_refused(published, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    link = Path(published.uri) / "landing" / "elsewhere"
    os.symlink(outside, link)
    try:
        done = _cli(
            "export",
            "--lake",
            published.uri,
            "--match",
            "m2",
            "--format",
            "cdf",
            "--output",
            str(link / "new_match"),
            tmp=tmp_path,
        )
    finally:
        os.unlink(link)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "symbolic link inside the lake" in done.stderr
    assert list(outside.iterdir()) == []


def test_export_lands_a_new_match_folder(published, tmp_path):
    target = Path(published.uri) / "landing" / "cdf" / "m_new"
    try:
        done = _cli(
            "export", "--lake", published.uri, "--match", "m2", "--format", "cdf", "--output", str(target), tmp=tmp_path
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert sorted(p.name for p in target.iterdir()) == ["meta.json", "tracking.jsonl"]  # no temporary left
    finally:
        shutil.rmtree(target, ignore_errors=True)


@pytest.mark.parametrize("target", ["file", "/dev/null"])
def test_export_to_a_file_is_a_usage_error(published, tmp_path, target):
    path = tmp_path / "a_file" if target == "file" else Path(target)
    if target == "file":
        path.write_text("mine\n")
    done = _cli(
        "export", "--lake", published.uri, "--match", "m2", "--format", "cdf", "--output", str(path), tmp=tmp_path
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert (
        done.stderr.strip() == f"error: --output {path} exists and is not a folder: name a folder (it is "
        "created if missing)"
    )
    if target == "file":
        assert path.read_text() == "mine\n"


def test_export_never_replaces_a_file_unless_asked(published, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "tracking.jsonl").write_text("mine\n")
    args = ["export", "--lake", published.uri, "--match", "m2", "--format", "cdf", "--output", str(folder)]
    done = _cli(*args, tmp=tmp_path)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "already holds tracking.jsonl" in done.stderr and "--overwrite" in done.stderr
    assert (folder / "tracking.jsonl").read_text() == "mine\n" and not (folder / "meta.json").exists()
    done = _cli(*args, "--overwrite", tmp=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (folder / "tracking.jsonl").read_text() != "mine\n" and (folder / "meta.json").exists()
    # --overwrite never reaches into the lake
    done = _cli(
        "export",
        "--lake",
        published.uri,
        "--match",
        "m2",
        "--format",
        "cdf",
        "--overwrite",
        "--output",
        str(Path(published.uri) / "landing" / "cdf" / "m1"),
        tmp=tmp_path,
    )
    assert done.returncode == 2, done.stderr[-2000:]


# -- landing: hard links, swapped folders, bytes changed between hash and parse ------------------------------


def _outcomes(lake: Lake) -> tuple[dict, str]:
    lines: list[str] = []
    with dg.instance_for_test() as instance:
        outcomes = {o.plan.match_id: o for o in materialize_lake(lake, instance, progress=lines.append)}
    return outcomes, "\n".join(lines)


def test_a_hard_link_is_refused_without_reading_it(lake, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text(f"{SECRET}\n")
    folder = land_sample(lake, "sportvu", "statsperform_ma25", as_name="m_hard")
    (folder / "tracking.txt").unlink()
    os.link(secret, folder / "tracking.txt")
    outcomes, log = _outcomes(lake)
    assert not outcomes["m_hard"].ok
    assert "landing/sportvu/m_hard/tracking.txt is a hard link (2 names for one file)" in outcomes["m_hard"].error
    assert SECRET not in log + outcomes["m_hard"].error


def _after_hashing(monkeypatch, change):
    """Run ``change(landed)`` between the ingest's hash of the landed files and its read of them."""

    def find_then_change(lake, match_id):
        landed = find_match(lake, match_id)
        change(landed)
        return landed

    monkeypatch.setattr(ingest, "find_match", find_then_change)


def test_a_hard_link_made_after_hashing_is_refused_on_the_open_file(lake, tmp_path, monkeypatch):
    folder = land_sample(lake, "sportvu", "statsperform_ma25", as_name="m_hard_late")
    _after_hashing(monkeypatch, lambda landed: os.link(folder / "tracking.txt", tmp_path / "second_name"))
    outcomes, _ = _outcomes(lake)
    assert not outcomes["m_hard_late"].ok
    assert "tracking.txt: a hard link (2 names for one file): refused, not read" in outcomes["m_hard_late"].error


@pytest.fixture
def other_match(tmp_path) -> Path:
    """A valid CDF match outside the lake (what a swapped-in link would lead to)."""
    shutil.copytree(SAMPLES / "cdf" / "skillcorner_1925299", tmp_path / "outside")
    return tmp_path / "outside"


def _swap_for_link(folder: Path, target: Path, aside: Path):
    def change(landed):
        folder.rename(aside)
        os.symlink(target, folder)

    return change


def test_a_match_folder_swapped_for_a_link_after_hashing_is_refused(lake, tmp_path, monkeypatch, other_match):
    folder = land_sample(lake, "cdf", "validator_v0_3_2", as_name="m_swap")
    aside = tmp_path / "aside"
    (other_match / "meta.json").rename(other_match / next(p.name for p in folder.iterdir() if "meta" in p.name))
    (other_match / "tracking.jsonl").rename(
        other_match / next(p.name for p in folder.iterdir() if p.name.endswith(".jsonl"))
    )
    _after_hashing(monkeypatch, _swap_for_link(folder, other_match, aside))
    outcomes, _ = _outcomes(lake)
    assert not outcomes["m_swap"].ok
    assert "landing/cdf/m_swap: a symbolic link or not a folder (not followed): refused" in outcomes["m_swap"].error
    assert published_fingerprint(lake, "m_swap") is None


def test_the_read_ahead_refuses_a_folder_swapped_for_a_link(lake, tmp_path, other_match):
    folder = land_sample(lake, "cdf", "validator_v0_3_2", as_name="m_swap_ahead")
    landed = find_match(lake, "m_swap_ahead")
    _swap_for_link(folder, other_match, tmp_path / "aside")(landed)
    audit_module.audit_ahead(lake, landed)  # the CLI's thread: same read as the ingest
    with pytest.raises(FeedError, match="landing/cdf/m_swap_ahead: a symbolic link"):
        audit_module.audited(lake, landed)


def test_a_delivery_is_published_under_the_fingerprint_of_the_bytes_parsed(lake, truth, monkeypatch):
    folder = land_synthetic(lake, "cdf", "m_race", truth)
    land_synthetic(lake, "cdf", "m_other", truth)
    jsonl = next(p.name for p in folder.iterdir() if p.name.endswith(".jsonl"))
    replacement = (Path(lake.uri) / "landing" / "cdf" / "m_other" / jsonl).read_bytes()
    shutil.rmtree(Path(lake.uri) / "landing" / "cdf" / "m_other")
    assert replacement != (folder / jsonl).read_bytes()

    def rewrite(landed):
        with open(folder / jsonl, "r+b") as out:  # the same file, written in place after it was hashed
            out.truncate(0)
            out.write(replacement)

    _after_hashing(monkeypatch, rewrite)
    outcomes, _ = _outcomes(lake)
    assert outcomes["m_race"].ok, outcomes["m_race"].error
    # published under the hash of what is in the file now: the bytes that were parsed
    assert published_fingerprint(lake, "m_race") == find_match(lake, "m_race").fingerprint
