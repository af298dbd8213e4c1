"""A world for the fast tests of the executor and the worker: the real database, ingest, executor,
worker, exchange and gateways, with the in-memory tenant in place of Graph (no process, no network:
a pass takes milliseconds). The LMS is the reliability suites' model, compared with their oracle.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update

from bridge.accounts import connection, consent
from bridge.codes import ConnectionState
from bridge.db import Database
from bridge.graph.client import Graph
from bridge.graph.memory import Faults, MemoryTenant
from bridge.models import DirtyKey, MailboxPause, utcnow
from bridge.sync.guard import Guard
from bridge.worker.loop import Worker
from tests.reliability.lms import Envelope, Lms, compare, deliver, memory_mailboxes, oracle

ACCOUNT = "acme"
DOMAIN = "contoso.example"


@dataclass
class MemoryWorld:
    database: Database
    tenant: MemoryTenant = field(default_factory=lambda: MemoryTenant(domains=[DOMAIN]))
    lms: Lms = field(default_factory=lambda: Lms(ACCOUNT, DOMAIN))
    slept: list[float] = field(default_factory=list)
    guard: Guard = field(default_factory=Guard)

    def __post_init__(self) -> None:
        self.graph = Graph(self.tenant, self.tenant, self.slept.append)  # Retry-After recorded, not waited

    def mailboxes(self, *uids: str) -> None:
        for uid in uids:
            self.tenant.add_user(f"{uid}@{DOMAIN}")

    def deliver(self, *envelopes: Envelope) -> None:
        deliver(self.database, list(envelopes))

    def connect(self) -> None:
        with self.database.session() as session:
            row = connection.connection(session, ACCOUNT)
            row.tenant_id, row.state = self.tenant.tenant_id, ConnectionState.CONSENT_RECEIVED
        consent.connect(self.database, self.graph, ACCOUNT, "owner", datetime.now(UTC))

    def worker(self, concurrency: int = 4) -> Worker:
        return Worker(self.database, self.graph, concurrency=concurrency, full_reconcile=timedelta(days=1),
                      guard=self.guard)

    def sync(self, rounds: int = 40) -> None:
        """Work until no key is left; keys waiting for a retry are made due at once (the clock jumps)."""
        worker = self.worker()
        for _ in range(rounds):
            worker.drain(timeout=60, due_within=0)
            if not self.backlog():
                return
            with self.database.session() as session:  # and every pause Graph asked for is over
                session.execute(update(DirtyKey).values(due_at=utcnow()))
                session.execute(delete(MailboxPause))
        raise AssertionError(f"{self.backlog()} keys left after {rounds} rounds")

    def backlog(self) -> int:
        with self.database.session() as session:
            return int(session.execute(select(func.count()).select_from(DirtyKey)).scalar_one())

    def problems(self) -> list[str]:
        """Every difference between the mailboxes and the oracle applied to the LMS now."""
        return compare(oracle(self.lms, self.tenant.domains, datetime.now(UTC)), memory_mailboxes(self.tenant))

    def calm(self) -> None:
        self.tenant.faults = Faults()
