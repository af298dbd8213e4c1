"""Settings → Integrations → Microsoft Outlook Calendar: the page's sections, the disconnect step, the users' CSV.

A request to the page is launched (:mod:`plugin.launch`), then :func:`plugin.page.content.load` reads
what the section shows as one plain value, which the section's template (``overview.html``,
``users.html``, ``settings.html``, ``activity.html``, each extending ``page.html``) renders. Everyone
launched sees the overview; the other sections, and the CSV export, which lists every user's address,
are for managers only.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import pgettext

from bridge.accounts import connection, status
from bridge.models import utcnow
from plugin import launch, words
from plugin.headers import protect
from plugin.launch import Viewer
from plugin.page import content, exports, section_words, trust_words
from plugin.page.sections import Section
from plugin.services import services

bp = protect(Blueprint("outlook_page", __name__, url_prefix="/integrations/outlook"))


def render(viewer: Viewer, section: Section, code: int = 200, error: str | None = None,
           **form: Any) -> ResponseReturnValue:
    """A section of the page with HTTP status ``code`` (the overview when the viewer may not open that
    section now), optionally with an error (an action refused: shown in place, nothing changed) and the
    refused form's values (``form``) put back in their fields."""
    return _template(viewer, load(viewer, section), error, form), code


def load(viewer: Viewer, section: Section) -> content.PageView:
    """What ``section`` shows, with the request's filter and pages."""
    return content.load(viewer, section, content.Filters.parse(request.args),
                        audit_page=content.page_number(request.args.get("audit_page", "1")),
                        preview_page=content.page_number(request.args.get("preview_page", "1")))


def show(section: Section) -> ResponseReturnValue:
    """A section for a manager (403 for others); a section not open in the connection's state (the users
    table before connecting) goes to the overview."""
    viewer = launch.require_manager()
    view = load(viewer, section)
    if view.section is not section:
        return redirect(url_for(Section.OVERVIEW.endpoint), 303)
    return _template(viewer, view, None, {})


def _template(viewer: Viewer, view: content.PageView, error: str | None, form: dict[str, Any]) -> str:
    return render_template(f"{view.section}.html", v=view, zone=viewer.zone, words=words, trust_words=trust_words,
                           section_words=section_words, error=error, form=form)


@bp.get("")
def index() -> ResponseReturnValue:
    """The overview; with ``?launch=<token>`` (and ``&key=<key id>``), the launch from the LMS first (then a
    redirect here)."""
    if "launch" in request.args:
        return launch.begin(request.args.get("launch", ""), request.args.get("key"))
    return render(launch.require_viewer(), Section.OVERVIEW)


@bp.get("/users")
def users() -> ResponseReturnValue:
    """The users table: counts, filter, one page of users, export (managers)."""
    return show(Section.USERS)


@bp.get("/settings")
def settings() -> ResponseReturnValue:
    """The settings cards (managers)."""
    return show(Section.SETTINGS)


@bp.get("/activity")
def activity() -> ResponseReturnValue:
    """The audit log (managers)."""
    return show(Section.ACTIVITY)


@bp.get("/disconnect")
def confirm_disconnect() -> ResponseReturnValue:
    """The confirmation step before Disconnect (a page of its own: no script needed)."""
    return render_disconnect(launch.require_manager())


def render_disconnect(viewer: Viewer, code: int = 200, error: str | None = None) -> ResponseReturnValue:
    """The Disconnect step with HTTP status ``code``: the connection's state and the future entries made."""
    with services().database.session() as db:
        state = connection.connection(db, viewer.account).state
        future = status.future_entries(db, viewer.account, utcnow())
    return render_template("disconnect.html", state=state, future=future, error=error), code


@bp.get("/users.csv")
def users_csv() -> ResponseReturnValue:
    """Every user matching the page's filter, with state and reason in words (managers only)."""
    viewer = launch.require_manager()
    filters = content.Filters.parse(request.args)

    def rows(offset: int, limit: int) -> list[list[object]]:
        with services().database.session() as db:
            found, _ = status.users(db, viewer.account, state=filters.state or None, search=filters.q or None,
                                    offset=offset, limit=limit)
        return [[exports.cell(r.user_id), exports.cell(r.name), exports.cell(r.email), r.state, r.reason or "",
                 exports.cell(words.user_reason(r.reason, r.detail)), r.entries,
                 r.changed_at.isoformat() if r.changed_at else ""] for r in found]

    return exports.download("outlook-calendar-users.csv", csv_header(), rows)


def csv_header() -> list[str]:
    """The export's column names in the page's language (in English, the columns' ids)."""
    return [pgettext("CSV column", "user_id"), pgettext("CSV column", "name"), pgettext("CSV column", "email"),
            pgettext("CSV column", "state"), pgettext("CSV column", "reason"),
            pgettext("CSV column", "reason_text"), pgettext("CSV column", "entries"),
            pgettext("CSV column", "last_change")]
