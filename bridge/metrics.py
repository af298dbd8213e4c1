"""Prometheus metrics: every metric the plugin exports is defined here, in one place.

Counters and histograms are process-local objects of ``prometheus_client``; under ``outlook-sync
serve`` every process (each gunicorn worker and the sync worker) writes them to files in
``PROMETHEUS_MULTIPROC_DIR`` and a scrape of ``/metrics`` in any process adds them up. The gauges
(work waiting, its oldest age, accounts by state) are not kept here: they are read from the database
when scraped (:mod:`bridge.accounts.gauges`, which also builds the scrape), so every process answers
the same. This module keeps counters only and imports nothing that reads the database.

No label carries an identifier (no account, user, address or tenant): only topics, outcomes,
reasons, methods and status codes, so the values are counts and nothing else.
"""
from __future__ import annotations

import functools
import os
from datetime import datetime
from typing import Any

from prometheus_client import Counter, Histogram, multiprocess

from bridge.models import utcnow

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

HOOKS = Counter("outlook_sync_hooks", "Hook deliveries by topic and outcome (applied, duplicate, stale)",
                ["topic", "outcome"])
HOOKS_REFUSED = Counter("outlook_sync_hooks_refused", "Hook requests refused, by reason "
                        "(bad_signature, stale_timestamp, wrong_account, repeated_request, too_large, invalid_body, "
                        "database_unavailable)", ["reason"])
HOOK_INGEST = Histogram("outlook_sync_hook_ingest_seconds", "Time to answer a hook request (check, validate, store)",
                        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
PASSES = Counter("outlook_sync_passes", "Reconcile passes of a user, by outcome "
                 "(synced, skipped, failed, retry, gave_up, suspended)", ["outcome"])
GRAPH_WRITES = Counter("outlook_sync_graph_writes", "Graph writes (create, update, delete), by method and outcome",
                       ["method", "outcome"])
GRAPH_REQUESTS = Counter("outlook_sync_graph_requests", "HTTP requests to Graph, by method and status code "
                         "(or timeout, connection_error)", ["method", "status"])
THROTTLED = Counter("outlook_sync_graph_throttled", "Graph answers 429 (a request or one write of a $batch)")
THROTTLE_WAIT = Counter("outlook_sync_graph_throttle_wait_seconds",
                        "Seconds Graph's 429s asked to wait (Retry-After), waited in the queue")
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


def graph_write(method: str, outcome: str) -> None:
    """Count one write to a calendar by its HTTP method and outcome (``ok``, or the kind of Graph
    error: :func:`bridge.graph.errors.outcome_of`)."""
    _write_counter(method, outcome).inc()


@functools.cache  # one child per (method, outcome): a handful; labels() looks it up under a lock each time
def _write_counter(method: str, outcome: str) -> Any:
    return GRAPH_WRITES.labels(method=_WRITE_METHODS.get(method, method.lower()), outcome=outcome)


def throttled() -> None:
    """Count one 429 from Graph (a request, or one write of a ``$batch``)."""
    THROTTLED.inc()


def waited(seconds: float) -> None:
    """Add the seconds a 429 of Graph asked to wait (its user waits them in the queue, not a thread)."""
    THROTTLE_WAIT.inc(max(0.0, seconds))


def settled(outcome: str, marked_at: datetime | None, now: datetime | None = None) -> None:
    """Count a user's pass by outcome and, when known, the time since the user was marked."""
    _pass_counter(outcome).inc()
    if marked_at is not None:
        CHANGE_TO_OUTLOOK.observe(max(0.0, ((now or utcnow()) - marked_at).total_seconds()))


@functools.cache  # one child per outcome (PassOutcome's few)
def _pass_counter(outcome: str) -> Any:
    return PASSES.labels(outcome=outcome)


def process_exited(pid: int) -> None:
    """Multiprocess bookkeeping when a process that wrote metrics has exited."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(pid)
