"""Signed requests from the LMS (hooks, feed addresses, user states, launches): the body read within its
limit, its signature proven before anything is parsed, the signer's account matched with the body's,
and the answers to a refused one.

The signature is HMAC-SHA256 over ``"<timestamp>.<raw body>"`` (docs/HOST-CONTRACT.md §2;
:mod:`plugin.signing`) with the secret of the key ``X-Hook-Key`` names, which belongs to one account
(:mod:`bridge.accounts.host_keys`), or, when it names none, with the shared ``OUTLOOK_SYNC_HOST_SECRET``,
which opens only the accounts that have no key of their own.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NoReturn, TypeVar

from flask import Blueprint, request
from flask.typing import ResponseReturnValue
from marshmallow import Schema, ValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge

from bridge import metrics
from bridge.accounts import host_keys
from bridge.accounts.request_ids import Repeated
from bridge.models import utcnow
from plugin.contract.schemas import ROOT, HookError, flatten
from plugin.limits import MAX_BODY_BYTES
from plugin.services import services
from plugin.signing import KEY_HEADER, MAX_SKEW_SECONDS, SignatureError, StaleTimestamp, key_id, verify

RETRY_AFTER_SECONDS = 30
# A request id is kept until its timestamp can no longer pass: it may be up to the skew ahead of the
# clock when first served, and passes until the skew after it (plus a minute of margin).
REQUEST_MEMORY = timedelta(seconds=2 * MAX_SKEW_SECONDS + 60)

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Signer:
    """Who signed: the ``key`` id and its ``account``, or both None for the shared host secret."""

    key: str | None
    account: str | None

    def __str__(self) -> str:
        return "the shared host secret" if self.key is None else f"key {self.key} of account {self.account!r}"


class DatabaseUnavailable(Exception):
    """The store could not be reached to check or act on the request; nothing was stored (503, retry)."""


class WrongAccount(Exception):
    """A proven signature by a signer that may not act for an account the request names."""

    def __init__(self, signer: Signer, accounts: Collection[str]) -> None:
        self.signer, self.accounts = signer, sorted(accounts)
        names = ", ".join(repr(a) for a in self.accounts)
        super().__init__(f"{signer} may not sign for account {names}" if signer.key is not None
                         else f"account {names} has its own host key, so the shared secret no longer signs for it: "
                              f"sign with a working key of that account and name it in {KEY_HEADER} "
                              "(outlook-sync host-key create makes one; revoking the last key does not bring "
                              "the shared secret back)")


def signer_secret(key: str | None, db: Session | None = None) -> tuple[Signer, str]:
    """The signer a request or launch names (``key``: its ``X-Hook-Key``) and the secret to check it with,
    read in ``db`` (the caller's transaction) or, without it, in a transaction of its own.

    Raises :class:`SignatureError` for a key that is unknown, revoked, past its overlap or unreadable.
    """
    if key is None:
        return Signer(None, None), services().settings.host_secret
    with _checks(db) as session:
        found = host_keys.working_secret(session, services().settings.secret_key, key, utcnow())
    if found is None:
        raise SignatureError(f"{KEY_HEADER} names no working key")
    return Signer(key, found[0]), found[1]


def admit(signer: Signer, accounts: Collection[str], db: Session | None = None) -> None:
    """Raise :class:`WrongAccount` unless ``signer`` may act for every one of ``accounts``: a key for its
    own account only, the shared secret for accounts that have no key of their own (read in ``db``, the
    caller's transaction, or without it in a transaction of its own)."""
    if signer.account is not None:
        others = set(accounts) - {signer.account}
    else:
        with _checks(db) as session:
            others = host_keys.with_own_keys(session, accounts)
    if others:
        raise WrongAccount(signer, others)


@contextmanager
def _checks(db: Session | None) -> Iterator[Session]:
    """``db`` when the caller's transaction is given (its errors are the caller's), else :func:`_store`."""
    if db is not None:
        yield db
    else:
        with _store() as session:
            yield session


@contextmanager
def _store() -> Iterator[Session]:
    """A session for the checks; a lost database is :class:`DatabaseUnavailable` (503), not a 500."""
    try:
        with services().database.session() as db:
            yield db
    except (OperationalError, InterfaceError) as error:
        raise DatabaseUnavailable from error
    except DBAPIError as error:
        if error.connection_invalidated:
            raise DatabaseUnavailable from error
        raise


def signed_request(load: Callable[[Any], T], accounts: Callable[[T], Collection[str]],
                   db: Session | None = None) -> T:
    """The request's body once proven and admitted: 413 past the limit, 401 unless signed (before any
    parsing), 400 unless ``load`` takes the JSON (a :class:`HookError`), 403 when the signer may not
    act for the ``accounts`` the loaded body names.

    With ``db`` the key and account checks run in that session, the caller's one transaction (which
    then maps its own database errors); without it, each in a transaction of its own.
    """
    body, headers = _body(), dict(request.headers)
    signer, secret = signer_secret(key_id(headers), db)
    verify(secret, headers, body, time.time())
    try:
        obj = json.loads(body, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        raise HookError({ROOT: [f"Not valid JSON: {error}"]}, "invalid JSON") from None
    loaded = load(obj)
    admit(signer, accounts(loaded), db)
    return loaded


def signed_load(schema: Schema, message: str = "invalid request") -> Any:
    """A signed call about one account (its ``account`` field), loaded by a schema; as :func:`signed_request`."""

    def load(obj: Any) -> Any:
        try:
            return schema.load(obj)
        except ValidationError as error:
            raise HookError(flatten(error.messages), message) from None

    return signed_request(load, lambda loaded: [loaded["account"]])


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


def register_refusals(bp: Blueprint) -> None:
    """Answer the refusals of signed requests on ``bp``: 401 unsigned, 403 another account's, 409 a repeat,
    400 invalid."""
    bp.register_error_handler(SignatureError, _unauthorized)
    bp.register_error_handler(WrongAccount, _forbidden)
    bp.register_error_handler(Repeated, _repeated)
    bp.register_error_handler(HookError, _invalid)
    bp.register_error_handler(DatabaseUnavailable, _unavailable)


def _unauthorized(error: SignatureError) -> ResponseReturnValue:
    """401 for a request whose signature or timestamp is refused (counted, logged at DEBUG only)."""
    log.debug("refused an unsigned request: %s", error)  # at DEBUG: anyone can send these
    metrics.hook_refused("stale_timestamp" if isinstance(error, StaleTimestamp) else "bad_signature")
    return {"error": str(error)}, 401


def _forbidden(error: WrongAccount) -> ResponseReturnValue:
    """403 for a proven signature that may not act for the account named (counted, logged as a refusal)."""
    log_wrong_account(error)
    return {"error": str(error)}, 403


def log_wrong_account(error: WrongAccount) -> None:
    """Log and count a request (or launch) refused for its account: a holder of a real secret tried
    another account's data. The key id is named; a secret never is."""
    log.warning("refused %s %s for account %s: signed with %s", request.method, request.path,
                ", ".join(repr(a) for a in error.accounts), error.signer)
    metrics.hook_refused("wrong_account")


def _repeated(error: Repeated) -> ResponseReturnValue:
    """409 for a request id served before: the request was not acted on again."""
    metrics.hook_refused("repeated_request")
    return {"error": str(error), "request_id": error.request_id}, 409


def _unavailable(error: DatabaseUnavailable) -> ResponseReturnValue:
    metrics.hook_refused("database_unavailable")
    body = {"error": "database unavailable; nothing was stored, retry later"}
    return body, 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}


def _invalid(error: HookError) -> ResponseReturnValue:
    """400 with the field errors of a signed body that is not valid (nothing was stored)."""
    metrics.hook_refused("invalid_body")
    return {"error": error.message, "fields": error.fields}, 400
