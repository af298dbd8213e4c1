"""A fleet on test hosts: PostgreSQL, the emulator, ``outlook-sync serve`` and workers, each on a host.

:func:`fleet` builds it on a :class:`tests.hosts.Lab`: host ``db`` runs the lab's own PostgreSQL,
``graph`` the emulator (HTTPS on its veth address, its certificate naming that address), ``web``
``outlook-sync serve --no-worker``; :meth:`Fleet.worker` starts ``outlook-sync worker`` on a new host
``w<n>`` (JSON logs, its metrics on ``<address>:9464``). The test process is the LMS: it sends signed
hooks to the web host over the segment (:meth:`Fleet.load`) and presses Connect integration
(:meth:`Fleet.connect`). Used by ``tests/integration/test_hosts.py`` and benchmark B10.
"""
from __future__ import annotations

import secrets
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from bridge.accounts import connection, consent
from bridge.codes import ConnectionState
from bridge.config import Settings
from bridge.db import Database
from bridge.graph.client import Graph
from bridge.migrate import upgrade
from bridge.models import DirtyKey
from emulator.testing import EmulatorHandle, running_emulator
from plugin.host import HostClient
from tests.hosts import Host, Lab

ACCOUNT = "fleet"
DOMAIN = "fleet.example"
HOST_SECRET = "h" * 32
METRICS_PORT = 9464


@dataclass
class Fleet:
    """The running fleet; workers are added with :meth:`worker`."""

    lab: Lab
    emulator: EmulatorHandle
    database: Database
    settings: Settings
    graph: Graph
    tenant_id: str
    web: str  # the serve host's base URL
    workers: dict[str, Any] = field(default_factory=dict)  # host name → its worker process

    def env(self, concurrency: int) -> dict[str, str]:
        """The ``OUTLOOK_SYNC_*`` variables every process of the fleet gets."""
        s = self.settings
        return {"OUTLOOK_SYNC_HOST_SECRET": HOST_SECRET, "OUTLOOK_SYNC_SECRET_KEY": s.secret_key,
                "OUTLOOK_SYNC_CLIENT_ID": s.client_id, "OUTLOOK_SYNC_CLIENT_SECRET": s.client_secret or "",
                "OUTLOOK_SYNC_DATABASE_URL": s.database_url, "OUTLOOK_SYNC_AUTHORITY_URL": s.authority_url,
                "OUTLOOK_SYNC_GRAPH_URL": s.graph_url, "OUTLOOK_SYNC_CA_BUNDLE": s.ca_bundle or "",
                "OUTLOOK_SYNC_WORKER_CONCURRENCY": str(concurrency), "OUTLOOK_SYNC_LOG_FORMAT": "json"}

    def worker(self, name: str, concurrency: int) -> Host:
        """``outlook-sync worker`` on a new host ``name``, once its metrics answer (its log says started)."""
        host = self.lab.host(name)
        self.workers[name] = self.lab.run(host, [sys.executable, "-m", "plugin.cli", "worker", "--metrics-host",
                                                 host.address, "--metrics-port", str(METRICS_PORT)],
                                          env=self.env(concurrency))
        _wait(lambda: requests.get(f"http://{host.address}:{METRICS_PORT}/metrics", timeout=2).ok, 60,
              lambda: f"worker {name} did not start: {self.lab.log(f'{name}.log')}")
        return host

    def load(self, users: int, sessions: int = 4) -> int:
        """Send, as the LMS, ``users`` learners each enrolled in one of ``sessions`` sessions of one event
        (and their directory users to the tenant); returns the entries the backfill must make."""
        admin = self.emulator.admin
        addresses = [f"u{n}@{DOMAIN}" for n in range(users)]
        for start in range(0, users, 1000):
            admin.create_users(self.tenant_id, [{"userPrincipalName": a, "mail": a, "mailbox": "exchange_online"}
                                                for a in addresses[start:start + 1000]])
        now = datetime.now(UTC).replace(microsecond=0)
        deliveries: list[dict[str, Any]] = [HostClient.delivery("event.upserted", ACCOUNT, {
            "id": "e1", "title": "Course", "description": None, "organizer_id": "teacher",  # no LMS user: no entry
            "url": "https://lms.example/e1", "location": None, "online_url": None, "timezone": "Europe/Berlin",
            "cancelled": False, "version": 1,
            "sessions": [{"id": f"s{i}", "title": None, "start": (now + timedelta(days=1 + i)).isoformat(),
                          "end": (now + timedelta(days=1 + i, hours=1)).isoformat(), "location": None,
                          "online_url": None} for i in range(sessions)]})]
        for n, address in enumerate(addresses):
            deliveries.append(HostClient.delivery("user.upserted", ACCOUNT, {
                "id": f"u{n}", "email": address, "name": f"User {n}", "active": True, "role": "learner",
                "timezone": None, "version": 1}))
            deliveries.append(HostClient.delivery("enrollment.upserted", ACCOUNT, {
                "event_id": "e1", "user_id": f"u{n}", "session_id": f"s{n % sessions}", "version": 1}))
        client = HostClient(self.web, HOST_SECRET)
        for start in range(0, len(deliveries), 1000):
            answer = client.send_batch(deliveries[start:start + 1000])
            assert answer.status_code < 300, answer.text
        return users

    def connect(self) -> None:
        """Connect integration (consent was granted in the emulator): the backfill is queued."""
        with self.database.session() as session:
            row = connection.connection(session, ACCOUNT)
            row.tenant_id, row.state = self.tenant_id, ConnectionState.CONSENT_RECEIVED
        consent.connect(self.database, self.graph, ACCOUNT, "owner", datetime.now(UTC))

    def backlog(self) -> int:
        """Keys still queued."""
        with self.database.session() as session:
            return int(session.execute(select(func.count()).select_from(DirtyKey)).scalar_one())

    def held_by(self, host: str, *, expired_too: bool = False) -> set[str]:
        """The users whose keys a worker on ``host`` holds under a lease now (or held, its lease run out,
        with ``expired_too``: until another worker claims or finishes them)."""
        query = select(DirtyKey.user_id).where(DirtyKey.claimed_by.like(f"{host}:%"))
        if not expired_too:
            query = query.where(DirtyKey.claimed_until > datetime.now(UTC))
        with self.database.session() as session:
            return {row[0] for row in session.execute(query)}

    def entries_made(self) -> dict[str, int]:
        """Events in each mailbox of the tenant, by address."""
        return {address: len(box["events"]) for address, box in self.emulator.admin.mailboxes(self.tenant_id).items()}

    def creates(self, host: Host) -> float:
        """Creates Graph accepted from the worker on ``host`` (its ``/metrics``)."""
        text = requests.get(f"http://{host.address}:{METRICS_PORT}/metrics", timeout=5).text
        return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
                   if sample.name == "outlook_sync_graph_writes_total"
                   and sample.labels == {"method": "create", "outcome": "ok"})


def _wait(ready: Any, seconds: float, why: Any) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if ready():
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise TimeoutError(why())


@contextmanager
def fleet(latency_ms: float) -> Iterator[Fleet]:
    """PostgreSQL, the emulator (Graph latency ``latency_ms``) and serve, each on a test host; all of
    it, and the hosts, gone at exit."""
    with ExitStack() as stack:
        lab = stack.enter_context(Lab())
        url = lab.postgresql(lab.host("db"))
        database = Database(url)
        stack.callback(database.dispose)
        upgrade(database.engine)
        graph_host = lab.host("graph")
        emulator = stack.enter_context(running_emulator(host=graph_host.address, launcher=lab.launcher(graph_host),
                                                        latency_ms=latency_ms, cert_dir=str(lab.folder / "certs")))
        client_id, secret = str(uuid.uuid4()), secrets.token_urlsafe(24)
        emulator.admin.register_app(client_id, client_secret=secret, redirect_uris=["http://127.0.0.1/cb"])
        tenant = emulator.admin.create_tenant("Fleet", [DOMAIN])["id"]
        emulator.admin.grant_consent(tenant, client_id)
        settings = Settings(host_secret=HOST_SECRET, secret_key="k" * 32, client_id=client_id, client_secret=secret,
                            database_url=url, authority_url=emulator.base_url, graph_url=emulator.graph_url,
                            ca_bundle=emulator.ca_path)
        graph = Graph.from_settings(settings)
        stack.callback(graph.close)
        web = lab.host("web")
        made = Fleet(lab, emulator, database, settings, graph, tenant, f"http://{web.address}:8000")
        lab.run(web, [sys.executable, "-m", "plugin.cli", "serve", "--host", web.address, "--port", "8000",
                      "--no-worker", "--workers", "1", "--threads", "4"], env=made.env(1))
        _wait(lambda: requests.get(f"{made.web}/healthz", timeout=2).ok, 60,
              lambda: f"serve did not start: {lab.log('web.log')}")
        yield made
