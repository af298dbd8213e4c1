"""One reconcile pass over a group of claimed users of one account (one user is a group of one).

Named phases, each taking the value of the one before and returning its own (bridge.sync.phases)::

    read         one transaction: the account, the users' LMS views, their entries, cached mailboxes
    plan         rules → wanted entries → actions, per user (bridge.lms.rules, bridge.sync.reconcile);
                 the directory is asked first when a wanted entry seems to be in another mailbox
    hold         a user with a write for a mailbox Graph paused waits (bridge.sync.pauses; a paused
                 tenant or app: the whole pass); when the account's removals trip the mass-removal
                 guard, deletions wait (bridge.sync.guard)
    look up      entries whose id is not known, by their tag, all at once (one gateway call)
    record       one transaction: creates (and a move's new session) recorded ``creating`` with a
                 fresh transactionId, updates and deletions marked in flight, before anything is sent
    apply        every write through the calendar gateway at once ($batch, limits, 429s typed there)
    settle       each action's answers → the change to its record and the user's outcome
                 (bridge.sync.steps); an address Graph does not know is looked up in the directory
    write back   one transaction: records, users' states, directory cache, the pauses Graph asked for
    keys         one transaction: each claimed key completed, retried later or given up
                 (:func:`bridge.sync.keys.settle_keys`)

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
from collections.abc import Collection
from dataclasses import replace
from datetime import datetime
from itertools import islice
from typing import Any

from bridge.codes import AccessGrant, EntryState, Reason, UserState
from bridge.db import Database
from bridge.graph import errors
from bridge.graph.client import Graph
from bridge.lms import grant, rules
from bridge.lms.views import UserView
from bridge.queue import dirty_keys
from bridge.sync import guard, pauses, reconcile, steps, store
from bridge.sync.guard import Guard
from bridge.sync.phases import Applied, Found, Plan, Planned, Read, Result, Settlement, UserPlan
from bridge.sync.reconcile import Create, Delete, Move, Update
from bridge.sync.steps import LookUpAddress, Outcome

__all__ = ["Pass", "Result"]


class Pass:
    """A reconcile pass for ``user_ids`` of one account (see the module). ``changed``: the users marked
    by a change since their last pass (not retries): for them a cached "no such user" is asked again
    (a deleted user may have been restored, with its id and mailbox)."""

    def __init__(self, db: Database, graph: Graph, account_id: str, user_ids: list[str], now: datetime,
                 guard: Guard | None = None, changed: Collection[str] = ()) -> None:
        self.db, self.graph, self.account_id, self.user_ids, self.now = db, graph, account_id, user_ids, now
        self.guard = guard or Guard()
        self.changed = frozenset(changed)
        self.tenant_id = ""
        self.grant = AccessGrant.ORGANISATION  # how the tenant grants access (bridge.lms.grant), read with the rest
        self.via = graph  # the registration that grant is consented to (Graph.under)
        # writes sent to Graph (the worker sizes a backfill's passes by them); None when the pass ended
        # before sending (no tenant, or Graph paused the tenant)
        self.sent: int | None = None

    def run(self) -> dict[str, Result]:
        """Each user's outcome, or the error to retry it for; a tenant-wide refusal raises
        :class:`errors.AuthFailed`."""
        read = self._read()
        if read is None:
            return {u: Outcome(UserState.SKIPPED, Reason.NOT_CONNECTED) for u in self.user_ids}
        self.tenant_id = str(read.context.tenant_id)
        self.via = self.graph.under(self.grant)
        whole = read.pauses.of()
        if whole is not None:  # Graph paused the tenant (or the app): nothing is sent before it ends
            return {u: whole for u in self.user_ids}
        plan = _hold_paused(self._plan(read), read.pauses)
        if not read.context.disconnecting:  # a disconnect removes everything: nothing to hold
            plan = self._hold_mass_removals(plan, read.removals_held)
        planned = self._look_up(plan)
        self._record(planned)
        applied = self._apply(planned)
        settled = self._settle(read, plan, applied)
        self._write_back(plan, settled, _throttles(applied, settled))
        return settled.results

    def _read(self) -> Read | None:
        """Everything the pass reads, in one transaction; None when the account has no tenant."""
        with self.db.session() as session:
            context = store.account_context(session, self.account_id)
            if context is None or context.tenant_id is None:
                return None
            self.grant = grant.read(session, self.account_id).grant
            views = store.user_views(session, self.account_id, self.user_ids)
            made = store.made_entries_of(session, self.account_id, self.user_ids)
            emails = [v.user.email for v in views.values() if v.user and v.user.email]
            shared = store.sharers(session, self.account_id, emails)  # one mailbox, several LMS users
            others = sorted({u for ids in shared.values() for u in ids} - set(self.user_ids))
            views.update(store.user_views(session, self.account_id, others) if others else {})
            recorded_at = [m.mailbox_id for by_key in made.values() for m in by_key.values()
                           if steps.by_address(m.mailbox_id)]
            cached = store.cached_mailboxes(session, self.account_id, context.tenant_id, emails + recorded_at,
                                            self.now)
            again = _addresses_of(self.changed & set(made), views, made)  # "no such user": asked again
            cached = {a: found for a, found in cached.items() if found is not None or a not in again}
            recorded = store.user_states_of(session, self.account_id, self.user_ids)
            paused = pauses.in_force(session, context.tenant_id, self.now)
            held = guard.current(session, self.account_id) is not None
        return Read(context, views, made, shared, cached, recorded, paused, held)

    def _plan(self, read: Read) -> Plan:
        """Each user's plan; the directory look-ups made on the way are kept (to be cached)."""
        cache = dict(read.cached)  # grows with each look-up: a later user sees an earlier user's
        users = tuple(self._plan_user(uid, read, cache) for uid in self.user_ids)
        return Plan(users, {address: cache[address] for address in cache.keys() - read.cached.keys()})

    def _plan_user(self, uid: str, read: Read, cache: Found) -> UserPlan:
        """One user's plan: what the rules want, the actions that bring the records there; or the
        user's result when no write is needed, or when a look-up failed or their address is nobody's."""
        view, context = read.views[uid], read.context
        decision = rules.Decision({}, Reason.DISCONNECTED) if context.disconnecting else rules.decide(
            view, context.verified_domains, self.now, context.settings.deadlines)
        holding, nudge = decision, None
        sharing = read.shared.get(view.user.email.lower(), []) if view.user and view.user.email else []
        if sharing and not context.disconnecting:
            holding, nudge = self._one_entry_per_mailbox(uid, decision, sharing, read)
            decision = holding if uid == sharing[0] else decision
        plan = UserPlan(uid, decision, nudge=nudge)
        desired = reconcile.desired_entries(holding, self.account_id, uid, context.settings.reminder_minutes,
                                            context.settings.locale,
                                            context.settings.deadline_reminder_minutes)
        address = view.user.email if desired and view.user else None
        try:
            mine = self._by_id(read.made[uid], desired, address, cache)
        except errors.AuthFailed:
            raise
        except errors.GraphError as exc:
            return replace(plan, result=exc)
        mailbox = cache.get(address.lower(), address) if address else None
        if address and mailbox is None:
            return replace(plan, result=Outcome(UserState.FAILED, Reason.USER_NOT_FOUND))
        moves = tuple((key, m.mailbox_id) for key, m in mine.items() if m.mailbox_id != read.made[uid][key].mailbox_id)
        # "past" as the LMS says now, for sessions and for this user's deadlines
        ends = {**reconcile.session_ends(view.events.values()), **rules.deadline_ends(view)}
        actions = tuple(reconcile.plan(desired, mine, mailbox, self.now, ends))
        if actions:
            boxes = [mailbox, *(m.mailbox_id for m in mine.values())]
            return replace(plan, mailbox=mailbox, actions=actions, findable=frozenset(steps.findable(boxes, cache)),
                           moves=moves)
        outcome = steps.settled(decision)
        active = sum(1 for m in read.made[uid].values() if m.state == EntryState.ACTIVE)
        quiet = read.recorded.get(uid) == (outcome.state, outcome.reason, active)  # changes nothing: writes nothing
        return replace(plan, moves=moves, result=outcome, quiet=quiet)

    def _one_entry_per_mailbox(self, uid: str, decision: rules.Decision, sharing: list[str],
                               read: Read) -> tuple[rules.Decision, str | None]:
        """Several LMS users carry one address (``sharing``, sorted): the first holds the mailbox's
        entries, for every session any of them wants; the others hold none, and a pass of one of
        them passes the holder again (what they want may have changed). Returns the decision the
        user's entries follow, and the holder to pass again."""
        if uid != sharing[0]:
            return rules.Decision({}, decision.skip_reason), sharing[0]
        wanted = dict(decision.wanted)
        for other in sharing[1:]:
            wanted.update(rules.decide(read.views[other], read.context.verified_domains, self.now,
                                       read.context.settings.deadlines).wanted)
        return rules.Decision(wanted, decision.skip_reason), None

    def _by_id(self, made: dict[reconcile.Key, reconcile.Made], desired: dict[reconcile.Key, reconcile.Desired],
               address: str | None, cache: Found) -> dict[reconcile.Key, reconcile.Made]:
        """A user's entries by their mailbox's Graph id where the directory knows it (steps.by_id);
        first, when a wanted entry seems to be in another mailbox than the one at the user's
        ``address``, the addresses involved are looked up (into ``cache``: two addresses may be one
        user, after a rename or through an alias). Raises the error of a look-up that could not be
        answered."""
        mine = steps.by_id(made, cache)
        unsure = steps.to_find(desired, mine, cache.get(address.lower(), address) if address else None, cache)
        if not unsure:
            return mine
        self._ask_directory(unsure, cache)
        return steps.by_id(made, cache)

    def _hold_mass_removals(self, plan: Plan, held: bool) -> Plan:
        """When the account's removals trip the guard (bridge.sync.guard), the plan without this pass's
        deletions (the other writes go on), the users concerned marked ``held``. ``held``: a hold was
        waiting when the pass read (a pass with no deletion then looks again: it may lift it)."""
        deleting = any(isinstance(a, Delete | Move) for user in plan.users for a in user.actions)
        if not deleting and not held:
            return plan
        with self.db.session() as session:
            allowed = guard.removals_allowed(session, self.guard, self.account_id, self.now)  # lifts a hold, too
        if allowed or not deleting:
            return plan
        return replace(plan, users=tuple(_without_deletions(user) for user in plan.users))

    def _look_up(self, plan: Plan) -> tuple[Planned, ...]:
        """Find the entries whose id is not known by their tag (one gateway call); then each action's
        writes."""
        pairs = [(user, action) for user in plan.users for action in user.actions]
        asked = {n: where for n, (_, action) in enumerate(pairs) if (where := steps.look_up_for(action)) is not None}
        found = self.via.calendar.find(self.tenant_id, list(asked.values()), self.grant) if asked else []
        hits = dict(zip(asked, found, strict=True))
        return tuple(_planned(user, action, hits.get(n, [])) for n, (user, action) in enumerate(pairs))

    def _record(self, planned: tuple[Planned, ...]) -> None:
        """Before anything is sent: creates recorded ``creating`` with their transactionId, and the
        updates and deletions about to be sent marked in flight (their outcome is not known until
        their answer is recorded: an update's hash is cleared, a deletion's entry becomes
        ``creating`` with no id, so the next pass finds it by its tag)."""
        rows: list[dict[str, Any]] = []
        updates: list[tuple[str, reconcile.Key]] = []
        deletions: list[tuple[str, reconcile.Key]] = []
        for item in planned:
            user, action = item.user, item.action
            if isinstance(action, Create | Move):
                # a move: the new session's entry "creating" (found by its tag if the update went
                # through), the old one's a deletion in flight (found by its tag if it did not)
                mailbox = action.made.mailbox_id if isinstance(action, Move) else user.mailbox
                assert mailbox is not None
                rows.append(store.entry_row(self.account_id, user.user_id, self.tenant_id, mailbox,
                                            action.desired, state=EntryState.CREATING,
                                            transaction_id=item.transaction_id))
                if isinstance(action, Move):
                    deletions.append((user.user_id, action.made.key))
            elif isinstance(action, Update):
                updates.append((user.user_id, action.made.key))
            elif isinstance(action, Delete):
                deletions.append((user.user_id, action.made.key))
        if rows or updates or deletions:
            with self.db.session() as session:
                store.upsert_entries(session, rows)
                store.mark_in_flight(session, self.account_id, updates=updates, deletions=deletions)

    def _apply(self, planned: tuple[Planned, ...]) -> tuple[Applied, ...]:
        """Every write at once; each action with the answers to its own writes (the gateway answers
        each write, in order)."""
        writes = [w for item in planned for w in item.writes]
        self.sent = len(writes)
        answers = iter(self.via.calendar.apply(self.tenant_id, writes, self.grant) if writes else [])
        return tuple(Applied(item, tuple(islice(answers, len(item.writes)))) for item in planned)

    def _settle(self, read: Read, plan: Plan, applied: tuple[Applied, ...]) -> Settlement:
        """Each action's record change, then each user's result (addresses Graph does not know looked
        up in the directory first; held removals said)."""
        done: dict[str, list[steps.Settled]] = {user.user_id: [] for user in plan.users}
        saves: list[tuple[str, steps.Save]] = []
        drops: list[tuple[str, reconcile.Key]] = []
        for item in applied:
            user = item.planned.user
            settled = steps.settle(item.planned.action, item.answers, user.mailbox, item.planned.transaction_id,
                                   item.planned.look_up_error, user.findable)
            done[user.user_id].append(settled)
            if isinstance(settled.change, steps.Save):
                saves.append((user.user_id, settled.change))
            elif isinstance(settled.change, steps.Drop):
                drops.append((user.user_id, settled.change.key))
            if settled.left is not None:
                drops.append((user.user_id, settled.left))
        results: dict[str, Result] = {}
        found = dict(plan.found)
        for user in plan.users:
            result = user.result if user.result is not None else steps.outcome(user.decision, done[user.user_id])
            if isinstance(result, LookUpAddress):
                result = self._find_addresses(read.views[user.user_id], user.decision, result.addresses, found)
            if user.held and isinstance(result, Outcome) and result.state != UserState.FAILED:
                result = Outcome(result.state, Reason.REMOVAL_HELD, again=result.again)
            results[user.user_id] = result
        return Settlement(results, tuple(saves), tuple(drops), found)

    def _ask_directory(self, addresses: list[str], into: Found) -> None:
        """Each address's Graph user id (None: no user has it) into ``into``, one by one, so what was
        found before a failure is kept; raises the error of a look-up that could not be answered."""
        for address in addresses:
            into[address.lower()] = self.via.directory.find_user(self.tenant_id, address)

    def _find_addresses(self, view: UserView, decision: rules.Decision, addresses: tuple[str, ...],
                        found: Found) -> Result:
        """Addresses that are not UPNs Graph knows (the user's own, or the one an entry was made
        under): look them up by ``mail``/``proxyAddresses`` (into ``found``); the user is passed again
        with the mailboxes found. The user's own address found nowhere fails the user."""
        asked: Found = {}
        try:
            self._ask_directory(list(addresses), asked)
        except errors.AuthFailed:
            raise
        except errors.GraphError as exc:
            return exc
        finally:
            found.update(asked)
        own = view.user.email.lower() if view.user and view.user.email else None
        if own in asked and asked[own] is None:
            return Outcome(UserState.FAILED, Reason.USER_NOT_FOUND)
        return steps.settled(decision, again=True)

    def _write_back(self, plan: Plan, settled: Settlement, throttles: list[errors.Throttled]) -> None:
        """Record every answer in one transaction: entries now known by their mailbox's id, made,
        changed, gone; states (not those planned as recorded); look-ups; holders to pass again; the
        pauses Graph's 429s asked for (``throttles``)."""
        moves = [(user.user_id, key, mailbox) for user in plan.users for key, mailbox in user.moves]
        rows = [self._row(user_id, save) for user_id, save in settled.saves]
        quiet = {user.user_id for user in plan.users if user.quiet}
        nudge = {user.nudge for user in plan.users if user.nudge} - set(self.user_ids)
        with self.db.session() as session:
            store.move_entries(session, self.account_id, moves)
            store.upsert_entries(session, rows)
            store.drop_entries(session, self.account_id, list(settled.drops))
            for address, graph_id in settled.found.items():
                store.cache_mailbox(session, self.account_id, self.tenant_id, address, graph_id, self.now)
            store.set_user_states(session, self.account_id, {
                uid: (o.state, o.reason, o.detail) for uid, o in settled.results.items()
                if isinstance(o, Outcome) and uid not in quiet})
            dirty_keys.mark_dirty(session, self.account_id, sorted(nudge), self.now)
            pauses.remember(session, self.tenant_id, throttles, self.now)

    def _row(self, user_id: str, save: steps.Save) -> dict[str, Any]:
        row = store.entry_row(self.account_id, user_id, self.tenant_id, save.mailbox, save.desired,
                              state=save.state, transaction_id=save.transaction_id, graph_event_id=save.event_id,
                              payload_hash=save.payload_hash)
        row["material_hash"] = save.material_hash
        return row


def _addresses_of(user_ids: Collection[str], views: dict[str, UserView],
                  made: dict[str, dict[reconcile.Key, reconcile.Made]]) -> set[str]:
    """The lower-cased addresses of these users: their own, and those their entries are recorded under."""
    found: set[str] = set()
    for uid in user_ids:
        user = views[uid].user
        if user and user.email:
            found.add(user.email.lower())
        found.update(m.mailbox_id.lower() for m in made[uid].values())
    return found


def _hold_paused(plan: Plan, paused: pauses.Pauses) -> Plan:
    """The plan with every user that has a write for a mailbox Graph paused held whole: no action
    sent, the user's result the pause (its key comes back when the pause ends); the others go on."""
    return replace(plan, users=tuple(_paused_user(user, paused) for user in plan.users))


def _paused_user(user: UserPlan, paused: pauses.Pauses) -> UserPlan:
    if not user.actions or not paused.mailboxes:
        return user
    held = paused.of([user.mailbox, *(a.made.mailbox_id for a in user.actions if not isinstance(a, Create))])
    return user if held is None else replace(user, actions=(), findable=frozenset(), result=held)


def _throttles(applied: tuple[Applied, ...], settled: Settlement) -> list[errors.Throttled]:
    """Every 429 the pass met: writes, look-ups by tag, directory look-ups."""
    met = [e for item in applied for e in (item.planned.look_up_error, *item.answers)]
    return [e for e in [*met, *settled.results.values()] if isinstance(e, errors.Throttled)]


def _without_deletions(user: UserPlan) -> UserPlan:
    """The user's plan with its deletions held back (marked ``held`` when it had any): a move becomes
    the creation of the new session's entry, the old one's kept."""
    kept = tuple(Create(a.desired) if isinstance(a, Move) else a for a in user.actions if not isinstance(a, Delete))
    held = len(kept) < len(user.actions) or any(isinstance(a, Move) for a in user.actions)
    return replace(user, actions=kept, held=True) if held else user


def _planned(user: UserPlan, action: reconcile.Action, hit: list[str] | errors.GraphError) -> Planned:
    """An action's writes, given what its look-up by tag found (ids, or the error: then no write)."""
    transaction = str(uuid.uuid4()) if isinstance(action, Create | Move) else ""
    if isinstance(hit, errors.GraphError):
        return Planned(user, action, transaction, (), hit)
    return Planned(user, action, transaction, tuple(steps.writes_for(action, user.mailbox, transaction, hit)))
