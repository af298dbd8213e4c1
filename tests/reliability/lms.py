"""A model LMS for the reliability suites, and an independent oracle of what Outlook should hold.

`Lms` keeps the LMS's current state (users, events with their sessions, enrollments) and turns every
change into a hook envelope with a fresh delivery id and a growing ``version``, as docs/HOST-CONTRACT.md says.

`oracle` is written from docs/BEHAVIOUR.md alone (items 3–7), on purpose without ``bridge.lms.rules``,
``bridge.lms.eligibility`` or ``bridge.sync.payload``: the suites compare the product with a second reading
of the specification, not with itself. For every mailbox it gives the multiset of entries that
must exist: (subject, start instant, end instant). `mailboxes` reads what the emulator's mailboxes
really hold, in the same shape, and `compare` reports every difference (missing, extra, duplicated).
"""
from __future__ import annotations

import itertools
import random
import uuid
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bridge.db import Database
from bridge.graph.memory import MemoryTenant
from bridge.lms import ingest
from emulator.client import EmulatorAdmin

# docs/BEHAVIOUR.md §3: consumer providers are never corporate (the product keeps its own list as data).
CONSUMER = frozenset({"gmail.com", "yandex.ru", "mail.ru", "outlook.com", "hotmail.com", "icloud.com"})
TAG_NAME = "OutlookCalendarForLmsKey"  # docs/BEHAVIOUR.md §8: every entry carries the plugin's key

Entry = tuple[str, str, str]  # (subject, start UTC "YYYY-MM-DDTHH:MM:SS", end UTC)
Envelope = dict[str, Any]


def soon(hours: float, base: datetime | None = None) -> datetime:
    """An instant ``hours`` from ``base`` (default now), to the minute."""
    return ((base or datetime.now(UTC)) + timedelta(hours=hours)).replace(second=0, microsecond=0)


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


@dataclass
class Lms:
    """The LMS side: its state now, and the envelopes its changes are delivered as."""

    account: str
    domain: str
    versions: Iterable[int] = field(default_factory=lambda: itertools.count(1))
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    enrollments: dict[tuple[str, str], str | None] = field(default_factory=dict)  # (event, user) → session
    deadlines: dict[str, dict[str, Any]] = field(default_factory=dict)
    learner_deadlines: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (deadline, user)

    def _envelope(self, topic: str, data: dict[str, Any]) -> Envelope:
        version = next(iter(self.versions))
        return {"id": str(uuid.uuid4()), "topic": topic, "account": self.account,
                "data": {**data, "version": version}}

    # -- users -------------------------------------------------------------------------------
    def corporate(self, uid: str) -> str:
        return f"{uid}@{self.domain}"

    def upsert_user(self, uid: str, *, email: str | None = None, active: bool = True,
                    role: str = "learner") -> Envelope:
        data = {"id": uid, "email": email or self.corporate(uid), "name": uid.title(), "active": active,
                "role": role, "timezone": "Europe/Berlin"}
        self.users[uid] = data
        return self._envelope("user.upserted", data)

    def change_user(self, uid: str, **fields: Any) -> Envelope:
        data = {**self.users[uid], **fields}
        self.users[uid] = data
        return self._envelope("user.upserted", data)

    def delete_user(self, uid: str) -> Envelope:
        self.users.pop(uid, None)
        return self._envelope("user.deleted", {"id": uid})

    # -- events ------------------------------------------------------------------------------
    def upsert_event(self, eid: str, *, title: str, organizer: str | None, zone: str,
                     sessions: list[tuple[str, datetime, datetime]], cancelled: bool = False,
                     location: str | None = None, session_titles: dict[str, str] | None = None) -> Envelope:
        local = ZoneInfo(zone)
        data = {
            "id": eid, "title": title, "description": f"About {title}.", "organizer_id": organizer,
            "url": f"https://lms.example/events/{eid}", "location": location, "online_url": None,
            "timezone": zone, "cancelled": cancelled,
            "sessions": [{"id": sid, "title": (session_titles or {}).get(sid), "start": start.astimezone(local),
                          "end": end.astimezone(local), "location": None, "online_url": None}
                         for sid, start, end in sessions],
        }
        self.events[eid] = data
        return self._envelope("event.upserted", data)

    def change_event(self, eid: str, **fields: Any) -> Envelope:
        data = {**self.events[eid], **fields}
        self.events[eid] = data
        return self._envelope("event.upserted", data)

    def move_session(self, eid: str, sid: str, by: timedelta) -> Envelope:
        data = self.events[eid]
        sessions = [{**s, "start": s["start"] + by, "end": s["end"] + by} if s["id"] == sid else s
                    for s in data["sessions"]]
        return self.change_event(eid, sessions=sessions)

    def drop_session(self, eid: str, sid: str) -> Envelope:
        return self.change_event(eid, sessions=[s for s in self.events[eid]["sessions"] if s["id"] != sid])

    def delete_event(self, eid: str) -> Envelope:
        self.events.pop(eid, None)
        return self._envelope("event.deleted", {"id": eid})

    # -- enrollments -------------------------------------------------------------------------
    def enroll(self, eid: str, uid: str, sid: str | None) -> Envelope:
        self.enrollments[(eid, uid)] = sid
        return self._envelope("enrollment.upserted", {"event_id": eid, "user_id": uid, "session_id": sid})

    def unenroll(self, eid: str, uid: str) -> Envelope:
        self.enrollments.pop((eid, uid), None)
        return self._envelope("enrollment.deleted", {"event_id": eid, "user_id": uid})

    # -- deadlines ---------------------------------------------------------------------------
    def upsert_deadline(self, did: str, *, title: str, due: datetime, zone: str = "Europe/Berlin") -> Envelope:
        data = {"id": did, "title": title, "description": f"Hand in {title}.",
                "url": f"https://lms.example/assign/{did}", "due": due.astimezone(ZoneInfo(zone)), "timezone": zone}
        self.deadlines[did] = data
        return self._envelope("deadline.upserted", data)

    def change_deadline(self, did: str, **fields: Any) -> Envelope:
        data = {**self.deadlines[did], **fields}
        self.deadlines[did] = data
        return self._envelope("deadline.upserted", data)

    def delete_deadline(self, did: str) -> Envelope:
        self.deadlines.pop(did, None)
        return self._envelope("deadline.deleted", {"id": did})

    def assign_deadline(self, did: str, uid: str, *, due: datetime | None = None, done: bool = False) -> Envelope:
        """The deadline applies to ``uid``: their own ``due`` (an extension, an override; None: the
        deadline's), ``done`` when handed in."""
        self.learner_deadlines[(did, uid)] = {"due": due, "done": done}
        return self._envelope("learner_deadline.upserted", {"deadline_id": did, "user_id": uid, "due": due,
                                                            "done": done})

    def release_deadline(self, did: str, uid: str) -> Envelope:
        self.learner_deadlines.pop((did, uid), None)
        return self._envelope("learner_deadline.deleted", {"deadline_id": did, "user_id": uid})


def _deadline_entries(lms: Lms, uid: str, now: datetime) -> Counter[Entry]:
    """docs/BEHAVIOUR.md, deadlines (the account's defaults: offered, a done one removed): each deadline
    that applies to the user, at their own due time (else the deadline's), not done, not yet due:
    one instant-long entry "Due: <title>"."""
    entries: Counter[Entry] = Counter()
    for (did, member), mine in lms.learner_deadlines.items():
        deadline = lms.deadlines.get(did)
        if member != uid or deadline is None or mine["done"]:
            continue
        due = mine["due"] or deadline["due"]
        if due > now:
            entries[(f"Due: {deadline['title']}", _utc(due), _utc(due))] = 1
    return entries


def oracle(lms: Lms, verified_domains: Collection[str], now: datetime) -> dict[str, Counter[Entry]]:
    """What each corporate address's calendar must hold, from docs/BEHAVIOUR.md read independently.

    §2.3: only active users whose address is in one of the tenant's verified domains (never a
    consumer provider). §2.4: the organizer gets every session of an event, a learner the session
    chosen or assigned (enrolled without a choice: nothing). §2.5/2.6: cancelled or deleted events,
    deleted sessions and unassignments give nothing; only sessions not yet ended count.
    §2.7: the subject is the event's title, with the session's label when the event has several
    ("Session n" when the session has no title of its own). §2.13: deadlines (see :func:`_deadline_entries`).
    """
    corporate = {d.lower() for d in verified_domains} - CONSUMER
    wanted: dict[str, Counter[Entry]] = {}
    for uid, user in lms.users.items():
        address = (user.get("email") or "").lower()
        if not user.get("active") or address.rpartition("@")[2] not in corporate:
            continue
        keys: set[tuple[str, str]] = set()
        for eid, event in lms.events.items():
            if not event["cancelled"] and event["organizer_id"] == uid:
                keys.update((eid, s["id"]) for s in event["sessions"])
        for (eid, member), sid in lms.enrollments.items():
            chosen_in = lms.events.get(eid)
            if member == uid and chosen_in is not None and not chosen_in["cancelled"] \
                    and any(s["id"] == sid for s in chosen_in["sessions"]):
                keys.add((eid, str(sid)))
        entries: Counter[Entry] = Counter()
        for eid, sid in keys:
            event = lms.events[eid]
            position, session = next((n, s) for n, s in enumerate(event["sessions"]) if s["id"] == sid)
            if session["end"] <= now:
                continue
            subject = event["title"]
            if len(event["sessions"]) > 1:
                subject += " — " + (session["title"] or f"Session {position + 1}")
            entries[(subject, _utc(session["start"]), _utc(session["end"]))] += 1
        entries += _deadline_entries(lms, uid, now)
        wanted[address] = wanted.get(address, Counter()) | entries  # one mailbox, one entry per session
    return wanted


def _instant(value: dict[str, str]) -> str:
    assert value["timeZone"] == "UTC", value  # the admin view is in UTC
    return value["dateTime"][:19]


def mailboxes(admin: EmulatorAdmin, tenant_id: str) -> dict[str, Counter[Entry]]:
    """What every mailbox of the tenant holds; checks each entry carries exactly one plugin tag,
    and no two entries of a mailbox carry the same tag."""
    found: dict[str, Counter[Entry]] = {}
    for box in admin.mailboxes(tenant_id).values():
        address = box["userPrincipalName"].lower()
        tags = []
        entries: Counter[Entry] = Counter()
        for event in box["events"]:
            mine = [p["value"] for p in event.get("singleValueExtendedProperties", [])
                    if p["id"].lower().endswith(f"name {TAG_NAME.lower()}")]
            assert len(mine) == 1, f"{address}: entry {event['subject']!r} carries {len(mine)} plugin tags"
            assert not event.get("attendees"), f"{address}: entry {event['subject']!r} has attendees"
            tags.extend(mine)
            entries[(event["subject"], _instant(event["start"]), _instant(event["end"]))] += 1
        duplicated = [t for t, n in Counter(tags).items() if n > 1]
        assert not duplicated, f"{address}: several entries carry the tag(s) {duplicated}"
        found[address] = entries
    return found


def memory_mailboxes(tenant: MemoryTenant) -> dict[str, Counter[Entry]]:
    """:func:`mailboxes` of the in-memory tenant, with the same checks (one tag each, no two alike)."""
    found: dict[str, Counter[Entry]] = {}
    for user in list(tenant.users.values()):
        events = tenant.events(user.id)
        tags = [e["tag"] for e in events]
        assert all(tags) and not any(e["payload"].get("attendees") for e in events), f"{user.upn}: {events}"
        duplicated = [t for t, n in Counter(tags).items() if n > 1]
        assert not duplicated, f"{user.upn}: several entries carry the tag(s) {duplicated}"
        found[user.upn] = Counter((e["subject"], e["start"], e["end"]) for e in events)
    return found


def compare(expected: dict[str, Counter[Entry]], actual: dict[str, Counter[Entry]]) -> list[str]:
    """Every difference between what must be and what is, one line per mailbox."""
    problems = []
    for address in sorted(set(expected) | set(actual)):
        want, got = expected.get(address, Counter()), actual.get(address, Counter())
        if address not in actual and want:
            problems.append(f"{address}: no such mailbox, but {sum(want.values())} entries are due")
            continue
        missing, extra = want - got, got - want
        if missing or extra:
            problems.append(f"{address}: missing {sorted(missing.elements())}, extra {sorted(extra.elements())}")
    return problems


def assert_as_oracle_says(lms: Lms, admin: EmulatorAdmin, tenant_id: str) -> dict[str, Counter[Entry]]:
    """Every mailbox equals the oracle applied to the LMS now; returns the mailboxes read."""
    actual = mailboxes(admin, tenant_id)
    problems = compare(oracle(lms, verified_domains(admin, tenant_id), datetime.now(UTC)), actual)
    assert not problems, "\n".join(problems)
    return actual


def total(boxes: dict[str, Counter[Entry]]) -> int:
    return sum(sum(c.values()) for c in boxes.values())


def verified_domains(admin: EmulatorAdmin, tenant_id: str) -> list[str]:
    tenant = next(t for t in admin.tenants() if t["id"] == tenant_id)
    return [d["id"] for d in tenant["domains"] if d.get("isVerified")]


def deliver(database: Database, envelopes: list[Envelope]) -> None:
    """Apply deliveries through the real ingest (the code behind the hooks), in one transaction."""
    with database.session() as session:
        for envelope in envelopes:
            ingest.apply_delivery(session, envelope)


def make_mailboxes(admin: EmulatorAdmin, tenant_id: str, uids: Iterable[str], domain: str) -> None:
    """An Exchange Online mailbox ``uid@domain`` for every LMS user."""
    admin.create_users(tenant_id, [{"userPrincipalName": f"{uid}@{domain}", "mail": f"{uid}@{domain}",
                                    "mailbox": "exchange_online"} for uid in uids])


DEADLINE_CHANGES = ["extend", "extend", "hand_in", "due", "release"]


def random_changes(lms: Lms, rng: random.Random, count: int, learners: list[str]) -> list[Envelope]:
    """``count`` LMS changes: moves, new times, renames, unassignments, (de)activations, cancellations;
    and when the LMS has deadlines, extensions (granted or removed), hand-ins, new due times and
    deadlines that stop applying to a learner."""
    out: list[Envelope] = []
    kinds = ["move", "move", "move", "time", "time", "rename", "rename", "unassign", "active", "cancel"]
    for _ in range(count):
        kind = rng.choice(kinds + (DEADLINE_CHANGES if lms.deadlines else []))
        if kind in DEADLINE_CHANGES:
            out.append(_deadline_change(lms, rng, kind, learners))
            continue
        eid = rng.choice(sorted(lms.events))
        sids = [s["id"] for s in lms.events[eid]["sessions"]]
        uid = rng.choice(learners)
        if kind == "move":
            out.append(lms.enroll(eid, uid, rng.choice([*sids, None])))
        elif kind == "time":
            out.append(lms.move_session(eid, rng.choice(sids), timedelta(minutes=rng.choice([-60, -30, 30, 90]))))
        elif kind == "rename":
            out.append(lms.change_event(eid, title=f"Course {eid} v{rng.randrange(1000)}"))
        elif kind == "unassign":
            out.append(lms.unenroll(eid, uid))
        elif kind == "active" and uid in lms.users:
            out.append(lms.change_user(uid, active=rng.random() < 0.8))
        else:
            out.append(lms.change_event(eid, cancelled=rng.random() < 0.3))
    return out


def _deadline_change(lms: Lms, rng: random.Random, kind: str, learners: list[str]) -> Envelope:
    did, uid = rng.choice(sorted(lms.deadlines)), rng.choice(learners)
    base = lms.deadlines[did]["due"]
    if kind == "extend":  # an extension granted, moved or removed (back to the deadline's own)
        return lms.assign_deadline(did, uid, due=rng.choice([None, base + timedelta(hours=rng.choice([24, 48]))]))
    if kind == "hand_in":
        return lms.assign_deadline(did, uid, due=lms.learner_deadlines.get((did, uid), {}).get("due"),
                                   done=rng.random() < 0.7)
    if kind == "due":
        return lms.change_deadline(did, due=base + timedelta(minutes=rng.choice([-60, 30, 90])))
    return lms.release_deadline(did, uid)
