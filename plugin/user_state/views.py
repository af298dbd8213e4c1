"""``POST /users/state``, signed like the hooks: one user's sync state and its reason, in plain words in
the user's language, and whether a calendar feed is offered (docs/HOST-CONTRACT.md §6).

The LMS shows this on the user's own page. The account comes from the signed body only, and a user is
looked up in that account only: a user of another account is "no such user", whatever their id.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, g
from flask.typing import ResponseReturnValue
from flask_babel import force_locale

from bridge import i18n as languages
from bridge.accounts import request_ids, standing
from bridge.feeds import store as feed_store
from bridge.models import utcnow
from plugin.contract.user_state_schemas import UserStateAnswer, UserStateRequest
from plugin.host import USER_STATE_PATH
from plugin.i18n import select_locale
from plugin.services import services
from plugin.signed import REQUEST_MEMORY, register_refusals, signed_load
from plugin.user_state import words

bp = Blueprint("user_state", __name__)
register_refusals(bp)


@bp.post(USER_STATE_PATH)
def user_state() -> ResponseReturnValue:
    """Where one user stands; 404 when the account has no such user, 409 for a repeated ``request_id``."""
    asked: dict[str, Any] = signed_load(UserStateRequest())
    account, user_id = asked["account"], asked["user_id"]
    with services().database.session() as db:
        request_ids.record_once(db, account, asked["request_id"], utcnow() + REQUEST_MEMORY)
        found = standing.load(db, account, user_id)
        offer = feed_store.offer_for(db, account, user_id) if found is not None else None
        if found is None or offer is None:
            return {"error": "no such user in this account"}, 404
        issued = feed_store.issued_at(db, account, user_id)
    g.locale_account = account  # no page session here: the account's language comes after the asked one
    locale = languages.supported(asked["locale"]) or select_locale()
    with force_locale(locale):
        message, reason_text = words.message(found), words.reason_text(found)
    return UserStateAnswer().dump({
        "user_id": user_id, "connection": found.connection, "state": found.state, "reason": found.reason,
        "reaches_outlook": found.reaches_outlook, "entries": found.entries, "changed_at": found.changed_at,
        "locale": locale, "message": message, "reason_text": reason_text,
        "feed": {"offered": offer.offered, "reason": offer.reason, "issued_at": issued}})
