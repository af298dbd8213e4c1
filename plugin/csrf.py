"""CSRF protection of the page's forms: every POST carries the session's token.

A launch starts the session with a fresh token (:func:`renew`); each form has it in a hidden
``csrf_token`` field (the template global ``csrf_token()``), and :func:`check` refuses a POST whose
token is missing or another's. It never depends on the cookie's SameSite (see :mod:`plugin.launch`).
"""
from __future__ import annotations

import hmac
import secrets

from flask import Flask, request, session
from flask_babel import lazy_gettext as _l

from plugin.refusals import refuse

SESSION_KEY = "csrf"
FIELD = "csrf_token"
BAD_FORM = (_l("The form has expired"),
            _l("The form's security token is missing or out of date, so nothing was changed. "
               "Reload the page and try again."))


def init_app(app: Flask) -> None:
    """Give the templates ``csrf_token()``, the session's token for a form's hidden field."""
    app.add_template_global(token, "csrf_token")


def renew() -> None:
    """Give the session a new token (a launch does: a new session never keeps an old token)."""
    session[SESSION_KEY] = secrets.token_urlsafe(32)


def token() -> str:
    """The session's token (made now if the session has none)."""
    value = session.get(SESSION_KEY)
    if not isinstance(value, str):
        renew()
        value = session[SESSION_KEY]
    return str(value)


def check() -> None:
    """Refuse a POST whose ``csrf_token`` field is not the session's token (400, nothing changed)."""
    expected, sent = session.get(SESSION_KEY), request.form.get(FIELD, "")
    if not (isinstance(expected, str) and sent
            and hmac.compare_digest(expected.encode(), sent.encode("utf-8", "replace"))):
        refuse(400, *BAD_FORM)
