"""Plain, immutable views of the LMS replica that the pure rules work on."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Session:
    id: str
    event_id: str
    position: int
    start: datetime
    end: datetime
    title: str | None = None
    location: str | None = None
    online_url: str | None = None


@dataclass(frozen=True)
class Event:
    id: str
    title: str
    timezone: str
    organizer_id: str | None = None
    description: str | None = None
    url: str | None = None
    location: str | None = None
    online_url: str | None = None
    cancelled: bool = False
    sessions: tuple[Session, ...] = ()

    def session(self, session_id: str | None) -> Session | None:
        return next((s for s in self.sessions if s.id == session_id), None)


@dataclass(frozen=True)
class User:
    id: str
    email: str | None
    active: bool
    name: str | None = None


@dataclass(frozen=True)
class Enrollment:
    event_id: str
    session_id: str | None


# A deadline's entry is keyed (deadline id, DEADLINE_SESSION): a session id is never empty (1–128
# characters), so a deadline's entry never meets a session's, even when the LMS uses one id for both.
DEADLINE_SESSION = ""


@dataclass(frozen=True)
class Deadline:
    """A deadline as the LMS states it: its own due instant (UTC) and the zone it is shown in."""

    id: str
    title: str
    timezone: str
    due: datetime
    description: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class LearnerDeadline:
    """A deadline that applies to the user: their own due instant (None: the deadline's) and done."""

    deadline: Deadline
    due: datetime | None = None
    done: bool = False

    @property
    def due_at(self) -> datetime:
        """When it is due for this user (UTC): their own due instant, else the deadline's."""
        return self.due or self.deadline.due


@dataclass(frozen=True)
class UserView:
    """Everything the rules need about one user: who they are, what they organize and attend.

    ``events`` holds every live (not deleted) event the user organizes or is enrolled in;
    ``deadlines`` every live deadline that applies to the user (done or not, past or not).
    """

    user_id: str
    user: User | None
    events: dict[str, Event] = field(default_factory=dict)
    enrollments: tuple[Enrollment, ...] = ()
    deadlines: tuple[LearnerDeadline, ...] = ()
