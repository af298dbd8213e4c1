"""Reconcile a group of users together: one read, ``$batch`` round trips, one write-back.

The rules and the planner are the same as for one user (:mod:`bridge.sync`); only the I/O is grouped,
so that a backfill of thousands of entries costs a few hundred HTTP round trips and transactions
instead of tens of thousands. Users whose plan needs a look-up first (a create with an unknown
outcome, an alias address) or more than four writes go through :class:`bridge.sync.UserSync`.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from bridge import metrics, reconcile, rules, store
from bridge.db import Database
from bridge.graph import errors
from bridge.graph.client import Graph
from bridge.graph.http import error_for
from bridge.reconcile import ACTIVE, CREATING, DELETED_IN_OUTLOOK, Action, Create, Delete, Forget, Update
from bridge.sync import FAILED, Outcome, UserSync, mark_in_flight, settled

BATCH_LIMIT = 20  # Graph's limit of requests in one $batch
PER_MAILBOX = 4  # Graph's concurrency limit per mailbox; a user's writes share one batch
THROTTLE_ROUNDS = 6

Result = Outcome | Exception


@dataclass
class _Plan:
    """One user's actions and what came of them."""

    user_id: str
    decision: rules.Decision
    mailbox: str
    resolved: bool
    actions: list[Action]
    transaction_ids: dict[reconcile.Key, str] = field(default_factory=dict)
    error: Exception | None = None
    again: bool = False


class GroupSync:
    """One reconcile pass for several users of one account."""

    def __init__(self, db: Database, graph: Graph, account_id: str, user_ids: list[str], now: datetime) -> None:
        self.db, self.graph, self.account_id, self.user_ids, self.now = db, graph, account_id, user_ids, now

    def run(self) -> dict[str, Result]:
        """Each user's outcome, or the error to retry it for; tenant-wide refusals raise."""
        with self.db.session() as session:
            context = store.account_context(session, self.account_id)
            if context is None or context.tenant_id is None:
                return {u: Outcome("skipped", "not_connected") for u in self.user_ids}
            views = store.user_views(session, self.account_id, self.user_ids)
            made = store.made_entries_of(session, self.account_id, self.user_ids)
            emails = [v.user.email for v in views.values() if v.user and v.user.email]
            cache = store.cached_mailboxes(session, self.account_id, context.tenant_id, emails, self.now)
            recorded = store.user_states_of(session, self.account_id, self.user_ids)
        self.tenant_id = context.tenant_id
        results: dict[str, Result] = {}
        plans: list[_Plan] = []
        solo: list[str] = []
        unchanged: set[str] = set()
        shared: reconcile.SharedPayloads = {}
        for uid in self.user_ids:
            view = views[uid]
            removing = context.state == "disconnecting"
            decision = rules.Decision({}, "disconnected") if removing else rules.decide(
                view, context.verified_domains, self.now)
            desired = reconcile.desired_entries(decision, self.account_id, uid, context.reminder_minutes, shared,
                                                context.locale)
            mailbox, resolved = None, False
            if desired:
                assert view.user is not None and view.user.email
                key = view.user.email.lower()
                resolved = key in cache
                mailbox = cache[key] if resolved else view.user.email
                if mailbox is None:
                    results[uid] = Outcome(FAILED, errors.USER_NOT_FOUND)
                    continue
            actions = reconcile.plan(desired, made[uid], mailbox, self.now)
            if not actions:
                outcome = results[uid] = settled(decision)
                active = sum(1 for m in made[uid].values() if m.state == ACTIVE)
                if recorded.get(uid) == (outcome.state, outcome.reason, active):
                    unchanged.add(uid)  # a pass that changes nothing writes nothing
            elif len(actions) > PER_MAILBOX or any(_needs_look_up(a) for a in actions):
                solo.append(uid)
            else:
                plans.append(_Plan(uid, decision, mailbox or "", resolved, actions))
        self._record_creates(plans)
        self._send(plans)
        self._write_back(plans, {u: r for u, r in results.items() if u not in unchanged})
        for plan in plans:
            if plan.error is not None and _unknown_address(plan):
                solo.append(plan.user_id)  # an alias: the single-user pass looks it up in the directory
            elif plan.error is not None:
                results[plan.user_id] = _failure(plan.error)
            else:
                results[plan.user_id] = settled(plan.decision, plan.again)
        for uid in solo:
            results[uid] = self._solo(uid)
        return results

    def _solo(self, uid: str) -> Result:
        try:
            return UserSync(self.db, self.graph, self.account_id, uid, self.now).run()
        except errors.AuthFailed:
            raise
        except Exception as exc:  # the worker decides how to retry this user
            return exc

    def _record_creates(self, plans: list[_Plan]) -> None:
        """Commit a ``creating`` record with a fresh transactionId before any create is sent (and
        mark the updates and deletions about to be sent as in flight)."""
        rows = []
        writes: list[tuple[str, Action]] = []
        for plan in plans:
            for action in plan.actions:
                if isinstance(action, Create):
                    plan.transaction_ids[action.desired.key] = str(uuid.uuid4())
                    rows.append(store.entry_row(
                        self.account_id, plan.user_id, self.tenant_id, plan.mailbox, action.desired,
                        state=CREATING, transaction_id=plan.transaction_ids[action.desired.key]))
                elif isinstance(action, Update | Delete):
                    writes.append((plan.user_id, action))
        if rows or writes:
            with self.db.session() as session:
                store.upsert_entries(session, rows)
                mark_in_flight(session, self.account_id, writes)

    def _send(self, plans: list[_Plan]) -> None:
        """Send every write, a user's writes in one batch; throttled items wait and go again."""
        pending: list[tuple[_Plan, int, Action]] = [
            (plan, number, action) for plan in plans for number, action in enumerate(plan.actions)
            if not isinstance(action, Forget)]
        self.answers: dict[tuple[str, int], errors.GraphError | dict[str, Any] | None] = {}
        for _ in range(THROTTLE_ROUNDS):
            throttled: list[tuple[_Plan, int, Action]] = []
            wait = 0.0
            for chunk in _chunks(pending):
                try:
                    replies = self.graph.http.batch(self.tenant_id, [self._item(p, n, a) for p, n, a in chunk])
                except errors.AuthFailed:
                    raise
                except errors.GraphError as exc:  # the whole batch was lost: every write in it is unknown
                    for plan, _, action in chunk:
                        plan.error = plan.error or exc
                        metrics.graph_write(_method(action), exc)
                    continue
                for plan, number, action in chunk:
                    reply = replies.get(f"{plan.user_id}\x1f{number}", {"status": 500, "body": {}})
                    error = error_for(int(reply.get("status", 500)), reply.get("body"), reply.get("headers") or {})
                    metrics.graph_write(_method(action), error)
                    if isinstance(error, errors.Throttled):
                        metrics.throttled()
                        throttled.append((plan, number, action))
                        wait = max(wait, error.retry_after)
                    elif isinstance(error, errors.AuthFailed):
                        raise error
                    else:
                        self.answers[(plan.user_id, number)] = error or reply.get("body")
            if not throttled:
                return
            metrics.waited(min(wait or 1.0, 60.0))
            time.sleep(min(wait or 1.0, 60.0))
            pending = throttled
        for plan, _, _ in pending:
            plan.error = plan.error or errors.Throttled("still throttled after several rounds", 30.0)

    def _item(self, plan: _Plan, number: int, action: Action) -> dict[str, Any]:
        events = f"/users/{quote(plan.mailbox if isinstance(action, Create) else _made(action).mailbox_id, safe='@')}"
        item: dict[str, Any] = {"id": f"{plan.user_id}\x1f{number}", "headers": {
            "Content-Type": "application/json", "Prefer": 'IdType="ImmutableId"'}}
        if isinstance(action, Create):
            body = {**action.desired.payload, "transactionId": plan.transaction_ids[action.desired.key]}
            return {**item, "method": "POST", "url": f"{events}/events", "body": body}
        event_id = quote(_made(action).graph_event_id or "", safe="")
        if isinstance(action, Update):
            return {**item, "method": "PATCH", "url": f"{events}/events/{event_id}", "body": action.desired.payload}
        return {**item, "method": "DELETE", "url": f"{events}/events/{event_id}"}

    def _write_back(self, plans: list[_Plan], results: dict[str, Result]) -> None:
        """Record every answer in one transaction: entries made, changed, gone; users' states."""
        upserts: list[dict[str, Any]] = []
        drops: list[tuple[str, reconcile.Key]] = []
        for plan in plans:
            for number, action in enumerate(plan.actions):
                if isinstance(action, Forget):
                    drops.append((plan.user_id, action.made.key))
                    continue
                if (plan.user_id, number) not in self.answers:
                    continue  # lost with its batch: recorded as in flight, the next pass finds out
                answer = self.answers[(plan.user_id, number)]
                if isinstance(action, Delete):
                    if isinstance(answer, errors.GraphError) and not _already_gone(answer):
                        plan.error = plan.error or answer
                        continue
                    drops.append((plan.user_id, action.made.key))
                    plan.again = plan.again or action.made.mailbox_id != plan.mailbox != ""
                elif isinstance(answer, errors.NotFound) and isinstance(action, Update):
                    upserts.append(self._deleted_in_outlook(plan, action))
                elif isinstance(answer, errors.GraphError):
                    plan.error = plan.error or answer
                elif isinstance(action, Update):
                    upserts.append(store.entry_row(
                        self.account_id, plan.user_id, self.tenant_id, action.made.mailbox_id, action.desired,
                        state=ACTIVE, transaction_id=action.made.transaction_id,
                        graph_event_id=action.made.graph_event_id, payload_hash=action.desired.payload_hash))
                elif isinstance(action, Create):
                    upserts.append(store.entry_row(
                        self.account_id, plan.user_id, self.tenant_id, plan.mailbox, action.desired, state=ACTIVE,
                        transaction_id=plan.transaction_ids[action.desired.key],
                        graph_event_id=str((answer or {}).get("id", "")), payload_hash=action.desired.payload_hash))
        states = {uid: r for uid, r in results.items() if isinstance(r, Outcome)}
        for plan in plans:
            if plan.error is None:
                states[plan.user_id] = settled(plan.decision)
            elif isinstance(plan.error, errors.MailboxUnreachable) and not _unknown_address(plan):
                states[plan.user_id] = Outcome(FAILED, plan.error.reason, str(plan.error))
        with self.db.session() as session:
            store.upsert_entries(session, upserts)
            store.drop_entries(session, self.account_id, drops)
            store.set_user_states(session, self.account_id,
                                  {uid: (o.state, o.reason, o.detail) for uid, o in states.items()})

    def _deleted_in_outlook(self, plan: _Plan, action: Update) -> dict[str, Any]:
        """The user deleted it: keep it gone unless time, place or link changed (then re-make)."""
        changed = action.desired.material_hash != action.made.material_hash
        plan.again = plan.again or changed
        row = store.entry_row(self.account_id, plan.user_id, self.tenant_id, action.made.mailbox_id, action.desired,
                              state=DELETED_IN_OUTLOOK, transaction_id=action.made.transaction_id)
        row["material_hash"] = action.made.material_hash if changed else action.desired.material_hash
        return row


def _method(action: Action) -> str:
    """The HTTP method of a write in a ``$batch``."""
    return "POST" if isinstance(action, Create) else "PATCH" if isinstance(action, Update) else "DELETE"


def _made(action: Action) -> reconcile.Made:
    assert isinstance(action, Update | Delete | Forget)
    return action.made


def _already_gone(error: errors.GraphError) -> bool:
    """A delete that finds nothing (the entry, or the whole unknown mailbox) has done its job."""
    return isinstance(error, errors.NotFound) or (
        isinstance(error, errors.MailboxUnreachable) and error.reason == errors.USER_NOT_FOUND)


def _needs_look_up(action: Action) -> bool:
    """A write that must first find the entry by its tag (its id was never confirmed)."""
    return isinstance(action, reconcile.Resume) or (isinstance(action, Delete) and not action.made.graph_event_id)


def _unknown_address(plan: _Plan) -> bool:
    return (isinstance(plan.error, errors.MailboxUnreachable) and plan.error.reason == errors.USER_NOT_FOUND
            and not plan.resolved)


def _failure(error: Exception) -> Result:
    if isinstance(error, errors.MailboxUnreachable):
        return Outcome(FAILED, error.reason, str(error))
    return error


def _chunks(items: list[tuple[_Plan, int, Action]]) -> list[list[tuple[_Plan, int, Action]]]:
    """Batches of at most 20 requests, a user's requests never split across two."""
    chunks: list[list[tuple[_Plan, int, Action]]] = []
    current: list[tuple[_Plan, int, Action]] = []
    by_user: dict[str, list[tuple[_Plan, int, Action]]] = {}
    for item in items:
        by_user.setdefault(item[0].user_id, []).append(item)
    for group in by_user.values():
        if len(current) + len(group) > BATCH_LIMIT:
            chunks.append(current)
            current = []
        current.extend(group)
    if current:
        chunks.append(current)
    return chunks
