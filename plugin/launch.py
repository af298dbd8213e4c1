"""Who is looking at the page: the launch from the LMS, the plugin's own session, and its viewer.

The LMS sends the browser to ``/integrations/outlook?launch=<token>&key=<key id>`` (docs/HOST-CONTRACT.md). A
valid token (signed with the secret of the account's key that ``key`` names, or with the shared host secret
for an account without one, salt ``lms-launch``, at most 300 s old) replaces the session with the
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
carries the session's token (:mod:`plugin.csrf`).
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, redirect, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from bridge import i18n as languages
from bridge.accounts import launches
from bridge.lms.ingest import ensure_account
from bridge.models import LmsUser
from plugin import csrf, i18n, signed
from plugin.contract.manifest import MANAGE_CAPABILITY
from plugin.contract.schemas import ROLES
from plugin.host import LAUNCH_SALT
from plugin.refusals import refuse
from plugin.services import EXTENSION, services
from plugin.signing import SignatureError

LAUNCH_MAX_AGE = 300
SESSION_MAX_AGE = 8 * 3600  # a launch lasts a working day at most; the LMS launches again after that
SESSION_IDLE = 3600  # an hour without a request ends the session
SEEN_RESOLUTION = 60  # the idle clock is moved (and the cookie re-sent) at most once a minute
COOKIE_PATH = "/integrations/outlook"
_ID = re.compile(r"[^\x00-\x1f\x7f]{1,128}")

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
ROLE_WORDS = {"owner": _l("the account owner"), "admin": _l("administrators"),
              "instructor": _l("instructors"), "learner": _l("learners")}


@dataclass(frozen=True)
class Viewer:
    """The person the LMS launched the page for: ``account`` and ``user_id`` (the LMS's ids), ``role``
    (the replica's when it has one), whether they may manage the integration, and ``zone``, the IANA
    time zone the LMS gives them (``UTC`` when it gives none, or one this machine does not know)."""

    account: str
    user_id: str
    role: str
    manages: bool
    zone: str


def init_app(app: Flask) -> None:
    """Set the session cookie: its name, its path, and its SameSite for where the plugin runs (see above)."""
    secure = app.extensions[EXTENSION].settings.secure_cookies
    app.config.update(
        SESSION_COOKIE_NAME="outlook_sync_session", SESSION_COOKIE_PATH=COOKIE_PATH,
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_SAMESITE="None" if secure else "Lax", SESSION_COOKIE_PARTITIONED=secure,
    )


def begin(token: str, key: str | None = None) -> Response:
    """Check a launch token (signed with the secret of host key ``key``, or the shared secret when None),
    start a fresh session for it, and go to the clean address (303).

    Refuses (403, in plain words) a token that is changed, not the host's, older than
    :data:`LAUNCH_MAX_AGE` seconds, already used, or for an account its signer may not act for (logged).
    """
    try:
        signer, secret = signed.signer_secret(key or None)
    except SignatureError:
        refuse(403, *BAD_LAUNCH)
    serializer = URLSafeTimedSerializer(secret, salt=LAUNCH_SALT)
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
        signed.admit(signer, [data["account"]])
    except signed.WrongAccount as error:
        signed.log_wrong_account(error)
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
    session.update(account=data["account"], user_id=data["user_id"], role=data["role"], since=now, seen=now)
    csrf.renew()
    locale = languages.supported(data.get("locale"))  # a language without a catalogue: the next choice
    if locale:
        session[i18n.SESSION_KEY] = locale
    return redirect(url_for("outlook_page.index"), 303)


class AccessEnded(Exception):
    """The LMS has deactivated or deleted the session's user since the launch."""


def current() -> Viewer | None:
    """The launched viewer of this request, or None (no session, or an ended one).

    The role is the one the replica holds when the LMS has told the plugin about the user (the
    launch's otherwise), and managing needs both the launch's and the replica's role to allow it; the
    time zone is the replica's. Raises :class:`AccessEnded` when the replica says the user is
    inactive or deleted.
    """
    account, user_id, role = session.get("account"), session.get("user_id"), session.get("role")
    since, seen, now = session.get("since"), session.get("seen"), int(time.time())
    if not (account and user_id and role and isinstance(since, int) and isinstance(seen, int)) \
            or now - since > SESSION_MAX_AGE or now - seen > SESSION_IDLE:
        return None
    with services().database.session() as db:
        known = db.get(LmsUser, (account, user_id))
        zone = i18n.zone_name(known.timezone if known is not None else None)
    if known is not None and (known.deleted or not known.active):
        session.clear()
        raise AccessEnded
    allows = services().manifest.allows
    manages = allows(role, MANAGE_CAPABILITY)
    if known is not None and known.role:
        role, manages = known.role, manages and allows(known.role, MANAGE_CAPABILITY)
    if now - seen >= SEEN_RESOLUTION:
        session["seen"] = now
    return Viewer(account, user_id, role, manages, zone)


def require_viewer() -> Viewer:
    """The launched viewer, or 403 in plain words (no session, an ended one, or access ended in the LMS)."""
    try:
        viewer = current()
    except AccessEnded:
        refuse(403, *ACCESS_ENDED)
    if viewer is None:
        refuse(403, *NO_SESSION)
    return viewer


def require_manager() -> Viewer:
    """The launched viewer if their role manages the integration; 403 in plain words otherwise."""
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
