"""The landing zone: ``<lake>/landing/<format>/<match_id>/`` folders as vendors delivered them.

Discovery is shared by the CLI, the assets and (later) the sensor, so all of them agree on which
matches exist, which folder names are refused, and what a delivery's fingerprint is.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import pyarrow.fs as pafs

from footy_assets.lake import MATCH_ID_PATTERN, InvalidMatchId, Lake, check_match_id

FORMATS = ("footy_stats", "sportvu", "cdf", "footy_track")


class LandingError(ValueError):
    """A match whose landing folder cannot be used (invalid name, ambiguous format, no files)."""


@dataclass(frozen=True)
class LandedFile:
    name: str
    size_bytes: int
    sha256: str
    mtime_ns: int = 0


@dataclass(frozen=True)
class LandedMatch:
    """One match folder in the landing zone, with the fingerprint of its files."""

    match_id: str
    format: str
    uri: str
    files: tuple[LandedFile, ...]

    @property
    def fingerprint(self) -> str:
        """sha256 over the sorted (name, sha256) pairs: changes when any file is added, removed or edited."""
        digest = hashlib.sha256()
        for f in sorted(self.files, key=lambda f: f.name):
            digest.update(f"{f.name}\0{f.sha256}\n".encode())
        return digest.hexdigest()

    @property
    def total_bytes(self) -> int:
        return sum(f.size_bytes for f in self.files)

    def file_uri(self, name: str) -> str:
        return f"{self.uri}/{name}"


@dataclass
class LandingScan:
    """The result of scanning the landing zone: usable matches and refused folders with reasons."""

    matches: dict[str, LandedMatch] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)  # "<format>/<folder>" or match_id -> reason


def _sha256(lake: Lake, uri: str) -> str:
    fs, _ = lake.filesystem()
    digest = hashlib.sha256()
    with fs.open_input_stream(lake.fs_path(uri)) as stream:
        while chunk := stream.read(8 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _match_folders(lake: Lake) -> list[tuple[str, str, str]]:
    """(format, folder name, uri) of every folder under landing/<format>/ for the known formats."""
    out = []
    for fmt in FORMATS:
        for info in lake.list_dir(lake.landing_uri(fmt)):
            if info.type == pafs.FileType.Directory:
                out.append((fmt, info.base_name, lake.landing_uri(fmt) + "/" + info.base_name))
    return out


def landed_files(lake: Lake, folder_uri: str, with_hashes: bool = True) -> tuple[LandedFile, ...]:
    """The regular files of a match folder (hidden files and sub-folders ignored), with their sha256."""
    files = []
    for info in lake.list_dir(folder_uri):
        if info.type != pafs.FileType.File or info.base_name.startswith("."):
            continue
        sha = _sha256(lake, f"{folder_uri}/{info.base_name}") if with_hashes else ""
        files.append(LandedFile(info.base_name, int(info.size or 0), sha, int(info.mtime_ns or 0)))
    return tuple(files)


def stat_signature(files: tuple[LandedFile, ...]) -> str:
    """A cheap signature of a folder from names, sizes and modification times (no file is read).

    When it is unchanged the fingerprint is too, so a scan of thousands of matches hashes only the
    folders whose signature moved.
    """
    digest = hashlib.sha256()
    for f in sorted(files, key=lambda f: f.name):
        digest.update(f"{f.name}\0{f.size_bytes}\0{f.mtime_ns}\n".encode())
    return digest.hexdigest()


def list_match_folders(lake: Lake) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """({match_id: (format, uri)}, refused) from listing the landing zone only (no file is read)."""
    usable: dict[str, tuple[str, str]] = {}
    refused: dict[str, str] = {}
    by_id: dict[str, list[tuple[str, str]]] = {}
    for fmt, name, uri in _match_folders(lake):
        if not MATCH_ID_PATTERN.fullmatch(name):
            try:
                check_match_id(name)
            except InvalidMatchId as exc:
                refused[f"{fmt}/{name}"] = str(exc)
            continue
        by_id.setdefault(name, []).append((fmt, uri))
    for match_id, places in sorted(by_id.items()):
        if len(places) > 1:
            formats = ", ".join(f"landing/{fmt}/{match_id}" for fmt, _ in places)
            refused[match_id] = (f"match {match_id!r} is landed under more than one format ({formats}); "
                                 "remove all but one folder")
        else:
            usable[match_id] = places[0]
    return usable, refused


def scan_landing(lake: Lake, only: set[str] | None = None) -> LandingScan:
    """Find every landed match; refuse invalid folder names and match_ids landed under two formats.

    ``only`` restricts hashing to those match_ids (names are still checked for all folders).
    """
    scan = LandingScan()
    usable, scan.refused = list_match_folders(lake)
    if only is not None:
        scan.refused = {k: v for k, v in scan.refused.items() if k in only or "/" in k}
    for match_id, (fmt, uri) in usable.items():
        if only is not None and match_id not in only:
            continue
        files = landed_files(lake, uri)
        if not files:
            scan.refused[match_id] = f"landing/{fmt}/{match_id} holds no files"
            continue
        scan.matches[match_id] = LandedMatch(match_id, fmt, uri, files)
    return scan


def find_match(lake: Lake, match_id: str) -> LandedMatch:
    """The landed match ``match_id``, or a ``LandingError`` that says why it cannot be used."""
    check_match_id(match_id)
    scan = scan_landing(lake, only={match_id})
    if match_id in scan.matches:
        return scan.matches[match_id]
    if match_id in scan.refused:
        raise LandingError(scan.refused[match_id])
    raise LandingError(f"match {match_id!r} is not landed: no folder landing/<format>/{match_id} in {lake.uri}")
