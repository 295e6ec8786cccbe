"""mkdocs hooks: the reference pages that are generated from the code at every build, so they cannot drift.

* one page per table under ``reference/tables/``, from the pandera contracts in ``footy_assets/core/contracts/``
  (each column's name, type, nullability, checks and description), listed where ``<!-- generated: tables -->``
  stands (the tables' index page);
* ``<!-- generated: cli -->`` in a page: the ``footy-assets`` subcommands and options, from ``build_parser()``;
* ``<!-- generated: dagster -->``: the asset groups, steps, checks, jobs, schedules and sensors, from the one
  ``Definitions`` object.

The project's own code is imported from this checkout (not from whatever ``footy_assets`` the virtualenv has
installed), so the pages describe the code beside them.
"""

from __future__ import annotations

import argparse
import html
import importlib
import inspect
import logging
import os
import pkgutil
import re
import sys
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABLES_DIR = "reference/tables"
TABLES_INDEX = f"{TABLES_DIR}/index.md"
MARKER = re.compile(r"<!--\s*generated:\s*([\w-]+)\s*-->")
log = logging.getLogger("mkdocs.hooks.footy_assets")


def _project_first() -> None:
    if sys.path[0] != str(ROOT):
        sys.path.insert(0, str(ROOT))
    for name in [m for m in sys.modules if m == "footy_assets" or m.startswith("footy_assets.")]:
        if not str(getattr(sys.modules[name], "__file__", "") or "").startswith(str(ROOT)):
            del sys.modules[name]  # an installed copy from elsewhere: this checkout's code is what is documented


def _cell(text: object) -> str:
    """Text for one Markdown table cell: HTML-escaped, pipes and line breaks neutralised."""
    return html.escape(str(text), quote=False).replace("|", "&#124;").replace("\n", " ")


def _sentence(text: str) -> str:
    text = _cell(text).strip().rstrip(".")
    return text[:1].upper() + text[1:] + "."


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


# ---------------------------------------------------------------------------------------------- tables


@cache
def contracts() -> dict[str, type]:
    """{table: contract class}: every leaf DataFrameModel of ``footy_assets.core.contracts``, named as the table
    it checks (``FrameState`` checks ``frame_state``), in the lake's table order."""
    _project_first()
    import pandera.polars as pa

    package = importlib.import_module("footy_assets.core.contracts")
    found: dict[str, type] = {}
    modules = [
        importlib.import_module(f"{package.__name__}.{info.name}") for info in pkgutil.iter_modules(package.__path__)
    ]
    for module in modules:  # every module imported first: a base class's subclasses are all known then
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and issubclass(cls, pa.DataFrameModel) and not cls.__subclasses__():
                found[_snake(cls.__name__)] = cls
    from footy_assets.lake.sql import TABLES

    order = {name: i for i, name in enumerate(TABLES)}  # a contract of a table the lake does not hold yet: no page
    return dict(sorted(((table, c) for table, c in found.items() if table in order), key=lambda item: order[item[0]]))


def _check_text(check) -> str:
    stats = check.statistics or {}
    symbols = {
        "greater_than_or_equal_to": "≥",
        "greater_than": ">",
        "less_than_or_equal_to": "≤",
        "less_than": "<",
        "equal_to": "=",
        "not_equal_to": "≠",
    }
    if check.name in symbols:
        return f"{symbols[check.name]} {next(iter(stats.values()))}"
    if check.name == "in_range":
        return f"{stats.get('min_value')} to {stats.get('max_value')}"
    if check.name == "isin":
        return "one of " + ", ".join(str(v) for v in stats.get("allowed_values", []))
    if check.name == "str_matches":
        return f"matches `{stats.get('pattern')}`"
    return check.error or check.name


def table_page(table: str, contract: type) -> str:
    from footy_assets.lake.publish import PER_MATCH_TABLES

    schema = contract.to_schema()
    source = Path(inspect.getfile(contract)).resolve().relative_to(ROOT).as_posix()
    lines = [f"# `{table}`", ""]
    if contract.__doc__ and contract.__doc__.strip():
        lines += [inspect.cleandoc(contract.__doc__), ""]
    partitioned = (
        "`match_id` and `fingerprint` (one partition per delivery)" if table in PER_MATCH_TABLES else "`match_id`"
    )
    lines += [
        f"A Delta table partitioned by {partitioned}. Generated from the pandera contract `{contract.__name__}` "
        f"in `{source}`, which every write of the table is validated against"
        + (": exactly these columns, in this order." if schema.strict and schema.ordered else "."),
        "",
        "| column | type | nullable | checked | description |",
        "|---|---|---|---|---|",
    ]
    for name, column in schema.columns.items():
        checks = [_check_text(c) for c in column.checks] + (["unique"] if column.unique else [])
        lines.append(
            f"| `{name}` | {_cell(column.dtype)} | {'yes' if column.nullable else 'no'} | "
            f"{'; '.join(c if c.startswith('matches `') else _cell(c) for c in checks)} | "
            f"{_cell(column.description or '')} |"
        )
    table_checks = [c.error or c.name for c in schema.checks]
    if table_checks:
        lines += ["", "Checks on the whole table (a write failing one is refused):", ""]
        lines += [f"* {_cell(text)}" for text in table_checks]
    return "\n".join(lines) + "\n"


def tables_index() -> str:
    lines = ["| table | columns | contract |", "|---|---|---|"]
    for table, contract in contracts().items():
        source = Path(inspect.getfile(contract)).resolve().relative_to(ROOT).as_posix()
        lines.append(
            f"| [`{table}`]({table}.md) | {len(contract.to_schema().columns)} | `{contract.__name__}` in `{source}` |"
        )
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------- command line


def cli_reference() -> str:
    _project_first()
    from footy_assets.cli import build_parser

    os.environ["COLUMNS"] = "100"  # argparse wraps usage lines to the terminal: the same page from any terminal
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {choice.dest: choice.help for choice in sub._choices_actions}
    out: list[str] = []
    for name, command in sub.choices.items():
        out += [
            f"## `footy-assets {name}`",
            "",
            _sentence(helps.get(name, "")),
            "",
            "```text",
            command.format_usage().strip(),
            "```",
            "",
            "| argument | default | meaning |",
            "|---|---|---|",
        ]
        for action in command._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            label = ", ".join(action.option_strings) or (action.metavar or action.dest)
            if action.option_strings and action.nargs != 0:
                label += (
                    " {" + ",".join(action.choices) + "}"
                    if action.choices
                    else f" {action.metavar or action.dest.upper()}"
                )
            notes = [
                note
                for note, applies in (
                    ("required", action.required and action.option_strings),
                    ("repeatable", isinstance(action, argparse._AppendAction)),
                )
                if applies and note not in (action.help or "")
            ]
            default = "" if action.default in (None, False, argparse.SUPPRESS) else f"`{action.default}`"
            meaning = _cell(action.help or "") + "".join(f" ({note})" for note in notes)
            out.append(f"| `{_cell(label)}` | {default} | {meaning} |")
        out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------- Dagster


@cache
def _repository():
    _project_first()
    os.environ.setdefault("DAGSTER_HOME", str(ROOT / ".dagster_home"))  # imports only; nothing is written
    from footy_assets.definitions import defs

    return defs.get_repository_def()


def dagster_reference() -> str:
    import dagster as dg

    repo = _repository()
    graph = repo.asset_graph
    keys = list(graph.toposorted_asset_keys)
    groups: dict[str, list] = {}
    for key in keys:
        groups.setdefault(graph.get(key).group_name, []).append(key)
    out = [
        "## Asset groups",
        "",
        (
            "Every asset is partitioned by match (the partition key is the `match_id`). Assets of one step are "
            "computed together: a step that cannot be subset materialises all its assets or none."
        ),
        "",
    ]
    for group, members in groups.items():
        out += [f"### `{group}`", "", "| asset | step | description |", "|---|---|---|"]
        for key in members:
            node = graph.get(key)
            step = node.assets_def.node_def.name
            together = sorted(k.to_user_string() for k in node.execution_set_asset_keys if k != key)
            if together and not node.assets_def.can_subset:
                step += " (only with " + ", ".join(f"`{k}`" for k in together) + ")"
            eager = " Automation: eager." if node.automation_condition is not None else ""
            out.append(f"| `{key.to_user_string()}` | {step} | {_cell(node.description or '')}{eager} |")
        out.append("")
    out += ["## Asset checks", "", "| check | asset | blocking | description |", "|---|---|---|---|"]
    for check_key in sorted(graph.asset_check_keys, key=lambda k: (k.asset_key.to_user_string(), k.name)):
        spec = graph.get_check_spec(check_key)
        out.append(
            f"| `{check_key.name}` | `{check_key.asset_key.to_user_string()}` | "
            f"{'yes' if spec.blocking else 'no (warning)'} | {_cell(spec.description or '')} |"
        )
    out += ["", "## Jobs", "", "| job | description |", "|---|---|"]
    for job in sorted(repo.get_all_jobs(), key=lambda j: j.name):
        if not job.name.startswith("__"):
            out.append(f"| `{job.name}` | {_cell(job.description or '')} |")
    out += [
        "",
        "## Schedules",
        "",
        "| schedule | cron (as configured now) | job | on by default | description |",
        "|---|---|---|---|---|",
    ]
    for schedule in sorted(repo.schedule_defs, key=lambda s: s.name):
        running = schedule.default_status == dg.DefaultScheduleStatus.RUNNING
        out.append(
            f"| `{schedule.name}` | `{schedule.cron_schedule}` | `{schedule.job_name}` | "
            f"{'yes' if running else 'no'} | {_cell(schedule.description or '')} |"
        )
    out += ["", "## Sensors", "", "| sensor | every | on by default | description |", "|---|---|---|---|"]
    for sensor in sorted(repo.sensor_defs, key=lambda s: s.name):
        running = sensor.default_status == dg.DefaultSensorStatus.RUNNING
        out.append(
            f"| `{sensor.name}` | {sensor.minimum_interval_seconds} s | {'yes' if running else 'no'} | "
            f"{_cell(sensor.description or '')} |"
        )
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------- metrics


def interval_catalog() -> str:
    _project_first()
    import json

    from footy_assets.core import metrics

    catalog = json.loads((Path(metrics.__file__).parent / "interval_catalog.json").read_text())
    out = ["| definition | column | predicate | at least | meaning |", "|---|---|---|---|---|"]
    for d in catalog["definitions"]:
        bounds = [f"{symbol} {d[key]}" for key, symbol in (("gte", "≥"), ("lte", "≤")) if key in d]
        out.append(
            f"| `{d['name']}` | `{d['column']}` | {' and '.join(bounds)} | {d['min_duration_ms']} ms | "
            f"{_cell(d.get('description', ''))} |"
        )
    return "\n".join(out) + "\n"


def sql_model_table() -> str:
    _repository()  # the models are read the way the summary assets read them
    from footy_assets.orchestration.assets import summaries

    out = ["| model | file | reads | what it holds |", "|---|---|---|---|"]
    for model in summaries.sql_models():
        path = (Path(summaries.SQL_DIR) / f"{model.name}.sql").resolve().relative_to(ROOT).as_posix()
        about = summaries.leading_comment(model.sql).split(": ", 1)[-1].split(". ")[0]
        reads = ", ".join(f"`{t}`" for t in model.deps)
        out.append(f"| `{model.name}` | `{path}` | {reads} | {_cell(about)} |")
    return "\n".join(out) + "\n"


GENERATORS = {
    "tables": tables_index,
    "cli": cli_reference,
    "dagster": dagster_reference,
    "interval-catalog": interval_catalog,
    "sql-models": sql_model_table,
}


# ---------------------------------------------------------------------------------------------- mkdocs events


def on_config(config):
    """The nav entry of the tables' index becomes a section listing every table's page."""
    pages = [TABLES_INDEX] + [{table: f"{TABLES_DIR}/{table}.md"} for table in contracts()]

    def expand(items):
        for i, item in enumerate(items or []):
            if isinstance(item, dict):
                ((title, value),) = item.items()
                if value == TABLES_INDEX:
                    items[i] = {title: pages}
                elif isinstance(value, list):
                    expand(value)

    expand(config.nav)
    return config


def on_files(files, config):
    from mkdocs.structure.files import File

    for table, contract in contracts().items():
        files.append(File.generated(config, f"{TABLES_DIR}/{table}.md", content=table_page(table, contract)))
    return files


def on_page_markdown(markdown, page, config, files):
    def generate(match: re.Match) -> str:
        name = match.group(1)
        if name not in GENERATORS:
            log.warning("%s: unknown generated section %r (known: %s)", page.file.src_uri, name, ", ".join(GENERATORS))
            return match.group(0)
        return GENERATORS[name]()

    return MARKER.sub(generate, markdown)
