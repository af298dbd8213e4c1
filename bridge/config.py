"""Settings from the ``OUTLOOK_SYNC_*`` environment variables.

Read once at start-up; a missing or malformed variable raises :class:`ConfigError`
naming it, so a mis-configured install stops before it touches any data.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PREFIX = "OUTLOOK_SYNC_"
DEFAULT_DATABASE_URL = "sqlite:///" + str(Path("var") / "outlook-sync.sqlite3")


class ConfigError(ValueError):
    """A configuration variable is missing or malformed; the message names it."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{PREFIX}{name}: {problem}")
        self.name = PREFIX + name


def _url(name: str, value: str, schemes: tuple[str, ...]) -> str:
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.netloc:
        raise ConfigError(name, f"must be an absolute {' or '.join(schemes)} URL, got {value!r}")
    return value.rstrip("/")


def _int(name: str, value: str, minimum: int, maximum: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(name, f"must be a whole number, got {value!r}") from None
    if not minimum <= number <= maximum:
        raise ConfigError(name, f"must be between {minimum} and {maximum}, got {number}")
    return number


def _secret(name: str, value: str) -> str:
    if len(value) < 16:
        raise ConfigError(name, "must be at least 16 characters long")
    return value


def _database_url(name: str, value: str) -> str:
    if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):
        raise ConfigError(name, "must be a sqlite:/// or postgresql:// URL")
    if value.startswith("postgres:"):
        value = "postgresql:" + value[len("postgres:"):]
    if value.startswith("postgresql://"):
        value = "postgresql+psycopg://" + value[len("postgresql://"):]
    return value


@dataclass(frozen=True)
class Settings:
    """Everything the plugin reads from its environment."""

    host_secret: str = field(repr=False)
    secret_key: str = field(repr=False)
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    client_cert_path: str | None = None
    client_cert_thumbprint: str | None = None
    database_url: str = _database_url("DATABASE_URL", DEFAULT_DATABASE_URL)
    public_url: str = "http://127.0.0.1:8000"
    authority_url: str = "https://login.microsoftonline.com"
    graph_url: str = "https://graph.microsoft.com/v1.0"
    ca_bundle: str | None = None
    frame_ancestors: str = "'self'"
    worker_concurrency: int = 32
    consent_link_days: int = 7
    full_reconcile_minutes: int = 60
    removal_guard_percent: int = 50  # removals held when one change would remove more than this share …
    removal_guard_minimum: int = 100  # … and more than this many of an account's future entries

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``environ`` (default: ``os.environ``)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}

        def read(name: str, parse: Callable[[str, str], Any] | None = None, required: bool = False) -> None:
            raw = env.get(PREFIX + name, "").strip()
            if not raw:
                if required:
                    raise ConfigError(name, "is required but not set")
                return
            values[name.lower()] = parse(name, raw) if parse else raw

        read("HOST_SECRET", _secret, required=True)
        read("SECRET_KEY", _secret, required=True)
        read("CLIENT_ID", required=True)
        read("CLIENT_SECRET")
        read("CLIENT_CERT_PATH")
        read("CLIENT_CERT_THUMBPRINT")
        read("DATABASE_URL", _database_url)
        read("PUBLIC_URL", lambda n, v: _url(n, v, ("http", "https")))
        read("AUTHORITY_URL", lambda n, v: _url(n, v, ("https",)))
        read("GRAPH_URL", lambda n, v: _url(n, v, ("https",)))
        read("CA_BUNDLE")
        read("FRAME_ANCESTORS")
        read("WORKER_CONCURRENCY", lambda n, v: _int(n, v, 1, 1024))
        read("CONSENT_LINK_DAYS", lambda n, v: _int(n, v, 1, 90))
        read("FULL_RECONCILE_MINUTES", lambda n, v: _int(n, v, 1, 10080))
        read("REMOVAL_GUARD_PERCENT", lambda n, v: _int(n, v, 1, 100))
        read("REMOVAL_GUARD_MINIMUM", lambda n, v: _int(n, v, 0, 10_000_000))

        has_cert = "client_cert_path" in values or "client_cert_thumbprint" in values
        if has_cert:
            if "client_cert_path" not in values:
                raise ConfigError("CLIENT_CERT_PATH", "is required with CLIENT_CERT_THUMBPRINT")
            if "client_cert_thumbprint" not in values:
                raise ConfigError("CLIENT_CERT_THUMBPRINT", "is required with CLIENT_CERT_PATH")
            if not Path(values["client_cert_path"]).is_file():
                raise ConfigError("CLIENT_CERT_PATH", f"no such file: {values['client_cert_path']}")
        elif "client_secret" not in values:
            raise ConfigError("CLIENT_SECRET", "is required (or CLIENT_CERT_PATH + CLIENT_CERT_THUMBPRINT)")
        if "ca_bundle" in values and not Path(values["ca_bundle"]).is_file():
            raise ConfigError("CA_BUNDLE", f"no such file: {values['ca_bundle']}")
        return cls(**values)
