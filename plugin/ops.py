"""What operators and their monitoring call: liveness, readiness and Prometheus metrics.

``/healthz`` says the process answers (it never touches the database, so a database outage does not
make a supervisor restart healthy processes); ``/readyz`` says whether it can do its work now (the
database answers and its schema is at the current revision), 503 with the reason otherwise;
``/metrics`` is the Prometheus text exposition of :mod:`bridge.metrics`. None of them needs a
session or shows an identifier or a secret: counts and states only.

``/readyz`` and ``/metrics`` still tell account counts by state, hook traffic and Graph error rates, so
they are served by the operators' app only (:func:`plugin.app.create_ops_app`, which ``outlook-sync
serve`` puts on its own listener, ``--ops-host``/``--ops-port``); the public app answers ``/healthz``
alone (:data:`public`), which says nothing but that the process answers.
"""
from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.exc import DBAPIError

from bridge.accounts import gauges
from bridge.migrate import schema_problem
from plugin.services import services

bp = Blueprint("ops", __name__)
public = Blueprint("health", __name__)


@public.get("/healthz")
@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Liveness: 200 while the process answers requests."""
    return {"status": "ok", "version": services().manifest.version}


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    """Readiness: 200 when the database answers at the current schema, else 503 and the reason."""
    try:
        problem = schema_problem(services().database.engine)
    except DBAPIError as error:
        problem = f"database unreachable ({type(error.orig or error).__name__}): check OUTLOOK_SYNC_DATABASE_URL"
    if problem:
        return {"status": "unavailable", "reason": problem}, 503
    return {"status": "ready", "version": services().manifest.version}


@bp.get("/metrics")
def prometheus() -> ResponseReturnValue:
    """Every process's counters and the database's gauges, for a Prometheus scrape."""
    return gauges.exposition(services().database), 200, {"Content-Type": CONTENT_TYPE_LATEST}
