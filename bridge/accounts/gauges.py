"""The gauges of ``/metrics``, read from the database at scrape time, and the scrape itself.

Counters live in :mod:`bridge.metrics` (every process writes its own); the gauges here — work waiting,
its oldest age, accounts by connection state — are read afresh at each scrape, so any process, after
any restart, answers the same.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import InterfaceError, OperationalError

from bridge.accounts import status
from bridge.codes import ConnectionState
from bridge.db import Database
from bridge.metrics import MULTIPROC_ENV
from bridge.models import utcnow


class DatabaseCollector(Collector):
    """Gauges read from the database at scrape time: right in any process, after any restart.

    An unreachable database gives ``outlook_sync_database_up 0`` and none of the other gauges.
    """

    def __init__(self, database: Database) -> None:
        self._database = database

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            with self._database.session() as session:
                backlog = status.backlog(session, utcnow())
        except (OperationalError, InterfaceError):
            yield GaugeMetricFamily("outlook_sync_database_up", "Whether the database answered this scrape", value=0)
            return
        yield GaugeMetricFamily("outlook_sync_database_up", "Whether the database answered this scrape", value=1)
        yield GaugeMetricFamily("outlook_sync_work_waiting", "Users waiting for a pass in connected or "
                                "disconnecting accounts", value=backlog.waiting)
        yield GaugeMetricFamily("outlook_sync_work_oldest_age_seconds",
                                "How long the longest-waiting user that is due has waited (0 if none)",
                                value=backlog.oldest_age)
        accounts = GaugeMetricFamily("outlook_sync_accounts", "Accounts by connection state", labels=["state"])
        for state in ConnectionState:
            accounts.add_metric([state], backlog.accounts.get(state, 0))
        yield accounts


class _Default(Collector):
    """The process's own registry, for a process that is not in multiprocess mode (tests, one process)."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def _registry(database: Database) -> CollectorRegistry:
    """Every process's counters (multiprocess mode) or this process's, and the database gauges."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_Default())
    registry.register(DatabaseCollector(database))
    return registry


def exposition(database: Database) -> bytes:
    """The text of one scrape (``/metrics`` of the web app)."""
    return generate_latest(_registry(database))


def serve_http(database: Database, host: str, port: int) -> None:
    """Answer scrapes at ``http://host:port/metrics`` from a background thread (a worker run on its own)."""
    start_http_server(port, addr=host, registry=_registry(database))


