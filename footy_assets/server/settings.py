"""The server's settings, from the environment; a value that cannot be used is refused with one line naming it.

Secure by default: no token is needed only where none is configured, and ``footy-assets serve`` refuses to listen
beyond the loopback interface without tokens unless told ``--allow-anonymous``; CORS is off unless origins are
named.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from footy_assets.lake.store import SettingError

TOKENS_ENV = "FOOTY_SERVE_TOKENS"
TOKENS_FILE_ENV = "FOOTY_SERVE_TOKENS_FILE"
CORS_ENV = "FOOTY_SERVE_CORS_ORIGINS"
MAX_BODY_ENV = "FOOTY_SERVE_MAX_BODY_BYTES"
TIMEOUT_ENV = "FOOTY_SERVE_TIMEOUT_S"
DOWNLOAD_TIMEOUT_ENV = "FOOTY_SERVE_DOWNLOAD_TIMEOUT_S"
MAX_DOWNLOADS_ENV = "FOOTY_SERVE_MAX_DOWNLOADS"
FILTER_MATCHES_ENV = "FOOTY_SERVE_FILTER_MATCHES"
CACHE_BYTES_ENV = "FOOTY_SERVE_CACHE_BYTES"
# a bearer token shorter than this is guessable: refused at start
MIN_TOKEN_CHARS = 16
# the deepest JSON a request body may nest: a filter request nests 3 levels (request, filters, a filter's list)
MAX_JSON_DEPTH = 8


@dataclass(frozen=True)
class Settings:
    """What the server enforces. Seconds and bytes."""

    tokens: tuple[bytes, ...] = ()
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = 64 * 1024
    timeout_s: float = 30.0
    download_timeout_s: float = 3600.0
    max_downloads: int = 32
    cache_bytes: int = 1024**3  # made downloads kept on disk for the next client (0: none kept)
    filter_matches: int = 2  # matches whose filter inputs stay in memory (about 150 MB each for 90 minutes)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            tokens=_tokens(env),
            cors_origins=tuple(o.strip() for o in env.get(CORS_ENV, "").split(",") if o.strip()),
            max_body_bytes=int(_number(env, MAX_BODY_ENV, cls.max_body_bytes, 1, 64 * 1024 * 1024, whole=True)),
            timeout_s=_number(env, TIMEOUT_ENV, cls.timeout_s, 0.1, 24 * 3600),
            # a published delivery a publish supersedes stays FOOTY_READER_HOLD_HOURS (default 1 h): a download
            # longer than that may lose its files
            download_timeout_s=_number(env, DOWNLOAD_TIMEOUT_ENV, cls.download_timeout_s, 1, 7 * 24 * 3600),
            max_downloads=int(_number(env, MAX_DOWNLOADS_ENV, cls.max_downloads, 1, 10_000, whole=True)),
            cache_bytes=int(_number(env, CACHE_BYTES_ENV, cls.cache_bytes, 0, 2**50, whole=True)),
            filter_matches=int(_number(env, FILTER_MATCHES_ENV, cls.filter_matches, 1, 1_000, whole=True)),
        )

    def allows(self, token: str | None) -> bool:
        """Whether a request with this bearer token (None: none given) may be answered: always where no token
        is configured; else only a configured one, compared in constant time against every one of them."""
        if not self.tokens:
            return True
        if token is None:
            return False
        given = token.encode("utf-8", "surrogateescape")
        found = False
        for known in self.tokens:  # every one compared: the time says nothing about which matched
            found |= hmac.compare_digest(given, known)
        return found


def _tokens(env) -> tuple[bytes, ...]:
    tokens = [t.strip() for t in env.get(TOKENS_ENV, "").split(",") if t.strip()]
    path = env.get(TOKENS_FILE_ENV, "")
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingError(f"{TOKENS_FILE_ENV}={path!r} cannot be read: {exc.__class__.__name__}") from None
        tokens += [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
        if not tokens:
            raise SettingError(f"{TOKENS_FILE_ENV}={path!r} holds no token (one a line)")
    for token in tokens:
        if len(token) < MIN_TOKEN_CHARS or not token.isascii() or not token.isprintable() or " " in token:
            raise SettingError(
                f"{TOKENS_ENV}/{TOKENS_FILE_ENV}: a token must be at least {MIN_TOKEN_CHARS} printable ASCII "
                "characters without spaces (e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
    return tuple(t.encode() for t in tokens)


def _number(env, name: str, default: float, low: float, high: float, whole: bool = False) -> float:
    text = env.get(name, "")
    if not text:
        return default
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        raise SettingError(f"{name}={text!r} is not a{' whole' if whole else ''} number") from None
    if not low <= value <= high:
        raise SettingError(f"{name}={text!r} must be from {low:g} to {high:g}")
    return value


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


__all__ = ["MAX_JSON_DEPTH", "Settings", "is_loopback"]
