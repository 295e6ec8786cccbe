"""A gateway that accepts connections and never answers: every command that meets it ends with one line
naming what it could not read, within the configured bounds, instead of waiting as long as the gateway hangs."""

from __future__ import annotations

import os
import socket
import subprocess
import threading

import pytest

from footy_assets_tests.helpers import CLI

pytestmark = pytest.mark.slow  # a CLI process per command


@pytest.fixture
def hung_gateway():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held = []

    def accept():
        while True:
            try:
                held.append(server.accept()[0])  # accepted, never answered
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    server.close()
    for conn in held:
        conn.close()


@pytest.mark.parametrize(
    "args",
    [
        ["sql", "SELECT count(*) FROM matches"],
        ["materialize"],
        ["doctor"],
        ["export", "--match", "m1", "--format", "cdf", "--output", "/tmp/footy_never"],
    ],
)
def test_a_hung_gateway_gives_one_line_within_the_bounds(hung_gateway, tmp_path, args):
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": hung_gateway,
        "AWS_ACCESS_KEY_ID": "k",
        "AWS_SECRET_ACCESS_KEY": "s",
        "AWS_REGION": "us-east-1",
        "AWS_ALLOW_HTTP": "true",
        "DAGSTER_HOME": str(tmp_path / "home"),
        "FOOTY_S3_CONNECT_TIMEOUT_S": "1",
        "FOOTY_S3_REQUEST_TIMEOUT_S": "2",
        "FOOTY_S3_RETRIES": "1",
    }
    # the subprocess's own timeout is the test's bound: without client timeouts the command waits for ever
    done = subprocess.run(
        [*CLI, *args, "--lake", "s3://bucket/lake"], env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode in (1, 2), done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert "timed out" in lines[0] or "Timeout" in lines[0], lines[0]
