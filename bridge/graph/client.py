"""Wiring of the Graph side: one transport (HTTPS from settings, or the in-memory tenant), one
exchange over it, and the calendar and directory gateways on top."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from bridge.config import Settings
from bridge.graph._http import HttpTransport, pooled_session
from bridge.graph.auth import Credentials, OutcomeHandler, TokenSource
from bridge.graph.calendar import CalendarGateway
from bridge.graph.directory import Directory
from bridge.graph.exchange import Exchange
from bridge.graph.wire import Transport


class Tokens(Protocol):
    """App-only tokens of a tenant (:class:`bridge.graph.auth.TokenSource`)."""

    on_outcome: OutcomeHandler | None  # told each credential's outcome (bridge.trust.credentials)

    def token(self, tenant_id: str) -> str: ...

    def forget(self, tenant_id: str) -> None: ...


class Graph:
    """The Graph-facing services one process shares across its threads."""

    def __init__(self, tokens: Tokens, transport: Transport, sleep: Callable[[float], None] = time.sleep) -> None:
        self.tokens = tokens
        self._exchange = Exchange(transport, sleep)
        self.calendar = CalendarGateway(self._exchange)
        self.directory = Directory(self._exchange)

    @classmethod
    def from_settings(cls, settings: Settings, sleep: Callable[[float], None] = time.sleep) -> Graph:
        """Graph over HTTPS as the settings say; ``sleep`` waits out ``Retry-After`` (tests record it)."""
        verify: str | bool = settings.ca_bundle or True
        session = pooled_session(settings.worker_concurrency, verify)
        tokens = TokenSource(
            Credentials(client_id=settings.client_id, authority_url=settings.authority_url,
                        secret=settings.client_secret, cert_path=settings.client_cert_path,
                        cert_thumbprint=settings.client_cert_thumbprint),
            session,
            next_credentials=_next_credentials(settings),
        )
        return cls(tokens, HttpTransport(settings.graph_url, tokens, session), sleep)

    def close(self) -> None:
        """Close the pooled connections."""
        self._exchange.close()


def _next_credentials(settings: Settings) -> Credentials | None:
    """The second credential of a rotation (tried first), when one is configured."""
    if not (settings.client_secret_next or settings.client_cert_path_next):
        return None
    return Credentials(client_id=settings.client_id, authority_url=settings.authority_url,
                       secret=settings.client_secret_next, cert_path=settings.client_cert_path_next,
                       cert_thumbprint=settings.client_cert_thumbprint_next)
