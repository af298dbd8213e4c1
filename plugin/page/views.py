"""Settings → Integrations → Microsoft Outlook Calendar: the page, the disconnect step, the CSV export.

Everything shown is read in one transaction from the store; the per-user table is filtered, counted
and paged in SQL (:mod:`bridge.accounts.status`), so the page stays fast at 10,000 users. Read-only viewers
(roles without ``outlook_calendar:manage``) see the state and the counts, not other people's
addresses; the CSV export, which lists them all, is for managers only.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import pgettext
from markupsafe import Markup, escape

from bridge import i18n
from bridge.accounts import connection, consent, status
from bridge.codes import ConnectionState, UserState
from bridge.feeds import store as feed_store
from bridge.lms import settings as account_settings
from bridge.models import Connection, ConsentRequest, RemovalHold, utcnow
from bridge.outlook_check import store as outlook_store
from bridge.sync import guard
from plugin import launch, words
from plugin.launch import Viewer
from plugin.page import trust as trust_page
from plugin.page import trust_words
from plugin.services import services

PAGE_SIZE = 50
CSV_CHUNK = 1000
TABLE_STATES = (ConnectionState.CONNECTED, ConnectionState.SUSPENDED, ConnectionState.DISCONNECTING)
_FORMULA = re.compile(r"^[=+\-@\t\r]")  # spreadsheet formula starters: neutralised in the CSV

bp = launch.protect(Blueprint("outlook_page", __name__, url_prefix="/integrations/outlook"))


@dataclass(frozen=True)
class Filters:
    """The table's filter and page, read from the query string (anything odd falls back)."""

    state: str = ""
    q: str = ""
    page: int = 1

    @classmethod
    def parse(cls, args: Any) -> Filters:
        state = args.get("state", "")
        page = args.get("page", "1")
        return cls(state if state in tuple(UserState) else "", args.get("q", "").strip()[:100],
                   int(page) if page.isascii() and page.isdigit() and 0 < int(page) < 10**6 else 1)

    def query(self, **changes: Any) -> dict[str, Any]:
        values = {"state": self.state, "q": self.q, "page": self.page, **changes}
        return {k: v for k, v in values.items() if v and not (k == "page" and v == 1)}


@dataclass
class PageView:
    """What the page template shows."""

    viewer: Viewer
    conn: Connection
    reminder: int | None
    locale: str | None
    filters: Filters
    link: consent.ConsentLink | None = None
    hold: RemovalHold | None = None
    last_request: ConsentRequest | None = None
    names: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    rows: list[status.UserRow] = field(default_factory=list)
    total: int = 0
    trust: trust_page.TrustView | None = None
    feed_mode: str = account_settings.DEFAULTS.feed_mode
    feed_offered: set[str] = field(default_factory=set)  # users on this page offered a calendar feed
    outlook_changes: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # user → (kind, seen at)
    moved_choice: str = account_settings.DEFAULTS.moved_choice

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))

    @property
    def problem(self) -> tuple[str, str] | None:
        return words.connection_reason(self.conn.reason)

    def name(self, user_id: str | None) -> str:
        return self.names.get(user_id or "", user_id or _("someone"))


def load(viewer: Viewer, filters: Filters) -> PageView:
    """Read everything the page shows for the viewer's account."""
    settings = services().settings
    with services().database.session() as db:
        conn = connection.connection(db, viewer.account)
        chosen = account_settings.read(db, viewer.account)
        view = PageView(viewer, conn, chosen.reminder_minutes, chosen.locale, filters)
        view.link = consent.pending_link(db, settings, viewer.account, utcnow())
        view.last_request = consent.last_request(db, viewer.account)
        view.names = status.names(db, viewer.account, [conn.requested_by, conn.connected_by])
        if conn.state in TABLE_STATES:
            view.hold = guard.current(db, viewer.account)
            view.counts = status.counts(db, viewer.account)
            if viewer.manages:
                view.rows, view.total = status.users(
                    db, viewer.account, state=filters.state or None, search=filters.q or None,
                    offset=(filters.page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
                view.feed_offered = feed_store.offered_among(
                    db, viewer.account, [(r.user_id, r.email, r.reason) for r in view.rows])
                view.outlook_changes = outlook_store.latest_changes(db, viewer.account, [r.user_id for r in view.rows])
        view.feed_mode, view.moved_choice = chosen.feed_mode, chosen.moved_choice
        if viewer.manages:
            view.trust = trust_page.load(db, settings, viewer.account, conn.state, request.args, utcnow())
    return view


def render(viewer: Viewer, code: int = 200, error: str | None = None, **form: Any) -> ResponseReturnValue:
    """The page, optionally with an error (an action refused: shown in place, nothing changed)."""
    view = load(viewer, Filters.parse(request.args))
    return render_template("page.html", v=view, words=words, trust_words=trust_words,
                           states=tuple(UserState), error=error,
                           form=form, who_manages=launch.who_manages(), page_size=PAGE_SIZE,
                           languages=i18n.available(), retry_helps=status.retry_helps), code


@bp.app_template_filter("breakable")
def breakable(address: str) -> Markup:
    """An address that may wrap only after its ``@`` and before its dots (``<wbr>``), never mid-name."""
    return Markup("<wbr>.").join(Markup("@<wbr>").join(escape(address).split("@")).split("."))


@bp.get("")
def index() -> ResponseReturnValue:
    if "launch" in request.args:
        return launch.begin(request.args.get("launch", ""))
    return render(launch.require_viewer())


@bp.get("/disconnect")
def confirm_disconnect() -> ResponseReturnValue:
    """The confirmation step before Disconnect (a page of its own: no script needed)."""
    return render_disconnect(launch.require_manager())


def render_disconnect(viewer: Viewer, code: int = 200, error: str | None = None) -> ResponseReturnValue:
    with services().database.session() as db:
        conn = connection.connection(db, viewer.account)
        future = status.future_entries(db, viewer.account, utcnow())
    return render_template("disconnect.html", conn=conn, future=future, error=error), code


@bp.get("/users.csv")
def users_csv() -> ResponseReturnValue:
    """Every user matching the page's filter, with state and reason in words (managers only)."""
    viewer = launch.require_manager()
    filters = Filters.parse(request.args)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(csv_header())
    with services().database.session() as db:
        offset = 0
        while True:
            rows, _ = status.users(db, viewer.account, state=filters.state or None, search=filters.q or None,
                                   offset=offset, limit=CSV_CHUNK)
            for r in rows:
                writer.writerow([_cell(r.user_id), _cell(r.name), _cell(r.email), r.state, r.reason or "",
                                 _cell(words.user_reason(r.reason, r.detail)), r.entries,
                                 r.changed_at.isoformat() if r.changed_at else ""])
            if len(rows) < CSV_CHUNK:
                break
            offset += CSV_CHUNK
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="outlook-calendar-users.csv"'})


def csv_header() -> list[str]:
    """The export's column names in the page's language (in English, the columns' ids)."""
    return [pgettext("CSV column", "user_id"), pgettext("CSV column", "name"), pgettext("CSV column", "email"),
            pgettext("CSV column", "state"), pgettext("CSV column", "reason"),
            pgettext("CSV column", "reason_text"), pgettext("CSV column", "entries"),
            pgettext("CSV column", "last_change")]


def _cell(value: str | None) -> str:
    """A text cell that a spreadsheet will not run as a formula."""
    text = value or ""
    return "'" + text if _FORMULA.match(text) else text
