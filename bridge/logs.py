"""Log lines: text by default, one JSON object a line with ``OUTLOOK_SYNC_LOG_FORMAT=json``.

Each line says, where known, which LMS account, which user and which hook delivery it is about:
the code that knows them adds them with :func:`add` or :func:`scope` (context variables, so each
request thread and each sync thread keeps its own). A worker's lines also say which worker wrote them
(``worker``: host name, process id and instance, set once for the process by :func:`add_process`), so
the logs of several machines can be read together. Nothing here adds a secret: only these
identifiers, which the LMS or the machine chose and which name no credential.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TextIO

FIELDS = ("account", "user", "delivery")
PROCESS_FIELDS = ("worker",)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s%(context)s"

_fields: ContextVar[Mapping[str, str]] = ContextVar("outlook_sync_log_fields", default=MappingProxyType({}))
_process: dict[str, str] = {}


def clear() -> None:
    """Forget the fields of this thread (a new request starts with none)."""
    _fields.set({})


def add(**fields: str | None) -> None:
    """Add fields (``account``, ``user``, ``delivery``) to every later line of this thread or request."""
    _fields.set({**_fields.get(), **{k: str(v) for k, v in fields.items() if k in FIELDS and v}})


def add_process(**fields: str | None) -> None:
    """Add fields (``worker``) to every later line of this process, whatever its thread."""
    _process.update({k: str(v) for k, v in fields.items() if k in PROCESS_FIELDS and v})


@contextmanager
def scope(**fields: str | None) -> Iterator[None]:
    """Add fields to the lines logged inside the block only."""
    token = _fields.set(_fields.get())
    try:
        add(**fields)
        yield
    finally:
        _fields.reset(token)


class ContextFilter(logging.Filter):
    """Puts the current fields on each record (``record.fields``, and ``record.context`` as text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = {**_process, **_fields.get()}
        record.fields = fields
        record.context = "".join(f" {k}={v}" for k, v in fields.items())
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, the fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def handler(fmt: str, stream: TextIO | None = None) -> logging.Handler:
    """A handler writing ``fmt`` ("text" or "json") lines with the current fields to ``stream`` (stderr)."""
    out = logging.StreamHandler(stream)
    out.addFilter(ContextFilter())
    out.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    return out


def configure(fmt: str, level: int = logging.INFO) -> None:
    """Send every logger's lines (the root's) to stderr as ``fmt``; replaces the root's handlers."""
    logging.basicConfig(level=level, handlers=[handler(fmt)], force=True)
