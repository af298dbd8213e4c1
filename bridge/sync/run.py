"""One reconcile pass over a group of claimed users of one account (one user is a group of one).

    read         one transaction: the account, the users' LMS views, their entries, cached mailboxes
    plan         pure: rules → wanted entries → actions (bridge.lms.rules, bridge.sync.reconcile)
    look up      entries whose id is not known, by their tag, all at once (one gateway call)
    record       one transaction: creates recorded ``creating`` with a fresh transactionId, updates
                 and deletions marked in flight, before anything is sent
    apply        every write through the calendar gateway at once ($batch, limits, Retry-After there)
    hold         when the account's removals trip the mass-removal guard, deletions wait (bridge.sync.guard)
    settle       pure: each action's answers → the change to its record and the user's outcome
                 (bridge.sync.steps); an address Graph does not know is looked up in the directory
    write back   one transaction: records, users' states, directory cache
    keys         one transaction: each claimed key completed, retried later or given up

A mailbox is the Graph user, known by its id once the directory was asked: entries recorded under
an address the directory resolved are written by the id, and a wanted entry is judged to be in
another mailbox only after both addresses were looked up (a renamed user keeps its id; its old
address stays an alias, which Graph does not take in a path). "No such user" at an address never
means the entry is gone before the directory was asked (bridge.sync.steps).

Exactly once: a create's record and transactionId are committed before it is sent; a write whose
answer is lost stays "in flight" in its record and the next pass resolves it by the entry's tag.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bridge import metrics
from bridge.db import Database
from bridge.graph import errors
from bridge.graph.calendar import Write
from bridge.graph.client import Graph
from bridge.lms import rules
from bridge.models import utcnow
from bridge.queue import dirty_keys, retry
from bridge.sync import guard, reconcile, steps, store
from bridge.sync.guard import Guard
from bridge.sync.reconcile import CREATING, Action, Create, Delete, Update
from bridge.sync.steps import FAILED, LookUpAddress, Outcome

Result = Outcome | Exception
REMOVAL_HELD = "removal_held"  # the user's removals wait for the owner's confirmation (bridge.sync.guard)


@dataclass
class _User:
    """One user's pass: the plan, then the writes and what came of them."""

    user_id: str
    decision: rules.Decision
    mailbox: str | None
    actions: list[Action]
    findable: set[str]
    transaction_ids: list[str] = field(default_factory=list)
    writes: list[list[Write]] = field(default_factory=list)
    look_up_errors: list[errors.GraphError | None] = field(default_factory=list)


class Pass:
    """A reconcile pass for ``user_ids`` of one account (see the module)."""

    def __init__(self, db: Database, graph: Graph, account_id: str, user_ids: list[str], now: datetime,
                 guard: Guard | None = None) -> None:
        self.db, self.graph, self.account_id, self.user_ids, self.now = db, graph, account_id, user_ids, now
        self.guard = guard or Guard()
        self.tenant_id = ""

    def run(self) -> dict[str, Result]:
        """Each user's outcome, or the error to retry it for; a tenant-wide refusal raises
        :class:`errors.AuthFailed`."""
        with self.db.session() as session:  # read
            context = store.account_context(session, self.account_id)
            if context is None or context.tenant_id is None:
                return {u: Outcome(steps.SKIPPED, "not_connected") for u in self.user_ids}
            views = store.user_views(session, self.account_id, self.user_ids)
            made = store.made_entries_of(session, self.account_id, self.user_ids)
            emails = [v.user.email for v in views.values() if v.user and v.user.email]
            shared = store.sharers(session, self.account_id, emails)  # one mailbox, several LMS users
            others = sorted({u for ids in shared.values() for u in ids} - set(self.user_ids))
            views.update(store.user_views(session, self.account_id, others) if others else {})
            recorded_at = [m.mailbox_id for by_key in made.values() for m in by_key.values()
                           if steps.by_address(m.mailbox_id)]
            cache = store.cached_mailboxes(session, self.account_id, context.tenant_id, emails + recorded_at,
                                           self.now)
            recorded = store.user_states_of(session, self.account_id, self.user_ids)
        self.tenant_id = context.tenant_id
        results: dict[str, Result] = {}
        users: list[_User] = []
        payloads: reconcile.SharedPayloads = {}
        quiet: set[str] = set()
        self.nudge: set[str] = set()
        directory: list[tuple[str, str | None]] = []
        moves: list[tuple[str, reconcile.Key, str]] = []
        for uid in self.user_ids:  # plan
            view = views[uid]
            decision = rules.Decision({}, "disconnected") if context.state == "disconnecting" else rules.decide(
                view, context.verified_domains, self.now)
            holding = decision
            sharing = shared.get(view.user.email.lower(), []) if view.user and view.user.email else []
            if sharing and context.state != "disconnecting":
                holding = self._one_entry_per_mailbox(uid, decision, sharing, views, context.verified_domains)
                decision = holding if uid == sharing[0] else decision
            desired = reconcile.desired_entries(holding, self.account_id, uid, context.reminder_minutes, payloads,
                                                context.locale)
            address = view.user.email if desired and view.user else None
            try:
                mine, forgotten = self._by_id(made[uid], desired, address, cache, directory)
            except errors.AuthFailed:
                raise
            except errors.GraphError as exc:
                results[uid] = exc
                continue
            mailbox = cache.get(address.lower(), address) if address else None
            if address and mailbox is None:
                results[uid] = Outcome(FAILED, errors.USER_NOT_FOUND)
                continue
            moves += [(uid, key, m.mailbox_id) for key, m in mine.items() if m.mailbox_id != made[uid][key].mailbox_id]
            ends = reconcile.session_ends(view.events.values())  # "past" as the LMS says now
            actions = [*forgotten, *reconcile.plan(desired, mine, mailbox, self.now, ends)]
            if actions:
                boxes = [mailbox, *(m.mailbox_id for m in mine.values())]
                users.append(_User(uid, decision, mailbox, actions, steps.findable(boxes, cache)))
                continue
            outcome = results[uid] = steps.settled(decision)
            active = sum(1 for m in made[uid].values() if m.state == reconcile.ACTIVE)
            if recorded.get(uid) == (outcome.state, outcome.reason, active):
                quiet.add(uid)  # a pass that changes nothing writes nothing
        held = set() if context.state == "disconnecting" else self._hold_mass_removals(users)
        self._look_up(users)
        self._record(users)
        writes = [w for u in users for ws in u.writes for w in ws]
        answers = self.graph.calendar.apply(self.tenant_id, writes) if writes else []
        saves: list[tuple[str, steps.Save]] = []
        drops: list[tuple[str, reconcile.Key]] = []
        position = 0
        for user in users:  # settle
            done = []
            for action, writes, transaction, looked in zip(user.actions, user.writes, user.transaction_ids,
                                                            user.look_up_errors, strict=True):
                settled = steps.settle(action, answers[position:position + len(writes)], user.mailbox,
                                       transaction, looked, user.findable)
                position += len(writes)
                done.append(settled)
                if isinstance(settled.change, steps.Save):
                    saves.append((user.user_id, settled.change))
                elif isinstance(settled.change, steps.Drop):
                    drops.append((user.user_id, settled.change.key))
            result = steps.outcome(user.decision, done)
            if isinstance(result, LookUpAddress):
                result = self._find_addresses(views[user.user_id], user.decision, result.addresses, directory)
            if user.user_id in held and isinstance(result, Outcome) and result.state != FAILED:
                result = Outcome(result.state, REMOVAL_HELD, again=result.again)
            results[user.user_id] = result
        self._write_back(saves, drops, directory, moves, {u: r for u, r in results.items() if u not in quiet})
        return results

    def _one_entry_per_mailbox(self, uid: str, decision: rules.Decision, sharing: list[str],
                               views: dict[str, Any], domains: tuple[str, ...] | None) -> rules.Decision:
        """Several LMS users carry one address (``sharing``, sorted): the first holds the mailbox's
        entries, for every session any of them wants; the others hold none, and a pass of one of
        them passes the holder again (what they want may have changed)."""
        if uid != sharing[0]:
            self.nudge.add(sharing[0])
            return rules.Decision({}, decision.skip_reason)
        wanted = dict(decision.wanted)
        for other in sharing[1:]:
            wanted.update(rules.decide(views[other], domains, self.now).wanted)
        return rules.Decision(wanted, decision.skip_reason)

    def _by_id(self, made: dict[reconcile.Key, reconcile.Made], desired: dict[reconcile.Key, reconcile.Desired],
               address: str | None, cache: dict[str, str | None], directory: list[tuple[str, str | None]],
               ) -> tuple[dict[reconcile.Key, reconcile.Made], list[reconcile.Forget]]:
        """A user's entries by their mailbox's Graph id where the directory knows it (steps.by_id);
        first, when a wanted entry seems to be in another mailbox than the one at the user's
        ``address``, the addresses involved are looked up (two addresses may be one user: a rename,
        an alias). Raises the error of a look-up that could not be answered."""
        mine, forgotten = steps.by_id(made, cache)
        unsure = steps.to_find(desired, mine, cache.get(address.lower(), address) if address else None, cache)
        if not unsure:
            return mine, forgotten
        self._look_up_addresses(unsure, cache, directory)
        return steps.by_id(made, cache)

    def _hold_mass_removals(self, users: list[_User]) -> set[str]:
        """When the account's removals trip the guard (bridge.sync.guard), hold this pass's deletions (the
        other writes go on); returns the users whose deletions are held."""
        deleting = any(isinstance(a, Delete) for user in users for a in user.actions)
        with self.db.session() as session:
            if not deleting and guard.current(session, self.account_id) is None:
                return set()
            allowed = guard.removals_allowed(session, self.guard, self.account_id, self.now)  # lifts a hold, too
        if allowed or not deleting:
            return set()
        held = set()
        for user in users:
            kept: list[Action] = [a for a in user.actions if not isinstance(a, Delete)]
            if len(kept) < len(user.actions):
                held.add(user.user_id)
                user.actions = kept
        return held

    def _look_up(self, users: list[_User]) -> None:
        """Find entries whose id is not known by their tag (one gateway call); then the writes."""
        wanted = [(user, n, steps.look_up_for(a)) for user in users for n, a in enumerate(user.actions)]
        asked = [(user, n, where) for user, n, where in wanted if where is not None]
        found = self.graph.calendar.find(self.tenant_id, [where for _, _, where in asked]) if asked else []
        by_action: dict[tuple[str, int], list[str] | errors.GraphError] = {
            (user.user_id, n): answer for (user, n, _), answer in zip(asked, found, strict=True)}
        for user in users:
            for n, action in enumerate(user.actions):
                hit = by_action.get((user.user_id, n), [])
                transaction = str(uuid.uuid4()) if isinstance(action, Create) else ""
                user.transaction_ids.append(transaction)
                user.look_up_errors.append(hit if isinstance(hit, errors.GraphError) else None)
                user.writes.append([] if isinstance(hit, errors.GraphError)
                                   else steps.writes_for(action, user.mailbox, transaction, hit))

    def _record(self, users: list[_User]) -> None:
        """Before anything is sent: creates recorded ``creating`` with their transactionId, and the
        updates and deletions about to be sent marked in flight (their outcome is not known until
        their answer is recorded: an update's hash is cleared, a deletion's entry becomes
        ``creating`` with no id, so the next pass finds it by its tag)."""
        rows: list[dict[str, Any]] = []
        updates: list[tuple[str, reconcile.Key]] = []
        deletions: list[tuple[str, reconcile.Key]] = []
        for user in users:
            for action, transaction in zip(user.actions, user.transaction_ids, strict=True):
                if isinstance(action, Create):
                    assert user.mailbox is not None
                    rows.append(store.entry_row(self.account_id, user.user_id, self.tenant_id, user.mailbox,
                                                action.desired, state=CREATING, transaction_id=transaction))
                elif isinstance(action, Update):
                    updates.append((user.user_id, action.made.key))
                elif isinstance(action, Delete):
                    deletions.append((user.user_id, action.made.key))
        if rows or updates or deletions:
            with self.db.session() as session:
                store.upsert_entries(session, rows)
                store.mark_in_flight(session, self.account_id, updates=updates, deletions=deletions)

    def _look_up_addresses(self, addresses: list[str], cache: dict[str, str | None],
                           directory: list[tuple[str, str | None]]) -> None:
        """Each address's Graph user id (None: no user has it) into ``cache`` and ``directory`` (to
        be cached); raises the error of a look-up that could not be answered."""
        for address in addresses:
            graph_id = self.graph.directory.find_user(self.tenant_id, address)
            cache[address.lower()] = graph_id
            directory.append((address, graph_id))

    def _find_addresses(self, view: Any, decision: rules.Decision, addresses: tuple[str, ...],
                        directory: list[tuple[str, str | None]]) -> Result:
        """Addresses that are not UPNs Graph knows (the user's own, or the one an entry was made
        under): look them up by ``mail``/``proxyAddresses``; the user is passed again with the
        mailboxes found. The user's own address found nowhere fails the user."""
        found: dict[str, str | None] = {}
        try:
            self._look_up_addresses(list(addresses), found, directory)
        except errors.AuthFailed:
            raise
        except errors.GraphError as exc:
            return exc
        own = view.user.email.lower() if view.user and view.user.email else None
        if own in found and found[own] is None:
            return Outcome(FAILED, errors.USER_NOT_FOUND)
        return steps.settled(decision, again=True)

    def _write_back(self, saves: list[tuple[str, steps.Save]], drops: list[tuple[str, reconcile.Key]],
                    directory: list[tuple[str, str | None]], moves: list[tuple[str, reconcile.Key, str]],
                    results: dict[str, Result]) -> None:
        """Record every answer in one transaction: entries now known by their mailbox's id, made,
        changed, gone; states; look-ups."""
        rows = [self._row(user_id, save) for user_id, save in saves]
        with self.db.session() as session:
            store.move_entries(session, self.account_id, moves)
            store.upsert_entries(session, rows)
            store.drop_entries(session, self.account_id, drops)
            for address, graph_id in directory:
                store.cache_mailbox(session, self.account_id, self.tenant_id, address, graph_id, self.now)
            store.set_user_states(session, self.account_id, {
                uid: (o.state, o.reason, o.detail) for uid, o in results.items() if isinstance(o, Outcome)})
            dirty_keys.mark_dirty(session, self.account_id, sorted(self.nudge - set(self.user_ids)), self.now)

    def _row(self, user_id: str, save: steps.Save) -> dict[str, Any]:
        row = store.entry_row(self.account_id, user_id, self.tenant_id, save.mailbox, save.desired,
                              state=save.state, transaction_id=save.transaction_id, graph_event_id=save.event_id,
                              payload_hash=save.payload_hash)
        row["material_hash"] = save.material_hash
        return row


def settle_keys(db: Database, worker: str, group: list[dirty_keys.Claim], results: dict[str, Result],
                now: datetime) -> None:
    """Complete, retry or give up each key of a worked group, in one transaction."""
    account_id = group[0].account_id
    outcomes: list[tuple[str, datetime | None]] = []
    with db.session() as session:
        done = [c for c in group if isinstance(results[c.user_id], Outcome)]
        store.record_latencies(session, account_id, done, now, utcnow())
        dirty_keys.complete_all(session, done, worker)
        dirty_keys.mark_dirty(session, account_id, [c.user_id for c in done if _again(results[c.user_id])])
        for claim in group:
            result = results[claim.user_id]
            if isinstance(result, Outcome):
                outcomes.append((result.state, claim.marked_at))
                continue
            decision = retry.after_user_failure(result, claim.attempts, now)
            if isinstance(decision, retry.GiveUp):
                store.set_user_state(session, claim.account_id, claim.user_id, FAILED, "error", decision.reason)
                dirty_keys.complete(session, claim, worker)
                outcomes.append(("gave_up", claim.marked_at))
            else:
                dirty_keys.retry(session, claim, worker, decision.at, decision.reason)
                outcomes.append(("retry", None))
    settled_at = utcnow()
    for outcome, marked_at in outcomes:
        metrics.settled(outcome, marked_at, settled_at)


def _again(result: Result) -> bool:
    return isinstance(result, Outcome) and result.again
