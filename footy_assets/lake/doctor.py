"""``footy-assets doctor``: check every table of the lake, say what is wrong and the one command that fixes it, and
do the safe repairs (storage only; rebuilding a match's rows is the CLI's, through the chain).

Per table:
* the log and its checkpoint can be read (a truncated checkpoint, a damaged ``_last_checkpoint``, a truncated
  newest commit are told apart);
* the table is partitioned the way this code writes it;
* every data file the current version names is present and its Parquet footer readable;
and across tables:
* every match ``matches`` publishes is held by every per-match table in its published delivery.

Safe repairs (``repair``): a per-match table of an older lake (partitioned by match only) is rewritten partitioned by
match and delivery, in one commit; a damaged checkpoint is dropped and rebuilt from the commits; a damaged
``_last_checkpoint`` is dropped (Delta finds the checkpoint by listing); a truncated *newest* commit is dropped
(the table goes back one version: the match it wrote is then rewritten by the chain); a delivery nobody publishes
whose files are missing is dropped; a published match whose rows are missing or damaged is rebuilt from its landed
delivery (by the caller, ``rebuild``), and one that is no longer landed is named as unrepairable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow.fs as pafs
import pyarrow.parquet as pq

from footy_assets.lake.publish import EVENTS_KEY, PER_MATCH_TABLES, published_set, table_fingerprint
from footy_assets.lake.store import DELIVERY_PARTITIONS, MATCH_PARTITION, Lake, one_line

TABLES = ("matches", *PER_MATCH_TABLES)
REPAIR = "footy-assets doctor --repair"
_COMMIT = re.compile(r"^(\d{20})\.json$")
_CHECKPOINT = re.compile(r"^(\d{20})\.checkpoint(\.\d+\.\d+)?\.parquet$")


@dataclass
class Finding:
    """One thing wrong with one table (and match): what, and the command that fixes it."""

    table: str
    problem: str
    fix: str
    action: str  # drop_checkpoint | drop_last_checkpoint | drop_commit | drop_delivery | migrate | unpublish | rebuild
    #              | unrepairable
    match_id: str | None = None
    fingerprint: str | None = None
    path: str | None = None

    def line(self) -> str:
        where = f"{self.table}" + (f" / {self.match_id}" if self.match_id else "")
        return f"  {where}: {self.problem} -> fix: {self.fix}"


@dataclass
class TableReport:
    table: str
    version: int | None = None
    files: int = 0
    findings: list[Finding] = field(default_factory=list)
    superseded: int = 0  # deliveries beside the published one (superseded, or of a chain that failed; upkeep drops
    #                      the superseded ones once no reader can hold their marker)


def _log_dir(lake: Lake, table: str) -> tuple[pafs.FileSystem, str]:
    fs, root = lake.filesystem()
    return fs, f"{root}/{table}/_delta_log"


def _log_problem(lake: Lake, table: str, error: str) -> Finding:
    """Why a table's log cannot be read, told apart from its files: a damaged ``_last_checkpoint``, checkpoint
    or newest commit (repairable), anything else (named, with the error)."""
    fs, log = _log_dir(lake, table)
    infos = fs.get_file_info(pafs.FileSelector(log, allow_not_found=True))
    names = {i.base_name: i for i in infos if i.type == pafs.FileType.File}
    commits = sorted(int(m.group(1)) for n in names if (m := _COMMIT.match(n)))
    checkpoints = sorted({int(m.group(1)) for n in names if (m := _CHECKPOINT.match(n))})
    if "_last_checkpoint" in names:
        try:
            with fs.open_input_stream(f"{log}/_last_checkpoint") as stream:
                json.loads(stream.read())
        except (ValueError, OSError) as exc:
            return Finding(
                table,
                f"_last_checkpoint cannot be read ({one_line(exc)})",
                REPAIR,
                "drop_last_checkpoint",
                path=f"{log}/_last_checkpoint",
            )
    for version in reversed(checkpoints):
        for name in (n for n in names if n.startswith(f"{version:020d}.checkpoint")):
            try:
                with fs.open_input_file(f"{log}/{name}") as stream:
                    pq.read_metadata(stream)
            except Exception as exc:  # noqa: BLE001 - a damaged file, whatever Arrow says about it
                covered = set(range(version + 1)) <= set(commits) or any(c < version for c in checkpoints)
                return Finding(
                    table,
                    f"checkpoint at version {version} cannot be read ({one_line(exc)})",
                    REPAIR if covered else "restore the table's _delta_log from a backup",
                    "drop_checkpoint" if covered else "unrepairable",
                    path=f"{log}/{name}",
                )
    if commits:
        newest = commits[-1]
        try:
            with fs.open_input_stream(f"{log}/{newest:020d}.json") as stream:
                for text in stream.read().decode().splitlines():
                    if text.strip():
                        json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            return Finding(
                table,
                f"the newest commit (version {newest}) is damaged ({one_line(exc)}); dropping "
                f"it returns the table to version {newest - 1}",
                REPAIR,
                "drop_commit",
                path=f"{log}/{newest:020d}.json",
            )
    return Finding(
        table, f"the table cannot be opened: {error}", "restore the table's _delta_log from a backup", "unrepairable"
    )


def _published(lake: Lake, report: TableReport) -> dict[str, dict] | None:
    """{match_id: {"fingerprint", "events_fingerprint"}} ``matches`` publishes (None when matches cannot be read;
    ``lake.publish.table_fingerprint`` gives each table's)."""
    if report.findings and report.version is None:
        return None
    try:
        dataset = lake.dataset("matches")
        if dataset is None:
            return {}
        columns = [c for c in ("match_id", "fingerprint", EVENTS_KEY) if c in dataset.schema.names]
        rows = dataset.to_table(columns=columns).to_pylist()
    except Exception:  # noqa: BLE001 - a damaged file of matches: its own finding says which
        return None
    return {row["match_id"]: row for row in rows}


def check_table(lake: Lake, table: str, read_footers: bool = True) -> tuple[TableReport, list[dict]]:
    """The report of one table and its files' partition values (``[{"match_id", "fingerprint", "path"}]``)."""
    import pyarrow as pa

    report = TableReport(table)
    try:
        dt = lake.open_table(table)
    except Exception as exc:  # noqa: BLE001 - any damage: told apart below
        report.findings.append(_log_problem(lake, table, one_line(exc)))
        return report, []
    if dt is None:
        return report, []
    report.version = dt.version()
    expected = MATCH_PARTITION if table == "matches" else DELIVERY_PARTITIONS
    found = tuple(dt.metadata().partition_columns)
    if found != expected:
        fields = {f.name for f in dt.schema().fields}
        movable = table != "matches" and found == MATCH_PARTITION and "fingerprint" in fields
        report.findings.append(
            Finding(
                table,
                f"partitioned by {', '.join(found)}, this code writes {', '.join(expected)} (a lake from an older "
                "footy_assets)",
                f"{REPAIR} (rewrites the table in one commit)"
                if movable
                else "land the deliveries into a new lake and materialise it",
                "migrate" if movable else "unrepairable",
            )
        )
        return report, []
    actions = pa.table(dt.get_add_actions(flatten=True))
    report.files = actions.num_rows
    fs, root = lake.filesystem()
    files = []
    if actions.num_rows:
        paths = actions["path"].to_pylist()
        sizes = actions["size_bytes"].to_pylist()
        matches = actions["partition.match_id"].to_pylist()
        fingerprints = (
            actions["partition.fingerprint"].to_pylist()
            if "partition.fingerprint" in actions.column_names
            else [None] * len(paths)
        )
        infos = fs.get_file_info([f"{root}/{table}/{p}" for p in paths])
        for path, size, match_id, fingerprint, info in zip(paths, sizes, matches, fingerprints, infos):
            files.append({"match_id": match_id, "fingerprint": fingerprint, "path": path})
            problem = None
            if info.type != pafs.FileType.File:
                problem = f"data file {path} is missing"
            elif info.size != size:
                problem = f"data file {path} has {info.size:,} bytes, the log says {size:,}"
            elif read_footers:
                try:
                    with fs.open_input_file(info.path) as stream:
                        pq.read_metadata(stream)
                except Exception as exc:  # noqa: BLE001
                    problem = f"data file {path} cannot be read ({one_line(exc)})"
            if problem:
                report.findings.append(Finding(table, problem, "", "rebuild", match_id, fingerprint, path))
    return report, files


def diagnose(
    lake: Lake, landed: set[str] | None = None, read_footers: bool = True, progress: Callable[[str], None] | None = None
) -> list[TableReport]:
    """Every table's report; the fix of each finding decided with ``matches`` and the landed match_ids."""
    reports, files = {}, {}
    for table in TABLES:
        reports[table], files[table] = check_table(lake, table, read_footers)
        if progress:
            progress(f"  checked {table}")
    published = _published(lake, reports["matches"])
    landed = set() if landed is None else landed
    for table in PER_MATCH_TABLES:
        report = reports[table]
        held = {(f["match_id"], f["fingerprint"]) for f in files[table]}
        if (
            published is not None
            and report.version is not None
            and not any(  # (its files were not listed)
                f.action in ("unrepairable", "migrate") for f in report.findings
            )
        ):
            for match_id, row in sorted(published.items()):
                fingerprint = table_fingerprint(row, table)
                if (match_id, fingerprint) not in held:
                    report.findings.append(
                        Finding(
                            table,
                            f"holds no rows of the published delivery {fingerprint[:12]}",
                            "",
                            "rebuild",
                            match_id,
                            fingerprint,
                        )
                    )
            report.superseded = len({k for k in held if k[1] not in published_set(table, published.get(k[0]))})
    for report in reports.values():
        for finding in report.findings:
            if finding.action != "rebuild":
                continue
            if finding.table == "matches":  # a damaged marker: dropped (its match unpublished), then rebuilt
                finding.action = "unpublish"
                finding.fix = f"{REPAIR} (drops {finding.match_id}'s damaged row, " + (
                    f"then rebuilds {finding.match_id} from its landed delivery)"
                    if finding.match_id in landed
                    else f"land {finding.match_id} again to publish it)"
                )
                continue
            is_published = published is not None and (
                finding.table == "matches"
                or finding.fingerprint in published_set(finding.table, published.get(finding.match_id))
            )
            if finding.table != "matches" and published is not None and not is_published:
                finding.action, finding.fix = "drop_delivery", f"{REPAIR} (a delivery nobody reads: dropped)"
            elif finding.match_id in landed:
                finding.fix = f"{REPAIR} (rebuilds {finding.match_id} from its landed delivery)"
            else:
                finding.action = "unrepairable"
                finding.fix = (
                    f"land {finding.match_id}'s delivery again and run {REPAIR}, or footy-assets forget "
                    f"{finding.match_id} --from-lake"
                )
    return list(reports.values())


def repair_storage(lake: Lake, reports: list[TableReport], progress: Callable[[str], None] = print) -> set[str]:
    """Do the storage repairs of ``reports``; the match_ids whose rows must be rebuilt by the chain (the caller
    materialises them, after diagnosing again: a dropped commit may have held a published delivery). A table
    whose log was repaired gets a new checkpoint."""
    rebuild: set[str] = set()
    fs, _ = lake.filesystem()
    for report in reports:
        for finding in report.findings:
            if finding.action in ("drop_checkpoint", "drop_last_checkpoint", "drop_commit"):
                log = finding.path.rsplit("/", 1)[0]
                fs.delete_file(finding.path)
                if finding.action != "drop_last_checkpoint":
                    info = fs.get_file_info(f"{log}/_last_checkpoint")
                    if info.type == pafs.FileType.File:
                        fs.delete_file(info.path)  # it may name the dropped checkpoint; Delta lists without it
                dt = lake.open_table(report.table)
                dt.create_checkpoint()
                progress(
                    f"  repaired {report.table}: {finding.problem.split(' (')[0]}: dropped, checkpoint "
                    f"rebuilt at version {dt.version()}"
                )
            elif finding.action == "migrate":
                migrate_table(lake, report.table)
                progress(f"  repaired {report.table}: rewritten partitioned by {', '.join(DELIVERY_PARTITIONS)}")
            elif finding.action == "drop_delivery":
                lake.drop_deliveries(
                    report.table,
                    finding.match_id,
                    keep=set(lake.deliveries(report.table, finding.match_id)) - {finding.fingerprint},
                )
                progress(
                    f"  repaired {report.table} / {finding.match_id}: dropped unpublished delivery "
                    f"{finding.fingerprint[:12]} ({finding.problem})"
                )
            elif finding.action == "unpublish":
                lake.drop_match(report.table, finding.match_id)
                progress(f"  repaired matches / {finding.match_id}: damaged row dropped ({finding.problem})")
                rebuild.add(finding.match_id)
            elif finding.action == "rebuild":
                rebuild.add(finding.match_id)
    return rebuild


def migrate_table(lake: Lake, table: str) -> None:
    """Rewrite a per-match table of an older lake (partitioned by match only) partitioned by match and delivery, in
    one commit: its rows streamed from the current version (never the whole table in memory); readers of the old
    version keep it until vacuumed. Protocol unchanged (reader 1 / writer 2)."""
    from deltalake import write_deltalake

    dt = lake.open_table(table)
    rows = lake.dataset(table).scanner().to_reader()
    write_deltalake(dt, rows, mode="overwrite", schema_mode="overwrite", partition_by=list(DELIVERY_PARTITIONS))
