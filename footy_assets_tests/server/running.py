"""The API served for real: uvicorn listening on a free loopback port in a thread of the test process, until the
block ends. Requests go over TCP with httpx, as a client's would."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from footy_assets.lake.store import Lake
from footy_assets.server.app import create_app
from footy_assets.server.settings import Settings

TOKEN = "test-token-" + "x" * 24  # long enough for the server to accept it
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running(lake: Lake, settings: Settings | None = None) -> Iterator[str]:
    """The base URL of the API over ``lake`` (``settings``: default, with ``TOKEN`` required) while the block runs."""
    settings = settings or Settings(tokens=(TOKEN.encode(),))
    config = uvicorn.Config(
        create_app(lake, settings), host="127.0.0.1", port=free_port(), log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
