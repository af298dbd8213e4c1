"""Settings from the ``OUTLOOK_SYNC_*`` environment variables.

Read once at start-up; missing or malformed variables raise one :class:`ConfigError`
naming every one of them, so a mis-configured install stops before it touches any data.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PREFIX = "OUTLOOK_SYNC_"
DEFAULT_DATABASE_URL = "sqlite:///" + str(Path("var") / "outlook-sync.sqlite3")
LOG_FORMATS = ("text", "json")


class ConfigError(ValueError):
    """Configuration variables are missing or malformed; the message names each, one per line.

    ``name`` is the first variable named; ``problems`` holds every ``(variable, problem)`` pair.
    """

    def __init__(self, name: str, problem: str, more: Sequence[ConfigError] = ()) -> None:
        self.problems: list[tuple[str, str]] = [(PREFIX + name, problem)]
        self.problems += [p for error in more for p in error.problems]
        super().__init__("\n".join(f"{variable}: {text}" for variable, text in self.problems))
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


def log_format(environ: Mapping[str, str] | None = None) -> str:
    """``OUTLOOK_SYNC_LOG_FORMAT``: "text" (the default) or "json"; read before the other settings,
    so that their errors are logged in the chosen format. Raises :class:`ConfigError` otherwise."""
    raw = (os.environ if environ is None else environ).get(PREFIX + "LOG_FORMAT", "").strip()
    if raw and raw.lower() not in LOG_FORMATS:
        raise ConfigError("LOG_FORMAT", f"must be one of {', '.join(LOG_FORMATS)}, got {raw!r}")
    return raw.lower() or "text"


def _database_url(name: str, value: str) -> str:
    if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):
        raise ConfigError(name, "must be a sqlite:/// or postgresql:// URL")
    folder = sqlite_folder(value)
    if folder is not None and not folder.is_dir():
        raise ConfigError(name, f"the folder {folder} of the SQLite file does not exist; create it first")
    if value.startswith("postgres:"):
        value = "postgresql:" + value[len("postgres:"):]
    if value.startswith("postgresql://"):
        value = "postgresql+psycopg://" + value[len("postgresql://"):]
    return value


def sqlite_folder(url: str) -> Path | None:
    """The folder a ``sqlite:///path`` URL's file goes in (None for other URLs and in-memory)."""
    if not url.startswith("sqlite:"):
        return None
    path = url.split(":///", 1)[-1].split("?", 1)[0]
    return None if path in ("", ":memory:") else Path(path).parent


_ORIGIN = re.compile(r"https?://(\*\.)?[A-Za-z0-9.-]+(:[0-9]{1,5})?")


def _frame_ancestors(name: str, value: str) -> str:
    """A space-separated list of origins (``https://lms.example.com``), ``'self'``, or ``'none'`` alone."""
    sources = value.split()
    if sources == ["'none'"]:
        return value
    for source in sources:
        if source != "'self'" and not _ORIGIN.fullmatch(source.rstrip("/")):
            raise ConfigError(name, f"{source!r} is not an origin: give a space-separated list of origins "
                                    "such as https://lms.example.com, or 'self'")
    return " ".join(source.rstrip("/") for source in sources)


@dataclass(frozen=True)
class Settings:
    """Everything the plugin reads from its environment."""

    host_secret: str = field(repr=False)
    secret_key: str = field(repr=False)
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    client_cert_path: str | None = None
    client_cert_thumbprint: str | None = None
    database_url: str = DEFAULT_DATABASE_URL
    public_url: str = "http://127.0.0.1:8000"
    authority_url: str = "https://login.microsoftonline.com"
    graph_url: str = "https://graph.microsoft.com/v1.0"
    ca_bundle: str | None = None
    frame_ancestors: str = "'self'"
    worker_concurrency: int = 32
    consent_link_days: int = 7
    full_reconcile_minutes: int = 60
    log_format: str = "text"
    # credential rotation and expiry (see _read_rotation)
    client_secret_expires: date | None = None
    client_secret_next: str | None = field(default=None, repr=False)
    client_secret_next_expires: date | None = None
    client_cert_path_next: str | None = None
    client_cert_thumbprint_next: str | None = None
    removal_guard_percent: int = 50  # removals held when one change would remove more than this share …
    removal_guard_minimum: int = 100  # … and more than this many of an account's future entries
    # the second app registration, for accounts that grant "only the LMS's people" (bridge.accounts.grant)
    scoped_client_id: str | None = None
    scoped_client_secret: str | None = field(default=None, repr=False)

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``environ`` (default: ``os.environ``)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        errors: list[ConfigError] = []

        def read(name: str, parse: Callable[[str, str], Any] | None = None, required: bool = False) -> None:
            raw = env.get(PREFIX + name, "").strip()
            try:
                if not raw:
                    if required:
                        raise ConfigError(name, "is required but not set")
                    return
                values[name.lower()] = parse(name, raw) if parse else raw
            except ConfigError as error:
                errors.append(error)

        read("HOST_SECRET", _secret, required=True)
        read("SECRET_KEY", _secret, required=True)
        read("CLIENT_ID", required=True)
        read("CLIENT_SECRET")
        read("CLIENT_CERT_PATH", _file)
        read("CLIENT_CERT_THUMBPRINT")
        read("DATABASE_URL", _database_url)
        read("PUBLIC_URL", lambda n, v: _url(n, v, ("http", "https")))
        read("AUTHORITY_URL", lambda n, v: _url(n, v, ("https",)))
        read("GRAPH_URL", lambda n, v: _url(n, v, ("https",)))
        read("CA_BUNDLE", _file)
        read("FRAME_ANCESTORS", _frame_ancestors)
        read("WORKER_CONCURRENCY", lambda n, v: _int(n, v, 1, 1024))
        read("CONSENT_LINK_DAYS", lambda n, v: _int(n, v, 1, 90))
        read("FULL_RECONCILE_MINUTES", lambda n, v: _int(n, v, 1, 10080))
        read("REMOVAL_GUARD_PERCENT", lambda n, v: _int(n, v, 1, 100))
        read("REMOVAL_GUARD_MINIMUM", lambda n, v: _int(n, v, 0, 10_000_000))
        try:
            values["log_format"] = log_format(env)
        except ConfigError as error:
            errors.append(error)
        errors += _credential_errors(env, values)
        errors += _read_rotation(read, env)
        errors += _read_scoped(read, env)
        if errors:
            raise ConfigError(errors[0].name.removeprefix(PREFIX), errors[0].problems[0][1], errors[1:])
        return cls(**values)


def _file(name: str, value: str) -> str:
    if not Path(value).is_file():
        raise ConfigError(name, f"no such file: {value}")
    return value


def _credential_errors(env: Mapping[str, str], values: Mapping[str, Any]) -> list[ConfigError]:
    """A client secret, or a certificate path and thumbprint together."""
    given = {name for name in ("CLIENT_CERT_PATH", "CLIENT_CERT_THUMBPRINT") if env.get(PREFIX + name, "").strip()}
    if given == {"CLIENT_CERT_THUMBPRINT"}:
        return [ConfigError("CLIENT_CERT_PATH", f"is required with {PREFIX}CLIENT_CERT_THUMBPRINT")]
    if given == {"CLIENT_CERT_PATH"}:
        return [ConfigError("CLIENT_CERT_THUMBPRINT", f"is required with {PREFIX}CLIENT_CERT_PATH")]
    if not given and "client_secret" not in values:
        alternative = f"{PREFIX}CLIENT_CERT_PATH + {PREFIX}CLIENT_CERT_THUMBPRINT"
        return [ConfigError("CLIENT_SECRET", f"is required (or {alternative})")]
    return []


# --- Credential rotation and expiry -------------------------------------------------------------------


def _date(name: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(name, f"must be a date as YYYY-MM-DD, got {value!r}") from None


def _read_rotation(read: Callable[..., None], env: Mapping[str, str]) -> list[ConfigError]:
    """The end date of the client secret, and a second (next) secret or certificate for rotation."""
    read("CLIENT_SECRET_EXPIRES", _date)
    read("CLIENT_SECRET_NEXT")
    read("CLIENT_SECRET_NEXT_EXPIRES", _date)
    read("CLIENT_CERT_PATH_NEXT", _file)
    read("CLIENT_CERT_THUMBPRINT_NEXT")
    given = {n for n in ("CLIENT_CERT_PATH_NEXT", "CLIENT_CERT_THUMBPRINT_NEXT") if env.get(PREFIX + n, "").strip()}
    if given == {"CLIENT_CERT_PATH_NEXT"}:
        return [ConfigError("CLIENT_CERT_THUMBPRINT_NEXT", f"is required with {PREFIX}CLIENT_CERT_PATH_NEXT")]
    if given == {"CLIENT_CERT_THUMBPRINT_NEXT"}:
        return [ConfigError("CLIENT_CERT_PATH_NEXT", f"is required with {PREFIX}CLIENT_CERT_THUMBPRINT_NEXT")]
    return []


# --- The second app registration ("only the LMS's people") ---------------------------------------------


def _read_scoped(read: Callable[..., None], env: Mapping[str, str]) -> list[ConfigError]:
    """The client id and secret of the registration that asks only for directory permissions (application
    permissions are fixed per app registration: facts.md, "RBAC for Applications"); both or neither."""
    read("SCOPED_CLIENT_ID")
    read("SCOPED_CLIENT_SECRET")
    given = {n for n in ("SCOPED_CLIENT_ID", "SCOPED_CLIENT_SECRET") if env.get(PREFIX + n, "").strip()}
    if given == {"SCOPED_CLIENT_ID"}:
        return [ConfigError("SCOPED_CLIENT_SECRET", f"is required with {PREFIX}SCOPED_CLIENT_ID")]
    if given == {"SCOPED_CLIENT_SECRET"}:
        return [ConfigError("SCOPED_CLIENT_ID", f"is required with {PREFIX}SCOPED_CLIENT_SECRET")]
    return []
