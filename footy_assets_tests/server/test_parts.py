"""The server's parts without a lake: its settings, the download's chunks, the ETag comparison, the nesting
limit; and ``footy-assets serve`` refusing to start where it would be open to anyone."""

from __future__ import annotations

import io

import polars as pl
import pyarrow.parquet as pq
import pytest

from footy_assets.formats.footy_stats import export
from footy_assets.lake.store import SettingError
from footy_assets.server.app import _depth
from footy_assets.server.settings import MIN_TOKEN_CHARS, Settings, is_loopback
from footy_assets.server.streaming import matches
from footy_assets_tests.helpers import one_line_error, run_cli

MATCH = {"pitch_length_m": 105.0, "pitch_width_m": 68.0}


def _tracking(rows: int) -> pl.DataFrame:
    frames = pl.int_range(rows, eager=True) // 23
    return pl.DataFrame(
        {
            "frame_id": frames,
            "timestamp_ms": frames * 40,
            "role": pl.Series(["player", "ball"] * (rows // 2) + ["player"] * (rows % 2)),
            "player_id": pl.Series([f"0-{i % 11 + 1}" for i in range(rows)]),
            "id_confidence": pl.Series([0.5 + (i % 5) / 10 for i in range(rows)], dtype=pl.Float32),
            "x_m": pl.Series([(i % 1000) / 10 - 50 if i % 97 else None for i in range(rows)], dtype=pl.Float32),
            "y_m": pl.Series([(i % 600) / 10 - 30 for i in range(rows)], dtype=pl.Float32),
            "bbox_x": pl.Series([i % 1900 for i in range(rows)], dtype=pl.Int16),
            "bbox_y": pl.Series([None] * rows, dtype=pl.Int16),
        }
    )


@pytest.mark.parametrize("file_format", ["parquet", "json"])
def test_the_download_is_the_same_however_the_rows_are_batched(file_format):
    tracking = _tracking(export.ROW_GROUP_ROWS * 2 + 5000)  # three row groups of rows with a position
    whole = export.render(tracking, MATCH, file_format)[f"tracking.{file_format}"]
    for size in (1, 977, export.ROW_GROUP_ROWS, export.ROW_GROUP_ROWS + 1):
        batches = [tracking.slice(i, size) for i in range(0, tracking.height, size)] if size > 1 else [tracking]
        chunks = list(export.chunks(batches, MATCH, file_format))
        assert b"".join(chunks) == whole, size
    if file_format == "parquet":
        assert len(chunks) == 2 + 3  # magic, three row groups, footer: sent as they are made
        meta = pq.read_metadata(io.BytesIO(whole))
        assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [
            export.ROW_GROUP_ROWS,
            export.ROW_GROUP_ROWS,
            tracking.height - tracking["x_m"].null_count() - 2 * export.ROW_GROUP_ROWS,
        ]
        assert [f.type for f in pq.read_schema(io.BytesIO(whole))] == [c.type for c in export.COLUMNS]
    else:
        assert pl.read_json(whole).height == tracking.height - tracking["x_m"].null_count()


def test_an_empty_download_is_a_valid_file():
    empty = _tracking(0)
    assert export.render(empty, MATCH, "json")["tracking.json"] == b"[\n\n]\n"
    assert pq.read_table(io.BytesIO(export.render(empty, MATCH, "parquet")["tracking.parquet"])).num_rows == 0


def test_a_pitch_of_another_size_goes_out_beside_the_file():
    files = export.render(_tracking(10), {"pitch_length_m": 100.0, "pitch_width_m": 64.0}, "json")
    assert files["pitch.json"] == b'{"length": 100.0, "width": 64.0}'


def test_settings_from_the_environment(tmp_path):
    assert Settings.from_env({}) == Settings()
    token = "a" * MIN_TOKEN_CHARS
    listed = tmp_path / "tokens"
    listed.write_text(f"# the club's\n{'b' * 20}\n\n")
    settings = Settings.from_env(
        {
            "FOOTY_SERVE_TOKENS": f"{token}, {'c' * 30}",
            "FOOTY_SERVE_TOKENS_FILE": str(listed),
            "FOOTY_SERVE_CORS_ORIGINS": "https://a.example, https://b.example",
            "FOOTY_SERVE_MAX_BODY_BYTES": "1000",
            "FOOTY_SERVE_TIMEOUT_S": "2.5",
        }
    )
    assert settings.tokens == (token.encode(), b"c" * 30, b"b" * 20)
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert (settings.max_body_bytes, settings.timeout_s) == (1000, 2.5)
    assert settings.allows(token) and settings.allows("b" * 20)
    assert not settings.allows(None) and not settings.allows("a" * (MIN_TOKEN_CHARS - 1)) and not settings.allows("")
    assert Settings().allows(None)  # no token configured: none needed


@pytest.mark.parametrize(
    "env, words",
    [
        ({"FOOTY_SERVE_TOKENS": "short"}, "at least 16"),
        ({"FOOTY_SERVE_TOKENS": "a token with spaces inside"}, "without spaces"),
        ({"FOOTY_SERVE_TOKENS_FILE": "/nonexistent/tokens"}, "cannot be read"),
        ({"FOOTY_SERVE_MAX_BODY_BYTES": "lots"}, "FOOTY_SERVE_MAX_BODY_BYTES"),
        ({"FOOTY_SERVE_MAX_BODY_BYTES": "0"}, "from 1"),
        ({"FOOTY_SERVE_TIMEOUT_S": "nan"}, "FOOTY_SERVE_TIMEOUT_S"),
        ({"FOOTY_SERVE_MAX_DOWNLOADS": "1.5"}, "whole number"),
    ],
)
def test_a_setting_that_cannot_be_used_is_refused(env, words):
    with pytest.raises(SettingError, match=words):
        Settings.from_env(env)


def test_an_empty_tokens_file_is_refused(tmp_path):
    (tmp_path / "t").write_text("# none yet\n")
    with pytest.raises(SettingError, match="holds no token"):
        Settings.from_env({"FOOTY_SERVE_TOKENS_FILE": str(tmp_path / "t")})


def test_if_none_match():
    assert matches('"abc"', '"abc"') and matches('W/"abc"', '"abc"') and matches('"x", "abc"', '"abc"')
    assert matches("*", '"abc"')
    assert not matches(None, '"abc"') and not matches("", '"abc"') and not matches('"abcd"', '"abc"')


def test_nesting_is_measured_without_recursion():
    assert _depth(1) == 0 and _depth([]) == 1 and _depth({"filters": [{"players": ["0-1"]}]}) == 4
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    assert _depth(deep) == 100_001


def test_loopback_hosts():
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.2", "example.org"))


def test_serve_refuses_to_listen_beyond_this_machine_without_tokens(tmp_path):
    (tmp_path / "lake").mkdir()
    done = run_cli("serve", "--lake", str(tmp_path / "lake"), "--host", "0.0.0.0", env={"FOOTY_SERVE_TOKENS": ""})
    one_line_error(done, "0.0.0.0", "FOOTY_SERVE_TOKENS", "--allow-anonymous", code=2)
    done = run_cli("serve", "--lake", str(tmp_path / "lake"), env={"FOOTY_SERVE_TOKENS": "short"})
    one_line_error(done, "FOOTY_SERVE_TOKENS", code=2)
    done = run_cli("serve", "--lake", str(tmp_path / "missing"))
    one_line_error(done, "no lake", code=2)


# the forms beyond the vendor's request: a team or the whole match, teams as the tables name them, the ball's box as
# a team attacks
NEW_FORMS = [
    {"filters": [{"type": "frame_state", "players": "all", "column": "speed_mps", "gte": 7.0}]},
    {"filters": [{"type": "frame_state", "teams": ["team_1"], "column": "speed_mps", "gte": 7.0}]},
    {"filters": [{"type": "frame_state", "teams": [0], "players": ["1-3"], "column": "speed_mps", "gte": 7.0}]},
    {"filters": [{"type": "ball_location", "attacking_team": "team_1", "x_min": 70}]},
    {"filters": [{"type": "ball_location", "attacking_team": 0, "y_min": 48}]},
    {"filters": [{"type": "team_possession", "teams": [1]}]},
    {"filters": [{"type": "event", "event_types": ["shot"], "teams": [0, "team_1"]}]},
]


@pytest.mark.parametrize("request_", NEW_FORMS)
def test_the_openapi_models_accept_what_the_core_answers(request_):
    from footy_assets.core.metrics.intervals import run_filter
    from footy_assets.server import models

    models.FilterRequest.model_validate(request_)  # the OpenAPI models accept it
    if request_["filters"][0]["type"] == "event":
        return  # no event data in this match: the core's answer to it is the refusal test_api compares
    frames = pl.int_range(100, eager=True)
    players = pl.DataFrame({"player_id": ["0-10", "1-3"], "team": pl.Series([0, 1], dtype=pl.Int8)})
    frame_state = (
        pl.DataFrame({"frame_id": frames})
        .join(players, how="cross")
        .with_columns(
            timestamp_ms=pl.col("frame_id") * 40,
            period=pl.lit(1, pl.Int8),
            speed_mps=pl.lit(8.0, pl.Float32),
            distance_m=pl.lit(0.3, pl.Float32),
        )
    )
    ball = pl.DataFrame(
        {"frame_id": frames, "timestamp_ms": frames * 40, "period": pl.Series([1] * 100, dtype=pl.Int8)}
    ).with_columns(x_m=pl.lit(-40.0, pl.Float32), y_m=pl.lit(30.0, pl.Float32), possession_team=pl.lit(1, pl.Int8))
    answer = run_filter(request_, frame_state, ball, 25)
    assert answer and all(models.Interval.model_validate(found).team in (None, 0, 1) for found in answer)


def test_the_openapi_interval_gives_team_as_the_tables_do():
    from footy_assets.server import models

    schema = models.Interval.model_json_schema()["properties"]["team"]
    assert {"type": "integer"} in schema["anyOf"], schema
