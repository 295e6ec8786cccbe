"""The vendor API answered from the lake's published rows: an ASGI app (FastAPI) that ``footy-assets serve`` runs.

Every answer reads the ``matches`` row first, then only the rows of the delivery it publishes (as every reader of
the lake does): a match being re-delivered is answered whole from the old delivery until the new one is published.
The answers are those of the command line: the tracking download is made by the code the export runs
(``lake.downloads``), a filter request is answered by the code of ``lake.filter.filter_intervals`` (over the
prepared inputs of the last matches asked, ``lake.filter.FilterCache``) and refused by the core with the message
``footy-assets intervals`` prints.

Every refusal is a JSON body ``{"detail": "<one line>"}`` with a 4xx status; a table that cannot be read is 503
with one line naming it (the cause goes to the server's log, ``footy-assets doctor`` says what to repair).
"""

import json
import logging
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Literal

import anyio
import polars as pl
from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from polars.exceptions import PanicException
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from footy_assets.core.contracts.checks import MATCH_ID
from footy_assets.core.metrics.intervals import FILTER_COLUMNS, FilterError
from footy_assets.formats.common import ExportError
from footy_assets.lake.filter import FilterCache
from footy_assets.lake.publish import published_row, published_rows, table_fingerprint
from footy_assets.lake.store import (
    InvalidMatchId,
    Lake,
    SettingError,
    TableUnreadable,
    check_match_id,
    one_line,
    unreadable,
)
from footy_assets.server import models, streaming
from footy_assets.server.settings import MAX_JSON_DEPTH, Settings

log = logging.getLogger("footy_assets.server")
TITLE = "footy_assets"
# the data version an analysis reports to clients of the vendor API: 3 has frame_state (the filters need it), 2
# tracking only
DATA_VERSION_FRAME_STATE, DATA_VERSION_TRACKING = 3, 2
# at most this many answers worked on at once, even after their requests timed out: schema, listing and table
# answers read little; a filter request may prepare a match (its frame_state columns, ~0.2 GB for 90 minutes)
WORKERS, FILTER_WORKERS = 4, 2
# threads making the chunks of every download being sent (each chunk is a few ms of work)
DOWNLOAD_THREADS = 2

UNREADABLE = "a table of the match cannot be read now (footy-assets doctor on the lake says why)"
MatchIdPath = Annotated[str, Path(pattern=MATCH_ID, description="the match_id (its landing folder name)")]


class Busy(Exception):
    """Every worker slot still taken by earlier work when the time limit came."""


class Refused(Exception):
    """A request answered with a 4xx or 503 status and one line."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers


class BodyTooLarge(Exception):
    """A request body longer than the limit (found while it is read)."""


def _error(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def _errors(*statuses: int) -> dict:
    return {status: {"model": models.Error} for status in statuses}


class _BodyLimit:
    """Refuse a request body longer than ``limit`` bytes: by its Content-Length before anything is read, else while
    it is read (a chunked body)."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            status, detail = (
                (413, f"the request body is longer than {self.limit:,} bytes")
                if length.isdigit()
                else (400, "Content-Length is not a number of bytes")
            )
            return await _error(status, detail)(scope, receive, send)
        received = 0

        async def limited():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge
            return message

        return await self.app(scope, limited, send)


class _Headers:
    """Headers every answer carries: no content sniffing, and no caching unless the answer says otherwise."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(b"x-content-type-options", b"nosniff")]
                if b"cache-control" not in names:
                    extra.append((b"cache-control", b"no-store"))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        return await self.app(scope, receive, with_headers)


def create_app(lake: Lake, settings: Settings | None = None) -> FastAPI:
    """The API over ``lake`` with ``settings`` (default: from the environment)."""
    settings = settings or Settings.from_env()
    app = FastAPI(
        title=TITLE,
        version=_version(),
        summary="The vendor API (tracking download, frame-state filter) answered from a footy_assets lake",
        docs_url=None,  # the interactive pages load scripts from a CDN: the document is at /openapi.json
        redoc_url=None,
        # a trailing slash is an unknown address (404), not a redirect to a URL built from the request's Host header
        redirect_slashes=False,
    )
    work, filter_work = anyio.CapacityLimiter(WORKERS), anyio.CapacityLimiter(FILTER_WORKERS)
    downloads = streaming.Downloads(settings.max_downloads)
    filter_cache = FilterCache(lake, settings.filter_matches)  # the prepared inputs of the last matches asked
    download_pool = ThreadPoolExecutor(DOWNLOAD_THREADS, thread_name_prefix="download")
    # the files made once for every client asking (none: each download made for its client)
    made = streaming.MadeFiles(settings.cache_bytes, download_pool) if settings.cache_bytes else None
    bearer = HTTPBearer(auto_error=False, description="a token of FOOTY_SERVE_TOKENS or FOOTY_SERVE_TOKENS_FILE")

    async def authorised(credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]) -> None:
        if not settings.allows(credentials.credentials if credentials else None):
            raise Refused(
                401, "a valid bearer token is required (Authorization: Bearer ...)", {"WWW-Authenticate": "Bearer"}
            )

    slots = {work: threading.BoundedSemaphore(WORKERS), filter_work: threading.BoundedSemaphore(FILTER_WORKERS)}

    def bounded(fn: Callable, slot: threading.BoundedSemaphore, deadline: float):
        # held by the thread until its work ends: a request abandoned at its time limit still counts, so work
        # never piles up past the limit
        if not slot.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise Busy
        try:
            return fn()
        finally:
            slot.release()

    async def run(fn: Callable, *args, limiter: anyio.CapacityLimiter | None = None):
        """``fn(*args)`` in a worker thread, answered within the time limit, waiting included (503 after it)."""
        limiter = limiter or work
        deadline = time.monotonic() + settings.timeout_s
        try:
            with anyio.fail_after(settings.timeout_s):
                return await anyio.to_thread.run_sync(
                    partial(bounded, partial(fn, *args), slots[limiter], deadline),
                    abandon_on_cancel=True,
                    limiter=limiter,
                )
        except (TimeoutError, Busy):
            raise Refused(503, f"the answer took longer than {settings.timeout_s:g} s: try again later") from None
        except PanicException as exc:  # polars' reader on a damaged file: not an Exception, so caught here
            log.error("a table could not be read: %s", one_line(exc))
            raise Refused(503, UNREADABLE) from None

    def published(match_id: str, columns: list[str] | None) -> dict:
        """The match's ``matches`` row (``columns``, None: all); 404 for a match that is not published."""
        check_match_id(match_id)
        row = published_row(lake, match_id, columns)
        if row is None:
            raise Refused(404, f"unknown match {match_id!r}: nothing published under that id")
        return row

    api = APIRouter(dependencies=[Depends(authorised)])

    @app.get("/healthz", response_model=models.Health, tags=["operations"])
    async def healthz() -> dict:
        """The server answers (no token needed: for probes)."""
        return {"status": "ok"}

    @api.get(
        "/analyses",
        response_model=models.AnalysisPage,
        responses=_errors(401, 422, 503),
        tags=["analyses"],
    )
    async def analyses(
        limit: Annotated[int, Query(ge=1, le=1000, description="matches per page")] = 100,
        after: Annotated[
            str | None, Query(pattern=MATCH_ID, description="the last match_id of the page before")
        ] = None,
    ) -> dict:
        """The published matches, by match_id, a page at a time."""
        return await run(_analyses, lake, limit, after)

    @api.get(
        "/analyses/{match_id}/schema",
        response_model=models.AnalysisSchema,
        responses=_errors(401, 404, 503),
        tags=["analyses"],
    )
    async def schema(match_id: MatchIdPath) -> dict:
        """The match's data version and the columns it has, with their units: the tracking download's and
        frame_state's (those a frame_state filter can threshold are ``filterable``)."""
        return await run(_schema, lake, match_id, published)

    @api.get(
        "/analyses/{match_id}/tracking/download",
        response_class=Response,
        responses={
            200: {
                "description": "the file, streamed: tracking.parquet or tracking.json as footy-assets export writes it",
                "content": {
                    "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}},
                    "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                },
            },
            304: {"description": "the file the If-None-Match names is still the answer"},
            **_errors(401, 404, 422, 503),
        },
        tags=["tracking"],
    )
    async def download(
        match_id: MatchIdPath,
        format: Annotated[Literal["parquet", "json"], Query(description="the file's format")] = "parquet",
        if_none_match: Annotated[str | None, Header(description="the ETag of a copy already held")] = None,
    ) -> Response:
        """Raw player and ball tracking, every row of the published delivery: int32 ms, int16 cm from the
        bottom-left corner, float16 confidence. Deterministic for one delivery and code version: the ETag says
        which, and a matching ``If-None-Match`` answers 304."""
        from footy_assets.lake.downloads import tracking_download

        await run(published, match_id, ["fingerprint"])
        tracking = await run(tracking_download, lake, match_id, format)
        if streaming.matches(if_none_match, streaming.etag(tracking)):
            return streaming.not_modified(tracking)
        if downloads.full:
            raise Refused(503, f"{downloads.limit} downloads are being sent: try again shortly", {"Retry-After": "5"})
        if made is not None and not made.admits(tracking):
            raise Refused(503, f"{made.max_makings} downloads are being made: try again shortly", {"Retry-After": "5"})
        return streaming.stream(tracking, settings, downloads, download_pool, made)

    @api.post(
        "/analyses/{match_id}/filters",
        response_class=JSONResponse,
        responses={
            200: {"model": list[models.Interval], "description": "the intervals, by start"},
            **_errors(400, 401, 404, 413, 422, 503),
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/FilterRequest"}}},
            }
        },
        tags=["filters"],
    )
    async def filters(match_id: MatchIdPath, request: Request) -> JSONResponse:
        """Intervals where players meet per-frame thresholds (frame_state), a team has the ball, the ball is in
        a box, or around events: the answer of ``footy-assets intervals`` for the same request (refusals
        included, word for word)."""
        check_match_id(match_id)
        body = _json_body(await request.body())
        await run(published, match_id, ["fingerprint"])
        try:
            found = await run(filter_cache.filter_intervals, match_id, body, limiter=filter_work)
        except FilterError as exc:
            raise Refused(422, str(exc)) from None
        return JSONResponse(found)

    for table in ("events", "lineups"):
        api.add_api_route(
            f"/analyses/{{match_id}}/{table}",
            _table_route(table, run, lake, published),
            methods=["GET"],
            response_model=models.Rows,
            responses=_errors(401, 404, 503),
            tags=["events"],
            summary=f"The match's {table}",
            description=f"Every row of the match's {table} table (its reference page names the columns); 404 "
            "where the match has none (no event data delivered).",
        )

    app.include_router(api)
    _handlers(app)
    app.openapi = partial(_openapi, app)
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "If-None-Match"],
            expose_headers=["ETag", "Content-Disposition"],
        )
    app.add_middleware(_BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(_Headers)
    return app


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("footy_assets")
    except PackageNotFoundError:  # run from a source tree that is not installed
        return "0+unknown"


def _table_route(table: str, run, lake: Lake, published):
    async def rows(match_id: MatchIdPath) -> Response:
        return await run(_table_rows, lake, table, match_id, published)

    rows.__name__ = table
    return rows


def _json_body(raw: bytes):
    """The request body as JSON, refused (400) as ``footy-assets intervals`` refuses its request text."""
    try:
        body = json.loads(raw, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise Refused(
            400, f"the request is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    except UnicodeDecodeError:
        raise Refused(400, "the request is not valid JSON: not UTF-8 text") from None
    except ValueError as exc:  # NaN / Infinity
        raise Refused(400, f"the request is not valid JSON: {exc}") from None
    except RecursionError:
        raise Refused(400, "the request is nested too deeply to be a filter request") from None
    if _depth(body) > MAX_JSON_DEPTH:
        raise Refused(400, "the request is nested too deeply to be a filter request")
    # a lone surrogate ("\ud800") is valid JSON text but no character: echoed in a label or a message, the answer
    # could not be encoded
    try:
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise Refused(400, "the request is not valid JSON: a string holds a lone surrogate (\\ud800-\\udfff)") from None
    return body


def _no_constant(name: str):
    """NaN, Infinity and -Infinity are not JSON numbers, and no bound can be one."""
    raise ValueError(f"{name} is not a number a filter can use")


def _depth(value) -> int:
    """How deeply ``value`` nests lists and objects (a scalar: 0), without recursion."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, level = todo.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        todo.extend((child, level + 1) for child in children)
    return deepest


def _analyses(lake: Lake, limit: int, after: str | None) -> dict:
    columns = ["match_id", "format", "fps", "frames", "pitch_length_m", "pitch_width_m", "materialized_at_ms"]
    dataset = lake.dataset("matches")
    if dataset is None:
        return {"analyses": [], "next_after": None}
    try:
        frame = pl.from_arrow(dataset.to_table(columns=columns))
    except Exception as exc:  # a data file missing or damaged: one line naming the table
        raise unreadable("matches", exc) from exc
    frame = frame.sort("match_id")
    if after is not None:
        frame = frame.filter(pl.col("match_id") > after)
    page = frame.head(limit)
    rows = [
        {
            "match_id": r["match_id"],
            "format": r["format"],
            "fps": r["fps"],
            "frames": r["frames"],
            "duration_s": round(r["frames"] / r["fps"], 3),
            "pitch_length_m": r["pitch_length_m"],
            "pitch_width_m": r["pitch_width_m"],
            "materialized_at": datetime.fromtimestamp(r["materialized_at_ms"] / 1000, UTC).isoformat(),
        }
        for r in page.iter_rows(named=True)
    ]
    more = frame.height > limit
    return {"analyses": rows, "next_after": rows[-1]["match_id"] if more and rows else None}


# the units the contracts' descriptions start with ("m/s: hypot(vx, vy)...", "m to nearest_opp_id...")
UNITS = ("m/s^2", "m/s", "1/s", "ms", "min", "m", "s", "0-1")
_UNIT = re.compile(r"^(" + "|".join(re.escape(u) for u in UNITS) + r")[: ]")


def _unit(description: str) -> str | None:
    """The unit a contract's description starts with, if any."""
    found = _UNIT.match(description)
    return found.group(1) if found else None


def _rows_of(lake: Lake, table: str, match_id: str, fingerprint: str) -> int:
    scan = lake.scan_match(table, match_id, fingerprint)
    if scan is None:
        return 0
    try:
        return int(scan.select(pl.len()).collect().item())
    except Exception as exc:  # a data file missing or damaged: one line naming the table
        raise unreadable(table, exc) from exc


def _schema(lake: Lake, match_id: str, published) -> dict:
    from footy_assets.core.contracts.derived import FrameState
    from footy_assets.formats.footy_stats import export as tracking_download

    row = published(match_id, None)  # every column: a row written before events_fingerprint too
    held = {t: _rows_of(lake, t, match_id, table_fingerprint(row, t)) > 0 for t in ("frame_state", "events", "lineups")}
    names = {"halffloat": "float16"}
    download = [
        {
            "name": c.name,
            "type": names.get(str(c.type), str(c.type)),
            "unit": c.unit,
            "description": c.description,
            "filterable": False,
        }
        for c in tracking_download.COLUMNS
    ]
    frame_state = [
        {
            "name": name,
            "type": str(column.dtype),
            "unit": _unit(column.description or ""),
            "description": column.description or "",
            "filterable": name in FILTER_COLUMNS,
        }
        for name, column in FrameState.to_schema().columns.items()
        if name != "fingerprint"
    ]
    return {
        "match_id": match_id,
        "data_version": DATA_VERSION_FRAME_STATE if held["frame_state"] else DATA_VERSION_TRACKING,
        "fps": row["fps"],
        "pitch": {"length_m": row["pitch_length_m"], "width_m": row["pitch_width_m"]},
        "frame_state": held["frame_state"],
        "events": held["events"],
        "lineups": held["lineups"],
        "tracking_download": download,
        "frame_state_columns": frame_state,
    }


def _table_rows(lake: Lake, table: str, match_id: str, published) -> Response:
    frame = published_rows(lake, table, match_id, table_fingerprint(published(match_id, None), table))
    if frame.height == 0:
        raise Refused(404, f"match {match_id!r} has no {table} (no event data was delivered with it)")
    frame = frame.drop("fingerprint", strict=False)
    if "event_index" in frame.columns:  # the order of play the vendor gives
        frame = frame.sort("event_index", maintain_order=True)
    # match_id is checked (letters, digits, '_', '-'): nothing to escape
    body = b'{"match_id":"' + match_id.encode() + b'","rows":' + frame.write_json().encode() + b"}"
    return Response(body, media_type="application/json")


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(Refused)
    async def refused(_request, exc: Refused):
        return _error(exc.status, exc.detail, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request, exc: StarletteHTTPException):
        return _error(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(_request, exc: RequestValidationError):
        errors = exc.errors()
        first = errors[0] if errors else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        if tuple(first.get("loc", ())) == ("path", "match_id"):
            return _error(404, f"unknown match: {first.get('msg', 'not a match_id')}")
        return _error(422, f"{where}: {first.get('msg', 'invalid')}" if where else "invalid request")

    @app.exception_handler(ClientDisconnect)
    async def gone(_request, exc: ClientDisconnect):  # the client left while sending its body: no traceback
        log.info("a client left before its request body was whole")
        return _error(400, "the request body ended before its Content-Length")

    @app.exception_handler(BodyTooLarge)
    async def too_large(_request, exc: BodyTooLarge):
        return _error(413, "the request body is longer than the server accepts")

    @app.exception_handler(InvalidMatchId)
    async def invalid_match(_request, exc: InvalidMatchId):
        return _error(404, f"unknown match: {exc}")

    @app.exception_handler(FilterError)
    async def filter_refused(_request, exc: FilterError):
        return _error(422, str(exc))

    @app.exception_handler(ExportError)
    async def export_refused(_request, exc: ExportError):
        return _error(404, str(exc))

    @app.exception_handler(TableUnreadable)
    async def unreadable_table(_request, exc: TableUnreadable):
        log.error("%s", exc)
        table = re.match(r"table (\S+) cannot be read", str(exc))
        name = table.group(1) if table else "a table"
        return _error(503, f"{name} cannot be read now (footy-assets doctor on the lake says why)")

    @app.exception_handler(SettingError)
    async def setting(_request, exc: SettingError):
        log.error("%s", exc)
        return _error(503, "the server is not configured to answer this (its log says which setting)")

    @app.exception_handler(OSError)
    async def storage(_request, exc: OSError):
        log.error("the lake could not be read: %s", one_line(exc))
        return _error(503, "the lake cannot be read now: try again later")

    @app.exception_handler(Exception)
    async def unexpected(_request, exc: Exception):
        log.exception("unexpected error")
        return _error(500, "internal error (the server's log has it)")


def _openapi(app: FastAPI) -> dict:
    """The OpenAPI document, with the filter request's schema (the route reads its body itself)."""
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
    request = models.FilterRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(request.pop("$defs", {}))
    schemas["FilterRequest"] = request
    app.openapi_schema = document
    return document


__all__ = ["Refused", "create_app"]
