"""The product's rules as pure functions: which entries a user should have, and why not.

(user's LMS view, tenant domains, now) → the sessions that should be in the user's calendar.
Nothing here reads the database or calls Graph, so every rule is tested as a table.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from bridge.codes import Because, Reason
from bridge.lms import eligibility
from bridge.lms.views import DEADLINE_SESSION, Event, LearnerDeadline, Session, UserView


@dataclass(frozen=True)
class Wanted:
    """One entry the user should have: the session, its event, and why."""

    event: Event
    session: Session
    because: Because

    @property
    def key(self) -> tuple[str, str]:
        return (self.event.id, self.session.id)


@dataclass(frozen=True)
class DeadlinePolicy:
    """The account's choice for deadlines: whether they are offered, and whether a learner's entry
    stays once they are done (handed in, completed, no longer required) until the due time passes."""

    offered: bool = True
    keep_done: bool = False


OFFERED = DeadlinePolicy()  # the defaults: deadlines offered, a done one's entry removed


@dataclass(frozen=True)
class Decision:
    """The rules' answer for one user: the entries wanted, or the reason there are none."""

    wanted: dict[tuple[str, str], Wanted]
    skip_reason: Reason | None = None


def decide(view: UserView, verified_domains: Collection[str] | None, now: datetime,
           deadlines: DeadlinePolicy = OFFERED) -> Decision:
    """Entries the user should have now: sessions (:func:`sessions_of`) and deadlines (:func:`deadlines_of`).

    Ineligible users (deleted, inactive, personal or foreign address) get none, so their future
    entries are removed. Only sessions whose end is still ahead are wanted: upcoming and in
    progress ones at switch-on, and any not yet ended afterwards.
    """
    user = view.user
    reason = eligibility.skip_reason(
        exists=user is not None,
        active=bool(user and user.active),
        email=user.email if user else None,
        verified_domains=verified_domains,
    )
    if reason is not None:
        return Decision({}, reason)
    return entries_of(view, now, deadlines)


def entries_of(view: UserView, now: datetime, deadlines: DeadlinePolicy = OFFERED) -> Decision:
    """Sessions and deadlines the user should have, whoever can receive them (the feed's and
    :func:`decide`'s common part); the reason there are none only when neither gives any."""
    sessions = sessions_of(view, now)
    due = deadlines_of(view, now, deadlines)
    if not due:
        return sessions
    return Decision({**sessions.wanted, **due})


def deadline_entry(deadline: LearnerDeadline) -> Wanted:
    """A deadline as the entry it gives: an event without organizer and one instant-long "session" at
    the user's due time, keyed (deadline id, :data:`DEADLINE_SESSION`)."""
    d, due = deadline.deadline, deadline.due_at
    event = Event(id=d.id, title=d.title, timezone=d.timezone, description=d.description, url=d.url,
                  sessions=(Session(DEADLINE_SESSION, d.id, 0, due, due),))
    return Wanted(event, event.sessions[0], Because.DEADLINE)


def deadlines_of(view: UserView, now: datetime, policy: DeadlinePolicy = OFFERED) -> dict[
        tuple[str, str], Wanted]:
    """The deadlines the user should have in their calendar, by key: each that applies to them whose
    due time (their own: an extension or override, else the deadline's) is still ahead, unless they
    are done with it and the account removes done ones; none when the account does not offer them."""
    if not policy.offered:
        return {}
    wanted = (deadline_entry(d) for d in view.deadlines
              if d.due_at > now and (policy.keep_done or not d.done))  # past: never touched
    return {w.key: w for w in wanted}


def deadline_ends(view: UserView) -> dict[tuple[str, str], datetime]:
    """Every deadline's due time for this user as the LMS states it now, done or not (for the
    planner's "past entries are never touched")."""
    return {(d.deadline.id, DEADLINE_SESSION): d.due_at for d in view.deadlines}


def sessions_of(view: UserView, now: datetime) -> Decision:
    """The sessions the user organizes or chose whose end is still ahead, whoever can receive them.

    :func:`decide` applies it to the users Graph may write to; the calendar feed applies it to
    everyone it serves, so both give a user the same sessions.
    """
    wanted: dict[tuple[str, str], Wanted] = {}
    for event in view.events.values():
        if event.cancelled or event.organizer_id != view.user_id:
            continue
        for session in event.sessions:
            wanted[(event.id, session.id)] = Wanted(event, session, Because.ORGANIZER)

    waiting_for_choice = False
    for enrollment in view.enrollments:
        enrolled_in = view.events.get(enrollment.event_id)
        if enrolled_in is None or enrolled_in.cancelled:
            continue
        chosen = enrolled_in.session(enrollment.session_id)
        if chosen is None:
            waiting_for_choice = True
            continue
        wanted.setdefault((enrolled_in.id, chosen.id), Wanted(enrolled_in, chosen, Because.ASSIGNED))

    upcoming = {key: w for key, w in wanted.items() if w.session.end > now}
    if not upcoming and waiting_for_choice:
        return Decision({}, Reason.NO_SESSION_CHOSEN)
    return Decision(upcoming)
