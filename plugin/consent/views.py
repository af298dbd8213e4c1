"""The admin-consent callback: where Azure AD sends the administrator after Accept (or Cancel).

No launch is needed: the Azure AD administrator is often someone else, in another browser. The
single-use ``state`` (:mod:`bridge.accounts.consent`) says which LMS account the answer is for, so a
session for another account changes nothing here. The answer's tenant is only a claim until Connect
integration proves it (:func:`bridge.accounts.consent.consent_callback`). Each outcome is a page in plain
words that says what happens next and how to get back to the LMS.
"""
from __future__ import annotations

import contextlib
import re

from flask import Blueprint, g, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from bridge.accounts import consent
from bridge.codes import ConsentReason
from bridge.models import utcnow
from plugin import launch, words
from plugin.headers import protect
from plugin.services import services

# The callback's parameters as Azure AD sends them; anything else is dropped before the database.
_STATE = re.compile(r"[A-Za-z0-9_-]{16,64}")
_TENANT = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]{0,63}")
# Each outcome's HTTP status.
STATUS: dict[str, int] = {ConsentReason.ACCEPTED: 200, ConsentReason.DECLINED: 200, ConsentReason.INCOMPLETE: 400,
          ConsentReason.EXPIRED: 410, ConsentReason.USED: 409, ConsentReason.SUPERSEDED: 410,
          ConsentReason.UNKNOWN: 400, ConsentReason.WRONG_TENANT: 409, ConsentReason.ALREADY_CONNECTED: 409}

bp = protect(Blueprint("outlook_consent", __name__, url_prefix="/integrations/outlook"))


@bp.get("/consent")
def callback() -> ResponseReturnValue:
    args = request.args
    state, tenant = args.get("state", ""), args.get("tenant", "").strip()
    params = {
        "admin_consent": args.get("admin_consent", ""),
        "state": state if _STATE.fullmatch(state) else "",
        "tenant": tenant if _TENANT.fullmatch(tenant) else "",
        "error": _clean(args.get("error", ""), 100),
        "error_description": _clean(args.get("error_description", ""), 500),
    }
    with services().database.session() as db:
        result = consent.consent_callback(db, params, utcnow())
    g.locale_account = result.account_id  # without the page's session: the account's language
    title, text = words.CONSENT_RESULTS[result.kind]
    viewer = None
    with contextlib.suppress(launch.AccessEnded):  # this page needs no session: an ended one is no one
        viewer = launch.current()
    same_account = viewer is not None and result.account_id is not None and viewer.account == result.account_id
    return render_template(
        "consent.html", kind=result.kind, title=title, text=text, tenant=result.tenant_id,
        detail=result.detail, error=params["error"], same_account=same_account,
        manager=same_account and viewer is not None and viewer.manages,
        where=_where(),
    ), STATUS[result.kind]


def _clean(value: str, limit: int) -> str:
    """Azure AD's error words, without control characters, and short."""
    return "".join(c for c in value if c.isprintable())[:limit]


def _where() -> str:
    page = services().manifest.settings_page
    if page.section == "integrations":
        return _("Settings \u2192 Integrations \u2192 %(title)s", title=page.title)
    return _("Settings \u2192 %(section)s \u2192 %(title)s", section=page.section.capitalize(), title=page.title)
