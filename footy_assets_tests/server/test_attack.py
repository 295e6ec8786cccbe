"""The server attacked as a stranger would: hostile request bodies and addresses, a body cut short, a filter whose
intersection would be quadratic, a match that cannot be prepared asked again and again, the cache of made files
while the match is published again. Every refusal is a 4xx JSON body of one line, never a 500."""

from __future__ import annotations

import asyncio
import json
import socket
import stat
import subprocess
import sys
import textwrap

import httpx
import polars as pl
import pytest

from footy_assets.core.metrics.intervals import _intersect
from footy_assets.lake.filter import FilterCache
from footy_assets.server.settings import Settings
from footy_assets_tests.helpers import copy_lake
from footy_assets_tests.server.running import AUTH, TOKEN
from footy_assets_tests.server.test_api import _refusal, _republish

pytestmark = [pytest.mark.slow, pytest.mark.server]


def _speed(**extra) -> dict:
    return {"type": "frame_state", "players": ["0-10"], "column": "speed_mps", **extra}


# (match, raw body, status, words of the refusal)
HOSTILE = {
    # an integer beyond any float: float() overflows where a bound is checked
    "huge integer bound": ("syn", json.dumps({"filters": [_speed(gte=10**400)]}), 422),
    "huge integer minimum": ("syn", json.dumps({"filters": [_speed(gte=1, min_duration_ms=10**400)]}), 422),
    "huge negative box": ("syn", json.dumps({"filters": [{"type": "ball_location", "x_min": -(10**400)}]}), 422),
    "huge event reach": (
        "fv1",
        json.dumps({"filters": [{"type": "event", "event_types": ["pass"], "before_ms": 10**400}]}),
        422,
    ),
    # a lone surrogate is valid JSON but no character: echoed, the answer could not be encoded
    "lone surrogate player": ("syn", '{"filters": [{"type": "frame_state", "players": ["\\ud800"], '
                              '"column": "speed_mps", "gte": 1}]}', 400),
    "lone surrogate label": ("fv1", '{"operator": "OR", "filters": [{"type": "event", '
                             '"event_types": ["pass", "\\udfff"]}]}', 400),
    "lone surrogate key": ("syn", '{"filters": [{"type": "team_possession", "teams": ["team_0"]}], "\\ud800": 1}', 400),
    # a line break in an echoed string must not break the one line
    "line break in a player": ("syn", json.dumps({"filters": [_speed(gte=1, players=["0-10\nFAKE: line"])]}), 422),
    "line break in a key": ("syn", json.dumps({"filters": [_speed(gte=1)], "x\r\ny": 1}), 422),
}  # fmt: skip


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_filter_bodies_are_refused_with_one_line(client, name):
    match_id, body, status = HOSTILE[name]
    response = client.post(
        f"/analyses/{match_id}/filters", content=body.encode(), headers={"Content-Type": "application/json"}
    )
    detail = _refusal(response, status)
    assert "\r" not in detail and "internal error" not in detail


def test_a_trailing_slash_is_an_unknown_address_not_a_redirect_to_the_host_header(base):
    with httpx.Client(base_url=base, headers={**AUTH, "Host": "evil.example"}) as c:
        response = c.get("/analyses/syn/schema/")
    assert "location" not in response.headers
    _refusal(response, 404)


def test_a_client_leaving_before_its_body_is_whole_logs_no_traceback(base, caplog):
    import logging
    import time

    caplog.set_level(logging.INFO, logger="footy_assets.server")
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(
            b"POST /analyses/syn/filters HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN.encode() + b"\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{}"
        )
    # the client has gone: 98 bytes never come
    deadline = time.monotonic() + 30  # until the server has handled it (not a timing assertion)
    while not any("client left" in r.message or "unexpected" in r.message for r in caplog.records):
        assert time.monotonic() < deadline, "the server never handled the request"
        time.sleep(0.05)
    assert "unexpected error" not in caplog.text and "Traceback" not in caplog.text


# -- the filter's work is bounded by its answer, not by the product of its filters' intervals -----------------


def test_an_and_of_two_full_sets_of_short_runs_is_not_a_cross_join(tmp_path):
    """Two sets of 20,000 intervals of one player (a full match's accel_mps2 >= 0 has ~10,000 per player): the
    intersection is 20,000 intervals, found within 1 GiB of address space (a cross join needs 4 x 10^8 rows).
    Run in a process of its own with that limit, so a regression fails the test, not the machine."""
    script = textwrap.dedent(
        """
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        import polars as pl
        from footy_assets.core.metrics.intervals import _intersect
        n = 20_000
        starts = pl.int_range(0, n, eager=True).cast(pl.Float64) * 40
        a = pl.DataFrame({"player_id": ["0-1"] * n, "start_ms": starts, "end_ms": starts + 24})
        b = a.with_columns(pl.col("start_ms") + 12, pl.col("end_ms") + 12)
        found = _intersect(a, b)
        print(found.height, found["start_ms"][0], found["end_ms"][0])
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.split() == ["20000", "12.0", "24.0"]


def _pairwise(a: pl.DataFrame, b: pl.DataFrame) -> list[tuple]:
    """The definition: every pair (a's order, then b's) of the same player or with a match-level interval,
    that overlaps."""
    found = []
    for pa, sa, ea in a.iter_rows():
        for pb, sb, eb in b.iter_rows():
            if pa is None or pb is None or pa == pb:
                start, end = max(sa, sb), min(ea, eb)
                if end > start:
                    found.append((pa if pa is not None else pb, start, end))
    return found


def test_the_intersection_is_the_pairwise_definition():
    import random

    rng = random.Random(20261202)
    schema = {"player_id": pl.String, "start_ms": pl.Float64, "end_ms": pl.Float64}
    for _ in range(200):

        def intervals(players):
            rows = []
            for _ in range(rng.randint(0, 25)):
                start = rng.choice([rng.uniform(0, 100), float(rng.randint(0, 20) * 5)])
                rows.append((rng.choice(players), start, start + rng.choice([rng.uniform(0.1, 20), 5.0])))
            return pl.DataFrame(rows, schema=schema, orient="row")

        kinds = [[None], ["0-1", "0-2"], ["0-1", None], ["1-1"]]
        a, b = intervals(rng.choice(kinds)), intervals(rng.choice(kinds))
        found = _intersect(a, b)
        assert found.schema == pl.Schema(schema)
        assert found.rows() == _pairwise(a, b)


# -- the filter cache ---------------------------------------------------------------------------------------------


def test_a_match_that_cannot_be_prepared_leaves_nothing_behind(lake):
    from footy_assets.core.metrics.intervals import FilterError

    cache = FilterCache(lake, size=1)
    for _ in range(3):
        with pytest.raises(FilterError, match="no frame_state rows"):
            cache.get("img")
    assert cache._loading == {} and len(cache._prepared) == 0
    cache.get("syn"), cache.get("fv1"), cache.get("syn")
    assert [key[0] for key in cache._prepared] == ["syn"]  # never more than its size


def test_a_publish_is_answered_from_the_new_delivery_and_the_old_one_is_let_go(lake, tmp_path):
    copy = copy_lake(lake, tmp_path / "lake")
    cache = FilterCache(copy, size=4)
    request = {"filters": [{"type": "team_possession", "teams": ["team_0"]}]}
    before = cache.filter_intervals("syn", request)
    _republish(copy, "syn", "e" * 64)
    assert cache.filter_intervals("syn", request) == before  # the same rows
    assert [key[:2] for key in cache._prepared] == [("syn", "e" * 64)]  # the superseded publish dropped


# -- the cache of made files ------------------------------------------------------------------------------------


def test_the_made_files_folder_is_the_servers_alone(lake):
    from concurrent.futures import ThreadPoolExecutor

    from footy_assets.server import streaming

    with ThreadPoolExecutor(1) as pool:
        made = streaming.MadeFiles(1 << 30, pool)
        assert stat.S_IMODE(made.root.stat().st_mode) == 0o700


def test_readers_of_a_delivery_published_again_finish_with_its_bytes_whole(lake, tmp_path):
    """Readers that started on the old delivery read it whole while the match is published again and a reader
    leaves half-way; a reader after the publish gets the new delivery's file (another ETag), made anew."""
    from concurrent.futures import ThreadPoolExecutor

    from footy_assets.lake.downloads import tracking_download
    from footy_assets.server import streaming

    copy = copy_lake(lake, tmp_path / "lake")
    old = tracking_download(copy, "syn", "json")
    expected = b"".join(old.chunks())

    async def readers(made):
        async def read(download, stop_after=None):
            parts = []
            async for chunk in made.body(download, Settings(), streaming.Downloads(8)):
                parts.append(chunk)
                if stop_after is not None and len(parts) >= stop_after:
                    break  # the client left
                await asyncio.sleep(0)
            return b"".join(parts)

        first = [asyncio.create_task(read(old)) for _ in range(3)] + [asyncio.create_task(read(old, stop_after=1))]
        await asyncio.sleep(0.05)
        _republish(copy, "syn", "d" * 64)
        new = tracking_download(copy, "syn", "json")
        later = await read(new)
        return [await t for t in first], new, later

    with ThreadPoolExecutor(2) as pool:
        made = streaming.MadeFiles(1 << 30, pool)
        bodies, new, later = asyncio.run(readers(made))
        assert bodies[:3] == [expected] * 3 and 0 < len(bodies[3]) < len(expected)
        assert new.tag != old.tag and later == expected  # the same rows, another delivery
        assert sorted(p.name for p in made.root.iterdir()) == sorted([f"{old.tag}.json", f"{new.tag}.json"])


def test_a_server_without_tokens_or_cors_binds_loopback_by_default():
    from footy_assets import cli

    args = cli.build_parser().parse_args(["serve"])
    assert args.host == "127.0.0.1"
    assert Settings.from_env({}).cors_origins == ()
