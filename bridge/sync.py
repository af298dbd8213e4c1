"""Reconcile one user: read the state, plan with the pure rules, carry the plan out in Graph.

Exactly once: a create is first recorded as ``creating`` with its ``transactionId`` and committed;
only then is it sent. If its outcome is lost (crash, timeout, reset, 5xx) the next pass finds the
entry by its tag before creating again.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bridge import reconcile, rules, store
from bridge.db import Database
from bridge.graph import errors
from bridge.graph.client import Graph
from bridge.reconcile import ACTIVE, CREATING, DELETED_IN_OUTLOOK, Action, Create, Delete, Resume, Update

SYNCED = "synced"
SKIPPED = "skipped"
FAILED = "failed"
NO_UPCOMING = "no_upcoming_sessions"


def settled(decision: rules.Decision, again: bool = False) -> Outcome:
    """The state of a user whose pass went through."""
    if decision.skip_reason:
        return Outcome(SKIPPED, decision.skip_reason, again=again)
    return Outcome(SYNCED, None if decision.wanted else NO_UPCOMING, again=again)


def mark_in_flight(session: Session, account_id: str, writes: list[tuple[str, Action]]) -> None:
    """Record, before updates and deletions are sent, that their outcome is not known yet.

    Until its answer is recorded, Graph may or may not have applied a write (the worker dies, the
    answer times out, a ``$batch`` is lost), so the record must not go on describing Outlook as it
    was: an update's payload hash is cleared (the next pass sends it again) and an entry being
    deleted becomes ``creating`` without an event id (the next pass looks it up by its tag, to
    delete it or to adopt it, or makes it again), just as a create is recorded before it is sent.
    """
    store.mark_in_flight(session, account_id,
                         updates=[(user_id, a.made.key) for user_id, a in writes if isinstance(a, Update)],
                         deletions=[(user_id, a.made.key) for user_id, a in writes if isinstance(a, Delete)])


@dataclass(frozen=True)
class Outcome:
    """How a user's pass ended; ``again`` asks for another pass (e.g. a mailbox moved)."""

    state: str
    reason: str | None = None
    detail: str | None = None
    again: bool = False


class UserSync:
    """Runs one reconcile pass for one user of one account."""

    def __init__(self, db: Database, graph: Graph, account_id: str, user_id: str, now: datetime) -> None:
        self.db, self.graph = db, graph
        self.account_id, self.user_id, self.now = account_id, user_id, now

    def run(self) -> Outcome:
        """Plan and apply; raises Graph's transient and tenant-level errors to the worker."""
        with self.db.session() as session:
            context = store.account_context(session, self.account_id)
            if context is None or context.tenant_id is None:
                return Outcome(SKIPPED, "not_connected")
            view = store.user_view(session, self.account_id, self.user_id)
            made = store.made_entries(session, self.account_id, self.user_id)
        self.tenant_id = context.tenant_id
        removing = context.state == "disconnecting"
        decision = rules.Decision({}, "disconnected") if removing else rules.decide(
            view, context.verified_domains, self.now)
        desired = reconcile.desired_entries(decision, self.account_id, self.user_id, context.reminder_minutes,
                                            locale=context.locale)

        mailbox, resolved = None, False
        if desired:
            assert view.user is not None and view.user.email
            address = view.user.email
            mailbox, resolved = self._mailbox(address)
            if mailbox is None:
                return self._finish(Outcome(FAILED, errors.USER_NOT_FOUND))
        elif not any(m.ends_at > self.now or m.state == CREATING for m in made.values()):
            return self._finish(settled(decision))

        actions = reconcile.plan(desired, made, mailbox, self.now)
        transaction_ids = self._record_creates(actions, mailbox)
        try:
            again = any([self._apply(action, mailbox, transaction_ids) for action in actions])
        except errors.MailboxUnreachable as exc:
            if exc.reason == errors.USER_NOT_FOUND and not resolved and view.user and view.user.email:
                return self._finish(self._look_up(view.user.email))
            return self._finish(Outcome(FAILED, exc.reason, str(exc)))
        return self._finish(settled(decision, again))

    def _mailbox(self, address: str) -> tuple[str | None, bool]:
        """The mailbox to write to, and whether it comes from a directory look-up.

        Graph accepts the user principal name in calendar paths, so the address is tried first and
        the directory is asked only when Graph does not know it (an alias, a changed UPN).
        """
        with self.db.session() as session:
            hit, graph_id = store.cached_mailbox(session, self.account_id, self.tenant_id, address, self.now)
        return (graph_id, True) if hit else (address, False)

    def _look_up(self, address: str) -> Outcome:
        """Graph does not know the address as a UPN: find it by ``mail`` or ``proxyAddresses``."""
        graph_id = self.graph.directory.find_user(self.tenant_id, address)
        with self.db.session() as session:
            store.cache_mailbox(session, self.account_id, self.tenant_id, address, graph_id, self.now)
        if graph_id is None:
            return Outcome(FAILED, errors.USER_NOT_FOUND)
        return Outcome(SYNCED, again=True)

    def _record_creates(self, actions: list[Action], mailbox: str | None) -> dict[reconcile.Key, str]:
        """Commit a ``creating`` record with a fresh transactionId before any create is sent (and
        mark the updates and deletions about to be sent as in flight)."""
        creates = [a.desired for a in actions if isinstance(a, Create)]
        writes: list[tuple[str, Action]] = [(self.user_id, a) for a in actions if isinstance(a, Update | Delete)]
        if not creates and not writes:
            return {}
        ids = {desired.key: str(uuid.uuid4()) for desired in creates}
        with self.db.session() as session:
            for desired in creates:
                assert mailbox is not None
                store.write_entry(session, self.account_id, self.user_id, self.tenant_id, mailbox, desired,
                                  state=CREATING, transaction_id=ids[desired.key], graph_event_id=None,
                                  payload_hash=None)
            mark_in_flight(session, self.account_id, writes)
        return ids

    def _apply(self, action: Action, mailbox: str | None, transaction_ids: dict[reconcile.Key, str]) -> bool:
        """Carry out one action and record its result; True when another pass is needed."""
        if isinstance(action, Create):
            assert mailbox is not None
            self._create(action.desired, mailbox, transaction_ids[action.desired.key], lookup=False)
        elif isinstance(action, Resume):
            self._create(action.desired, action.made.mailbox_id, action.made.transaction_id, lookup=True)
        elif isinstance(action, Update):
            return self._update(action)
        else:
            if isinstance(action, Delete):
                self._delete(action.made)
            with self.db.session() as session:  # Delete and Forget both end the record
                store.drop_entry(session, self.account_id, self.user_id, action.made.key)
            return mailbox is not None and action.made.mailbox_id != mailbox
        return False

    def _create(self, desired: reconcile.Desired, mailbox: str, transaction_id: str, lookup: bool) -> None:
        """Create the entry; after an unknown outcome, adopt the one already made (by its tag)."""
        calendar, tenant = self.graph.calendar, self.tenant_id
        found = calendar.find_by_tag(tenant, mailbox, desired.tag) if lookup else []
        for duplicate in found[1:]:
            calendar.delete(tenant, mailbox, duplicate)
        if found:
            event_id = found[0]
            calendar.update(tenant, mailbox, event_id, desired.payload)
        else:
            event_id = calendar.create(tenant, mailbox, desired.payload, transaction_id)
        self._save(desired, mailbox, transaction_id, event_id)

    def _update(self, action: Update) -> bool:
        made = action.made
        try:
            self.graph.calendar.update(self.tenant_id, made.mailbox_id, made.graph_event_id or "",
                                       action.desired.payload)
        except errors.NotFound:
            return self._deleted_in_outlook(action)
        self._save(action.desired, made.mailbox_id, made.transaction_id, made.graph_event_id)
        return False

    def _delete(self, made: reconcile.Made) -> None:
        calendar = self.graph.calendar
        try:
            ids = [made.graph_event_id] if made.graph_event_id else calendar.find_by_tag(
                self.tenant_id, made.mailbox_id, made.tag)
            for event_id in ids:
                calendar.delete(self.tenant_id, made.mailbox_id, event_id)
        except errors.MailboxUnreachable as exc:
            if exc.reason != errors.USER_NOT_FOUND:
                raise  # an unknown mailbox holds nothing to delete

    def _save(self, desired: reconcile.Desired, mailbox: str, transaction_id: str, event_id: str | None) -> None:
        with self.db.session() as session:
            store.write_entry(session, self.account_id, self.user_id, self.tenant_id, mailbox, desired,
                              state=ACTIVE, transaction_id=transaction_id, graph_event_id=event_id,
                              payload_hash=desired.payload_hash)

    def _deleted_in_outlook(self, action: Update) -> bool:
        """The user deleted it: keep it gone unless time, place or link changed (then re-make)."""
        material_changed = action.desired.material_hash != action.made.material_hash
        with self.db.session() as session:
            store.mark_entry(session, self.account_id, self.user_id, action.made.key, state=DELETED_IN_OUTLOOK,
                             graph_event_id=None, payload_hash=None,
                             material_hash=action.made.material_hash if material_changed
                             else action.desired.material_hash)
        return material_changed

    def _finish(self, outcome: Outcome) -> Outcome:
        with self.db.session() as session:
            store.set_user_state(session, self.account_id, self.user_id, outcome.state, outcome.reason,
                                 outcome.detail)
        return outcome
