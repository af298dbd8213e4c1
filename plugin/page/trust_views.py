"""The trust panels' own routes: start a preview, and the preview and audit log as CSV (managers only)."""
from __future__ import annotations

import threading

from flask import Blueprint, current_app, flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import pgettext

from bridge.accounts import connection
from bridge.models import utcnow
from bridge.trust import audit, preview_store
from bridge.trust.preview import PreviewRun
from plugin import csrf, launch, words
from plugin.headers import protect
from plugin.page import exports, sections, trust, trust_words
from plugin.page import views as page
from plugin.page.sections import Section
from plugin.services import services

bp = protect(Blueprint("outlook_trust", __name__, url_prefix="/integrations/outlook"))


@bp.post("/preview")
def preview() -> ResponseReturnValue:
    """Start (or refresh) the preview of what connecting does; it runs in a background thread of this
    process (``PREVIEW_INLINE`` in the app's config runs it before answering, for tests)."""
    viewer = launch.require_manager()
    csrf.check()
    with services().database.session() as db:
        state = connection.connection(db, viewer.account).state
        allowed = state in trust.PREVIEW_STATES
        started = allowed and preview_store.start(db, viewer.account, viewer.user_id, utcnow())
    if not allowed:
        return page.render(viewer, Section.OVERVIEW, 409,
                           _("The preview needs the Azure AD administrator's consent first."))
    if started:
        run = PreviewRun(services().database, services().graph, viewer.account,
                         concurrency=min(16, services().settings.worker_concurrency)).run
        if current_app.config.get("PREVIEW_INLINE"):
            run()
        else:
            threading.Thread(target=run, name=f"preview-{viewer.account}", daemon=True).start()
        flash(_("The preview is being made: nothing is written to any mailbox. Reload to follow its progress."), "ok")
    else:
        flash(_("A preview is already being made."), "ok")
    return redirect(url_for(sections.preview_section(state).endpoint, _anchor="preview"), 303)


@bp.get("/preview.csv")
def preview_csv() -> ResponseReturnValue:
    """Every user's line of the latest preview: the entries they would get, or why none."""
    viewer = launch.require_manager()

    def rows(offset: int, limit: int) -> list[list[object]]:
        with services().database.session() as db:
            lines = preview_store.every_line(db, viewer.account, offset=offset, limit=limit)
        return [[exports.cell(x.user_id), exports.cell(x.name), exports.cell(x.email), x.entries, x.reason or "",
                 exports.cell(words.user_reason(x.reason, x.detail))] for x in lines]

    header = [pgettext("CSV column", "user_id"), pgettext("CSV column", "name"), pgettext("CSV column", "email"),
              pgettext("CSV column", "entries"), pgettext("CSV column", "reason"),
              pgettext("CSV column", "reason_text")]
    return exports.download("outlook-calendar-preview.csv", header, rows)


@bp.get("/audit.csv")
def audit_csv() -> ResponseReturnValue:
    """The account's audit log, newest first."""
    viewer = launch.require_manager()

    def rows(offset: int, limit: int) -> list[list[object]]:
        with services().database.session() as db:
            lines, _ = audit.lines(db, viewer.account, offset=offset, limit=limit)
        return [[x.at.isoformat(), exports.cell(x.actor_id), exports.cell(x.actor), x.action,
                 exports.cell(trust_words.audit_detail(x.action, x.detail))] for x in lines]

    header = [pgettext("CSV column", "at"), pgettext("CSV column", "actor_id"), pgettext("CSV column", "actor"),
              pgettext("CSV column", "action"), pgettext("CSV column", "what_it_caused")]
    return exports.download("outlook-calendar-audit.csv", header, rows)
