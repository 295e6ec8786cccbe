"""The landing zone: ``<lake>/landing/<format>/<match_id>/`` folders as vendors delivered them.

Discovery is shared by the CLI, the assets and (later) the sensor, so all of them agree on which
matches exist, which folder names are refused, and what a delivery's fingerprint is.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

from footy_assets.lake.store import MATCH_ID_PATTERN, InvalidMatchId, Lake, check_match_id

FORMATS = ("footy_stats", "sportvu", "cdf", "footy_track")
# Event data (CDF events.jsonl + match.json, meta.json optional) for a match whose tracking came in any format:
# not a tracking format, so a match may be landed under a format and here at once. Its files join the match's
# delivery under this prefix (``LandedMatch.event_files``). The event data has a fingerprint of its own
# (``LandedMatch.events_fingerprint``): a re-delivery of the events alone leaves the tracking's untouched.
EVENTS = "events"
EVENT_PREFIX = "events/"
# the event files of a CDF match folder (beside tracking.jsonl + meta.json)
CDF_EVENT_FILES = ("events.jsonl", "match.json")


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
    # the files of landing/events/<match_id>/, by their names there (none: the delivery is its folder alone)
    event_files: tuple[LandedFile, ...] = ()
    events_uri: str | None = None

    @property
    def all_files(self) -> tuple[LandedFile, ...]:
        """The delivery's files: the match folder's, then the events folder's named ``events/<name>``."""
        return self.files + tuple(replace(f, name=EVENT_PREFIX + f.name) for f in self.event_files)

    @property
    def tracking_files(self) -> tuple[LandedFile, ...]:
        """The files of the tracking delivery: the match folder's but, in a CDF folder, its event data
        (``CDF_EVENT_FILES``; a file of that name in another format's folder is that format's)."""
        return tuple(f for f in self.files if not is_event_file(f.name, self.format))

    @property
    def fingerprint(self) -> str:
        """The tracking delivery's fingerprint: sha256 over the sorted (name, sha256) pairs of ``tracking_files``.
        It changes when a tracking file is added, removed or edited, never with the event data alone; tracking
        and every table computed from it alone carry it (a match without event data: the fingerprint of its
        folder alone)."""
        return files_fingerprint(self.tracking_files)

    @property
    def events_fingerprint(self) -> str:
        """The whole delivery's fingerprint, tracking and event data: sha256 over the sorted (name, sha256) pairs
        of ``all_files``. It changes when any file changes; the tables computed from the event data (synchronised
        with the tracking) carry it. Equal to ``fingerprint`` when the match has no event data."""
        return files_fingerprint(self.all_files)

    @property
    def total_bytes(self) -> int:
        return sum(f.size_bytes for f in self.all_files)

    def file_uri(self, name: str) -> str:
        return f"{self.uri}/{name}"


def is_event_file(name: str, fmt: str) -> bool:
    """Whether a file of a delivery of format ``fmt``, named as in ``LandedMatch.all_files``, is event data (not
    tracking): the events folder's files, and a CDF folder's ``CDF_EVENT_FILES``."""
    return name.startswith(EVENT_PREFIX) or (fmt == "cdf" and name in CDF_EVENT_FILES)


def files_fingerprint(files: tuple[LandedFile, ...]) -> str:
    """sha256 over the sorted (name, sha256) pairs of ``files`` (hex)."""
    digest = hashlib.sha256()
    for f in sorted(files, key=lambda f: f.name):
        digest.update(f"{f.name}\0{f.sha256}\n".encode())
    return digest.hexdigest()


@dataclass
class LandingScan:
    """The result of scanning the landing zone: usable matches and refused folders with reasons."""

    matches: dict[str, LandedMatch] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)  # "<format>/<folder>" or match_id -> reason


def _sha256(lake: Lake, uri: str) -> str:
    digest = hashlib.sha256()
    with lake.open_regular(uri) as stream:  # never through a link, never a FIFO
        while chunk := stream.read(8 << 20):
            digest.update(chunk)
    return digest.hexdigest()


UNSAFE = {"link": "a symbolic link", "other": "not a regular file (a FIFO, device or socket)"}


def _match_folders(lake: Lake) -> tuple[list[tuple[str, str, str]], dict[str, str]]:
    """(format, folder name, uri) of every real folder under landing/<format>/, and the refused entries.

    Links are refused and named, never followed: nothing outside the lake is read because of a name.
    """
    out, refused = [], {}
    for where in ("landing", *(f"landing/{fmt}" for fmt in (*FORMATS, EVENTS))):
        kind = lake.kind_of(lake.join(where))
        if kind in UNSAFE:
            refused[where] = f"{where} is {UNSAFE[kind]}: refused, not followed"
    if "landing" in refused:
        return out, refused
    for fmt in FORMATS:
        if f"landing/{fmt}" in refused:
            continue
        for entry in lake.entries(lake.landing_uri(fmt)):
            if entry.kind == "dir":
                out.append((fmt, entry.name, lake.landing_uri(fmt) + "/" + entry.name))
            elif entry.kind in UNSAFE and not entry.name.startswith("."):
                key = entry.name if MATCH_ID_PATTERN.fullmatch(entry.name) else f"{fmt}/{entry.name}"
                refused[key] = f"landing/{fmt}/{entry.name} is {UNSAFE[entry.kind]}: refused, not followed"
    return out, refused


def events_folders(lake: Lake) -> tuple[dict[str, str], dict[str, str]]:
    """({match_id: uri} of the folders under landing/events/, refused entries): no file is read. A folder whose
    match is not landed under a tracking format waits for it (it is not refused)."""
    usable, refused = {}, {}
    where = f"landing/{EVENTS}"
    kind = lake.kind_of(lake.join(where))
    if lake.kind_of(lake.join("landing")) in UNSAFE or kind in UNSAFE:
        return usable, refused  # named by _match_folders
    for entry in lake.entries(lake.landing_uri(EVENTS)):
        if entry.name.startswith("."):
            continue
        if entry.kind in UNSAFE:
            refused[f"{EVENTS}/{entry.name}"] = f"{where}/{entry.name} is {UNSAFE[entry.kind]}: refused, not followed"
        elif entry.kind == "dir":
            try:
                check_match_id(entry.name)
            except InvalidMatchId as exc:
                refused[f"{EVENTS}/{entry.name}"] = str(exc)
                continue
            usable[entry.name] = lake.landing_uri(EVENTS) + "/" + entry.name
    return usable, refused


def with_events(
    lake: Lake, landed: LandedMatch, events_uri: str | None, known: dict[str, tuple[int, int, str]] | None = None
) -> LandedMatch:
    """``landed`` with the files of its events folder (``events_uri``, None when there is none); ``known`` as
    ``landed_files``, with the events folder's files under ``events/<name>``. ``LandingError`` when the events
    folder holds no file or the match folder already has event data (one delivery of the events, not two)."""
    if events_uri is None:
        return landed
    where = events_uri[len(lake.uri) + 1 :]
    beside = sorted(f.name for f in landed.files if is_event_file(f.name, landed.format))
    if beside:
        raise LandingError(
            f"match {landed.match_id!r} has event data in landing/{landed.format}/{landed.match_id} "
            f"({', '.join(beside)}) and in {where}: remove one of them"
        )
    known_events = {name[len(EVENT_PREFIX) :]: v for name, v in (known or {}).items() if name.startswith(EVENT_PREFIX)}
    files = landed_files(lake, events_uri, known=known_events)
    if not files:
        raise LandingError(f"{where} holds no files")
    return replace(landed, event_files=files, events_uri=events_uri)


def landed_files(
    lake: Lake, folder_uri: str, with_hashes: bool = True, known: dict[str, tuple[int, int, str]] | None = None
) -> tuple[LandedFile, ...]:
    """The regular files of a match folder (hidden files and sub-folders ignored), with their sha256.

    ``known`` ({name: (size_bytes, mtime_ns, sha256)}, as the lake recorded the last delivery) spares the read
    of a file whose size and modification time are those recorded: its sha256 is the recorded one. Only new
    or touched files are hashed, so planning a season reads nothing when nothing changed.
    A link, FIFO or device among them refuses the whole delivery (``LandingError``, naming it without
    opening it); so does a file that cannot be read.
    """
    known = known or {}
    files = []
    for entry in lake.entries(folder_uri):
        if entry.name.startswith(".") or entry.kind == "dir":
            continue
        where = folder_uri[len(lake.uri) + 1 :] + "/" + entry.name
        if entry.kind in UNSAFE:
            raise LandingError(f"{where} is {UNSAFE[entry.kind]}: refused, not followed (deliver regular files)")
        if entry.links > 1:  # another name of a file that may be outside the lake: named, never opened
            raise LandingError(
                f"{where} is a hard link ({entry.links} names for one file): refused, not read (deliver regular files)"
            )
        recorded = known.get(entry.name)
        if with_hashes and recorded and entry.mtime_ns and recorded[:2] == (entry.size_bytes, entry.mtime_ns):
            files.append(LandedFile(entry.name, entry.size_bytes, recorded[2], entry.mtime_ns))
            continue
        try:
            sha = _sha256(lake, f"{folder_uri}/{entry.name}") if with_hashes else ""
        except OSError as exc:
            raise LandingError(f"{where} cannot be read ({exc.strerror or exc}): fix its permissions") from None
        files.append(LandedFile(entry.name, entry.size_bytes, sha, entry.mtime_ns))
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
    by_id: dict[str, list[tuple[str, str]]] = {}
    folders, refused = _match_folders(lake)
    for fmt, name, uri in folders:
        if not MATCH_ID_PATTERN.fullmatch(name):
            try:
                check_match_id(name)
            except InvalidMatchId as exc:
                refused[f"{fmt}/{name}"] = str(exc)
            continue
        by_id.setdefault(name, []).append((fmt, uri))
    for match_id, places in sorted(by_id.items()):
        if match_id in refused:  # also landed as a link somewhere: refused as a whole
            continue
        if len(places) > 1:
            formats = ", ".join(f"landing/{fmt}/{match_id}" for fmt, _ in places)
            refused[match_id] = (
                f"match {match_id!r} is landed under more than one format ({formats}); remove all but one folder"
            )
        else:
            usable[match_id] = places[0]
    return usable, refused


def scan_landing(
    lake: Lake, only: set[str] | None = None, known: dict[str, dict[str, tuple[int, int, str]]] | None = None
) -> LandingScan:
    """Find every landed match; refuse invalid folder names and match_ids landed under two formats.

    ``only`` restricts hashing to those match_ids (names are still checked for all folders); ``known`` is
    {match_id: {file name: (size, mtime_ns, sha256)}} as the lake recorded them (see ``landed_files``).
    """
    scan = LandingScan()
    usable, scan.refused = list_match_folders(lake)
    events, refused_events = events_folders(lake)
    scan.refused.update(refused_events)
    if only is not None:
        scan.refused = {k: v for k, v in scan.refused.items() if k in only or "/" in k}
    for match_id, (fmt, uri) in usable.items():
        if only is not None and match_id not in only:
            continue
        recorded = (known or {}).get(match_id)
        try:
            files = landed_files(lake, uri, known=recorded)
            if not files:
                scan.refused[match_id] = f"landing/{fmt}/{match_id} holds no files"
                continue
            landed = with_events(lake, LandedMatch(match_id, fmt, uri, files), events.get(match_id), recorded)
        except LandingError as exc:  # this match only: planning goes on for the others
            scan.refused[match_id] = str(exc)
            continue
        scan.matches[match_id] = landed
    return scan


def find_match(lake: Lake, match_id: str) -> LandedMatch:
    """The landed match ``match_id``, or a ``LandingError`` that says why it cannot be used."""
    return find_match_known(lake, match_id, None)


def find_match_known(lake: Lake, match_id: str, known: dict[str, tuple[int, int, str]] | None) -> LandedMatch:
    """``find_match``, with ``known`` as ``landed_files`` ({name: (size_bytes, mtime_ns, sha256)}, the events
    folder's files under ``events/<name>``): a file whose size and modification time are those known is not read."""
    check_match_id(match_id)
    scan = scan_landing(lake, only={match_id}, known=None if known is None else {match_id: known})
    if match_id in scan.matches:
        return scan.matches[match_id]
    if match_id in scan.refused:
        raise LandingError(scan.refused[match_id])
    raise LandingError(f"match {match_id!r} is not landed: no folder landing/<format>/{match_id} in {lake.uri}")
