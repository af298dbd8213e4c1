"""Wiring of the Graph side from settings: one pooled session, tokens, calendar, directory."""
from __future__ import annotations

from dataclasses import dataclass

from bridge.config import Settings
from bridge.graph.auth import Credentials, TokenSource
from bridge.graph.calendar import CalendarGateway
from bridge.graph.directory import Directory
from bridge.graph.http import GraphHttp, pooled_session


@dataclass
class Graph:
    """The Graph-facing services one process shares across its threads."""

    tokens: TokenSource
    http: GraphHttp
    calendar: CalendarGateway
    directory: Directory

    @classmethod
    def from_settings(cls, settings: Settings) -> Graph:
        verify: str | bool = settings.ca_bundle or True
        session = pooled_session(settings.worker_concurrency, verify)
        tokens = TokenSource(
            Credentials(client_id=settings.client_id, authority_url=settings.authority_url,
                        secret=settings.client_secret, cert_path=settings.client_cert_path,
                        cert_thumbprint=settings.client_cert_thumbprint),
            session,
            next_credentials=_next_credentials(settings),
        )
        http = GraphHttp(settings.graph_url, tokens, session)
        return cls(tokens=tokens, http=http, calendar=CalendarGateway(http), directory=Directory(http))


def _next_credentials(settings: Settings) -> Credentials | None:
    """The second credential of a rotation (tried first), when one is configured."""
    if not (settings.client_secret_next or settings.client_cert_path_next):
        return None
    return Credentials(client_id=settings.client_id, authority_url=settings.authority_url,
                       secret=settings.client_secret_next, cert_path=settings.client_cert_path_next,
                       cert_thumbprint=settings.client_cert_thumbprint_next)
