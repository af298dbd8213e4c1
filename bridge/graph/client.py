"""Wiring of the Graph side: one transport (HTTPS from settings, or the in-memory tenant), one
exchange over it, and the calendar and directory gateways on top."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from bridge.codes import AccessGrant
from bridge.config import Settings
from bridge.graph._http import HttpTransport, graph_pool, pooled_session
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
    """The Graph-facing services one process shares across its threads.

    ``scoped`` is the same services for the second app registration, the one an account that grants
    "only the LMS's people" consents to (it asks only for directory permissions: application permissions
    are fixed per registration, facts.md "RBAC for Applications"); :meth:`under` picks by the grant.
    """

    def __init__(self, tokens: Tokens, transport: Transport, sleep: Callable[[float], None] = time.sleep,
                 scoped: Graph | None = None) -> None:
        self.tokens = tokens
        self._exchange = Exchange(transport, sleep)
        self.calendar = CalendarGateway(self._exchange)
        self.directory = Directory(self._exchange)
        self._scoped = scoped

    def under(self, grant: AccessGrant) -> Graph:
        """The services of the registration ``grant`` is consented to: the scoped one for
        :attr:`AccessGrant.EXCHANGE_SCOPE` when configured (else this one: the in-memory tenant and an
        installation without a second registration have one app)."""
        return self._scoped if grant is AccessGrant.EXCHANGE_SCOPE and self._scoped is not None else self

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
        scoped = None
        if settings.scoped_client_id:
            scoped_session = pooled_session(settings.worker_concurrency, verify)
            scoped_tokens = TokenSource(Credentials(client_id=settings.scoped_client_id,
                                                    authority_url=settings.authority_url,
                                                    secret=settings.scoped_client_secret), scoped_session)
            scoped = cls(scoped_tokens, HttpTransport(settings.graph_url, scoped_tokens,
                                                      graph_pool(settings.worker_concurrency, verify)), sleep)
        return cls(tokens, HttpTransport(settings.graph_url, tokens, graph_pool(settings.worker_concurrency, verify)),
                   sleep, scoped)

    def close(self) -> None:
        """Close the pooled connections."""
        self._exchange.close()
        if self._scoped is not None:
            self._scoped.close()


def _next_credentials(settings: Settings) -> Credentials | None:
    """The second credential of a rotation (tried first), when one is configured."""
    if not (settings.client_secret_next or settings.client_cert_path_next):
        return None
    return Credentials(client_id=settings.client_id, authority_url=settings.authority_url,
                       secret=settings.client_secret_next, cert_path=settings.client_cert_path_next,
                       cert_thumbprint=settings.client_cert_thumbprint_next)
