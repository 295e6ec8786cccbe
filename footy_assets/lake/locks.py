"""Locks between processes on one machine, and whether a process that took one still lives."""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def exclusive(lock_path: Path, on_wait=None):
    """An exclusive advisory lock (flock) on ``lock_path``; the kernel releases it if the process dies.

    ``on_wait()`` is called once if another process holds it (before waiting); yields whether it waited.
    """
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    # never through a link: a lock file is created where it is named, or not at all
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o644)
    with os.fdopen(fd, "a+") as handle:
        waited = False
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(handle, fcntl.LOCK_EX)
            waited = True
        try:
            yield waited
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def process_start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (/proc), to tell a reused pid from the original."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return int(stat.read().rsplit(b")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def process_alive(pid: int, start: str) -> bool:
    """Whether process ``pid`` lives and is the one that started at ``start`` (clock ticks since boot; empty: any)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    now = process_start_time(pid)
    return not start or now is None or str(now) == start
