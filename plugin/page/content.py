"""What a section of the settings page shows: one plain value, read in one transaction.

:func:`load` asks the bridge's read functions (the connection, the users' states, the removal hold,
the feed and Outlook-side settings, the trust panels) about the viewer's account and returns a
:class:`PageView` for one section (:mod:`plugin.page.sections`): frozen values of strings, numbers,
instants (UTC) and tuples, with the decisions of what is shown already taken, and only what that
section shows read. It is all the section's template reads; no database row reaches a template. The
per-user table is filtered, counted and paged in SQL (:mod:`bridge.accounts.status`), so the page stays
fast at 10,000 users. Read-only viewers (roles without ``outlook_calendar:manage``)
get the state and the counts, not other people's addresses.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from bridge import i18n
from bridge.accounts import connection, consent, status
from bridge.accounts.consent import ConsentLink
from bridge.codes import ConnectionState, ConsentReason, UserState
from bridge.feeds import store as feed_store
from bridge.lms import settings as account_settings
from bridge.lms.settings import AccountSettings
from bridge.models import Connection, RemovalHold, utcnow
from bridge.outlook_check import store as outlook_store
from bridge.sync import guard
from plugin.launch import Viewer, who_manages
from plugin.page import access, attention, sections, trust
from plugin.page.access import AccessView
from plugin.page.attention import Attention
from plugin.page.sections import Section
from plugin.services import services

PAGE_SIZE = 50
# Consent links whose end the disconnected page tells of (the administrator declined, or it expired).
TOLD_OUTCOMES = (ConsentReason.DECLINED, ConsentReason.EXPIRED)


def page_number(raw: object) -> int:
    """A page number from the query string: a whole number from 1 to 999,999, else 1."""
    text = str(raw)
    return int(text) if text.isascii() and text.isdigit() and 0 < int(text) < 10**6 else 1


@dataclass(frozen=True)
class Filters:
    """The users table's filter and page, read from the query string (anything odd falls back)."""

    state: str = ""
    q: str = ""
    page: int = 1

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> Filters:
        """From a query string or form: ``state`` (a user state), ``q`` (≤ 100 characters), ``page``."""
        state = args.get("state", "")
        return cls(state if state in tuple(UserState) else "", args.get("q", "").strip()[:100],
                   page_number(args.get("page", "1")))

    def query(self, **changes: Any) -> dict[str, Any]:
        """The filter as query-string values (defaults left out), with ``changes`` applied."""
        values = {"state": self.state, "q": self.q, "page": self.page, **changes}
        return {k: v for k, v in values.items() if v and not (k == "page" and v == 1)}


@dataclass(frozen=True)
class Headline:
    """The connection as the status card shows it: ``state`` (a :class:`~bridge.codes.ConnectionState`),
    ``reason`` and ``detail`` (why Connect integration failed or syncing stopped, and Azure AD's words),
    the tenant (``claimed_tenant_id`` until Connect integration proves it) and who connected, by name."""

    state: str
    reason: str | None
    detail: str | None
    tenant_id: str | None
    claimed_tenant_id: str | None
    consent_at: datetime | None
    connected_at: datetime | None
    connected_by: str


@dataclass(frozen=True)
class EndedLink:
    """The account's last consent link, when the administrator declined it or it expired unused."""

    outcome: str  # ConsentReason.DECLINED or ConsentReason.EXPIRED
    used_at: datetime | None


@dataclass(frozen=True)
class Hold:
    """Removals waiting for the owner: ``removals`` of ``future_entries``, since ``held_at``, and why:
    (cause, entries, distinct things) for each cause of :data:`bridge.sync.guard.CAUSES` with entries, in
    its order."""

    removals: int
    future_entries: int
    held_at: datetime
    causes: tuple[tuple[str, int, int], ...]


@dataclass(frozen=True)
class UserLine:
    """One row of the users table: the user's state (:class:`bridge.accounts.status.UserRow`), what
    they did in Outlook last (``outlook_change``: an :class:`~bridge.codes.OutlookChange`, seen at
    ``outlook_change_at``), whether they are offered a calendar feed, and whether Retry is offered
    (it can change something)."""

    user: status.UserRow
    outlook_change: str | None
    outlook_change_at: datetime | None
    feed_offered: bool
    can_retry: bool


@dataclass(frozen=True)
class Users:
    """The users panel: (state, users) for every :class:`~bridge.codes.UserState` in order, how many
    wait for a pass, and for managers one page of rows (``first``–``last`` of ``total``, 1-based) out
    of ``pages``."""

    counts: tuple[tuple[str, int], ...]
    waiting: int
    lines: tuple[UserLine, ...] = ()
    total: int = 0
    first: int = 0
    last: int = 0
    pages: int = 1


@dataclass(frozen=True)
class PageView:
    """Everything one section of the page shows, with the decisions of what is shown taken.

    ``section`` is the section shown (one of ``sections``, those the viewer may open, in the navigation's
    order). Parts another section shows are left empty: the users panel (``users``: counts on the overview,
    one page of rows too on the users section; None without a users table), the held removals and the
    consent links (overview), the manager-only panels (``trust``: None for others). ``attention`` is what
    needs the manager now, most urgent first (None: the overview shows no such list); ``setting_cards``
    the settings cards offered; ``disconnect_open`` whether the Disconnect card is offered; ``preview_here``
    whether this section shows the preview; ``access`` how the tenant grants access (managers, on the
    overview and the users section: it names the Exchange group in reasons).
    """

    viewer: Viewer
    section: Section
    sections: tuple[Section, ...]
    filters: Filters
    connection: Headline
    settings: AccountSettings
    who_manages: str
    languages: tuple[str, ...]
    link: ConsentLink | None
    ended_link: EndedLink | None
    hold: Hold | None
    users: Users | None
    trust: trust.TrustView | None
    attention: tuple[Attention, ...] | None
    setting_cards: tuple[str, ...]
    disconnect_open: bool
    preview_here: bool
    access: AccessView | None = None


def load(viewer: Viewer, section: Section, filters: Filters, audit_page: int = 1, preview_page: int = 1) -> PageView:
    """Read what ``section`` shows for the viewer's account (the overview instead when the viewer may not
    open it in the connection's state; the connection row is made, disconnected, on the account's first
    visit)."""
    settings, now = services().settings, utcnow()
    with services().database.session() as db:
        conn = connection.connection(db, viewer.account)
        state, manages = conn.state, viewer.manages
        opened = sections.open_sections(manages, state)
        shown = section if section in opened else Section.OVERVIEW
        overview, table = shown is Section.OVERVIEW, conn.state in sections.TABLE_STATES
        preview_here = manages and sections.preview_section(state) is shown
        panels = trust.load(db, settings, viewer.account, state, now, with_health=overview, with_preview=preview_here,
                            audit_page=audit_page if shown is Section.ACTIVITY else None,
                            preview_page=preview_page) if manages else None
        users = _users(db, viewer, conn, filters, rows=shown is Section.USERS) \
            if table and shown in (Section.OVERVIEW, Section.USERS) else None
        hold = _hold(guard.current(db, viewer.account)) if table and overview else None
        access_view = access.load(db, settings, viewer.account) \
            if manages and shown in (Section.OVERVIEW, Section.USERS) else None
        needs = None
        if panels is not None and users is not None and overview:
            needs = attention.needs(dict(users.counts), hold.removals if hold else 0,
                                    [(c.level, c.failing) for c in panels.credentials],
                                    panels.health.throttled if panels.health else 0,
                                    broad_grant=access_view is not None and access_view.broad_grant_seen_at is not None)
        return PageView(
            viewer=viewer, section=shown, sections=opened, filters=filters, connection=_headline(db, conn),
            settings=account_settings.read(db, viewer.account),
            who_manages=who_manages(), languages=tuple(i18n.available()),
            link=consent.pending_link(db, settings, viewer.account, now) if overview else None,
            ended_link=_ended_link(db, viewer.account) if overview else None,
            hold=hold, users=users, trust=panels, attention=needs,
            setting_cards=sections.setting_cards(state) if manages else (),
            disconnect_open=manages and state in sections.DISCONNECT_STATES,
            preview_here=preview_here, access=access_view,
        )


def _headline(db: Session, conn: Connection) -> Headline:
    names = status.names(db, conn.account_id, [conn.connected_by])
    by = names.get(conn.connected_by or "", conn.connected_by or _("someone"))
    return Headline(conn.state, conn.reason, conn.detail, conn.tenant_id, conn.claimed_tenant_id, conn.consent_at,
                    conn.connected_at, by)


def _ended_link(db: Session, account_id: str) -> EndedLink | None:
    last = consent.last_request(db, account_id)
    return EndedLink(last.outcome, last.used_at) if last and last.outcome in TOLD_OUTCOMES else None


def _hold(row: RemovalHold | None) -> Hold | None:
    if row is None:
        return None
    causes = tuple((cause, entries, things) for cause, _words in guard.CAUSES
                   for entries, things in [row.causes.get(cause, [0, 0])] if entries)
    return Hold(row.removals, row.future_entries, row.held_at, causes)


def _users(db: Session, viewer: Viewer, conn: Connection, filters: Filters, rows: bool) -> Users:
    """The users panel: counts for everyone who sees the page; with ``rows``, one page of rows for managers."""
    counts = status.counts(db, viewer.account)
    panel = Users(tuple((state, counts.get(state, 0)) for state in tuple(UserState)),
                  counts.get(UserState.PENDING, 0) + counts.get(UserState.RETRYING, 0))
    if not (viewer.manages and rows):
        return panel
    first = (filters.page - 1) * PAGE_SIZE
    found, total = status.users(db, viewer.account, state=filters.state or None, search=filters.q or None,
                                offset=first, limit=PAGE_SIZE)
    offered = feed_store.offered_among(db, viewer.account, [(r.user_id, r.email, r.reason) for r in found])
    changes = outlook_store.latest_changes(db, viewer.account, [r.user_id for r in found])
    connected = conn.state == ConnectionState.CONNECTED
    lines = []
    for r in found:
        change, seen_at = changes.get(r.user_id, (None, None))
        lines.append(UserLine(r, change, seen_at, feed_offered=r.user_id in offered,
                              can_retry=connected and status.retry_helps(r.state, r.reason)))
    return Users(panel.counts, panel.waiting, tuple(lines), total, first + 1, first + len(lines),
                 max(1, -(-total // PAGE_SIZE)))
