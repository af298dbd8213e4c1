"""The hook endpoints: check the signature, validate everything, and store, all in one transaction.

Nothing is stored unless the whole request is signed and valid, and a database failure rolls the
whole request back and answers 503 with ``Retry-After``, so the host's retry finishes the job.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from flask import Blueprint, g, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from bridge import logs, metrics
from bridge.codes import HookOutcome
from bridge.lms.ingest import apply_delivery
from plugin.contract import openapi
from plugin.contract.schemas import load_batch, load_delivery
from plugin.limits import MAX_BODY_BYTES
from plugin.services import services
from plugin.signed import DatabaseUnavailable, register_refusals, signed_request

log = logging.getLogger(__name__)
bp = Blueprint("hooks", __name__)


@bp.before_request
def _started() -> None:
    g.hook_started = time.perf_counter()


@bp.after_request
def _timed(response: Response) -> Response:
    """Every answer to a hook request, refusals included, counts in the ingest latency."""
    if request.method == "POST":
        metrics.HOOK_INGEST.observe(time.perf_counter() - g.hook_started)
    return response


@bp.post("/hooks")
def receive() -> ResponseReturnValue:
    with _transaction() as session:
        delivery = signed_request(load_delivery, _account, session)
        data = delivery["data"]
        user = data.get("user_id") or (data.get("id") if delivery["topic"].startswith("user.") else None)
        logs.add(account=delivery["account"], delivery=delivery["id"], user=user)
        outcome = apply_delivery(session, delivery)
    metrics.hook(delivery["topic"], outcome.value)
    return {"id": delivery["id"], "status": outcome.value}, _status([outcome])


@bp.post("/hooks/batch")
def receive_batch() -> ResponseReturnValue:
    with _transaction() as session:
        deliveries = signed_request(load_batch, _accounts, session)
        outcomes = [apply_delivery(session, delivery) for delivery in deliveries]
    for delivery, outcome in zip(deliveries, outcomes, strict=True):
        metrics.hook(delivery["topic"], outcome.value)
    results = [{"id": d["id"], "status": o.value} for d, o in zip(deliveries, outcomes, strict=True)]
    return {"results": results}, _status(outcomes)


@bp.get("/hooks/openapi.json")
def openapi_document() -> ResponseReturnValue:
    return openapi.document(services().manifest.version)


def _account(delivery: dict[str, Any]) -> list[str]:
    return [delivery["account"]]


def _accounts(deliveries: Sequence[dict[str, Any]]) -> set[str]:
    return {delivery["account"] for delivery in deliveries}


@contextmanager
def _transaction() -> Iterator[Session]:
    """The request's one transaction: the signer's key and accounts checked, the delivery ids recorded,
    the changes applied and their users marked dirty, committed once (or nothing, on any refusal).

    A database failure is :class:`DatabaseUnavailable` (503, the host retries) when a retry may clear it.
    """
    try:
        with services().database.session() as session:
            yield session
    except DBAPIError as error:
        # Lost connections, locks and a concurrent copy of the same delivery clear on retry.
        retryable = isinstance(error, OperationalError | InterfaceError | IntegrityError)
        if retryable or error.connection_invalidated:
            log.warning("hooks: database unavailable (%s); asked the host to retry", type(error).__name__)
            raise DatabaseUnavailable from error
        raise


def _status(outcomes: Sequence[HookOutcome]) -> int:
    return 202 if HookOutcome.APPLIED in outcomes else 200


register_refusals(bp)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge) -> ResponseReturnValue:
    metrics.hook_refused("too_large")
    return {"error": f"body larger than {MAX_BODY_BYTES} bytes"}, 413
