"""The calendar feeds: ``GET /feeds/<token>.ics`` for calendar apps, and the host's signed call
``POST /feeds/address`` that makes (or rotates, or revokes) a user's feed address.

The plugin keeps only a hash of each token, so an address is returned once, when it is made: the
LMS keeps it (it is the user's secret), or rotates it for a new one, and the old one stops working.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from bridge.accounts import request_ids
from bridge.feeds import service as feed_service
from bridge.feeds import store as feed_store
from bridge.models import utcnow
from plugin.contract.feed_schemas import Address, AddressRequest
from plugin.host import FEED_ADDRESS_PATH
from plugin.services import services
from plugin.signed import REQUEST_MEMORY, register_refusals, signed_load

CACHE_CONTROL = "private, no-cache"  # clients may keep it, and ask again with If-None-Match

bp = Blueprint("feeds", __name__)
register_refusals(bp)


@bp.get("/feeds/<path:name>")
def calendar(name: str) -> ResponseReturnValue:
    """The user's sessions as iCalendar at ``/feeds/<token>.ics``; 304 when ``If-None-Match`` holds the
    current ETag. Every other name under ``/feeds/`` is looked up just the same (as a string no token
    equals: tokens hold no "/"), so whatever is asked, a miss costs one look-up by hash."""
    token = name.removesuffix(".ics") if name.endswith(".ics") else "/" + name
    answer = feed_service.fetch(services().database, token, request.if_none_match.contains_weak, utcnow())
    if answer is None:
        return _plain(404, _("No calendar at this address. Ask the LMS for your current calendar address.") + "\n")
    response = Response(answer.body or b"", 200 if answer.body is not None else 304,
                        content_type="text/calendar; charset=utf-8")
    response.set_etag(answer.etag)
    return _private(response)


@bp.post(FEED_ADDRESS_PATH)
def address() -> ResponseReturnValue:
    """Make, rotate or revoke a user's feed address, for the LMS to show or send to them; a repeated
    ``request_id`` is answered 409 and changes nothing."""
    asked: dict[str, Any] = signed_load(AddressRequest())
    account, user_id, action = asked["account"], asked["user_id"], asked["action"]
    now = utcnow()
    token: str | None = None
    with services().database.session() as db:
        request_ids.record_once(db, account, asked["request_id"], now + REQUEST_MEMORY)
        offer = feed_store.offer_for(db, account, user_id)
        if offer is None:
            return {"error": "no such user in this account"}, 404
        if action == "revoke":
            feed_store.revoke(db, account, user_id)
        elif offer.offered and (action == "rotate" or feed_store.issued_at(db, account, user_id) is None):
            token = feed_store.issue(db, account, user_id, now)
        issued = feed_store.issued_at(db, account, user_id)
    url = feed_url(services().settings.public_url, token) if token else None
    return Address().dump({"user_id": user_id, "offered": offer.offered, "reason": offer.reason, "url": url,
                           "webcal_url": _webcal(url), "issued_at": issued})


def feed_url(public_url: str, token: str) -> str:
    """The https address of the feed a token opens."""
    return f"{public_url.rstrip('/')}/feeds/{token}.ics"


def _webcal(url: str | None) -> str | None:
    return None if url is None else "webcal://" + url.split("://", 1)[1]


def _plain(status: int, text: str) -> Response:
    return _private(Response(text, status, content_type="text/plain; charset=utf-8"))


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


