"""A small world for end-to-end tests: an LMS account, a tenant in the emulator, a worker.

The LMS side is driven through the real ingest (the same code the hooks call), Graph through the
real client against the emulator over HTTPS, and the mailboxes are read back through the emulator's
inspection API.
"""
from __future__ import annotations

import itertools
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from bridge.accounts import connection, consent, status
from bridge.codes import ConnectionState, HookOutcome
from bridge.config import Settings
from bridge.db import Database
from bridge.graph.client import Graph
from bridge.lms import ingest
from bridge.models import DirtyKey
from bridge.worker.loop import Worker
from emulator.testing import EmulatorHandle

ACCOUNT = "acme"
DOMAIN = "contoso.example"
REDIRECT = "http://127.0.0.1:8000/integrations/outlook/consent"


def at(hours: float) -> datetime:
    """An instant ``hours`` from now, to the second."""
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(microsecond=0)


@dataclass
class World:
    emulator: EmulatorHandle
    database: Database
    settings: Settings
    graph: Graph
    tenant_id: str
    mailbox_ids: dict[str, str] = field(default_factory=dict)
    versions: itertools.count = field(default_factory=lambda: itertools.count(1))  # type: ignore[type-arg]
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    account: str = ACCOUNT
    domain: str = DOMAIN

    @classmethod
    def create(cls, emulator: EmulatorHandle, database: Database, *, account: str = ACCOUNT, domain: str = DOMAIN,
               beside: World | None = None, **settings: Any) -> World:
        """A tenant (with ``domain``) that consented to the plugin's app; ``beside`` another world
        shares that world's plugin installation (its app and settings) instead of starting afresh."""
        admin = emulator.admin
        if beside is None:
            admin.reset("all")
            client_id, secret = str(uuid.uuid4()), secrets.token_urlsafe(24)
            admin.register_app(client_id, client_secret=secret, redirect_uris=[REDIRECT])
            config = Settings(host_secret="h" * 32, secret_key="k" * 32, client_id=client_id, client_secret=secret,
                              database_url=database.url, authority_url=emulator.base_url,
                              graph_url=emulator.graph_url, ca_bundle=emulator.ca_path,
                              **{"worker_concurrency": 8, **settings})
            graph = Graph.from_settings(config)
        else:
            config, graph = beside.settings, beside.graph
        tenant = admin.create_tenant(domain.split(".")[0].title(), [domain])
        admin.grant_consent(tenant["id"], config.client_id)
        return cls(emulator, database, config, graph, tenant["id"], account=account, domain=domain)

    # -- the tenant -------------------------------------------------------------------------
    def person(self, uid: str, address: str | None = None, *, mailbox: str | None = "exchange_online",
               active: bool = True) -> str:
        """An LMS user, and (unless ``mailbox`` is None) a directory user with that mailbox kind."""
        address = address or f"{uid}@{self.domain}"
        if mailbox is not None and address not in self.mailbox_ids:
            made = self.emulator.admin.create_user(self.tenant_id, address, mail=address, mailbox=mailbox)
            self.mailbox_ids[address] = made["id"]
        self.deliver("user.upserted", {"id": uid, "email": address, "name": uid.title(), "active": active,
                                       "role": "learner", "timezone": None})
        return address

    def rename(self, address: str, new_address: str) -> None:
        """The tenant renames the directory user at ``address``: new UPN and primary address, the
        old one kept as an alias; both reach the same mailbox in :meth:`mailbox`."""
        self.emulator.admin.rename_user(self.tenant_id, self.mailbox_ids[address], new_address)
        self.mailbox_ids[new_address] = self.mailbox_ids[address]

    def connect(self) -> None:
        """Consent is granted in the emulator; this is Connect integration (access proven for real)."""
        with self.database.session() as session:
            row = connection.connection(session, self.account)
            row.tenant_id, row.state = self.tenant_id, ConnectionState.CONSENT_RECEIVED
        consent.connect(self.database, self.graph, self.account, "owner", datetime.now(UTC))

    # -- the LMS ----------------------------------------------------------------------------
    def deliver(self, topic: str, data: dict[str, Any]) -> HookOutcome:
        with self.database.session() as session:
            return ingest.apply_delivery(session, {"id": secrets.token_hex(8), "topic": topic, "account": self.account,
                                                   "data": {**data, "version": next(self.versions)}})

    def event(self, eid: str, sessions: list[tuple[str, datetime, datetime]], organizer: str = "org",
              **fields: Any) -> None:
        data = {"id": eid, "title": f"Event {eid}", "description": None, "organizer_id": organizer,
                "url": f"https://lms.example/events/{eid}", "location": None, "online_url": None,
                "timezone": "Europe/Berlin", "cancelled": False,
                "sessions": [{"id": sid, "title": None, "start": start, "end": end, "location": None,
                              "online_url": None} for sid, start, end in sessions]}
        data.update(fields)
        self.events[eid] = data
        self.deliver("event.upserted", data)

    def change_event(self, eid: str, **fields: Any) -> None:
        self.events[eid] = {**self.events[eid], **fields}
        self.deliver("event.upserted", self.events[eid])

    def change_session(self, eid: str, sid: str, **fields: Any) -> None:
        data = self.events[eid]
        data["sessions"] = [{**s, **fields} if s["id"] == sid else s for s in data["sessions"]]
        self.deliver("event.upserted", data)

    def enroll(self, uid: str, eid: str, sid: str | None) -> None:
        self.deliver("enrollment.upserted", {"event_id": eid, "user_id": uid, "session_id": sid})

    # -- running and looking ----------------------------------------------------------------
    def sync(self, timeout: float = 120.0) -> int:
        """Run a worker until no key of a working account is left (retries included)."""
        worker = Worker(self.database, self.graph, concurrency=self.settings.worker_concurrency)
        worked = 0
        deadline = datetime.now(UTC) + timedelta(seconds=timeout)
        while datetime.now(UTC) < deadline:
            worked += worker.drain(timeout=timeout)
            if not self.backlog():
                return worked
        raise AssertionError(f"work left after {timeout} s: {self.backlog()} keys")

    def backlog(self) -> int:
        with self.database.session() as session:
            return int(session.execute(select(func.count()).select_from(DirtyKey)).scalar_one())

    def mailbox(self, address: str) -> list[dict[str, Any]]:
        return sorted(self.emulator.admin.events(self.tenant_id, self.mailbox_ids[address]),
                      key=lambda e: (e["start"]["dateTime"], e["subject"]))

    def subjects(self, address: str) -> list[str]:
        return [e["subject"] for e in self.mailbox(address)]

    def state(self, uid: str) -> tuple[str, str | None]:
        with self.database.session() as session:
            rows, _ = status.users(session, self.account, search=None, limit=10_000)
        row = next(r for r in rows if r.user_id == uid)
        return row.state, row.reason
