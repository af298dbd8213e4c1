"""The preview before connecting: what switching on will do, found with read-only look-ups.

For every LMS user of the account: the rules (:func:`bridge.lms.rules.decide`, with the tenant's verified
domains read afresh) say how many entries they would get or why none (personal address, domain not
verified, inactive, no session chosen…); each user who would get entries has their mailbox checked
the way the sync meets it: Graph is asked for the address as a user principal name, then the
directory by ``mail`` / ``proxyAddresses`` (:meth:`Directory.find_user`), and one entry id is read
(:meth:`CalendarGateway.probe`), which tells a mailbox not in Exchange Online, a user not in the
tenant, an application access policy and, for an account granting "only the LMS's people", a mailbox
outside the plugin's Exchange scope apart (:mod:`bridge.lms.grant`): the users who get entries are the
ones in scope. Nothing is written to any mailbox.

Users are handled in chunks; each chunk's lines and the job's progress commit together, so the page
shows progress on large accounts. At most ``concurrency`` mailboxes are probed at once (one request
each, so Graph's per-mailbox limit of four is never reached).
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from bridge.codes import AccessGrant, Because, ConsentReason, Reason
from bridge.db import Database
from bridge.graph import errors
from bridge.graph.client import Graph
from bridge.lms import grant, rules, settings
from bridge.lms.views import User
from bridge.models import Connection, utcnow
from bridge.sync import store
from bridge.trust import preview_store

log = logging.getLogger("outlook_sync.preview")

CHUNK = 200
Line = tuple[str, int, str | None, str | None, int]  # user id, entries, reason, detail, of which deadlines


class PreviewRun:
    """One preview of an account; :meth:`run` fills the job started by :func:`preview_store.start`."""

    def __init__(self, db: Database, graph: Graph, account_id: str, concurrency: int = 16) -> None:
        self.db, self.graph, self.account_id = db, graph, account_id
        self.concurrency = max(1, concurrency)
        self.tenant, self.grant, self.via = "", AccessGrant.ORGANISATION, graph

    def run(self, now: datetime | None = None) -> None:
        """Preview every user; a tenant-wide refusal or an unexpected error ends the job as failed."""
        now = now or utcnow()
        try:
            self._run(now)
        except errors.GraphError as exc:
            log.warning("preview of account %s stopped: %s", self.account_id, type(exc).__name__)
            with self.db.session() as session:
                preview_store.finish(session, self.account_id, utcnow(),
                                     getattr(exc, "reason", None) or Reason.GRAPH_ERROR)
        except Exception:
            log.exception("preview of account %s failed", self.account_id)
            with self.db.session() as session:
                preview_store.finish(session, self.account_id, utcnow(), Reason.ERROR)
            raise

    def _run(self, now: datetime) -> None:
        with self.db.session() as session:
            row = session.get(Connection, self.account_id)
            tenant = (row.claimed_tenant_id or row.tenant_id) if row else None  # a claim until connected
            user_ids = preview_store.user_ids(session, self.account_id)
            self.grant = grant.read(session, self.account_id).grant
        if tenant is None:
            with self.db.session() as session:
                preview_store.finish(session, self.account_id, utcnow(), ConsentReason.CONSENT_NOT_GIVEN)
            return
        self.tenant, self.via = tenant, self.graph.under(self.grant)
        domains = self.via.directory.verified_domains(tenant)
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="preview") as pool:
            for start in range(0, len(user_ids), CHUNK):
                lines = self._chunk(pool, user_ids[start:start + CHUNK], domains, now)
                with self.db.session() as session:
                    preview_store.add_lines(session, self.account_id, lines)
        with self.db.session() as session:
            preview_store.finish(session, self.account_id, utcnow())

    def _chunk(self, pool: ThreadPoolExecutor, chunk: list[str], domains: list[str] | None,
               now: datetime) -> list[Line]:
        """The lines of some users: the rules' answer, then a mailbox check for those with entries."""
        with self.db.session() as session:
            views = store.user_views(session, self.account_id, chunk)
            chosen = settings.read(session, self.account_id).deadlines
        decisions = {uid: rules.decide(views[uid], domains, now, chosen) for uid in chunk}
        reachable = [uid for uid in chunk if decisions[uid].wanted]
        addresses = [_address(views[uid].user) for uid in reachable]
        checks = dict(zip(reachable, pool.map(self._check, addresses), strict=True))
        lines: list[Line] = []
        for uid in chunk:
            decision = decisions[uid]
            reason, detail = checks.get(uid, (decision.skip_reason, None))
            deadlines = sum(1 for w in decision.wanted.values() if w.because == Because.DEADLINE)
            lines.append((uid, 0 if reason else len(decision.wanted), reason, detail, 0 if reason else deadlines))
        return lines

    def _check(self, address: str) -> tuple[str | None, str | None]:
        """Why the mailbox of ``address`` cannot be reached, or ``(None, None)`` when it can."""
        try:
            try:
                self.via.calendar.probe(self.tenant, address, self.grant)
                return None, None
            except errors.MailboxUnreachable as exc:
                if exc.reason != Reason.USER_NOT_FOUND:
                    raise
            found = self.via.directory.find_user(self.tenant, address)
            if found is None:
                return Reason.USER_NOT_FOUND, None
            self.via.calendar.probe(self.tenant, found, self.grant)
            return None, None
        except errors.MailboxUnreachable as exc:
            return exc.reason, exc.code or None
        except (errors.Throttled, errors.Transient) as exc:
            return Reason.ERROR, f"{type(exc).__name__}: {exc.code or exc.status}"


def _address(user: User | None) -> str:
    return (user.email if user is not None else None) or ""
