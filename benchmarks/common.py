"""A backfill workload shared by the benchmarks: N users, two sessions each (or a course's deadlines
each), one emulated tenant."""
from __future__ import annotations

import json
import secrets
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bridge.accounts import connection, consent
from bridge.codes import ConnectionState
from bridge.config import Settings
from bridge.db import Database
from bridge.graph.client import Graph
from bridge.lms import ingest
from bridge.migrate import upgrade
from emulator.testing import EmulatorHandle

ACCOUNT = "bench"
DOMAIN = "bench.example"


@dataclass
class Workload:
    settings: Settings
    database: Database
    graph: Graph
    tenant_id: str
    users: int
    entries: int
    account: str = ACCOUNT


def prepare(emulator: EmulatorHandle, database_url: str, users: int, concurrency: int,
            sessions_per_event: int = 2, assignments: int = 0, account: str = ACCOUNT, domain: str = DOMAIN,
            app: tuple[str, str] | None = None, connect: bool = True) -> Workload:
    """An account whose users each have two upcoming sessions (entries = 2 × users); or, with
    ``assignments``, one course whose users each have that many upcoming deadlines and no session
    (entries = assignments × users). Connected (Connect integration pressed: everyone queued) unless
    ``connect`` is False (then consent is given and :func:`connect_account` switches it on). ``app``:
    the (client id, secret) of an app registered by an earlier call, for a further account in the same
    emulator; None resets the emulator and registers one.
    """
    admin = emulator.admin
    if app is None:
        admin.reset("all")
        app = str(uuid.uuid4()), secrets.token_urlsafe(24)
        admin.register_app(app[0], client_secret=app[1], redirect_uris=["http://127.0.0.1/cb"])
    client_id, secret = app
    tenant = admin.create_tenant(account.title(), [domain])["id"]
    admin.grant_consent(tenant, client_id)
    addresses = [f"user{n}@{domain}" for n in range(users)]
    for start in range(0, users, 1000):
        admin.create_users(tenant, [{"userPrincipalName": a, "mail": a, "mailbox": "exchange_online"}
                                    for a in addresses[start:start + 1000]])
    settings = Settings(host_secret="h" * 32, secret_key="k" * 32, client_id=client_id, client_secret=secret,
                        database_url=database_url, authority_url=emulator.base_url, graph_url=emulator.graph_url,
                        ca_bundle=emulator.ca_path, worker_concurrency=concurrency)
    database = Database(database_url)
    upgrade(database.engine)
    with database.session() as session:
        for number, delivery in enumerate(deliveries(users, sessions_per_event, domain, assignments)):
            ingest.apply_delivery(session, {"id": f"d{number}", "account": account, **delivery})
        row = connection.connection(session, account)
        row.tenant_id, row.state = tenant, ConnectionState.CONSENT_RECEIVED
    graph = Graph.from_settings(settings)
    work = Workload(settings, database, graph, tenant, users, users * (assignments or sessions_per_event), account)
    if connect:
        connect_account(work)
    return work


def connect_account(work: Workload) -> None:
    """Press Connect integration for the workload's account: every user is queued (bulk)."""
    consent.connect(work.database, work.graph, work.account, "bench", datetime.now(UTC))


def deliveries(users: int, sessions_per_event: int, domain: str, assignments: int = 0) -> list[dict[str, Any]]:
    """The hooks of the workload: users ``u<n>`` at ``user<n>@domain`` and either ``users // 50``
    events (at least 2) with ``sessions_per_event`` sessions from tomorrow on, user n in event
    n % events at session 0 and in the following events at sessions 1, 2, …; or, with ``assignments``,
    one course's deadlines applying to every user (:func:`_course`)."""
    now = datetime.now(UTC).replace(microsecond=0)
    events = 0 if assignments else max(2, users // 50)
    found: list[dict[str, Any]] = _course(assignments, users, now) if assignments else []
    for e in range(events):
        sessions = [{"id": f"e{e}s{i}", "title": None, "start": now + timedelta(days=1 + i, hours=e % 8),
                     "end": now + timedelta(days=1 + i, hours=e % 8 + 1), "location": "Room 1",
                     "online_url": None} for i in range(sessions_per_event)]
        found.append({"topic": "event.upserted", "data": {
            "id": f"e{e}", "title": f"Course {e}", "description": "Bring a notebook.", "organizer_id": None,
            "url": f"https://lms.example/e{e}", "location": None, "online_url": None,
            "timezone": "Europe/Berlin", "cancelled": False, "sessions": sessions, "version": 1}})
    for n in range(users):
        address = f"user{n}@{domain}"
        found.append({"topic": "user.upserted", "data": {
            "id": f"u{n}", "email": address, "name": f"User {n}", "active": True, "role": "learner",
            "timezone": None, "version": 1}})
    for n in range(users if events else 0):
        e = n % events
        for i in range(sessions_per_event):
            # one session chosen in each of `sessions_per_event` events → that many entries per user
            found.append({"topic": "enrollment.upserted", "data": {
                "event_id": f"e{(e + i) % events}", "user_id": f"u{n}",
                "session_id": f"e{(e + i) % events}s{i}", "version": 1}})
    return found


def _course(assignments: int, users: int, now: datetime) -> list[dict[str, Any]]:
    """One course's deadlines, due on following days at 23:59 in Berlin, applying to every user
    (``learner_deadline`` rows with the deadline's own due time)."""
    deliveries: list[dict[str, Any]] = [{"topic": "deadline.upserted", "data": {
        "id": f"a{a}", "title": f"Assignment {a + 1}", "description": "<p>Hand in two pages.</p>",
        "url": f"https://lms.example/mod/assign/view.php?id={a}", "timezone": "Europe/Berlin",
        "due": (now + timedelta(days=2 + a)).replace(hour=22, minute=59, second=0), "version": 1}}
        for a in range(assignments)]
    return deliveries + [{"topic": "learner_deadline.upserted", "data": {
        "deadline_id": f"a{a}", "user_id": f"u{n}", "due": None, "done": False, "version": 1}}
        for n in range(users) for a in range(assignments)]


def machine_reference_ms(runs: int = 5) -> float:
    """Milliseconds of CPU (median of ``runs``) this machine takes for a fixed piece of work of the kind
    a worker does — JSON bodies encoded and decoded, instants written as text, rows written to and read
    from an in-memory SQLite database — using the standard library only, so the figure depends on the
    machine and the Python build, never on this project's code. Printed beside every set of figures:
    CPU per entry taken on two machines compares only after dividing by it (BENCHMARKS.md)."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    body: dict[str, Any] = {
        "subject": "Session", "body": {"contentType": "html", "content": "<p>" + "x" * 200 + "</p>"},
        "start": {"dateTime": "", "timeZone": "UTC"}, "location": {"displayName": "Room 1"},
        "singleValueExtendedProperties": [{"id": "String {00020329-0000-0000-C000-000000000046} Name t",
                                           "value": "tag"}]}

    def once() -> float:
        cpu = time.process_time()
        rows = []
        for n in range(5000):
            body["start"]["dateTime"] = (start + timedelta(minutes=n)).isoformat()
            rows.append((n, json.loads(json.dumps(body, separators=(",", ":")))["start"]["dateTime"]))
        with closing(sqlite3.connect(":memory:")) as db:
            db.execute("CREATE TABLE t (n INTEGER PRIMARY KEY, at TEXT)")
            db.executemany("INSERT INTO t VALUES (?, ?)", rows)
            total = sum(n for n, _ in db.execute("SELECT n, at FROM t WHERE at >= ?", (rows[0][1],)))
        assert total == sum(range(5000))
        return (time.process_time() - cpu) * 1000

    return statistics.median(once() for _ in range(runs))


def median_of(runs: int, once: Callable[[], float]) -> tuple[float, list[float]]:
    times = [once() for _ in range(runs)]
    return statistics.median(times), times


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


@contextmanager
def scratch_database(server_url: str, prefix: str) -> Iterator[str]:
    """Create ``<prefix>_<random>`` on the server of ``server_url``, yield its URL, drop it after."""
    url = make_url(server_url)
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextmanager
def bench_database(server_url: str | None, prefix: str) -> Iterator[str]:
    """The URL of a benchmark's own empty database: a :func:`scratch_database` on the PostgreSQL of
    ``server_url``, or (None) a SQLite file in a temporary folder; both gone when the block ends."""
    if server_url:
        with scratch_database(server_url, prefix) as url:
            yield url
    else:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / f'{prefix}.sqlite3'}"
