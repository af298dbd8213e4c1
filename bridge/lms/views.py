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


@dataclass(frozen=True)
class UserView:
    """Everything the rules need about one user: who they are, what they organize and attend.

    ``events`` holds every live (not deleted) event the user organizes or is enrolled in.
    """

    user_id: str
    user: User | None
    events: dict[str, Event] = field(default_factory=dict)
    enrollments: tuple[Enrollment, ...] = ()
