"""Exports: a published match of the lake back out in the vendors' own formats.

* ``cdf``: Common Data Format v0.3.2 — ``tracking.jsonl`` (one frame per line) + ``meta.json``, and where the
  match has events ``events.jsonl`` (synced events carry their frames) + ``match.json`` (the match sheet); valid
  against the schemas of the ``common-data-format-validator`` package. ``cdf_keys="v0.2"``: the meta's periods and
  the events' outcome with CDF v0.2's key names (for readers of v0.2, such as fast-forward-football 0.3.0).
* ``tracking_download``: the vendor's tracking download exactly as the vendor's tracking-download API:
  ``tracking.parquet`` (int32 ms, role, player_id, float16 player_id_conf, int16 cm from the bottom-left corner,
  int16 pixels) or ``tracking.json`` (an array of row objects); a ``pitch.json`` beside it when the pitch is not
  105 x 68 m.
* ``mot``: MOT Challenge CSV of a footy_track match (``<frame>,<id>,<left>,<top>,<width>,<height>,<conf>,-1,-1,-1``,
  1-indexed frames, pixel boxes) for tracking evaluators.

Each reads only the delivery ``matches`` publishes. Landing an export under a new match_id and materialising it
gives the same canonical rows within the format's rounding (``footy_assets_tests/lake/test_exports.py``).
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pyarrow.fs as pafs

from footy_assets.formats.common import ExportError
from footy_assets.lake.publish import published_rows, table_fingerprint
from footy_assets.lake.store import Lake, TableUnreadable, check_match_id, unreadable

EXPORT_FORMATS = ("cdf", "tracking_download", "mot")


def published_match(lake: Lake, match_id: str) -> tuple[pl.DataFrame, dict]:
    """The published tracking rows of a match (in frame order) and its ``matches`` row."""
    check_match_id(match_id)
    try:  # read once: the tracking, the meta and the events all of the deliveries this one row publishes
        rows = lake.read_match("matches", match_id)
    except TableUnreadable:
        raise
    except Exception as exc:  # a data file of matches missing or damaged: one line naming the table
        raise unreadable("matches", exc) from exc
    if rows is None or rows.num_rows == 0:
        raise ExportError(f"{match_id}: not published in {lake.uri} (land it and run footy-assets materialize)")
    row = pl.from_arrow(rows).row(0, named=True)
    tracking = published_rows(lake, "tracking", match_id, row["fingerprint"])
    return tracking.sort("frame_id", maintain_order=True), row


def render(
    lake: Lake, match_id: str, fmt: str, json_download: bool = False, cdf_keys: str = "v0.3.2"
) -> dict[str, bytes]:
    """{file name: content} of one export of a published match. ``cdf_keys``: the CDF key names (``v0.3.2``, or
    ``v0.2`` for the meta's periods and the events' outcome)."""
    from footy_assets.formats.cdf import export as cdf
    from footy_assets.formats.footy_track import export as mot

    if fmt not in EXPORT_FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; expected one of {', '.join(EXPORT_FORMATS)}")
    if cdf_keys not in cdf.KEY_NAMES:
        raise ExportError(f"unknown CDF key names {cdf_keys!r}; expected one of {', '.join(cdf.KEY_NAMES)}")
    if fmt == "tracking_download":  # made batch by batch, the same chunks footy-assets serve sends
        from footy_assets.lake.downloads import tracking_download

        return tracking_download(lake, match_id, "json" if json_download else "parquet").files()
    tracking, match = published_match(lake, match_id)
    if fmt == "mot":
        return mot.render(tracking, match)
    if tracking["x_m"].null_count() == tracking.height:
        raise ExportError(
            f"{match_id}: no pitch positions (a footy_track feed without a homography): only the mot export applies"
        )
    # the CDF export: the events and lineup of the same published delivery as the tracking
    events = published_rows(lake, "events", match_id, table_fingerprint(match, "events"))
    lineups = published_rows(lake, "lineups", match_id, table_fingerprint(match, "lineups")) if events.height else None
    return cdf.render(tracking, match, events, lineups, cdf_keys)


def export_match(
    lake: Lake,
    match_id: str,
    fmt: str,
    output: str,
    json_download: bool = False,
    overwrite: bool = False,
    new_folder: bool = False,
    cdf_keys: str = "v0.3.2",
) -> list[str]:
    """Write one export of a published match into the folder ``output`` (a path or s3://bucket/prefix); the
    written files' URIs. Each file appears whole (a reader sees none or all of it). Never over an existing file
    unless ``overwrite`` (then each is replaced whole); ``new_folder``: ``output`` must not exist yet and is
    created (an export landed as a new match: ``check_output``). Refusals are ``ExportError``s. ``cdf_keys``: as
    ``render``."""
    files = render(lake, match_id, fmt, json_download, cdf_keys)
    target = Lake.from_env(output)
    if target.is_local:
        try:
            if new_folder:
                os.makedirs(os.path.dirname(target.uri), exist_ok=True)
                os.mkdir(target.uri)  # fails if anything took the name since it was checked
            else:
                Path(target.uri).mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise ExportError(f"--output {output} exists and is not a new folder: nothing written") from None
    if not overwrite:  # refused before anything is written, not halfway
        fs, _ = target.filesystem()
        taken = [
            name for name in files if fs.get_file_info(target.fs_path(target.join(name))).type != pafs.FileType.NotFound
        ]
        if taken:
            raise ExportError(
                f"--output {output} already holds {', '.join(taken)}: nothing written (export into a "
                "new folder, or pass --overwrite to replace them)"
            )
    written = []
    for name, data in files.items():
        uri = target.join(name)
        try:
            target.write_bytes_atomic(uri, data, exclusive=not overwrite)
        except FileExistsError:
            raise ExportError(f"{uri} appeared while the export was written: not replaced") from None
        written.append(uri)
    if overwrite:  # an export over an older one: no file of the older one stays that this one has not
        fs, _ = target.filesystem()
        for name in sorted(set(OPTIONAL_FILES.get(fmt, ())) - set(files)):
            path = target.fs_path(target.join(name))
            if fs.get_file_info(path).type == pafs.FileType.File:
                fs.delete_file(path)
    return written


# The files an export writes only for some matches (CDF: the event data of a match that has it)
OPTIONAL_FILES = {"cdf": ("events.jsonl", "match.json")}


def check_output(lake: Lake, output: str, overwrite: bool = False) -> bool:
    """Refuse (``ExportError``) an ``output`` of the command line that would write where it must not; True when
    it lands the export as a new match of the lake (``export_match(new_folder=True)``).

    Inside the lake an export may only create a new folder under ``landing/`` (a new match), reached without
    a link inside the lake (a link could lead to an existing match's folder, or out of the lake): an existing
    match's folder, however named (``..``, a link), is refused, so is ``--overwrite``. Elsewhere ``output`` must
    be a folder or not exist (a file, ``/dev/null``: refused)."""
    if "://" in output:
        if not lake.is_local and (output + "/").startswith(lake.uri + "/"):
            if not output.startswith(lake.join("landing") + "/"):
                raise ExportError(f"--output {output} is inside the lake: write exports outside it, or into landing/")
            if overwrite or lake.list_dir(output):
                raise ExportError(
                    f"--output {output} is a folder of the lake's landing zone that exists: exports "
                    "into the lake land a new match (name a folder that does not exist yet)"
                )
            return True
        return False
    raw = os.path.abspath(os.path.expanduser(output))
    real = os.path.realpath(raw)
    root = os.path.realpath(lake.uri) if lake.is_local else None
    if root is not None:
        _refuse_links_inside(raw, root, output)
    if root is not None and _inside(real, root):
        if not _inside(real, os.path.join(root, "landing")) or real == os.path.join(root, "landing"):
            raise ExportError(f"--output {output} is inside the lake: write exports outside it, or into landing/")
        if overwrite or os.path.lexists(real):
            raise ExportError(
                f"--output {output} is a folder of the lake's landing zone that exists (a match's "
                "folder is never written by an export): exports into the lake land a new match "
                "(name a folder that does not exist yet; --overwrite is refused there)"
            )
        return True
    if os.path.exists(real) and not os.path.isdir(real):
        raise ExportError(f"--output {output} exists and is not a folder: name a folder (it is created if missing)")
    return False


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _refuse_links_inside(raw: str, root: str, output: str) -> None:
    """Refuse a path that goes through a symbolic link living inside the lake (a link's name may say anything)."""
    parts = raw.split(os.sep)
    for i in range(2, len(parts) + 1):
        prefix = os.sep.join(parts[:i])
        if os.path.islink(prefix) and _inside(os.path.realpath(os.path.dirname(prefix)), root):
            raise ExportError(
                f"--output {output} goes through a symbolic link inside the lake ({prefix}): refused, not followed"
            )


__all__ = ["EXPORT_FORMATS", "ExportError", "check_output", "export_match", "published_match", "render"]
