"""One Graph request as the emulator handles it (:class:`Call`) and its answer (:class:`Result`).

Shared by the router (:mod:`emulator.graph`), the handlers and ``$batch`` (:mod:`emulator.batch`), which
all sit above this module: a handler never imports the router back.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from .errors import GraphError, graph_error_body
from .tokens import Principal


@dataclass
class Call:
    """One Graph request, from HTTP or from a $batch item."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    principal: Principal
    base: str
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    client_request_id: str = ""
    batch: bool = False

    def prefer(self, name: str) -> str | None:
        m = re.search(name + r'\s*=\s*"([^"]*)"', self.headers.get("prefer", ""), re.IGNORECASE)
        return m.group(1) if m else None


@dataclass
class Result:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    connection: str = ""  # "reset" | "ambiguous": drop the connection instead of answering


def error_result(exc: GraphError, call: Call) -> Result:
    headers = dict(exc.headers)
    return Result(exc.status, graph_error_body(exc.code, exc.message, call.request_id, call.client_request_id), headers)
