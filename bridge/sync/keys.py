"""The last step of a worked group: each claimed key completed, retried later or given up, in one
transaction (after :class:`bridge.sync.run.Pass`)."""
from __future__ import annotations

from datetime import datetime

from bridge import metrics
from bridge.codes import PassOutcome, Reason, UserState
from bridge.db import Database
from bridge.models import utcnow
from bridge.queue import dirty_keys, held_keys, retry
from bridge.sync import store
from bridge.sync.phases import Result
from bridge.sync.steps import Outcome


def settle_keys(db: Database, worker: str, group: list[dirty_keys.Claim], results: dict[str, Result],
                now: datetime) -> None:
    """Complete, retry or give up each key of a worked group, in one transaction; the keys are locked
    first, never waiting for a hook while holding some (:func:`held_keys.lock`). A key to pass again
    goes back in the lane it came from."""
    account_id = group[0].account_id
    outcomes: list[tuple[PassOutcome, datetime | None]] = []
    with db.session() as session:
        held_keys.lock(session, group)
        done = [c for c in group if isinstance(results[c.user_id], Outcome)]
        store.record_latencies(session, account_id, done, now, utcnow())
        held_keys.complete_all(session, done, worker)
        for lane in dirty_keys.Lane:
            dirty_keys.mark_dirty(session, account_id, [c.user_id for c in done
                                                        if c.lane == lane and _again(results[c.user_id])], lane=lane)
        for claim in group:
            result = results[claim.user_id]
            if isinstance(result, Outcome):
                outcomes.append((PassOutcome(result.state), claim.marked_at))
                continue
            decision = retry.after_user_failure(result, claim.attempts, now)
            if isinstance(decision, retry.GiveUp):
                store.set_user_state(session, claim.account_id, claim.user_id, UserState.FAILED, Reason.ERROR,
                                     decision.reason)
                held_keys.complete(session, claim, worker)
                outcomes.append((PassOutcome.GAVE_UP, claim.marked_at))
            else:
                held_keys.retry(session, claim, worker, decision.at, decision.reason)
                outcomes.append((PassOutcome.RETRY, None))
    settled_at = utcnow()
    for outcome, marked_at in outcomes:
        metrics.settled(outcome, marked_at, settled_at)


def _again(result: Result) -> bool:
    return isinstance(result, Outcome) and result.again
