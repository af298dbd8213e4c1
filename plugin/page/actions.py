"""The page's actions: Connect, Connect integration, Save (reminder, entries' language), Disconnect, Retry,
Resynchronise, Apply (calendar feeds), Save (entries moved in Outlook), Save (deadlines).

Every action is a POST that needs a launched manager (``outlook_calendar:manage`` in ``plugin.json``:
others get 403) and the session's CSRF token (400 otherwise); the account is the session's, never a
form field. A done action redirects back to the section it belongs to (the overview, users or settings:
:mod:`plugin.page.sections`) with a message; a refused one shows that section again with the reason, a
4xx status, and nothing changed.
"""
from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, flash, g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from bridge import i18n
from bridge.accounts import connection, consent, schedule
from bridge.codes import AccessGrant, AuditAction, ConnectionState, FeedMode, MovedChoice, WhenDone
from bridge.graph import errors
from bridge.lms import grant, settings
from bridge.models import LmsUser, utcnow
from bridge.queue import dirty_keys
from bridge.sync import guard
from bridge.trust import audit
from plugin import csrf, launch, words
from plugin.headers import protect
from plugin.page import content
from plugin.page import views as page
from plugin.page.sections import Section
from plugin.refusals import refuse
from plugin.services import services

MAX_REMINDER = 40320  # four weeks, the most Outlook allows
_MINUTES = re.compile(r"[0-9]{1,6}")
FEED_MODES = frozenset(FeedMode)
MOVED_CHOICES = frozenset(MovedChoice)
WHEN_DONE = frozenset(WhenDone)

bp = protect(Blueprint("outlook_actions", __name__, url_prefix="/integrations/outlook"))


@bp.before_request
def _guard() -> None:
    g.viewer = launch.require_manager()
    csrf.check()


def _done(message: str, section: Section = Section.OVERVIEW, anchor: str | None = None, **query: Any) -> Response:
    flash(message, "ok")
    return redirect(url_for(section.endpoint, _anchor=anchor, **query), 303)


def _access_choice() -> tuple[AccessGrant, str | None] | str:
    """The form's way to grant access and Exchange group, or the words of what is wrong with them (a
    form without the choice keeps the account's)."""
    if "grant" not in request.form:
        with services().database.session() as db:
            kept = grant.read(db, g.viewer.account)
        return kept.grant, kept.scope_group
    try:
        chosen, group = grant.parse(request.form.get("grant", ""), request.form.get("scope_group", "")[:1000])
    except grant.BadChoice:
        if request.form.get("grant") not in tuple(AccessGrant):
            return _("Choose how the organisation grants access: the whole organisation or only the LMS's people. "
                     "Nothing was saved.")
        return _("Name the mail-enabled security group that holds the LMS's people: at most %(most)d characters, "
                 "on one line. Nothing was saved.", most=grant.MAX_GROUP)
    if chosen is AccessGrant.EXCHANGE_SCOPE and not services().settings.scoped_client_id:
        return _("Only the LMS's people needs the plugin's second app registration, which this installation does "
                 "not have: the LMS administrator sets OUTLOOK_SYNC_SCOPED_CLIENT_ID and "
                 "OUTLOOK_SYNC_SCOPED_CLIENT_SECRET. Nothing was saved.")
    return chosen, group


@bp.post("/connect")
def connect() -> ResponseReturnValue:
    """Store the way to grant access chosen beside Connect, then make a new admin-consent link for that
    way's registration (earlier unused links stop working); 400 for a bad choice, 409 while connected or
    disconnecting (nothing stored then)."""
    choice = _access_choice()
    if isinstance(choice, str):
        return page.render(g.viewer, Section.OVERVIEW, 400, choice)
    refusal = None
    try:
        with services().database.session() as db:
            if connection.connection(db, g.viewer.account).state == ConnectionState.DISCONNECTING:
                refusal = _("The integration is still disconnecting: wait until it has finished removing entries, "
                            "then press Connect.")
            else:
                grant.choose(db, g.viewer.account, *choice)
                consent.start_consent(db, services().settings, g.viewer.account, g.viewer.user_id, utcnow())
    except (consent.AlreadyConnected, grant.Locked):  # raised out of the transaction: nothing stored
        refusal = _("The integration is connected, so no new consent link was made. To connect another "
                    "Azure AD tenant, press Disconnect first, then Connect.")
    if refusal:
        return page.render(g.viewer, Section.OVERVIEW, 409, refusal)
    return _done(_("A new consent link is ready. Copy it and send it to your Azure AD administrator."))


@bp.post("/access")
def access() -> ResponseReturnValue:
    """Save the Exchange group of *only the LMS's people* (the PowerShell block is written for it); the way
    itself changes only before connecting (409 otherwise, nothing stored)."""
    choice = _access_choice()
    if isinstance(choice, str):
        return page.render(g.viewer, Section.OVERVIEW, 400, choice)
    try:
        with services().database.session() as db:
            grant.choose(db, g.viewer.account, *choice)
    except grant.Locked:
        return page.render(g.viewer, Section.OVERVIEW, 409,
                           _("The way to grant access changes only before connecting: press Disconnect first. "
                             "Nothing was saved."))
    return _done(_("Saved. The PowerShell block below names the group %(group)s.", group=choice[1])
                 if choice[1] and choice[0] is AccessGrant.EXCHANGE_SCOPE else _("Saved."), anchor="access")


@bp.post("/activate")
def activate() -> ResponseReturnValue:
    """Connect integration: prove access to the tenant, then switch syncing on."""
    try:
        consent.connect(services().database, services().graph, g.viewer.account, g.viewer.user_id,
                        utcnow(), str(get_locale() or i18n.SOURCE))
    except connection.NotReady as exc:
        return page.render(g.viewer, Section.OVERVIEW, 409, " ".join(str(w) for w in words.CONNECTION_REASONS.get(
            exc.reason, (str(exc), ""))))
    except errors.AuthFailed as exc:
        return page.render(g.viewer, Section.OVERVIEW, 409, " ".join(words.connection_reason(exc.reason) or ()))
    except errors.GraphError:
        return page.render(g.viewer, Section.OVERVIEW, 503,
                           _("Microsoft could not be reached just now, so nothing changed. "
                             "Press Connect integration again in a minute."))
    return _done(_("Connected. Outlook calendars are being filled; Users shows each user's progress."))


@bp.post("/reminder")
def reminder() -> ResponseReturnValue:
    """Save the reminder: a whole number of minutes (0 to four weeks), or empty / "none" for no reminder."""
    raw = request.form.get("reminder_minutes", "").strip()
    minutes: int | None
    if raw.lower() in ("", "none"):
        minutes = None
    elif _MINUTES.fullmatch(raw) and int(raw) <= MAX_REMINDER:
        minutes = int(raw)
    else:
        return page.render(g.viewer, Section.SETTINGS, 400,
                           _("Reminder: enter a whole number of minutes from 0 to %(most)d (four weeks), or leave it "
                             "empty for no reminder. Nothing was saved.", most=MAX_REMINDER),
                           reminder_minutes=raw[:20])
    with services().database.session() as db:
        settings.set_reminder(db, g.viewer.account, minutes)
        audit.record(db, g.viewer.account, g.viewer.user_id, AuditAction.REMINDER_CHANGED, minutes=minutes)
    return _done(_("Reminder saved: no reminder.") if minutes is None else
                 ngettext("Reminder saved: %(num)d minute before the start. Existing entries follow shortly.",
                          "Reminder saved: %(num)d minutes before the start. Existing entries follow shortly.",
                          minutes), Section.SETTINGS)


@bp.post("/language")
def language() -> ResponseReturnValue:
    """Save the language of the entries (one of the catalogues); existing future entries follow once."""
    code = request.form.get("locale", "")
    if code not in i18n.available():
        return page.render(g.viewer, Section.SETTINGS, 400,
                           _("Language of entries: choose one of the languages offered. Nothing was saved."))
    with services().database.session() as db:
        settings.set_locale(db, g.viewer.account, code)
    return _done(_("Language of entries saved: %(language)s. Existing entries follow shortly.",
                   language=i18n.display_name(code)), Section.SETTINGS)


@bp.post("/disconnect")
def disconnect() -> ResponseReturnValue:
    """Stop syncing, after the confirmation step; optionally remove the future entries made."""
    if request.form.get("confirm") != "yes":
        return page.render_disconnect(g.viewer, 400, _("Confirm with the Disconnect button on this page."))
    remove = request.form.get("remove_entries") in ("yes", "on", "1", "true")
    with services().database.session() as db:
        already = connection.connection(db, g.viewer.account).state == ConnectionState.DISCONNECTED
        if not already:
            connection.disconnect(db, g.viewer.account, remove)
            audit.record(db, g.viewer.account, g.viewer.user_id, AuditAction.DISCONNECTED, remove_entries=remove)
    if already:
        return _done(_("The integration was already disconnected."))
    return _done(_("Disconnected. The future entries it made are being removed from Outlook.") if remove else
                 _("Disconnected. Entries already in Outlook stay there; nothing new is synced."))


@bp.post("/removals/confirm")
def confirm_removals() -> ResponseReturnValue:
    """The owner confirms removals held by the mass-removal guard (bridge.sync.guard): they go ahead."""
    with services().database.session() as db:
        hold = guard.confirm(db, g.viewer.account, g.viewer.user_id, utcnow())
        if hold is not None:
            audit.record(db, g.viewer.account, g.viewer.user_id, AuditAction.MASS_REMOVAL_CONFIRMED,
                         entries=hold.removals, users=hold.users)
    if hold is None:
        return _done(_("No removals are waiting for confirmation."))
    return _done(ngettext("Confirmed: %(num)d future entry will be removed from Outlook shortly.",
                          "Confirmed: %(num)d future entries will be removed from Outlook shortly.", hold.removals))


@bp.post("/users/<path:user_id>/retry")
def retry(user_id: str) -> ResponseReturnValue:
    """Queue one user of the session's account for another pass now."""
    with services().database.session() as db:
        user = db.get(LmsUser, (g.viewer.account, user_id))
        if user is None or user.deleted:
            refuse(404, _("No such user"), _("This account has no such user in the LMS."))
        dirty_keys.mark_dirty(db, g.viewer.account, [user_id])
        audit.record(db, g.viewer.account, g.viewer.user_id, AuditAction.USER_RETRIED, user_id=user_id)
    back = content.Filters.parse(request.form).query()
    return _done(_("%(name)s will be synchronised again shortly.", name=user.name or user_id), Section.USERS, **back)


@bp.post("/resync")
def resync() -> ResponseReturnValue:
    """Queue every user of the account for a full pass."""
    with services().database.session() as db:
        connected = connection.connection(db, g.viewer.account).state == ConnectionState.CONNECTED
        count = schedule.mark_everyone(db, g.viewer.account) if connected else 0
        if connected:
            audit.record(db, g.viewer.account, g.viewer.user_id, AuditAction.RESYNCHRONISED, users_queued=count)
    if not connected:
        return page.render(g.viewer, Section.USERS, 409, _("Resynchronise works while the integration is connected."))
    return _done(ngettext("All %(num)d user will be synchronised again shortly.",
                          "All %(num)d users will be synchronised again shortly.", count), Section.USERS)


@bp.post("/feeds")
def feeds() -> ResponseReturnValue:
    """Save who is offered a calendar feed: nobody, the users Graph cannot reach, or everyone."""
    chosen = request.form.get("feed_mode", "")
    if chosen not in FEED_MODES:
        return page.render(g.viewer, Section.SETTINGS, 400,
                           _("Calendar feeds: choose one of the options. Nothing was changed."))
    with services().database.session() as db:
        settings.set_feed_mode(db, g.viewer.account, chosen)
    return _done(str(words.FEED_MODES[chosen].saved), Section.SETTINGS)


@bp.post("/outlook-changes")
def outlook_changes() -> ResponseReturnValue:
    """Save what happens to an entry a user moved in Outlook: put back to the LMS's time, or left."""
    chosen = request.form.get("moved", "")
    if chosen not in MOVED_CHOICES:
        return page.render(g.viewer, Section.SETTINGS, 400,
                           _("Entries moved in Outlook: choose one of the options. Nothing was changed."))
    with services().database.session() as db:
        settings.set_moved_choice(db, g.viewer.account, chosen)
    return _done(str(words.OUTLOOK_CHOICES[chosen].saved), Section.SETTINGS)


@bp.post("/deadlines")
def deadlines() -> ResponseReturnValue:
    """Save the deadline setting: offered (a checkbox), the reminder (minutes before the due time, 0 to four
    weeks; empty or "none": no reminder) and what becomes of a done one's entry."""
    raw = request.form.get("deadline_reminder", "").strip()
    when_done = request.form.get("when_done", "")
    minutes = None if raw.lower() in ("", "none") else int(raw) if _MINUTES.fullmatch(raw) else -1
    if minutes is not None and not 0 <= minutes <= MAX_REMINDER:
        return page.render(g.viewer, Section.SETTINGS, 400,
                           _("Deadlines: enter the reminder as a whole number of minutes from 0 to %(most)d (four "
                             "weeks), or leave it empty for no reminder. Nothing was saved.", most=MAX_REMINDER),
                           deadline_reminder=raw[:20])
    if when_done not in WHEN_DONE:
        return page.render(g.viewer, Section.SETTINGS, 400,
                           _("Deadlines: choose what happens when a learner is done. Nothing was saved."))
    offered = request.form.get("offered") == "on"
    with services().database.session() as db:
        settings.set_deadlines(db, g.viewer.account, offered=offered, reminder_minutes=minutes, when_done=when_done)
    return _done(_("Deadlines saved. Existing entries follow shortly.") if offered else
                 _("Deadlines are no longer offered: their future entries are being removed from Outlook."),
                 Section.SETTINGS)
