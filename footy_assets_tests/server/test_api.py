"""The vendor API served from a materialised lake, over TCP: the download is the export byte for byte, a filter
request gets the answer (or the refusal) of ``footy-assets intervals``, and every other answer is the lake's
published rows or a JSON refusal with a 4xx status."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import polars as pl
import pyarrow.parquet as pq
import pytest

from footy_assets import cli
from footy_assets.lake.exports import export_match
from footy_assets.lake.publish import published_fingerprint
from footy_assets.lake.store import Lake
from footy_assets.server.settings import Settings
from footy_assets_tests.helpers import SAMPLES, copy_lake
from footy_assets_tests.server.running import AUTH, TOKEN, running

pytestmark = [pytest.mark.slow, pytest.mark.server]  # a lake materialised, a server started

FOOTOVISION = SAMPLES / "cdf_events" / "footovision_h1"
# five filter requests, one of each kind a client sends: a player's runs by speed or by distance to an opponent,
# alone or AND a team's possession or the ball's location
FILTER_REQUESTS = {
    "sprinting": {
        "filters": [
            {"type": "frame_state", "players": ["0-10"], "column": "speed_mps", "gte": 7.0, "min_duration_ms": 1000}
        ]
    },
    "jogging": {
        "filters": [
            {
                "type": "frame_state",
                "players": ["0-10"],
                "column": "speed_mps",
                "gte": 2.0,
                "lte": 4.0,
                "min_duration_ms": 2000,
            }
        ]
    },
    "pressing": {
        "filters": [
            {
                "type": "frame_state",
                "players": ["0-7", "0-8", "0-10"],
                "column": "nearest_opp_dist_m",
                "lte": 2.0,
                "min_duration_ms": 500,
            }
        ]
    },
    "runs in possession": {
        "operator": "AND",
        "filters": [
            {"type": "frame_state", "players": ["0-10"], "column": "speed_mps", "gte": 6.0, "min_duration_ms": 1000},
            {"type": "team_possession", "teams": ["team_0"]},
        ],
    },
    "sprint into the final third": {
        "operator": "AND",
        "filters": [
            {"type": "frame_state", "players": ["0-10"], "column": "speed_mps", "gte": 7.0, "min_duration_ms": 1000},
            {"type": "ball_location", "x_min": 70, "x_max": 105},
        ],
    },
}
# requests the core refuses, each with the words its message names
REFUSED = {
    "unknown player": (
        {"filters": [{"type": "frame_state", "players": ["0-99"], "column": "speed_mps", "gte": 1}]},
        "0-99",
    ),
    "unknown column": ({"filters": [{"type": "frame_state", "players": ["0-10"], "column": "pace", "gte": 1}]}, "pace"),
    "bounds crossed": (
        {"filters": [{"type": "frame_state", "players": ["0-10"], "column": "speed_mps", "gte": 5, "lte": 1}]},
        "above",
    ),
    "a typo": ({"filters": [{"type": "frame_state", "players": ["0-10"], "column": "speed_mps", "gtee": 1}]}, "gtee"),
    "operator": ({"operator": "XOR", "filters": [{"type": "team_possession", "teams": ["team_0"]}]}, "XOR"),
    "no filters": ({"filters": []}, "filters"),
    "not an object": ([1, 2], "object"),
    "unknown type": ({"filters": [{"type": "offside"}]}, "offside"),
    "team": ({"filters": [{"type": "team_possession", "teams": ["home"]}]}, "team_0"),
    "ball box": ({"filters": [{"type": "ball_location"}]}, "x_min"),
    "long minimum": (
        {"filters": [{"type": "team_possession", "teams": ["team_0"], "min_duration_ms": 1e18}]},
        "min_duration_ms",
    ),
    "event without events": (
        {"filters": [{"type": "event", "event_types": ["shot"], "before_ms": 1000, "after_ms": 1000}]},
        "event",
    ),
}


def _refusal(response: httpx.Response, status: int) -> str:
    """The response is a JSON refusal with ``status`` and one line; the line."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"detail"} and isinstance(body["detail"], str), body
    assert "\n" not in body["detail"] and "Traceback" not in body["detail"]
    return body["detail"]


# -- the tracking download ---------------------------------------------------------------------------------


@pytest.mark.parametrize("file_format", ["parquet", "json"])
def test_the_download_is_the_export_byte_for_byte(lake, client, tmp_path, file_format):
    export_match(lake, "syn", "tracking_download", str(tmp_path), json_download=file_format == "json")
    exported = (tmp_path / f"tracking.{file_format}").read_bytes()
    with client.stream("GET", "/analyses/syn/tracking/download", params={"format": file_format}) as response:
        assert response.status_code == 200
        assert response.headers["transfer-encoding"] == "chunked" and "content-length" not in response.headers
        parts = list(response.iter_raw())
    assert b"".join(parts) == exported
    headers = response.headers
    assert headers["content-disposition"] == f'attachment; filename="syn_tracking.{file_format}"'
    assert headers["cache-control"] == "private, no-cache"
    assert headers["content-type"].startswith(
        "application/vnd.apache.parquet" if file_format == "parquet" else "application/json"
    )
    if file_format == "parquet":
        assert pq.read_metadata(tmp_path / "tracking.parquet").num_rows == pl.read_parquet(exported).height > 40_000
    else:
        assert len(json.loads(exported)) > 40_000


def test_clients_asking_at_once_share_one_making_of_the_file(lake, tmp_path, monkeypatch):
    """Eight clients download the same file at once: every body is the export, and the server made it once (its
    cache folder holds one file; the chunks were made once). Then the cache kept under its size, and a server
    without a cache sends the same bytes."""
    from concurrent.futures import ThreadPoolExecutor

    from footy_assets.lake import downloads as lake_downloads

    export_match(lake, "syn", "tracking_download", str(tmp_path))
    exported = (tmp_path / "tracking.parquet").read_bytes()
    made_once = []
    real_chunks = lake_downloads.TrackingDownload.chunks

    def counted(self):  # the real chunks, counted
        made_once.append(self.tag)
        yield from real_chunks(self)

    monkeypatch.setattr(lake_downloads.TrackingDownload, "chunks", counted)
    with running(lake) as url, httpx.Client(base_url=url, headers=AUTH, timeout=60) as c:
        with ThreadPoolExecutor(8) as pool:
            bodies = list(pool.map(lambda _: c.get("/analyses/syn/tracking/download").content, range(8)))
        assert all(b == exported for b in bodies)
        assert len(made_once) == 1
        # asked again: sent from the made file, not made again
        assert c.get("/analyses/syn/tracking/download").content == exported and len(made_once) == 1
        # another file (JSON) is made once more
        assert c.get("/analyses/syn/tracking/download", params={"format": "json"}).status_code == 200
        assert len(made_once) == 2
    settings = Settings(tokens=(TOKEN.encode(),), cache_bytes=0)
    with running(lake, settings) as url, httpx.Client(base_url=url, headers=AUTH, timeout=60) as c:
        assert c.get("/analyses/syn/tracking/download").content == exported


def test_the_cache_of_made_files_stays_under_its_size_and_a_failed_making_is_not_kept(lake, tmp_path):
    import asyncio
    from concurrent.futures import ThreadPoolExecutor
    from dataclasses import replace

    from footy_assets.lake.downloads import tracking_download
    from footy_assets.server import streaming

    parquet, json_file = (tracking_download(lake, "syn", f) for f in ("parquet", "json"))

    async def read(made, download) -> bytes:
        counter = streaming.Downloads(4)
        body = b"".join([chunk async for chunk in made.body(download, Settings(), counter)])
        assert counter.active == 0
        return body

    with ThreadPoolExecutor(2) as pool:
        made = streaming.MadeFiles(max_bytes=1, pool=pool)  # nothing but the file being sent stays
        first = asyncio.run(read(made, parquet))
        assert first == b"".join(parquet.chunks())
        assert asyncio.run(read(made, json_file)) == b"".join(json_file.chunks())
        assert list(made.root.iterdir()) == []  # each removed once made (its reader kept its open file)

        class Broken:
            def __init__(self, download):
                self.download = download

            def __getattr__(self, name):
                return getattr(self.download, name)

            def chunks(self):
                chunks = self.download.chunks()
                yield next(chunks)
                raise OSError("No space left on device")

        big = streaming.MadeFiles(max_bytes=1 << 30, pool=pool)
        with pytest.raises(streaming.DownloadStopped, match="No space left on device"):
            asyncio.run(read(big, Broken(replace(parquet))))
        assert list(big.root.iterdir()) == []  # no part file left, nothing kept as made
        assert asyncio.run(read(big, parquet)) == first  # asked again: made again, whole
        assert [p.name for p in big.root.iterdir()] == [f"{parquet.tag}.parquet"]


def test_a_matching_etag_answers_304_and_another_the_file(client):
    first = client.get("/analyses/syn/tracking/download")
    tag = first.headers["etag"]
    assert tag.startswith('"') and tag.endswith('"') and len(tag) == 42
    assert client.get("/analyses/syn/tracking/download").headers["etag"] == tag  # deterministic
    assert client.get("/analyses/syn/tracking/download", params={"format": "json"}).headers["etag"] != tag
    for header in (tag, f"W/{tag}", f'"other", {tag}', "*"):
        again = client.get("/analyses/syn/tracking/download", headers={"If-None-Match": header})
        assert again.status_code == 304 and again.content == b"", header
        assert again.headers["etag"] == tag and again.headers["cache-control"] == "private, no-cache"
    other = client.get("/analyses/syn/tracking/download", headers={"If-None-Match": '"0123"'})
    assert other.status_code == 200 and other.content == first.content


def test_a_new_delivery_changes_the_etag(lake, tmp_path):
    """Re-published under another fingerprint (the same rows written as a new delivery): another ETag; the old
    one no longer answers 304."""
    copy = copy_lake(lake, tmp_path / "lake")
    with running(copy) as url, httpx.Client(base_url=url, headers=AUTH) as c:
        old = c.get("/analyses/syn/tracking/download")
        tag = old.headers["etag"]
        _republish(copy, "syn", "f" * 64)
        new = c.get("/analyses/syn/tracking/download", headers={"If-None-Match": tag})
        assert new.status_code == 200 and new.headers["etag"] != tag
        assert new.content == old.content  # the same rows, the same bytes


def _republish(lake: Lake, match_id: str, fingerprint: str) -> None:
    """Write every per-match table's published rows again as delivery ``fingerprint`` and publish it."""
    from footy_assets.lake.matches import MATCHES_SCHEMA
    from footy_assets.lake.publish import PER_MATCH_TABLES, published_rows

    old = published_fingerprint(lake, match_id)
    for table in PER_MATCH_TABLES:
        rows = published_rows(lake, table, match_id, old)
        if rows.height:
            lake.write_delivery(
                table, match_id, fingerprint, rows.drop("fingerprint"), dict(rows.drop("fingerprint").schema)
            )
    matches = pl.from_arrow(lake.read_match("matches", match_id)).with_columns(fingerprint=pl.lit(fingerprint))
    lake.write_match("matches", match_id, matches, MATCHES_SCHEMA)


def test_tracking_out_of_frame_order_gives_the_same_bytes(lake, client, tmp_path):
    """A delivery whose file is not in frame order (written by another tool) is read whole and sorted: the same
    download as the one in order."""
    from footy_assets.lake.batches import plan_batches
    from footy_assets.lake.publish import published_rows

    expected = client.get("/analyses/syn/tracking/download").content
    copy = copy_lake(lake, tmp_path / "lake")
    fingerprint = published_fingerprint(copy, "syn")
    rows = published_rows(copy, "tracking", "syn", fingerprint)
    shuffled = rows.sort("frame_id", descending=True, maintain_order=True).drop("fingerprint")
    copy.write_delivery("tracking", "syn", fingerprint, shuffled, dict(shuffled.schema))
    assert plan_batches(copy, "tracking", "syn", fingerprint, ["frame_id"]).whole
    with running(copy) as url, httpx.Client(base_url=url, headers=AUTH) as c:
        assert c.get("/analyses/syn/tracking/download").content == expected


def test_the_download_is_read_in_batches(lake):
    from footy_assets.formats.footy_stats.export import SOURCE_COLUMNS
    from footy_assets.lake.batches import BATCH_ROWS, plan_batches

    plan = plan_batches(lake, "tracking", "syn", published_fingerprint(lake, "syn"), list(SOURCE_COLUMNS))
    assert not plan.whole and len(plan.files) == 1
    sizes = [b.height for b in plan.batches()]
    assert sum(sizes) == plan.rows > 2 * BATCH_ROWS and max(sizes) == BATCH_ROWS and len(sizes) >= 3
    frames = pl.concat(list(plan.batches(batch_rows=1000)))["frame_id"]
    assert frames.is_sorted()


def test_a_match_without_pitch_positions_has_no_download(client):
    detail = _refusal(client.get("/analyses/img/tracking/download"), 404)
    assert "no pitch positions" in detail


# -- the filters --------------------------------------------------------------------------------------------


def _cli_intervals(lake: Lake, request, capsys) -> tuple[int, str, str]:
    code = cli.main(["intervals", "--lake", lake.uri, "--match", "syn", "--request", json.dumps(request)])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("name", list(FILTER_REQUESTS))
def test_the_vendor_filter_examples_are_answered_as_the_cli_answers(lake, client, capsys, name):
    request = FILTER_REQUESTS[name]
    response = client.post("/analyses/syn/filters", json=request)
    assert response.status_code == 200, response.text
    code, out, _ = _cli_intervals(lake, request, capsys)
    assert code == 0 and response.json() == json.loads(out)
    for interval in response.json():
        assert {"start", "end", "label", "type", "player_id"} <= set(interval)
        assert interval["end"] > interval["start"] and interval["type"] == "frame_state"
        assert interval["player_id"] in request["filters"][0]["players"]


def test_the_vendor_filter_examples_find_intervals(client):
    found = {name: client.post("/analyses/syn/filters", json=r).json() for name, r in FILTER_REQUESTS.items()}
    assert found["jogging"] and found["pressing"], {k: len(v) for k, v in found.items()}
    assert all(i["label"] == "speed_mps >=2.0 <=4.0" for i in found["jogging"])
    assert all(i["end"] - i["start"] >= 2.0 for i in found["jogging"])
    assert {i["player_id"] for i in found["pressing"]} <= {"0-7", "0-8", "0-10"}
    assert all(i["label"] == "speed_mps >=6.0 AND team_possession team_0" for i in found["runs in possession"])


TEAM_REQUESTS = {
    "every sprint of the match": {
        "filters": [
            {"type": "frame_state", "players": "all", "column": "speed_mps", "gte": 7.0, "min_duration_ms": 1000}
        ]
    },
    "the away team's sprints": {
        "filters": [
            {"type": "frame_state", "teams": ["team_1"], "column": "speed_mps", "gte": 7.0, "min_duration_ms": 1000}
        ]
    },
    "the away team's runs with the ball in its final third": {
        "filters": [
            {"type": "frame_state", "teams": [1], "column": "speed_mps", "gte": 5.5, "min_duration_ms": 500},
            {"type": "ball_location", "attacking_team": "team_1", "x_min": 70},
        ]
    },
}


@pytest.mark.parametrize("name", list(TEAM_REQUESTS))
def test_a_team_or_the_whole_match_is_answered_as_the_cli_answers(lake, client, capsys, name):
    request = TEAM_REQUESTS[name]
    response = client.post("/analyses/syn/filters", json=request)
    assert response.status_code == 200, response.text
    code, out, _ = _cli_intervals(lake, request, capsys)
    assert code == 0 and response.json() == json.loads(out)
    found = response.json()
    assert found and all(i["team"] == int(i["player_id"][0]) for i in found)  # the tables' team code
    if name != "every sprint of the match":
        assert {i["team"] for i in found} == {1}
    else:  # every player: those of both teams
        spec = {k: v for k, v in request["filters"][0].items() if k != "players"}
        both = {"filters": [{**spec, "teams": ["team_0", "team_1"]}]}
        assert {i["team"] for i in found} == {0, 1} and client.post("/analyses/syn/filters", json=both).json() == found


@pytest.mark.parametrize("name", list(REFUSED))
def test_a_refused_request_gets_the_clis_message(lake, client, capsys, name):
    request, word = REFUSED[name]
    detail = _refusal(client.post("/analyses/syn/filters", json=request), 422)
    code, _, err = _cli_intervals(lake, request, capsys)
    assert code == 2 and err.strip() == f"error: {detail}"
    assert word in detail


def test_an_event_window_filter_answers_as_the_cli(lake, client, capsys):
    """On the match with event data: the same answer (or, before the core knows event windows, the same
    refusal) from both."""
    request = {
        "operator": "OR",
        "filters": [{"type": "event", "event_types": ["pass"], "before_ms": 2000, "after_ms": 1000, "actor": True}],
    }
    response = client.post("/analyses/fv1/filters", json=request)
    code = cli.main(["intervals", "--lake", lake.uri, "--match", "fv1", "--request", json.dumps(request)])
    out = capsys.readouterr()
    if code == 0:
        assert response.status_code == 200 and response.json() == json.loads(out.out) and response.json()
    else:
        assert out.err.strip() == f"error: {_refusal(response, 422)}"


@pytest.mark.parametrize(
    "body, words",
    [
        (b"{bad", "not valid JSON"),
        (b'{"filters": [{"type": "frame_state", "gte": NaN}]}', "NaN"),
        (b"\xff\xfe\x00", "not valid JSON"),
        (b"[" * 10 + b"]" * 10, "nested too deeply"),
        (b"[" * 5000 + b"]" * 5000, "nested too deeply"),
        (b"", "not valid JSON"),
    ],
)
def test_a_body_that_is_not_a_json_request_is_400(client, body, words):
    detail = _refusal(
        client.post("/analyses/syn/filters", content=body, headers={"Content-Type": "application/json"}), 400
    )
    assert words in detail


def test_a_body_over_the_limit_is_413(client):
    big = b'{"filters": [' + b" " * (70 * 1024) + b"]}"
    _refusal(client.post("/analyses/syn/filters", content=big), 413)

    def chunks():  # no Content-Length: refused while it is read
        for _ in range(70):
            yield b" " * 1024

    _refusal(client.post("/analyses/syn/filters", content=chunks()), 413)


# -- schema, listing, events ----------------------------------------------------------------------------------


def test_the_schema_gives_the_data_version_and_the_columns_with_units(client):
    schema = client.get("/analyses/syn/schema").json()
    assert schema["data_version"] == 3 and schema["frame_state"] and not schema["events"]
    assert schema["fps"] == 25 and schema["pitch"] == {"length_m": 105.0, "width_m": 68.0}
    download = {c["name"]: c for c in schema["tracking_download"]}
    assert list(download) == ["timestamp", "role", "player_id", "player_id_conf", "x", "y", "bbox_x", "bbox_y"]
    assert (download["timestamp"]["type"], download["timestamp"]["unit"]) == ("int32", "ms")
    assert (download["player_id_conf"]["type"], download["x"]["unit"]) == ("float16", "cm")
    frame_state = {c["name"]: c for c in schema["frame_state_columns"]}
    assert frame_state["speed_mps"]["unit"] == "m/s" and frame_state["speed_mps"]["filterable"]
    assert frame_state["nearest_opp_dist_m"]["unit"] == "m" and frame_state["nearest_opp_dist_m"]["filterable"]
    assert not frame_state["player_id"]["filterable"] and "fingerprint" not in frame_state
    assert "Savitzky-Golay" in frame_state["speed_mps"]["description"]
    fv1 = client.get("/analyses/fv1/schema").json()
    assert fv1["events"] and fv1["lineups"]


def test_the_published_matches_page_by_page(client):
    every = client.get("/analyses").json()
    assert [a["match_id"] for a in every["analyses"]] == ["fv1", "img", "syn"] and every["next_after"] is None
    syn = every["analyses"][2]
    assert (syn["format"], syn["fps"], syn["duration_s"]) == ("footy_stats", 25, 80.0)
    seen, after = [], None
    while True:
        page = client.get("/analyses", params={"limit": 2, **({"after": after} if after else {})}).json()
        seen += [a["match_id"] for a in page["analyses"]]
        after = page["next_after"]
        if after is None:
            break
    assert seen == ["fv1", "img", "syn"]
    assert _refusal(client.get("/analyses", params={"limit": 0}), 422).startswith("query.limit")
    _refusal(client.get("/analyses", params={"after": "../x"}), 422)


def test_events_and_lineups_of_a_match_with_event_data(client):
    events = client.get("/analyses/fv1/events").json()
    assert events["match_id"] == "fv1" and len(events["rows"]) == 203
    assert [r["event_index"] for r in events["rows"]] == list(range(203))
    kick_off = next(r for r in events["rows"] if r["sub_type"] == "kick_off")
    assert kick_off["type"] == "pass" and "fingerprint" not in kick_off
    lineups = client.get("/analyses/fv1/lineups").json()
    assert len(lineups["rows"]) == 32
    for table in ("events", "lineups"):
        assert "no event data" in _refusal(client.get(f"/analyses/syn/{table}"), 404)


# -- refusals -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/analyses/{id}/tracking/download"),
        ("GET", "/analyses/{id}/schema"),
        ("GET", "/analyses/{id}/events"),
        ("GET", "/analyses/{id}/lineups"),
        ("POST", "/analyses/{id}/filters"),
    ],
)
@pytest.mark.parametrize("match_id", ["nope", "-x", "a" * 65, "a.b", "%2e%2e", "..%2Fsyn"])
def test_an_unknown_or_malformed_match_is_404(client, method, path, match_id):
    body = FILTER_REQUESTS["jogging"] if method == "POST" else None
    detail = _refusal(client.request(method, path.format(id=match_id), json=body), 404)
    assert "unknown match" in detail or "Not Found" in detail


def test_without_the_token_nothing_but_health_answers(base):
    with httpx.Client(base_url=base) as anonymous:
        assert anonymous.get("/healthz").json() == {"status": "ok"}
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
            response = anonymous.get("/analyses/syn/schema", headers=headers)
            assert "bearer token" in _refusal(response, 401)
            assert response.headers["www-authenticate"] == "Bearer"
        assert anonymous.get("/analyses", headers=AUTH).status_code == 200


def test_unknown_addresses_and_methods_are_json_refusals(client):
    _refusal(client.get("/nothing/here"), 404)
    _refusal(client.delete("/analyses/syn/schema"), 405)
    _refusal(client.get("/analyses/syn/tracking/download", params={"format": "csv"}), 422)
    assert client.get("/docs").status_code == 404  # no pages loading scripts from elsewhere


def test_every_answer_says_no_sniffing_and_no_store(client):
    for response in (client.get("/healthz"), client.get("/analyses"), client.get("/nothing")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
    assert "access-control-allow-origin" not in client.get("/analyses", headers={"Origin": "https://a.example"}).headers


def test_cors_only_for_the_origins_configured(lake):
    settings = Settings(tokens=(TOKEN.encode(),), cors_origins=("https://club.example",))
    with running(lake, settings) as url, httpx.Client(base_url=url) as c:
        ok = {"Origin": "https://club.example", "Access-Control-Request-Method": "GET"}
        preflight = c.options("/analyses", headers=ok)
        assert preflight.headers["access-control-allow-origin"] == "https://club.example"
        other = c.options("/analyses", headers={**ok, "Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_a_damaged_table_is_503_with_one_line(lake, tmp_path):
    """A data file overwritten (tracking, ball_state) or gone (frame_state): 503, one line, no path."""
    copy = copy_lake(lake, tmp_path / "lake")
    for table in ("tracking", "ball_state"):
        for data in (Path(copy.uri) / table).rglob("match_id=syn/*/*.parquet"):
            data.write_bytes(b"PAR1 not a parquet file")
    for data in (Path(copy.uri) / "frame_state").rglob("match_id=fv1/*/*.parquet"):
        data.unlink()
    with running(copy) as url, httpx.Client(base_url=url, headers=AUTH) as c:
        detail = _refusal(c.get("/analyses/syn/tracking/download"), 503)
        assert detail.startswith("tracking cannot be read") and copy.uri not in detail
        detail = _refusal(c.post("/analyses/syn/filters", json=FILTER_REQUESTS["jogging"]), 503)
        assert "cannot be read" in detail and copy.uri not in detail
        detail = _refusal(c.post("/analyses/fv1/filters", json=FILTER_REQUESTS["jogging"]), 503)
        assert detail.startswith("frame_state cannot be read")
        assert c.get("/analyses/img/schema").status_code == 200  # other matches unharmed


def test_the_serve_command_serves_until_interrupted(lake):
    import signal
    import subprocess
    import time

    from footy_assets_tests.helpers import CLI, cli_env
    from footy_assets_tests.server.running import free_port

    port = free_port()
    proc = subprocess.Popen(
        [*CLI, "serve", "--lake", lake.uri, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=cli_env(None, FOOTY_SERVE_TOKENS=TOKEN),
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read() if proc.poll() else ""
                time.sleep(0.1)
        page = httpx.get(f"http://127.0.0.1:{port}/analyses", headers=AUTH).json()
        assert [a["match_id"] for a in page["analyses"]] == ["fv1", "img", "syn"]
        assert httpx.get(f"http://127.0.0.1:{port}/analyses").status_code == 401
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert f"serving on http://127.0.0.1:{port} (requests need a bearer token)" in out
    assert TOKEN not in out and "Traceback" not in out


def test_makings_under_way_are_bounded(lake):
    """With ``max_makings`` files being made, another file waits (503 at the route); the same file, or one made
    already, is still sent."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from footy_assets.lake.downloads import tracking_download
    from footy_assets.server import streaming

    parquet, json_file = (tracking_download(lake, "syn", f) for f in ("parquet", "json"))
    release = threading.Event()

    class Held:  # the real download, its making held until released
        def __init__(self, download):
            self.download = download

        def __getattr__(self, name):
            return getattr(self.download, name)

        def chunks(self):
            release.wait(30)
            yield from self.download.chunks()

    with ThreadPoolExecutor(2) as pool:
        made = streaming.MadeFiles(1 << 30, pool, max_makings=1)
        held = Held(parquet)
        handle, making = made._open(held)  # the making starts and waits
        try:
            assert making is not None and not making.done
            assert made.admits(held) and not made.admits(json_file)
        finally:
            release.set()
            handle.close()
        pool.shutdown(wait=True)
        assert made.admits(json_file) and made.admits(parquet)
