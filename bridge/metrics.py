"""Prometheus metrics: every metric the plugin exports is defined here, in one place.

Counters and histograms are process-local objects of ``prometheus_client``; under ``outlook-sync
serve`` every process (each gunicorn worker and the sync worker) writes them to files in
``PROMETHEUS_MULTIPROC_DIR`` and a scrape of ``/metrics`` in any process adds them up. The gauges
(work waiting, its oldest age, accounts by state) are not kept in memory at all: they are read from
the database when scraped (:class:`DatabaseCollector`), so every process answers the same.

No label carries an identifier (no account, user, address or tenant): only topics, outcomes,
reasons, methods and status codes, so the values are counts and nothing else.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from datetime import datetime

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import InterfaceError, OperationalError

from bridge import status
from bridge.db import Database
from bridge.graph import errors
from bridge.models import utcnow

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

HOOKS = Counter("outlook_sync_hooks", "Hook deliveries by topic and outcome (applied, duplicate, stale)",
                ["topic", "outcome"])
HOOKS_REFUSED = Counter("outlook_sync_hooks_refused", "Hook requests refused, by reason "
                        "(bad_signature, stale_timestamp, too_large, invalid_body, database_unavailable)", ["reason"])
HOOK_INGEST = Histogram("outlook_sync_hook_ingest_seconds", "Time to answer a hook request (check, validate, store)",
                        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
PASSES = Counter("outlook_sync_passes", "Reconcile passes of a user, by outcome "
                 "(synced, skipped, failed, retry, gave_up, suspended)", ["outcome"])
GRAPH_WRITES = Counter("outlook_sync_graph_writes", "Graph writes (create, update, delete), by method and outcome",
                       ["method", "outcome"])
GRAPH_REQUESTS = Counter("outlook_sync_graph_requests", "HTTP requests to Graph, by method and status code "
                         "(or timeout, connection_error)", ["method", "status"])
THROTTLED = Counter("outlook_sync_graph_throttled", "Graph answers 429 (a request or one write of a $batch)")
THROTTLE_WAIT = Counter("outlook_sync_graph_throttle_wait_seconds", "Seconds spent waiting because Graph throttled")
CHANGE_TO_OUTLOOK = Histogram(
    "outlook_sync_change_to_outlook_seconds",
    "From a user being marked for sync (a hook, a page action or a periodic pass) to the outcome of their pass",
    buckets=(0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0))

_WRITE_METHODS = {"POST": "create", "PATCH": "update", "DELETE": "delete"}


def hook(topic: str, outcome: str) -> None:
    """Count one delivery applied, or acknowledged as duplicate or stale."""
    HOOKS.labels(topic=topic, outcome=outcome).inc()


def hook_refused(reason: str) -> None:
    """Count one refused hook request (the reason is one of a fixed few, never request text)."""
    HOOKS_REFUSED.labels(reason=reason).inc()


def graph_request(method: str, status: int | str) -> None:
    """Count one HTTP request to Graph by its answer's status code (or how it failed)."""
    GRAPH_REQUESTS.labels(method=method, status=str(status)).inc()


def graph_write(method: str, error: errors.GraphError | None) -> None:
    """Count one write to a calendar by its outcome: ``ok``, or the kind of Graph error."""
    GRAPH_WRITES.labels(method=_WRITE_METHODS.get(method, method.lower()), outcome=write_outcome(error)).inc()


def write_outcome(error: errors.GraphError | None) -> str:
    """``ok``, ``throttled``, ``transient`` (lost or 5xx: outcome unknown), ``not_found``,
    ``mailbox_unreachable``, ``auth_failed`` or ``bad_request``."""
    if error is None:
        return "ok"
    names = {errors.Throttled: "throttled", errors.Transient: "transient", errors.NotFound: "not_found",
             errors.MailboxUnreachable: "mailbox_unreachable", errors.AuthFailed: "auth_failed"}
    return next((name for kind, name in names.items() if isinstance(error, kind)), "bad_request")


def throttled() -> None:
    """Count one 429 from Graph (a request, or one write of a ``$batch``)."""
    THROTTLED.inc()


def waited(seconds: float) -> None:
    """Add seconds waited because Graph throttled."""
    THROTTLE_WAIT.inc(max(0.0, seconds))


def settled(outcome: str, marked_at: datetime | None, now: datetime | None = None) -> None:
    """Count a user's pass by outcome and, when known, the time since the user was marked."""
    PASSES.labels(outcome=outcome).inc()
    if marked_at is not None:
        CHANGE_TO_OUTLOOK.observe(max(0.0, ((now or utcnow()) - marked_at).total_seconds()))


class DatabaseCollector(Collector):
    """Gauges read from the database at scrape time: right in any process, after any restart.

    An unreachable database gives ``outlook_sync_database_up 0`` and none of the other gauges.
    """

    def __init__(self, database: Database) -> None:
        self._database = database

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from bridge.connection import STATES  # here: the Graph client (imported by connection) counts requests

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
        for state in STATES:
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


def process_exited(pid: int) -> None:
    """Multiprocess bookkeeping when a process that wrote metrics has exited."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(pid)
