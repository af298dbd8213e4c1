"""PostgreSQL stops for 30 s in the middle of a run and comes back.

A PostgreSQL server of the test's own (initdb in a temporary directory) holds the plugin's database.
The plugin is served over real HTTP (werkzeug); two host threads send signed hooks the whole time
with ``plugin.host.HostClient``, retrying each delivery until it is acknowledged; a real worker
loop runs beside them. Then the server is stopped (``pg_ctl stop -m fast``) for 30 s:

* every hook answered meanwhile is 503 with ``Retry-After`` (the host retries the same delivery id);
* nothing is half-stored: for the account that is never connected (so the worker never consumes its
  dirty keys) the recorded delivery ids, the replica's rows and versions and the dirty keys agree
  exactly with what the LMS sent, and every delivery was applied exactly once;
* after the restart the run converges: the worker loop, still running, drains the backlog and every
  mailbox of the connected account equals the oracle.

The host honours ``Retry-After`` but waits at most 0.5 s, to keep the test short.
"""
from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from bridge.db import Database
from bridge.migrate import upgrade
from bridge.models import Delivery, DirtyKey, LmsEnrollment, LmsEvent, LmsSession, LmsUser
from bridge.worker.loop import Worker
from emulator.testing import EmulatorHandle
from plugin import create_app
from plugin.app import create_ops_app
from plugin.host import HostClient
from tests.integration.world import ACCOUNT, DOMAIN, World
from tests.reliability.harness import Background, ScratchPostgres, scratch_postgres, serving
from tests.reliability.lms import (
    Envelope,
    Lms,
    assert_as_oracle_says,
    make_mailboxes,
    random_changes,
    soon,
    total,
)

OUTAGE_SECONDS = 30.0
BETA = "beta-academy"  # an account that is never connected: its dirty keys stay for inspection
LEARNERS = [f"p{n}" for n in range(28)]
SEED = 3030


@pytest.fixture
def postgres() -> Iterator[ScratchPostgres]:
    with scratch_postgres() as server:
        yield server


def load(lms: Lms, base: datetime) -> list[Envelope]:
    out = [lms.upsert_user("org", role="instructor"), *[lms.upsert_user(uid) for uid in LEARNERS]]
    for e in range(3):
        plan = [(f"e{e}s{i}", soon(40 + 24 * e + 3 * i, base), soon(42 + 24 * e + 3 * i, base)) for i in range(3)]
        out.append(lms.upsert_event(f"e{e}", title=f"Course {e}", organizer="org", zone="Europe/Vienna",
                                    sessions=plan))
    out += [lms.enroll(f"e{n % 3}", uid, f"e{n % 3}s{n % 3}") for n, uid in enumerate(LEARNERS)]
    return out


@dataclass
class Host:
    """An LMS sending its deliveries one by one, each retried (same id) until it is acknowledged."""

    client: HostClient
    envelopes: list[Envelope]
    batch: int = 1
    pause: float = 0.1
    answers: dict[str, list[str]] = field(default_factory=dict)  # delivery id → what each attempt got
    unavailable: int = 0
    without_retry_after: int = 0
    error: BaseException | None = None

    def run(self) -> None:
        try:
            for start in range(0, len(self.envelopes), self.batch):
                self._send(self.envelopes[start:start + self.batch])
                time.sleep(self.pause)
        except BaseException as exc:  # reported by the test
            self.error = exc

    def _send(self, group: list[Envelope]) -> None:
        deadline = time.monotonic() + OUTAGE_SECONDS + 60
        while time.monotonic() < deadline:
            try:
                if self.batch == 1:
                    answer = self.client.send(group[0]["topic"], group[0]["account"], group[0]["data"],
                                              delivery_id=group[0]["id"])
                else:
                    answer = self.client.send_batch(group)
            except requests.RequestException as exc:
                for envelope in group:
                    self.answers.setdefault(envelope["id"], []).append(type(exc).__name__)
                time.sleep(0.2)
                continue
            if answer.status_code == 503:
                self.unavailable += 1
                retry_after = answer.headers.get("Retry-After")
                self.without_retry_after += not (retry_after and float(retry_after) > 0)
                for envelope in group:
                    self.answers.setdefault(envelope["id"], []).append("503")
                time.sleep(min(float(retry_after or 1), 0.5))
                continue
            assert answer.status_code in (200, 202), answer.text
            body = answer.json()
            for item in body["results"] if self.batch > 1 else [body]:
                self.answers.setdefault(item["id"], []).append(item["status"])
            return
        raise AssertionError("a delivery was never acknowledged")


def check_nothing_half_stored(database: Database, lms: Lms, sent: list[Envelope]) -> None:
    """BETA's replica, delivery ids and dirty keys agree exactly with what its LMS sent."""
    latest: dict[tuple[str, ...], int] = {}
    concerned: set[str] = set()
    for envelope in sent:
        data, kind = envelope["data"], envelope["topic"].split(".")[0]
        key = (kind, data["event_id"], data["user_id"]) if kind == "enrollment" else (kind, data["id"])
        latest[key] = max(latest.get(key, 0), data["version"])
        concerned |= {data.get("user_id"), data.get("organizer_id")} - {None}
        if kind == "user":
            concerned.add(data["id"])
    with database.session() as session:
        ids = set(session.scalars(select(Delivery.id).where(Delivery.account_id == BETA)))
        versions: dict[tuple[str, ...], int] = {("user", r.id): r.version for r in session.scalars(
            select(LmsUser).where(LmsUser.account_id == BETA))}
        versions |= {("event", r.id): r.version for r in session.scalars(
            select(LmsEvent).where(LmsEvent.account_id == BETA))}
        versions |= {("enrollment", r.event_id, r.user_id): r.version for r in session.scalars(
            select(LmsEnrollment).where(LmsEnrollment.account_id == BETA))}
        stored_sessions = {(r.event_id, r.id) for r in session.scalars(
            select(LmsSession).where(LmsSession.account_id == BETA))}
        dirty = set(session.scalars(select(DirtyKey.user_id).where(DirtyKey.account_id == BETA)))
    assert ids == {e["id"] for e in sent}, "delivery ids recorded differ from the deliveries sent"
    assert versions == latest, "the replica is not at the last version of every object"
    assert stored_sessions == {(eid, s["id"]) for eid, ev in lms.events.items() for s in ev["sessions"]}
    assert dirty == concerned, f"dirty keys {sorted(dirty)} vs users concerned {sorted(concerned)}"


def test_thirty_seconds_without_postgresql(emulator: EmulatorHandle, postgres: ScratchPostgres,
                                          figures: dict[str, Any]) -> None:
    database = Database(postgres.url)
    upgrade(database.engine)
    world = World.create(emulator, database, worker_concurrency=4)
    admin = emulator.admin
    make_mailboxes(admin, world.tenant_id, ["org", *LEARNERS], DOMAIN)
    admin.set_faults(latency_ms=20, latency_jitter_ms=10, seed=SEED)
    rng = random.Random(SEED)
    base = datetime.now(UTC)
    acme, beta = Lms(ACCOUNT, DOMAIN), Lms(BETA, "beta.example")
    first = load(acme, base)
    acme_changes = [envelope for _ in range(12) for envelope in random_changes(acme, rng, 5, LEARNERS)]
    beta_sent = load(beta, base) + [e for _ in range(12) for e in random_changes(beta, rng, 5, LEARNERS)]

    try:
        with serving(create_app(world.settings, database)) as url, \
                serving(create_ops_app(world.settings, database)) as ops:
            loader = Host(HostClient(url, world.settings.host_secret), first, batch=20, pause=0)
            loader.run()
            assert loader.error is None, loader.error
            world.connect()
            hosts = [Host(HostClient(url, world.settings.host_secret), acme_changes, pause=0.15),
                     Host(HostClient(url, world.settings.host_secret), beta_sent, batch=10, pause=0.3)]
            threads = [threading.Thread(target=h.run, daemon=True) for h in hosts]
            with Background(Worker(database, world.graph, concurrency=4), idle_sleep=0.1) as background:
                for thread in threads:
                    thread.start()
                time.sleep(3.0)
                postgres.stop("fast")
                stopped = time.monotonic()
                health = requests.get(f"{ops}/readyz", timeout=30).status_code
                time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped)))
                postgres.start()
                restarted = time.monotonic()
                for thread in threads:
                    thread.join(timeout=OUTAGE_SECONDS + 90)
                assert not any(t.is_alive() for t in threads), "a host never got its deliveries acknowledged"
                assert not [h.error for h in hosts if h.error], [h.error for h in hosts]
                converged = wait_for_backlog(database, background, timeout=120)
    finally:
        world.graph.close()
        database.dispose()

    assert health == 503, "readyz did not report the database outage"
    unavailable = sum(h.unavailable for h in hosts)
    assert unavailable > 0, "no hook was refused during the outage"
    assert sum(h.without_retry_after for h in hosts) == 0, "a 503 came without Retry-After"
    for host in hosts:
        for delivery_id, seen in host.answers.items():
            done = [s for s in seen if s in ("applied", "duplicate", "stale")]
            failed_before = any(s not in ("applied", "duplicate", "stale", "503") for s in seen[:-1])
            # applied exactly once; "duplicate" only after an attempt whose answer was lost on the way
            assert done == ["applied"] or (done == ["duplicate"] and failed_before), (delivery_id, seen)

    database = Database(postgres.url)
    try:
        check_nothing_half_stored(database, beta, beta_sent)
    finally:
        database.dispose()
    actual = assert_as_oracle_says(acme, admin, world.tenant_id)

    figures.update(outage_s=OUTAGE_SECONDS, deliveries=len(first) + len(acme_changes) + len(beta_sent),
                   hooks_refused_503=unavailable,
                   connection_errors=sum(s not in ("applied", "duplicate", "stale", "503")
                                         for h in hosts for seen in h.answers.values() for s in seen),
                   entries=total(actual), convergence_s_after_restart=round(converged - restarted, 1))


def wait_for_backlog(database: Database, background: Background, timeout: float) -> float:
    """Wait until the connected account has no dirty key left; returns when (monotonic)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert background.error is None, f"the worker loop died: {background.error!r}"
        with database.session() as session:
            left = session.scalar(select(func.count()).select_from(DirtyKey).where(DirtyKey.account_id == ACCOUNT))
        if not left:
            return time.monotonic()
        time.sleep(0.2)
    raise AssertionError(f"{left} keys of {ACCOUNT} still waiting {timeout} s after the restart")
