"""``footy-assets``: materialize the lake, run the demo, query the tables.

Runs are recorded in the Dagster instance at ``$DAGSTER_HOME`` (default ``.dagster_home/`` in the project
root), so ``dagster dev`` shows what the command line did.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path

from footy_assets import long_lived_setup
from footy_assets.lake.claims import MatchBusy
from footy_assets.lake.store import InvalidMatchId, Lake, LakeWriteError, LayoutError, SettingError, TableUnreadable

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DEMO_FORMATS = ("footy_stats", "sportvu", "cdf", "footy_track")


def _instance():
    """The instance at $DAGSTER_HOME (created once under a lock); runs left STARTED by a dead CLI are marked
    failed first. Dagster is imported and the instance opened as objects kept to the end (``long_lived_setup``)."""
    with long_lived_setup():
        from footy_assets.orchestration.instance import open_instance, sweep_dead_runs

        instance = open_instance()
    for run_id in sweep_dead_runs(instance):
        print(f"marked run {run_id} failed: its process is gone", flush=True)
    return instance


class UsageError(Exception):
    """A command line that cannot be run as given: one line, exit 2."""


def _lake(uri: str | None, must_exist: bool = True) -> Lake:
    """The lake named on the command line (or by $FOOTY_DATA_LAKE): a malformed URI or a missing local
    folder is a usage error, never silently a new folder."""
    import os

    given = uri or os.environ.get("FOOTY_DATA_LAKE")
    if given and "://" in given and not given.startswith(("s3://", "s3a://", "file://")):
        raise UsageError(f"unsupported lake URI {given!r}: use a local path or s3://bucket/prefix")
    if given and "://" not in given and given.split("/", 1)[0].rstrip(":") in ("s3", "s3a", "file"):
        raise UsageError(
            f"lake {given!r} looks like a mistyped URI: did you mean {given.split('/', 1)[0].rstrip(':')}://...?"
        )
    lake = Lake.from_env(uri)
    if must_exist and lake.is_local and not Path(lake.uri.removeprefix("file://")).is_dir():
        raise UsageError(f"no lake at {lake.uri}: create it (footy-assets demo does) or pass --lake")
    return lake


def cmd_materialize(args: argparse.Namespace) -> int:
    from footy_assets.chain.audit import audit_ahead
    from footy_assets.chain.planning import default_workers, plan_matches

    lake = _lake(args.lake)
    started = time.perf_counter()
    # from the lake alone: no Dagster needed yet; --rehash reads every landed file instead of trusting size+mtime
    plans = plan_matches(lake, args.match or None, rehash=getattr(args, "rehash", False))
    workers = args.workers or default_workers()
    todo = [p for p in plans if p.needs_work]
    if todo and (workers == 1 or len(todo) == 1) and todo[0].assets is None:
        # one match at a time in this process: the first one is read and audited while Dagster is imported
        # and the instance opened; not for a run of the event data alone, which reads no tracking file
        audit_ahead(lake, todo[0].landed)
    with long_lived_setup():
        from footy_assets.orchestration.runner import materialize_lake

    with _instance() as instance:
        outcomes = materialize_lake(
            lake, instance, progress=lambda s: print(s, flush=True), workers=workers, plans=plans
        )
    failed = [o for o in outcomes if not o.ok]
    done = sum(1 for o in outcomes if o.ok and o.plan.needs_work)
    print(f"done in {time.perf_counter() - started:.1f} s: {done} materialised, {len(failed)} failed")
    return EXIT_FAILED if failed else EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    import tempfile

    import pyarrow.fs as pafs

    from footy_assets.formats import synthetic

    lake = _lake(args.lake, must_exist=False)
    staging = None if lake.is_local else tempfile.TemporaryDirectory(prefix="footy_demo_")
    landing = Path(staging.name if staging else lake.uri) / "landing"
    print(f"writing synthetic feeds ({args.half_minutes:g}-minute halves) into {lake.join('landing')}")
    for number, fmt in enumerate(DEMO_FORMATS):
        spec = synthetic.MatchSpec(f"demo_{fmt}", half_seconds=args.half_minutes * 60, seed=11 + number)
        folder = synthetic.write_match(landing, fmt, spec)
        size = sum(f.stat().st_size for f in folder.iterdir())
        print(f"  landed {fmt:<12} {spec.match_id:<18} {size / 1e6:6.1f} MB")
    if staging:  # an object-store lake: the feeds are written locally, then uploaded
        fs, root = lake.filesystem()
        pafs.copy_files(
            str(landing), f"{root}/landing", source_filesystem=pafs.LocalFileSystem(), destination_filesystem=fs
        )
        staging.cleanup()
    status = cmd_materialize(argparse.Namespace(lake=lake.uri, match=None, workers=None))
    print(
        "\nNext:\n"
        "  make dev                      # the Dagster UI (dagster dev) on http://127.0.0.1:3000\n"
        '  .venv/bin/footy-assets sql "SELECT match_id, role, count(*) AS rows FROM tracking GROUP BY ALL ORDER BY ALL"\n'  # noqa: E501
        f"  .venv/bin/python -c \"import polars as pl; print(pl.read_delta('{lake.uri}/tracking').head())\""
    )
    return status


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def cmd_sql(args: argparse.Namespace) -> int:
    import duckdb

    from footy_assets.lake.sql import (
        QueryRefused,
        QueryStopped,
        SqlLimits,
        SqlLimitsInvalid,
        for_people,
        present_tables,
        run_sql,
        without_home,
    )

    lake = _lake(args.lake)
    if args.output:
        target = Path(args.output).expanduser().resolve()  # links resolved: no way into the lake through one
        if lake.is_local and _inside(target, Path(lake.uri).resolve()):
            print(
                f"error: --output {args.output} is inside the lake ({lake.uri}); the lake is written only by "
                "materialize",
                file=sys.stderr,
            )
            return EXIT_USAGE
    try:
        limits = SqlLimits.from_env()
    except SqlLimitsInvalid as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        result = run_sql(lake, args.query, limits)
    except QueryRefused as exc:
        print(f"error: refused: {without_home(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except QueryStopped as exc:
        print(f"query stopped: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except duckdb.Error as exc:  # DuckDB's own message says what is wrong with the query
        tables = present_tables(lake)
        if not tables:
            print(
                f"error: the lake at {lake.uri} holds no tables yet: land a delivery in landing/<format>/<match_id>/ "
                "and run footy-assets materialize (or footy-assets demo)",
                file=sys.stderr,
            )
        else:
            first = without_home(str(exc).strip().splitlines()[0])  # DuckDB quotes paths: never where home is
            print(f"query failed: {first}\n(tables in this lake: {', '.join(tables)})", file=sys.stderr)
        return EXIT_USAGE
    if args.format == "parquet":
        if not args.output:
            print("--format parquet needs --output FILE", file=sys.stderr)
            return EXIT_USAGE
        result.write_parquet(args.output)
        print(f"wrote {result.height} rows to {args.output}")
    elif args.output:
        if args.format == "json":
            Path(args.output).write_text(result.write_json())
        else:
            for_people(result).write_csv(args.output)
        print(f"wrote {result.height} rows to {args.output}")
    elif args.format == "csv":
        for_people(result).write_csv(sys.stdout)
    elif args.format == "json":
        sys.stdout.write(result.write_json() + "\n")
    else:
        import polars as pl

        with pl.Config(tbl_rows=args.max_rows, tbl_cols=-1, tbl_width_chars=200, tbl_hide_dataframe_shape=True):
            print(for_people(result))
        print(f"({result.height} row{'s' if result.height != 1 else ''})")
    return EXIT_OK


def cmd_intervals(args: argparse.Namespace) -> int:
    from footy_assets.core.metrics.intervals import FilterError
    from footy_assets.lake.filter import filter_intervals

    text = args.request
    if not text.lstrip().startswith(("{", "[")) and len(text) < 4096 and Path(text).is_file():
        text = Path(text).read_text()
    try:
        request = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        print(
            f"error: the request is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}), "
            "nor a readable file",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except ValueError as exc:  # NaN / Infinity
        print(f"error: the request is not valid JSON: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except RecursionError:
        print("error: the request is nested too deeply to be a filter request", file=sys.stderr)
        return EXIT_USAGE
    try:
        result = filter_intervals(args.match, request, _lake(args.lake))
    except FilterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(json.dumps(result, indent=2))
    return EXIT_OK


def cmd_forget(args: argparse.Namespace) -> int:
    with long_lived_setup():
        from footy_assets.orchestration.forget import NothingToForget, StillLanded, forget_match

    lake = _lake(args.lake)
    with _instance() as instance:
        try:
            done = forget_match(
                lake, instance, args.match, from_lake=args.from_lake, progress=lambda s: print(s, flush=True)
            )
        except StillLanded as exc:
            print(f"error: {args.match}: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except NothingToForget as exc:  # an unknown id, as everywhere else: exit 2
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE
    print(f"{args.match}: partition {'removed from' if done.partition_removed else 'not in'} the Dagster instance")
    if args.from_lake:
        rows = sum(done.deleted_rows.values())
        tables = ", ".join(f"{t} {n:,}" for t, n in done.deleted_rows.items() if n)
        print(
            f"{args.match}: {rows:,} rows deleted from the lake"
            + (f" ({tables})" if tables else "")
            + (f"; removed {', '.join(done.files_removed)}" if done.files_removed else "")
        )
    else:
        print(f"{args.match}: its rows stay in the lake (add --from-lake to delete them)")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from footy_assets.lake.exports import ExportError, check_output, export_match

    lake = _lake(args.lake)
    output = args.output or str(Path("exports") / args.match / args.format)
    output = output.removeprefix("file://")  # a local folder: checked as one
    try:
        new_match = check_output(lake, output, overwrite=args.overwrite)
        written = export_match(
            lake,
            args.match,
            args.format,
            output,
            json_download=args.json,
            overwrite=args.overwrite,
            new_folder=new_match,
            cdf_keys=args.cdf_keys,
        )
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for uri in written:
        print(uri)
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    """The vendor API over the lake's published rows (footy_assets.server), until interrupted."""
    import contextlib

    import uvicorn

    from footy_assets.server.app import create_app
    from footy_assets.server.settings import Settings, is_loopback

    lake = _lake(args.lake)
    settings = Settings.from_env()
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port}: a TCP port is 0 to 65535")
    if not settings.tokens and not is_loopback(args.host) and not args.allow_anonymous:
        raise UsageError(
            f"--host {args.host} is reachable from other machines and no token is configured: set "
            "FOOTY_SERVE_TOKENS (or FOOTY_SERVE_TOKENS_FILE), or pass --allow-anonymous"
        )
    config = uvicorn.Config(
        create_app(lake, settings),
        host=args.host,
        port=args.port,
        server_header=False,
        proxy_headers=False,
        timeout_keep_alive=5,
        log_level="info",
    )
    needs = "a bearer token" if settings.tokens else "no token"
    print(f"lake {lake.uri}: serving on http://{args.host}:{args.port} (requests need {needs})", flush=True)
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn shuts down gracefully, then hands the interrupt back
        uvicorn.Server(config).run()
    return EXIT_OK


def cmd_upkeep(args: argparse.Namespace) -> int:
    from footy_assets.lake.upkeep import check_retention, upkeep_lake

    try:
        warning = check_retention(args.retention_hours)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    lake = _lake(args.lake)
    started = time.perf_counter()
    if warning:  # on stderr, once; the upkeep still runs
        print(warning, file=sys.stderr, flush=True)
    print(f"lake {lake.uri}: upkeep (vacuum retention {args.retention_hours} h)")
    from footy_assets.lake.upkeep import UpkeepFailed

    with long_lived_setup():
        from footy_assets.orchestration.assets.claim import holder_is_live

    with _instance() as instance:  # whether a run holding a match still runs: the instance knows
        try:
            reports = upkeep_lake(
                lake,
                args.retention_hours,
                is_live=holder_is_live(instance),
                progress=lambda s: None if s == warning else print(s, flush=True),
            )
        except UpkeepFailed as exc:
            print(f"done in {time.perf_counter() - started:.1f} s: {len(exc.reports)} table(s)")
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_FAILED
    print(f"done in {time.perf_counter() - started:.1f} s: {len(reports)} table(s)")
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace) -> int:
    """Check every table; with --repair, do the safe repairs and rebuild damaged matches from their deliveries."""
    from footy_assets.lake import doctor
    from footy_assets.lake.landing import list_match_folders

    lake = _lake(args.lake)
    started = time.perf_counter()
    landed = set(list_match_folders(lake)[0])
    print(f"lake {lake.uri}: doctor{' --repair' if args.repair else ''}")
    reports = doctor.diagnose(lake, landed)
    _print_reports(reports)
    if args.repair and any(r.findings for r in reports):
        first = reports
        rebuild = doctor.repair_storage(lake, reports, progress=lambda s: print(s, flush=True))
        reports = doctor.diagnose(lake, landed)  # a dropped commit may have taken a published delivery with it
        rebuild |= {f.match_id for r in reports for f in r.findings if f.action == "rebuild"}
        # a dropped commit may have unpublished a match or taken a delivery from a table: planning re-decides each
        planned = landed if any(f.action == "drop_commit" for r in first for f in r.findings) else set()
        if rebuild or planned:
            _rebuild(lake, sorted(rebuild | planned), force=rebuild)
            reports = doctor.diagnose(lake, landed)
        print("after repair:")
        _print_reports(reports)
    problems = [f for r in reports for f in r.findings]
    print(
        f"done in {time.perf_counter() - started:.1f} s: "
        + (f"{len(problems)} problem(s) in {len({f.table for f in problems})} table(s)" if problems else "healthy")
    )
    return EXIT_FAILED if problems else EXIT_OK


def _print_reports(reports) -> None:
    for report in reports:
        if report.version is None and not report.findings:
            print(f"  {report.table:<22} absent")
            continue
        state = f"{len(report.findings)} problem(s)" if report.findings else "ok"
        where = "" if report.version is None else f": version {report.version}, {report.files} data file(s)"
        kept = (
            f", {report.superseded} other deliver(ies) beside the published ones (superseded, kept for readers, "
            "or from a chain that failed)"
            if report.superseded
            else ""
        )
        print(f"  {report.table:<22} {state}{where}{kept}")
        for finding in report.findings:
            print(f"  {finding.line()}")


def _rebuild(lake: Lake, match_ids: list[str], force: set[str]) -> None:
    """Materialise those of ``match_ids`` that need work, and those in ``force`` again from their landed
    deliveries even where planning says unchanged."""
    from dataclasses import replace

    from footy_assets.chain.planning import plan_matches

    with long_lived_setup():
        from footy_assets.orchestration.runner import materialize_lake

    plans = [
        replace(p, status="changed", reason="rebuilt by doctor")
        if p.status == "unchanged" and p.match_id in force
        else p
        for p in plan_matches(lake, match_ids)
        if p.status != "refused"
    ]
    with _instance() as instance:
        materialize_lake(lake, instance, progress=lambda s: print(s, flush=True), plans=plans)


INTERVALS_REQUEST = """\
The request (JSON): {"operator": "AND" | "OR", "filters": [FILTER, ...]}; AND intersects the filters'
intervals (a player's with the same player's, and with every match-level one), OR returns each filter's.
A FILTER is one of:
  {"type": "frame_state", "players": ["0-10", "0-7"], "column": "speed_mps", "gte": 7.0, "lte": 9.0,
   "min_duration_ms": 1000}
      runs of each player's frames where the column is within gte..lte (either may be left out);
      "players": "all" takes every player of the match, "teams": ["team_1"] every player of a team
      (with or instead of players); columns: speed_mps, accel_mps2, distance_m, nearest_opp_dist_m,
      ball_dist_m, x_m, y_m
  {"type": "team_possession", "teams": ["team_0"]}
  {"type": "ball_location", "x_min": 70, "x_max": 105, "y_min": 0, "y_max": 68}
      metres on the 105 x 68 pitch from its bottom-left corner, the home team attacking towards x = 105;
      "attacking_team": "team_1" measures them as that team attacks (its final third: "x_min": 70)
  {"type": "event", "event_types": ["shot"], "before_ms": 5000, "after_ms": 1000, "actor": true}
      windows around the match's events (sub_types, teams and players narrow them)
Teams: "team_0" or 0 is the home team, "team_1" or 1 the away team. The answer: a JSON list of intervals
{start, end, label, type, player_id, team, period, period_start, start_in_period, end_in_period,
match_minute, player_name}, times in s, team 0 (home) or 1 (away) as in every table.
Every field, with examples: docs/analysing.md ("The frame-state filter").
"""


def _no_constant(name: str):
    """json's parse_constant: NaN, Infinity and -Infinity are not JSON numbers, and no bound can be one."""
    raise ValueError(f"{name} is not a number a filter can use")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="footy-assets", description=__doc__.splitlines()[0].replace("``", ""))
    sub = parser.add_subparsers(dest="command", required=True)
    lake_help = "lake root URI (default: $FOOTY_DATA_LAKE, else data_lake/ in the project root)"

    p = sub.add_parser("materialize", help="materialise every landed match that is new, changed or stale")
    p.add_argument("--lake", help=lake_help)
    p.add_argument("--match", action="append", metavar="ID", help="only this match (repeatable)")
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="matches materialised at once, each in a worker "
        "process (default: one per core, as many as available memory allows at ~2 GB a match)",
    )
    p.add_argument(
        "--rehash",
        action="store_true",
        help="hash every landed file again instead of trusting an "
        "unchanged size and modification time (a same-size change with its old time restored, as rsync -a, "
        "cp -p or tar x leave it, is then 'changed')",
    )
    p.set_defaults(func=cmd_materialize)

    p = sub.add_parser("demo", help="land synthetic matches (one per format) and materialise them")
    p.add_argument("--lake", help=lake_help)
    p.add_argument("--half-minutes", type=float, default=5.0, help="length of each half (default 5)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("sql", help="run a DuckDB query over the lake's tables")
    p.add_argument(
        "query",
        help="one read-only query (SELECT, WITH, VALUES, DESCRIBE, PIVOT), stopped after "
        "FOOTY_SQL_TIMEOUT_S (default 300) or past FOOTY_SQL_MEMORY_LIMIT (default 2GB); tables: "
        "tracking, frame_state, ball_state, intervals, match_quality, events, lineups, player_period_summary, "
        "player_match_summary, team_match_summary, matches",
    )
    p.add_argument("--lake", help=lake_help)
    p.add_argument(
        "--format",
        choices=["table", "csv", "json", "parquet"],
        default="table",
        help="output format (default table; csv and table show floats to 7 significant digits and nested "
        "columns as JSON text; json and parquet keep every bit)",
    )
    p.add_argument("--output", "-o", help="write to this file, never inside the lake (required for --format parquet)")
    p.add_argument("--max-rows", type=int, default=40, help="rows shown by --format table (default 40)")
    p.set_defaults(func=cmd_sql)

    p = sub.add_parser(
        "intervals",
        help="the frame-state filter: intervals of one match matching a request",
        description="The frame-state filter: the intervals of one match where a request's filters hold.",
        epilog=INTERVALS_REQUEST,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--match", required=True, metavar="ID", help="the match_id (its landing folder name)")
    p.add_argument("--request", required=True, help="the request as JSON text or a JSON file")
    p.add_argument("--lake", help=lake_help)
    p.set_defaults(func=cmd_intervals)

    p = sub.add_parser("export", help="write a published match as CDF, the tracking download or MOT CSV")
    p.add_argument("--match", required=True, metavar="ID", help="the match_id")
    p.add_argument(
        "--format",
        required=True,
        choices=["cdf", "tracking_download", "mot"],
        help="cdf: tracking.jsonl + meta.json (CDF v0.3.2), and events.jsonl + match.json where the match has "
        "events; tracking_download: tracking.parquet in the download's layout (int32 ms, int16 cm); "
        "mot: mot.csv (footy_track matches only)",
    )
    p.add_argument(
        "--output",
        "-o",
        help="folder or s3://bucket/prefix to write to (default exports/ID/FORMAT); "
        "inside the lake only a new folder under landing/ (a new match)",
    )
    p.add_argument("--json", action="store_true", help="tracking_download as tracking.json instead of parquet")
    p.add_argument(
        "--cdf-keys",
        choices=["v0.3.2", "v0.2"],
        default="v0.3.2",
        help="cdf: the key names; v0.2 names the meta's periods' frames start_frame_id/end_frame_id and the "
        "events' outcome outcome/outcome_detailed, for readers of CDF v0.2 such as fast-forward-football 0.3.0 "
        "(default v0.3.2)",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace files of the same names in --output (outside "
        "the lake only; without it an export never writes over a file)",
    )
    p.add_argument("--lake", help=lake_help)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser(
        "serve",
        help="answer the vendor API (tracking download, frame-state filter, schema, events) over HTTP from the "
        "lake's published rows, until interrupted",
    )
    p.add_argument("--lake", help=lake_help)
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only; another needs FOOTY_SERVE_TOKENS or "
        "--allow-anonymous)",
    )
    p.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    p.add_argument(
        "--allow-anonymous",
        action="store_true",
        help="listen beyond this machine without tokens (behind a proxy that authenticates)",
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser(
        "doctor",
        help="check every table (log, checkpoint, data files, published deliveries); "
        "--repair does the safe repairs and rebuilds damaged matches from their landed deliveries",
    )
    p.add_argument("--repair", action="store_true", help="repair what can be repaired safely")
    p.add_argument("--lake", help=lake_help)
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("upkeep", help="compact, checkpoint and vacuum the lake's Delta tables")
    p.add_argument(
        "--retention-hours",
        type=int,
        default=7 * 24,
        metavar="H",
        help="vacuum data files no table version of the last H hours needs (default 168: 7 days; 0 or "
        "more; warned below FOOTY_READER_HOLD_HOURS, default 1)",
    )
    p.add_argument("--lake", help=lake_help)
    p.set_defaults(func=cmd_upkeep)

    p = sub.add_parser(
        "forget",
        help="forget a withdrawn match: its partition in the Dagster instance and, with "
        "--from-lake, its rows in the lake (its landing folder must be gone)",
    )
    p.add_argument("match", metavar="ID", help="the match_id (the name its landing folder had)")
    p.add_argument(
        "--from-lake",
        action="store_true",
        help="also delete the match's rows from every table, its "
        "raw-feed record and its picture (one Delta commit per table; other matches untouched)",
    )
    p.add_argument("--lake", help=lake_help)
    p.set_defaults(func=cmd_forget)
    return parser


def main(argv: list[str] | None = None) -> int:
    from footy_assets.orchestration.instance import InstanceConfigError

    args = build_parser().parse_args(argv)
    caller_froze = gc.get_freeze_count() > 0  # objects a caller froze stay frozen: only the command's go back
    try:
        return args.func(args)
    except (InvalidMatchId, UsageError, InstanceConfigError, SettingError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (LakeWriteError, LayoutError, TableUnreadable, MatchBusy) as exc:  # one line naming the table or file
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:  # a store that does not answer, a disk that fails: one line, no traceback
        from footy_assets.lake.store import one_line

        print(f"error: {one_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    finally:  # what the command froze (long_lived_setup) goes back to the collector, for a caller that goes on
        if not caller_froze:
            gc.unfreeze()


def run() -> None:
    """The ``footy-assets`` command: ``main()``, then the process ends without tearing the interpreter down.

    Everything is committed and closed by then (Delta commits, the instance's databases, output files); what
    remains is freeing Dagster's, polars' and Arrow's objects one by one and joining their idle threads, a
    noticeable share of a short command (bench/full_match.py). Output is flushed
    and logging shut down first; an exception still ends the process the ordinary way, with its traceback.
    """
    import logging
    import os

    code = main()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
