"""The values one pass (:class:`bridge.sync.run.Pass`) hands from phase to phase.

Each phase takes the value of the one before and returns its own::

    read        → Read          the account's context and the users' rows, as one transaction saw them
    plan        → Plan          one UserPlan per user: decision, mailbox, actions, or the result already
    hold        → Plan          the same, deletions taken out where the mass-removal guard holds them
    look up     → Planned…      one per action: its writes, its transactionId, its look-up's error
    apply       → Applied…      one per action: its Planned and the answers to its writes
    settle      → Settlement    each user's result, the records to save and drop, the directory's answers
    write back  ← Plan, Settlement

An action's transactionId, writes, look-up error and answers travel together in one value, so
nothing is matched by position.
"""
from __future__ import annotations

from dataclasses import dataclass

from bridge.graph import errors
from bridge.graph.calendar import Answer, Write
from bridge.lms import rules
from bridge.lms.views import UserView
from bridge.sync.pauses import Pauses
from bridge.sync.reconcile import Action, Key, Made
from bridge.sync.steps import Outcome, Save
from bridge.sync.store import AccountContext

Result = Outcome | Exception  # a user's outcome, or the error to retry them for
Found = dict[str, str | None]  # directory look-ups: lower-cased address → Graph user id (None: no user has it)


@dataclass(frozen=True)
class Read:
    """What the pass read, in one transaction."""

    context: AccountContext
    views: dict[str, UserView]  # the pass's users, and the other users sharing their addresses
    made: dict[str, dict[Key, Made]]  # the pass's users' entry records
    shared: dict[str, list[str]]  # lower-cased address → the active LMS users carrying it, when several
    cached: Found  # unexpired directory look-ups of the users' addresses and of the records' mailboxes
    recorded: dict[str, tuple[str, str | None, int]]  # each user's recorded (state, reason, active entries)
    pauses: Pauses  # Graph's throttles in force for the tenant's mailboxes, the tenant, the app
    removals_held: bool = False  # the mass-removal guard holds the account's removals (bridge.sync.guard)


@dataclass(frozen=True)
class UserPlan:
    """One user's plan: the rules' decision, the mailbox written to, the actions; or, when the user
    needs no write, their ``result`` already (``quiet``: the same as recorded, so nothing is written)."""

    user_id: str
    decision: rules.Decision
    mailbox: str | None = None
    actions: tuple[Action, ...] = ()
    findable: frozenset[str] = frozenset()  # mailboxes reached by an address the directory was not asked about
    moves: tuple[tuple[Key, str], ...] = ()  # entries now known by their mailbox's Graph id: (key, id)
    result: Result | None = None
    quiet: bool = False
    nudge: str | None = None  # the user holding the entries of the mailbox this user shares: passed again
    held: bool = False  # the guard holds this user's deletions


@dataclass(frozen=True)
class Plan:
    """Every user's plan, and the directory look-ups made while planning."""

    users: tuple[UserPlan, ...]
    found: Found


@dataclass(frozen=True)
class Planned:
    """One action ready to send: its writes (none when its look-up failed), the transactionId of a
    create, and the error of its look-up by tag, if any."""

    user: UserPlan
    action: Action
    transaction_id: str
    writes: tuple[Write, ...]
    look_up_error: errors.GraphError | None = None


@dataclass(frozen=True)
class Applied:
    """One action sent: Graph's answer to each of its writes, in order."""

    planned: Planned
    answers: tuple[Answer, ...]


@dataclass(frozen=True)
class Settlement:
    """What the pass ends with: each user's result, the entry records to save and to drop (by user),
    and every directory look-up of the pass (to be cached)."""

    results: dict[str, Result]
    saves: tuple[tuple[str, Save], ...]
    drops: tuple[tuple[str, Key], ...]
    found: Found
