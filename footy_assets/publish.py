"""Write-audit-publish across a match's tables (CONTRACTS 8).

Delta commits one table at a time and a match spans eight tables, so:
* a delivery is audited (vendor schema, canonical contract, every blocking check) before its first commit;
* every per-match table's rows carry the ``fingerprint`` of the delivery they were computed from, and a
  derived table takes the fingerprint of its inputs (which must agree);
* the ``matches`` row, written last, publishes a fingerprint only when every table of the match holds it.

Readers (``footy-assets sql``, ``intervals``) show a match's rows only where they carry the published
fingerprint, so a chain that failed half-way is never read as a mix of two deliveries; a rerun converges.
"""

from __future__ import annotations

import polars as pl

from footy_assets.lake import Lake

PER_MATCH_TABLES = ("tracking", "frame_state", "ball_state", "intervals", "match_quality", "player_period_summary",
                    "player_match_summary", "team_match_summary")


class NotPublished(RuntimeError):
    """The tables of a match do not agree on one delivery: nothing is published."""


def table_fingerprint(lake: Lake, table: str, match_id: str) -> str | None:
    """The delivery fingerprint of ``match_id``'s rows in ``table`` (None when it has no rows).

    One commit writes a match's rows and its contract allows a single fingerprint, so the first row tells
    (polars reads one row group for it, not the table).
    """
    scan = lake.scan_match(table, match_id)
    if scan is None or "fingerprint" not in scan.collect_schema().names():
        return None
    found = scan.select(pl.col("fingerprint").first()).collect()
    return found.item() if found.height else None


def table_fingerprints(lake: Lake, tables, match_id: str) -> dict[str, str | None]:
    """``table_fingerprint`` of each of ``tables``, read at the same time: on an object store each is a few
    requests of tens of milliseconds, and the publish check asks eight tables."""
    tables = list(tables)
    if len(tables) < 2:
        return {t: table_fingerprint(lake, t, match_id) for t in tables}
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(8, len(tables)), thread_name_prefix="fingerprint") as pool:
        return dict(zip(tables, pool.map(lambda t: table_fingerprint(lake, t, match_id), tables)))


def input_fingerprint(lake: Lake, match_id: str, tables: list[str]) -> str:
    """The one delivery the rows of ``tables`` come from; ``NotPublished`` when they disagree or are all empty.

    Empty inputs (a clip without sprints) say nothing and are skipped.
    """
    found = table_fingerprints(lake, tables, match_id)
    known = {t: fp for t, fp in found.items() if fp is not None}
    if not known:
        raise NotPublished(f"{match_id}: none of {', '.join(tables)} holds rows for this match: materialise "
                           "tracking first")
    if len(set(known.values())) > 1:
        detail = ", ".join(f"{t} holds delivery {fp[:12]}" for t, fp in known.items())
        raise NotPublished(f"{match_id}: the inputs come from different deliveries ({detail}): re-materialise "
                           "the match from tracking down")
    return next(iter(known.values()))


def check_publishable(lake: Lake, match_id: str, fingerprint: str, tables: tuple[str, ...] = PER_MATCH_TABLES) -> None:
    """Raise ``NotPublished`` unless every table of the match that holds rows holds ``fingerprint``."""
    stale = {t: fp for t, fp in table_fingerprints(lake, tables, match_id).items()
             if fp is not None and fp != fingerprint}
    if stale:
        detail = ", ".join(f"{t} ({fp[:12]})" for t, fp in stale.items())
        raise NotPublished(f"{match_id}: delivery {fingerprint[:12]} not published: still from another delivery: "
                           f"{detail}")


def published_fingerprint(lake: Lake, match_id: str) -> str | None:
    """The delivery ``matches`` publishes for the match (None when the match is not published)."""
    row = lake.read_match("matches", match_id, columns=["fingerprint"])
    return row["fingerprint"][0].as_py() if row is not None and row.num_rows else None


def published_rows(lake: Lake, table: str, match_id: str, fingerprint: str,
                   columns: list[str] | None = None) -> pl.DataFrame:
    """One match's rows of ``table`` from the published delivery ``fingerprint`` (never a mix of two)."""
    scan = lake.scan_match(table, match_id)
    if scan is None:
        return pl.DataFrame()
    scan = scan.filter(pl.col("fingerprint") == fingerprint)
    return (scan.select(columns) if columns else scan).collect()
