"""A hypothesis state machine of LMS changes, each delivered through the real hook endpoint.

Rules: users are upserted (active or not, with a corporate or a personal address), deactivated and
deleted; events are upserted (sessions added, dropped and moved, titles changed, cancelled and
restored) and deleted; enrollments choose a session, move, lose their session, and are deleted.
Every change is a signed ``POST /hooks`` to ``plugin.create_app(settings, database)`` through
Flask's test client. Some deliveries are held back and sent later (so older versions arrive after
newer ones), some are sent again with the same delivery id; each answer is checked (202 applied,
200 duplicate, 200 stale). Now and then the worker syncs; when nothing is held back, and always at
the end of an example, every mailbox must equal the oracle applied to the LMS's current state.

One emulator for the whole test, reset between examples; a fresh SQLite database per example.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule, run_state_machine_as_test

from bridge.db import Database
from emulator.testing import EmulatorHandle
from plugin import create_app
from plugin.host import HostClient, dumps
from tests.integration.world import ACCOUNT, DOMAIN, World
from tests.reliability.lms import (
    Envelope,
    Lms,
    compare,
    mailboxes,
    make_mailboxes,
    oracle,
    soon,
    total,
    verified_domains,
)

USERS = ["ana", "ben", "cleo", "dan", "eve"]
EVENTS = ["e1", "e2", "e3"]
SESSIONS = ["s1", "s2", "s3"]
ZONES = ["Europe/Berlin", "America/New_York", "Asia/Tokyo"]
EXAMPLES, STEPS = 30, 40
MIN_TOTAL_STEPS = 200

users = st.sampled_from(USERS)
events = st.sampled_from(EVENTS)
# Each strategy's first (simplest) value is the common case, so that even the small examples hypothesis
# starts with make entries: active users, corporate addresses, events with sessions, on time.
held_back = st.sampled_from([False, False, False, True])  # one delivery in four arrives late
rarely = st.sampled_from([False, False, False, False, True])
often = st.sampled_from([True, True, True, False])
sessions = st.lists(st.tuples(st.sampled_from(SESSIONS), st.integers(2, 400), st.integers(1, 3)),
                    min_size=1, max_size=3, unique_by=lambda s: s[0])


@dataclass
class Run:
    """What lives across examples: the emulator, where databases are made, and the totals."""

    emulator: EmulatorHandle
    tmp: Path
    template: Path
    examples: int = 0
    steps: int = 0
    syncs: int = 0
    checks: int = 0
    entries_checked: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


def key_of(envelope: Envelope) -> tuple[str, ...]:
    """The LMS object a delivery is about (its version is compared with that object's)."""
    data, kind = envelope["data"], envelope["topic"].split(".")[0]
    return (kind, data["event_id"], data["user_id"]) if kind == "enrollment" else (kind, data["id"])


class LmsMachine(RuleBasedStateMachine):
    def __init__(self, run: Run) -> None:
        super().__init__()
        self.run = run
        run.examples += 1
        path = run.tmp / f"example-{run.examples}.sqlite3"
        shutil.copyfile(run.template, path)
        self.database = Database(f"sqlite:///{path}")
        self.world = World.create(run.emulator, self.database, worker_concurrency=4)
        admin = run.emulator.admin
        make_mailboxes(admin, self.world.tenant_id, USERS, DOMAIN)
        self.domains = verified_domains(admin, self.world.tenant_id)
        app = create_app(self.world.settings, self.database)
        app.config["TESTING"] = True
        self.client: FlaskClient = app.test_client()
        self.host = HostClient("http://localhost", self.world.settings.host_secret)
        self.lms = Lms(ACCOUNT, DOMAIN)
        self.base = datetime.now(UTC)
        self.sent: list[Envelope] = []
        self.held: list[Envelope] = []
        self.stored: dict[tuple[str, ...], int] = {}  # object → highest version delivered
        self.world.connect()
        for envelope in self.starting_point():
            self.deliver(envelope)
        self.world.sync(timeout=60)

    def starting_point(self) -> list[Envelope]:
        """Every example starts from a small LMS where everyone has entries; the rules change it."""
        lms = self.lms
        out = [lms.upsert_user(uid) for uid in USERS]
        for n, eid in enumerate(EVENTS):
            plan = [(sid, soon(24 * (n + 1) + 3 * i, self.base), soon(24 * (n + 1) + 3 * i + 2, self.base))
                    for i, sid in enumerate(SESSIONS[:2])]
            out.append(lms.upsert_event(eid, title=f"Safety {eid}", organizer=USERS[n], zone=ZONES[n], sessions=plan))
        for n, uid in enumerate(USERS):
            out.append(lms.enroll(EVENTS[n % 3], uid, SESSIONS[n % 2]))
            out.append(lms.enroll(EVENTS[(n + 1) % 3], uid, SESSIONS[(n + 1) % 2]))
        return out

    # -- delivering --------------------------------------------------------------------------
    def post(self, envelope: Envelope) -> tuple[int, str]:
        body = dumps(envelope)
        answer = self.client.post("/hooks", data=body, headers=self.host.signed_headers(body))
        status = answer.get_json().get("status", answer.get_data(as_text=True))
        self.run.outcomes[status] = self.run.outcomes.get(status, 0) + 1
        return answer.status_code, status

    def deliver(self, envelope: Envelope) -> None:
        """Send a delivery for the first time: applied when newer than what was delivered, else stale."""
        key, version = key_of(envelope), envelope["data"]["version"]
        newer = version > self.stored.get(key, -1)
        assert self.post(envelope) == ((202, "applied") if newer else (200, "stale")), envelope
        self.stored[key] = max(version, self.stored.get(key, -1))
        self.sent.append(envelope)

    def change(self, envelope: Envelope, late: bool) -> None:
        self.run.steps += 1
        if late:
            self.held.append(envelope)
        else:
            self.deliver(envelope)

    # -- LMS changes -------------------------------------------------------------------------
    @rule(uid=users, active=often, personal=rarely, late=held_back)
    def upsert_user(self, uid: str, active: bool, personal: bool, late: bool) -> None:
        email = f"{uid}.private@gmail.com" if personal else None
        self.change(self.lms.upsert_user(uid, email=email, active=active), late)

    @rule(uid=users, late=held_back)
    def delete_user(self, uid: str, late: bool) -> None:
        self.change(self.lms.delete_user(uid), late)

    @rule(eid=events, organizer=st.sampled_from(USERS[::-1]), title=st.sampled_from(["Safety", "Safety (new)"]),
          planned=sessions, cancelled=rarely, late=held_back)
    def upsert_event(self, eid: str, organizer: str, title: str, planned: list[tuple[str, int, int]],
                     cancelled: bool, late: bool) -> None:
        plan = [(sid, soon(hours, self.base), soon(hours + length, self.base)) for sid, hours, length in planned]
        self.change(self.lms.upsert_event(eid, title=f"{title} {eid}", organizer=organizer,
                                          zone=ZONES[EVENTS.index(eid)], sessions=plan, cancelled=cancelled), late)

    @rule(eid=events, by=st.sampled_from([-90, 30, 24 * 60]), late=held_back)
    def move_sessions(self, eid: str, by: int, late: bool) -> None:
        """New times for every session of a known event."""
        if eid in self.lms.events:
            shifted = [{**s, "start": s["start"] + timedelta(minutes=by), "end": s["end"] + timedelta(minutes=by)}
                       for s in self.lms.events[eid]["sessions"]]
            self.change(self.lms.change_event(eid, sessions=shifted), late)

    @rule(eid=events, late=held_back)
    def delete_event(self, eid: str, late: bool) -> None:
        self.change(self.lms.delete_event(eid), late)

    @rule(uid=users, eid=events, sid=st.sampled_from([*SESSIONS, None]), late=held_back)
    def enroll(self, uid: str, eid: str, sid: str | None, late: bool) -> None:
        """Choose, move to, or lose (None) a session; a session id the event lacks chooses nothing."""
        self.change(self.lms.enroll(eid, uid, sid), late)

    @rule(uid=users, eid=events, late=held_back)
    def unenroll(self, uid: str, eid: str, late: bool) -> None:
        self.change(self.lms.unenroll(eid, uid), late)

    # -- the network -------------------------------------------------------------------------
    @precondition(lambda self: self.sent)
    @rule(pick=st.integers(0, 10**6))
    def send_again(self, pick: int) -> None:
        """The host repeats a delivery (same id): acknowledged, not applied twice."""
        self.run.steps += 1
        assert self.post(self.sent[pick % len(self.sent)]) == (200, "duplicate")

    @precondition(lambda self: self.held)
    @rule(pick=st.integers(0, 10**6))
    def send_late(self, pick: int) -> None:
        """A held-back delivery finally arrives, possibly after newer versions of its object."""
        self.run.steps += 1
        self.deliver(self.held.pop(pick % len(self.held)))

    @rule()
    def sync(self) -> None:
        """The worker catches up; with nothing in transit the mailboxes must already be right."""
        self.run.steps += 1
        self.run.syncs += 1
        self.world.sync(timeout=60)
        if not self.held:
            self.check()

    # -- the end of an example ---------------------------------------------------------------
    def check(self) -> None:
        self.run.checks += 1
        expected = oracle(self.lms, self.domains, datetime.now(UTC))
        self.run.entries_checked += total(expected)
        problems = compare(expected, mailboxes(self.run.emulator.admin, self.world.tenant_id))
        assert not problems, "\n".join(problems)

    def teardown(self) -> None:
        try:
            while self.held:  # newest first, so older versions arrive after newer ones
                self.deliver(self.held.pop())
            self.world.sync(timeout=60)
            self.run.syncs += 1
            self.check()
        finally:
            self.world.graph.close()
            self.database.dispose()


def test_lms_changes_through_hooks_end_in_the_oracle_state(emulator: EmulatorHandle, tmp_path: Path,
                                                           sqlite_template: Path, figures: dict[str, Any]) -> None:
    run = Run(emulator, tmp_path, sqlite_template)
    run_state_machine_as_test(
        lambda: LmsMachine(run),  # type: ignore[arg-type]  # a factory is accepted
        settings=settings(max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, derandomize=True,
                          database=None, suppress_health_check=list(HealthCheck)),
    )
    print(f"stateful: {run.examples} examples, {run.steps} steps, {run.syncs} syncs, {run.checks} checks")
    figures.update(examples=run.examples, steps=run.steps, syncs=run.syncs, mailbox_checks=run.checks,
                   entries_checked=run.entries_checked, hook_answers=run.outcomes)
    assert run.steps >= MIN_TOTAL_STEPS, f"only {run.steps} steps ran"
    assert run.entries_checked > run.checks, "the examples hardly ever wanted an entry"
