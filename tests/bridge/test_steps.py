"""The pure parts of a pass beside the planner (bridge.steps), as tables: an action and what the
look-up found → the writes; an action and its answers → the record change, the error, another pass;
a user's settled actions → the user's outcome."""
from __future__ import annotations

from typing import Any

import pytest

from bridge import reconcile as r
from bridge import rules, steps
from bridge.graph import errors
from bridge.graph.calendar import Write
from tests.bridge.test_reconcile import desired, made

NEW = desired(payload_hash="p2")
MADE = made()
PENDING = made(state=r.CREATING, graph_id=None)
LOST = errors.Transient("lost")
THROTTLED = errors.Throttled("429", 3.0)
NOT_FOUND = errors.NotFound("404")
NO_USER = errors.MailboxUnreachable("404", errors.USER_NOT_FOUND)
ON_PREMISES = errors.MailboxUnreachable("404", errors.MAILBOX_NOT_IN_EXCHANGE_ONLINE)

WRITES: list[tuple[str, r.Action, list[str], list[Write]]] = [
    ("create in the user's mailbox with a fresh transaction id", r.Create(NEW), [],
     [Write.create("box", NEW.payload, "tx-new")]),
    ("resume, nothing found: create again under the recorded transaction id", r.Resume(NEW, PENDING), [],
     [Write.create("mbx", NEW.payload, "tx")]),
    ("resume, found: adopt it (update), remove duplicates", r.Resume(NEW, PENDING), ["g7", "g8"],
     [Write.update("mbx", "g7", NEW.payload), Write.delete("mbx", "g8")]),
    ("update by id", r.Update(NEW, MADE), [], [Write.update("mbx", "g1", NEW.payload)]),
    ("delete by id", r.Delete(MADE), [], [Write.delete("mbx", "g1")]),
    ("delete with no id: whatever carries the tag", r.Delete(PENDING), ["g7", "g8"],
     [Write.delete("mbx", "g7"), Write.delete("mbx", "g8")]),
    ("forget: nothing to send", r.Forget(MADE), [], []),
]


@pytest.mark.parametrize(("name", "action", "found", "expected"), WRITES, ids=[w[0] for w in WRITES])
def test_writes_for(name: str, action: r.Action, found: list[str], expected: list[Write]) -> None:
    assert steps.writes_for(action, "box", "tx-new", found) == expected


def test_only_unknown_ids_are_looked_up() -> None:
    assert steps.look_up_for(r.Resume(NEW, PENDING)) == ("mbx", PENDING.tag)
    assert steps.look_up_for(r.Delete(PENDING)) == ("mbx", PENDING.tag)
    assert [steps.look_up_for(a) for a in (r.Create(NEW), r.Update(NEW, MADE), r.Delete(MADE))] == [None] * 3


def save(event_id: str | None, *, state: str = r.ACTIVE, mailbox: str = "box", transaction: str = "tx-new",
         payload_hash: str | None = "p2", material: str | None = "m1") -> steps.Save:
    return steps.Save(NEW, mailbox, state, transaction, event_id, payload_hash, material)


SETTLE: list[tuple[str, r.Action, list[Any], Any, steps.Settled]] = [
    ("created: active with its id", r.Create(NEW), ["g9"], None, steps.Settled(save("g9"))),
    ("create lost: record stays creating", r.Create(NEW), [LOST], None, steps.Settled(None, LOST)),
    ("create refused, no such mailbox: nothing was made", r.Create(NEW), [NO_USER], None,
     steps.Settled(steps.Drop(NEW.key), NO_USER)),
    ("create throttled out: retried", r.Create(NEW), [THROTTLED], None, steps.Settled(None, THROTTLED)),
    ("resumed and found: active under the old transaction", r.Resume(NEW, PENDING), ["g7", "g8"], None,
     steps.Settled(save("g7", mailbox="mbx", transaction="tx"))),
    ("resume's look-up failed", r.Resume(NEW, PENDING), [], LOST, steps.Settled(None, LOST)),
    ("updated", r.Update(NEW, MADE), ["g1"], None, steps.Settled(save("g1", mailbox="mbx", transaction="tx"))),
    ("update lost: in flight (hash cleared before sending)", r.Update(NEW, MADE), [LOST], None,
     steps.Settled(None, LOST)),
    ("deleted in Outlook, only the title changed: stays gone", r.Update(NEW, MADE), [NOT_FOUND], None,
     steps.Settled(save(None, state=r.DELETED_IN_OUTLOOK, mailbox="mbx", transaction="tx", payload_hash=None))),
    ("deleted in Outlook, time changed: made again next pass", r.Update(desired(material="m2"), MADE),
     [NOT_FOUND], None, steps.Settled(steps.Save(desired(material="m2"), "mbx", r.DELETED_IN_OUTLOOK, "tx", None,
                                                 None, "m1"), again=True)),
    ("deleted", r.Delete(MADE), ["g1"], None, steps.Settled(steps.Drop(MADE.key))),
    ("deletion of an unknown mailbox: nothing to delete", r.Delete(MADE), [NO_USER], None,
     steps.Settled(steps.Drop(MADE.key))),
    ("deletion lost: in flight", r.Delete(MADE), [LOST], None, steps.Settled(None, LOST)),
    ("deleted from the old mailbox: another pass makes it in the new", r.Delete(made(mailbox="old")), ["g1"],
     None, steps.Settled(steps.Drop(MADE.key), again=True)),
    ("deletion with no id, nothing found", r.Delete(PENDING), [], None, steps.Settled(steps.Drop(MADE.key))),
    ("forgotten", r.Forget(MADE), [], None, steps.Settled(steps.Drop(MADE.key))),
]


@pytest.mark.parametrize(("name", "action", "answers", "looked", "expected"), SETTLE, ids=[s[0] for s in SETTLE])
def test_settle(name: str, action: r.Action, answers: list[Any], looked: Any, expected: steps.Settled) -> None:
    assert steps.settle(action, answers, "box" if not isinstance(action, r.Delete) else "mbx", "tx-new",
                        looked) == expected


WANTED = rules.Decision({("e1", "s1"): object()}, None)  # type: ignore[dict-item]
OUTCOMES: list[tuple[str, list[steps.Settled], bool, Any]] = [
    ("all went through", [steps.Settled(None)], False, steps.Outcome(steps.SYNCED)),
    ("another pass asked for", [steps.Settled(None), steps.Settled(None, again=True)], False,
     steps.Outcome(steps.SYNCED, again=True)),
    ("a write lost: retry the user", [steps.Settled(None), steps.Settled(None, LOST)], False, LOST),
    ("on-premises mailbox: failed with the reason", [steps.Settled(None, ON_PREMISES)], False,
     steps.Outcome(steps.FAILED, errors.MAILBOX_NOT_IN_EXCHANGE_ONLINE, str(ON_PREMISES))),
    ("unknown UPN: look the address up", [steps.Settled(None, NO_USER)], False, steps.LookUpAddress()),
    ("unknown even after a look-up: failed", [steps.Settled(None, NO_USER)], True,
     steps.Outcome(steps.FAILED, errors.USER_NOT_FOUND, str(NO_USER))),
]


@pytest.mark.parametrize(("name", "done", "resolved", "expected"), OUTCOMES, ids=[o[0] for o in OUTCOMES])
def test_outcome(name: str, done: list[steps.Settled], resolved: bool, expected: Any) -> None:
    assert steps.outcome(WANTED, done, resolved) == expected


def test_a_skipped_user_keeps_the_reason() -> None:
    assert steps.outcome(rules.Decision({}, "inactive"), [steps.Settled(None)], False) == \
        steps.Outcome(steps.SKIPPED, "inactive")
    assert steps.outcome(rules.Decision({}, None), [], False) == steps.Outcome(steps.SYNCED, steps.NO_UPCOMING)
