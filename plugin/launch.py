"""Who is looking at the page: the launch from the LMS, the plugin's own session, CSRF and headers.

The LMS sends the browser to ``/integrations/outlook?launch=<token>`` (docs/HOST-CONTRACT.md). A valid token
(signed with the host secret, salt ``lms-launch``, at most 300 s old) replaces the session with the
account, user and role it names; the account comes from the session only, never from a form.

A token opens the page once (:mod:`bridge.accounts.launches`); a reload goes to the clean address, which the
session serves. The session ends after an hour without a request, or a working day after the launch;
a new launch renews it. Every request checks the viewer against the LMS replica: a user the LMS has
since deactivated or deleted has no session any more, and one whose role no longer manages the
integration gets a read-only page and 403 on every action.

The session cookie is HttpOnly and limited to ``/integrations/outlook``. Its SameSite depends on
where the plugin runs. Over https, it is ``None; Secure; Partitioned``. That is the only setting a
browser sends inside the LMS's cross-site iframe. CHIPS keeps the cookie to the LMS as the top
site. Over http (a local install, or the LMS on the same site), ``None`` is refused without
``Secure``, so the cookie is ``Lax``. CSRF protection never depends on SameSite: every POST
carries the session's token.
"""
from __future__ import annotations

import contextlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Blueprint, g, redirect, render_template, request, session, url_for
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.exceptions import HTTPException, default_exceptions
from werkzeug.wrappers import Response

from bridge import i18n as languages
from bridge.accounts import launches
from bridge.lms.ingest import ensure_account
from bridge.models import LmsUser
from plugin import i18n
from plugin.contract.manifest import MANAGE_CAPABILITY
from plugin.contract.schemas import ROLES
from plugin.host import LAUNCH_SALT
from plugin.services import EXTENSION, services

LAUNCH_MAX_AGE = 300
SESSION_MAX_AGE = 8 * 3600  # a launch lasts a working day at most; the LMS launches again after that
SESSION_IDLE = 3600  # an hour without a request ends the session
SEEN_RESOLUTION = 60  # the idle clock is moved (and the cookie re-sent) at most once a minute
COOKIE_PATH = "/integrations/outlook"
UI_BLUEPRINTS = ("outlook_launch", "outlook_page", "outlook_actions", "outlook_consent")
_ID = re.compile(r"[^\x00-\x1f\x7f]{1,128}")

bp = Blueprint("outlook_launch", __name__, static_folder="static",
               static_url_path="/integrations/outlook/static")

NO_SESSION = (_l("Open this page from the LMS"),
              _l("This page only opens from the LMS: go to Settings \u2192 Integrations \u2192 Microsoft "
                 "Outlook Calendar. If you came from there, your session has ended or your browser blocked "
                 "the page's cookie; open it again from the LMS."))
BAD_LAUNCH = (_l("This link from the LMS is not valid"),
              _l("The link was changed or was not made by this LMS. Open the page again from the LMS: "
                 "Settings \u2192 Integrations \u2192 Microsoft Outlook Calendar."))
USED_LAUNCH = (_l("This link from the LMS was already used"),
               _l("Each link from the LMS opens the page once. Open the page again from the LMS: "
                  "Settings \u2192 Integrations \u2192 Microsoft Outlook Calendar."))
ACCESS_ENDED = (_l("Your access has ended"),
                _l("The LMS says your account is no longer active, so this page is closed to you. "
                   "If that is a mistake, ask an administrator of the LMS."))
OLD_LAUNCH = (_l("This link from the LMS has expired"),
              _l("Links from the LMS work for 5 minutes. Open the page again from the LMS: "
                 "Settings \u2192 Integrations \u2192 Microsoft Outlook Calendar."))
BAD_FORM = (_l("The form has expired"),
            _l("The form's security token is missing or out of date, so nothing was changed. "
               "Reload the page and try again."))
ROLE_WORDS = {"owner": _l("the account owner"), "admin": _l("administrators"),
              "instructor": _l("instructors"), "learner": _l("learners")}


@dataclass(frozen=True)
class Viewer:
    """The person the LMS launched the page for."""

    account: str
    user_id: str
    role: str
    manages: bool


@bp.record_once
def _configure(state: BlueprintSetupState) -> None:
    app = state.app
    secure = app.extensions[EXTENSION].settings.secure_cookies
    app.config.update(
        SESSION_COOKIE_NAME="outlook_sync_session", SESSION_COOKIE_PATH=COOKIE_PATH,
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_SAMESITE="None" if secure else "Lax", SESSION_COOKIE_PARTITIONED=secure,
    )
    app.jinja_options = {**app.jinja_options, "trim_blocks": True, "lstrip_blocks": True}


def begin(token: str) -> Response:
    """Check a launch token, start a fresh session for it, and go to the clean address."""
    serializer = URLSafeTimedSerializer(services().settings.host_secret, salt=LAUNCH_SALT)
    try:
        data: Any
        data, signed_at = serializer.loads(token, max_age=LAUNCH_MAX_AGE, return_timestamp=True)
    except SignatureExpired:
        refuse(403, *OLD_LAUNCH)
    except BadSignature:
        refuse(403, *BAD_LAUNCH)
    if not (isinstance(data, dict) and data.get("role") in ROLES
            and all(isinstance(data.get(k), str) and _ID.fullmatch(data[k]) for k in ("account", "user_id"))
            and (data.get("locale") is None or isinstance(data["locale"], str))):
        refuse(403, *BAD_LAUNCH)
    try:
        launches.use_once(services().database, token, signed_at + timedelta(seconds=LAUNCH_MAX_AGE),
                          datetime.now(UTC))
    except launches.AlreadyUsed:
        refuse(403, *USED_LAUNCH)
    with services().database.session() as db:
        ensure_account(db, data["account"])
    session.clear()  # a new launch never inherits another account's session (or a planted one)
    now = int(time.time())
    session.update(account=data["account"], user_id=data["user_id"], role=data["role"],
                   csrf=secrets.token_urlsafe(32), since=now, seen=now)
    locale = languages.supported(data.get("locale"))  # a language without a catalogue: the next choice
    if locale:
        session[i18n.SESSION_KEY] = locale
    return redirect(url_for("outlook_page.index"), 303)


class AccessEnded(Exception):
    """The LMS has deactivated or deleted the session's user since the launch."""


def current() -> Viewer | None:
    """The launched viewer of this request, or None (no session, or an ended one).

    The role is the one the replica holds when the LMS has told the plugin about the user (the
    launch's otherwise), and managing needs both the launch's and the replica's role to allow it.
    Raises :class:`AccessEnded` when the replica says the user is inactive or deleted.
    """
    account, user_id, role = session.get("account"), session.get("user_id"), session.get("role")
    since, seen, now = session.get("since"), session.get("seen"), int(time.time())
    if not (account and user_id and role and isinstance(since, int) and isinstance(seen, int)) \
            or now - since > SESSION_MAX_AGE or now - seen > SESSION_IDLE:
        return None
    with services().database.session() as db:
        known = db.get(LmsUser, (account, user_id))
    if known is not None and (known.deleted or not known.active):
        session.clear()
        raise AccessEnded
    allows = services().manifest.allows
    manages = allows(role, MANAGE_CAPABILITY)
    if known is not None and known.role:
        role, manages = known.role, manages and allows(known.role, MANAGE_CAPABILITY)
    if now - seen >= SEEN_RESOLUTION:
        session["seen"] = now
    return Viewer(account, user_id, role, manages)


def require_viewer() -> Viewer:
    """The launched viewer, or 403 in plain words (no session, an ended one, or access ended in the LMS)."""
    try:
        viewer = current()
    except AccessEnded:
        refuse(403, *ACCESS_ENDED)
    if viewer is None:
        refuse(403, *NO_SESSION)
    g.viewer = viewer
    return viewer


def require_manager() -> Viewer:
    viewer = require_viewer()
    if not viewer.manages:
        refuse(403, _("Only %(who)s can change this", who=who_manages()),
               _("You can see this integration's state, but only %(who)s can connect, "
                 "disconnect or change its settings.", who=who_manages()))
    return viewer


def who_manages() -> str:
    """The roles that may manage the integration, from ``plugin.json``, in words."""
    roles = services().manifest.capabilities.get(MANAGE_CAPABILITY, ())
    names = [str(ROLE_WORDS.get(r, r)) for r in roles]
    if len(names) > 1:
        return _("%(some)s and %(last)s", some=", ".join(names[:-1]), last=names[-1])
    return "".join(names)


@bp.app_template_global()
def csrf_token() -> str:
    token = session.get("csrf")
    if not isinstance(token, str):
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    """Refuse a POST whose ``csrf_token`` is not the session's (400, nothing changed)."""
    expected, sent = session.get("csrf"), request.form.get("csrf_token", "")
    if not (isinstance(expected, str) and sent
            and hmac.compare_digest(expected.encode(), sent.encode("utf-8", "replace"))):
        refuse(400, *BAD_FORM)


@bp.app_template_filter("when")
def when(value: datetime | None) -> str:
    """An instant in the viewer's LMS time zone (UTC when unknown), e.g. 5 March 2030, 14:05 CET."""
    if value is None:
        return ""
    return i18n.when(value, g.get("zone") or _zone())


@bp.app_template_filter("short_when")
def short_when(value: datetime | None) -> str:
    """An instant for a table cell, e.g. 5 Mar 2030, 14:05."""
    if value is None:
        return ""
    return i18n.when(value, g.get("zone") or _zone(), short=True)


@bp.app_template_global()
def viewer_zone() -> str:
    """The name of the time zone the page's times are in."""
    return (g.get("zone") or _zone()).key


def _zone() -> ZoneInfo:
    zone, viewer = ZoneInfo("UTC"), g.get("viewer")
    if viewer is not None:
        with services().database.session() as db:
            row = db.get(LmsUser, (viewer.account, viewer.user_id))
        with contextlib.suppress(ZoneInfoNotFoundError, ValueError):  # an odd zone name: stay in UTC
            zone = ZoneInfo(row.timezone) if row is not None and row.timezone else zone
    g.zone = zone
    return zone


def refuse(code: int, title: str, text: str) -> NoReturn:
    """Stop the request with an HTTP error shown as a page in plain words."""
    error = default_exceptions[code](description=text)
    setattr(error, "title", title)  # noqa: B010 (read back by error_page)
    raise error


def error_page(error: HTTPException) -> ResponseReturnValue:
    """A refusal in plain words: ``refuse``'s title and text, or the HTTP status' own words."""
    title = getattr(error, "title", error.name)
    return render_template("message.html", title=title, text=error.description, code=error.code), \
        error.code or 500


def secure_headers(response: Response) -> Response:
    """Frame only inside the LMS (a setting), run only our own script and styles, leak nothing."""
    ancestors = services().settings.frame_ancestors
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    if request.blueprint != "outlook_launch":  # pages hold personal data and a CSRF token
        response.headers["Cache-Control"] = "no-store"
    return response


def protect(blueprint: Blueprint) -> Blueprint:
    """Give a page blueprint the security headers and plain-words error pages."""
    blueprint.after_request(secure_headers)
    handler: Callable[[HTTPException], ResponseReturnValue] = error_page
    for code in (400, 403, 404, 409):
        blueprint.register_error_handler(code, handler)
    return blueprint


protect(bp)
