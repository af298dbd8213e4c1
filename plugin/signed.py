"""Signed requests from the LMS (hooks, feed addresses): the body read within its limit, its
signature proven before anything is parsed, and the answers to a refused one.

The signature is HMAC-SHA256 over ``"<timestamp>.<raw body>"`` with the host secret
(docs/HOST-CONTRACT.md §2; :mod:`plugin.signing`).
"""
from __future__ import annotations

import json
import logging
import time
from typing import Any, NoReturn

from flask import request
from flask.typing import ResponseReturnValue
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from bridge import metrics
from plugin.contract.schemas import ROOT, HookError, flatten
from plugin.limits import MAX_BODY_BYTES
from plugin.services import services
from plugin.signing import SignatureError, StaleTimestamp, verify

log = logging.getLogger(__name__)


def signed_json() -> Any:
    """The request's JSON, once its signature is proven (401 otherwise, before any parsing)."""
    body = _body()
    verify(services().settings.host_secret, dict(request.headers), body, time.time())
    try:
        return json.loads(body, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        raise HookError({ROOT: [f"Not valid JSON: {error}"]}, "invalid JSON") from None


def signed_load(schema: Schema, message: str = "invalid request") -> Any:
    """The request's JSON once signed (401 otherwise), loaded by a schema (400 with the fields otherwise)."""
    try:
        return schema.load(signed_json())
    except ValidationError as error:
        raise HookError(flatten(error.messages), message) from None


def _body() -> bytes:
    """The raw body, refused with 413 past :data:`MAX_BODY_BYTES` before its signature is looked at.

    A ``Content-Length`` over the limit is refused by Werkzeug (``MAX_CONTENT_LENGTH``). A chunked
    body has none, and Werkzeug's stream would end it quietly at the limit, so it is read here up to
    one byte past the limit.
    """
    if request.content_length is not None or not request.environ.get("wsgi.input_terminated"):
        return request.get_data(cache=False)
    stream, body = request.environ["wsgi.input"], bytearray()
    while len(body) <= MAX_BODY_BYTES:
        chunk = stream.read(min(65536, MAX_BODY_BYTES + 1 - len(body)))
        if not chunk:
            break
        body += chunk
    if len(body) > MAX_BODY_BYTES:
        raise RequestEntityTooLarge()
    return bytes(body)


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def unauthorized(error: SignatureError) -> ResponseReturnValue:
    """401 for a request whose signature or timestamp is refused (counted, logged at DEBUG only)."""
    log.debug("refused an unsigned request: %s", error)  # at DEBUG: anyone can send these
    metrics.hook_refused("stale_timestamp" if isinstance(error, StaleTimestamp) else "bad_signature")
    return {"error": str(error)}, 401


def invalid(error: HookError) -> ResponseReturnValue:
    """400 with the field errors of a signed body that is not valid (nothing was stored)."""
    metrics.hook_refused("invalid_body")
    return {"error": error.message, "fields": error.fields}, 400
