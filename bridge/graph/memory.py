"""An in-memory Graph tenant behind the same :class:`bridge.graph.wire.Transport` as HTTPS, so the real
exchange and gateways run over it: the executor and the worker are tested in milliseconds.

It answers what the plugin asks, as Graph does (facts.md): events of a mailbox (create with
``transactionId`` dedup, update, delete, look-up by the plugin's tag), a user by UPN or id, users
by ``mail`` / ``proxyAddresses``, verified domains; 404 ErrorInvalidUser for an unknown mailbox,
404 MailboxNotEnabledForRESTAPI for one Graph cannot reach, 404 ErrorItemNotFound for an entry.
Calendar access is granted as a tenant grants it (facts.md, RBAC for Applications): by Entra's
Calendars.ReadWrite (``calendar_grant``, in the token's roles), and/or by an Exchange role assignment
scoped to groups (:meth:`MemoryTenant.scope_to_group`) that reaches their direct members only; grants
add up, so the Entra grant makes a scope restrict nothing; a mailbox reached by neither answers 403
ErrorAccessDenied as Graph does. Unlike Exchange (and the emulator), changes apply at once: no cache.
Faults are injected on purpose (:class:`Faults`): answers lost after the writes were applied,
resets before anything is applied, 429 with ``Retry-After`` and 503 per request, and stalls; one
mailbox throttled for a while (:meth:`MemoryTenant.throttle_mailbox`). A request (a ``$batch``
envelope included) over Graph's 4 MB is refused whole with 413, as Graph does.
Every method is thread-safe (one lock; a stall waits outside it).
"""
from __future__ import annotations

import base64
import itertools
import json
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit
from zoneinfo import ZoneInfo

from tzlocal.windows_tz import win_tz

from bridge.graph import errors
from bridge.graph.calendar import TAG_PROPERTY_ID
from bridge.graph.wire import MAX_REQUEST_BYTES, Reply, Request, envelope


@dataclass
class Faults:
    """What goes wrong, per request (``throttle``, ``unavailable``) or per send (``lost``: applied
    then the answer lost; ``reset``: nothing applied), drawn from a seeded RNG; ``script`` forces
    the next sends' faults in order ("lost", "reset", or "" for none); ``stall`` seconds are
    waited before each send."""

    lost: float = 0.0
    reset: float = 0.0
    throttle: float = 0.0
    unavailable: float = 0.0
    retry_after: float = 1.5
    stall: float = 0.0
    script: list[str] = field(default_factory=list)
    seed: int = 0
    rng: random.Random = field(default_factory=random.Random)
    injected: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng.seed(self.seed)

    def draw(self, rates: dict[str, float], scripted: bool = False) -> str:
        if scripted and self.script:
            return self.script.pop(0)
        kind = next((k for k, rate in rates.items() if rate and self.rng.random() < rate), "")
        if kind:
            self.injected.append(kind)
        return kind


@dataclass
class User:
    id: str
    upn: str
    mail: str | None
    proxies: tuple[str, ...]
    mailbox: str  # exchange_online | on_premises | none
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    changes: list[str] = field(default_factory=list)  # ids of entries made, changed or deleted, in order


DENIED = "Access is denied. Check credentials and try again."


# Graph's freeBusyStatus (an event's showAs), as its CSDL (v1.0 metadata) lists the members.
FREE_BUSY = frozenset({"unknown", "free", "tentative", "busy", "oof", "workingElsewhere"})


def _error(status: int, code: str, message: str, **headers: str) -> Reply:
    return Reply(status, headers, {"error": {"code": code, "message": message}})


def _size(batch: Sequence[Request]) -> int:
    """Bytes of what goes on the wire: the one request's body, or the ``$batch`` envelope."""
    if len(batch) == 1:
        return len(batch[0].body_text or "")
    return len(envelope(batch))


def _token(state: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode()


def _tag(payload: dict[str, Any]) -> str | None:
    return next((p.get("value") for p in payload.get("singleValueExtendedProperties") or []
                 if str(p.get("id", "")).lower() == TAG_PROPERTY_ID.lower()), None)


def _utc(value: dict[str, str]) -> str:
    """A ``dateTimeTimeZone`` as a UTC "YYYY-MM-DDTHH:MM:SS" (IANA or Windows zone name)."""
    name = value["timeZone"]
    zone = UTC if name == "UTC" else ZoneInfo(win_tz.get(name, name))
    local = datetime.fromisoformat(value["dateTime"][:19]).replace(tzinfo=zone)
    return local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


class MemoryTenant:
    """One tenant's directory and mailboxes, and the transport the plugin reaches them through."""

    def __init__(self, tenant_id: str = "memory-tenant", domains: Sequence[str] = ("contoso.example",),
                 faults: Faults | None = None, *, calendar_grant: bool = True) -> None:
        self.tenant_id = tenant_id
        self.domains = list(domains)
        self.faults = faults or Faults()
        self.calendar_grant = calendar_grant  # Calendars.ReadWrite consented in Entra ID (every mailbox)
        self.users: dict[str, User] = {}
        self.groups: dict[str, list[str]] = {}  # group id -> direct members (user or group ids)
        self.scoped_groups: list[str] = []  # Exchange: Application Calendars.ReadWrite over these groups
        self.requests = 0
        self.asked: Counter[str] = Counter()  # requests that reached each mailbox (by user id)
        self.clock: Callable[[], float] = time.monotonic  # seconds; a test may turn it forward
        self.throttled: dict[str, float] = {}  # user id → clock time its mailbox answers 429 until
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    # -- the tenant, as an administrator or a test sets it up -----------------------------------
    def add_user(self, upn: str, *, mail: str | None = None, proxies: Sequence[str] = (),
                 mailbox: str = "exchange_online") -> str:
        """A directory user (``mailbox``: exchange_online | on_premises | none); returns its id."""
        with self._lock:
            user = User(f"user-{next(self._ids)}", upn.lower(), (mail or upn).lower(),
                        tuple(p.lower() for p in proxies), mailbox)
            self.users[user.id] = user
            return user.id

    def rename_user(self, user: str, upn: str, *, mail: str | None = None) -> None:
        """A rename in the tenant: new UPN and primary address (``mail``, the UPN unless given);
        the old primary address stays as an alias in ``proxyAddresses``; the id never changes."""
        with self._lock:
            found = self._user(user)
            if found is None:
                raise KeyError(user)
            new = (mail or upn).lower()
            kept = {found.mail} if found.mail else set()
            found.proxies = tuple(sorted((set(found.proxies) | kept) - {new}))
            found.upn, found.mail = upn.lower(), new

    def throttle_mailbox(self, user: str, seconds: float) -> None:
        """Graph throttling one mailbox (id or UPN) for ``seconds`` of :attr:`clock`: every request to it
        answers 429 ``ApplicationThrottled`` with the seconds left as ``Retry-After``; others are served."""
        with self._lock:
            found = self._user(user)
            if found is None:
                raise KeyError(user)
            self.throttled[found.id] = self.clock() + seconds

    def delete_user(self, user: str) -> User:
        """A user deleted in the tenant: gone from the directory and its mailbox unreachable (404), until
        :meth:`restore_user` brings it back with the same id, mailbox and entries."""
        with self._lock:
            found = self._user(user)
            if found is None:
                raise KeyError(user)
            return self.users.pop(found.id)

    def restore_user(self, user: User) -> None:
        """A deleted user restored (Entra keeps deleted users 30 days): same id, mailbox and entries."""
        with self._lock:
            self.users[user.id] = user

    def add_group(self, members: Sequence[str] = ()) -> str:
        """A mail-enabled security group with these direct members (user ids, UPNs or group ids); its id."""
        with self._lock:
            group = f"group-{next(self._ids)}"
            self.groups[group] = []
        for member in members:
            self.add_member(group, member)
        return group

    def add_member(self, group: str, member: str) -> None:
        """Make ``member`` (user id, UPN or group id) a direct member of ``group``."""
        with self._lock:
            found = self._user(member)
            member_id = found.id if found else member
            if member_id not in self.users and member_id not in self.groups:
                raise KeyError(member)
            if member_id not in self.groups[group]:
                self.groups[group].append(member_id)

    def scope_to_group(self, group: str) -> None:
        """The Exchange administrator's role assignment: Application Calendars.ReadWrite over a
        management scope ``MemberOfGroup -eq <group>`` (direct members only)."""
        with self._lock:
            if group not in self.groups:
                raise KeyError(group)
            self.scoped_groups.append(group)

    def events(self, user: str) -> list[dict[str, Any]]:
        """The entries of a mailbox (id or UPN), each with ``id``, ``tag``, ``start``/``end`` in UTC."""
        with self._lock:
            found = self._user(user)
            return [dict(e) for e in found.events.values()] if found else []

    def delete_event(self, user: str, event_id: str) -> None:
        """What a user deleting an entry in Outlook does."""
        with self._lock:
            found = self._user(user)
            if found and found.events.pop(event_id, None) is not None:
                found.changes.append(event_id)

    def move_event(self, user: str, event_id: str, start: str, end: str) -> None:
        """What a user moving an entry in Outlook does (``start``/``end``: UTC "YYYY-MM-DDTHH:MM:SS")."""
        with self._lock:
            found = self._user(user)
            if found and event_id in found.events:
                found.events[event_id].update(start=start, end=end)
                found.changes.append(event_id)

    # -- the transport ---------------------------------------------------------------------------
    def send(self, tenant_id: str, batch: Sequence[Request]) -> list[Reply]:
        """Answer each request (see :class:`bridge.graph.wire.Transport`)."""
        if self.faults.stall:
            time.sleep(self.faults.stall)
        fault = self.faults.draw({"reset": self.faults.reset, "lost": self.faults.lost}, scripted=True)
        if fault == "reset":
            raise errors.Transient("connection reset (injected)", code="ConnectionError")
        if _size(batch) > MAX_REQUEST_BYTES:
            return [_error(413, "RequestEntityTooLarge", "The request size exceeds the maximum limit.")
                    for _ in batch]
        with self._lock:
            self.requests += len(batch)
            replies = [self._one(tenant_id, request) for request in batch]
        if fault == "lost":
            raise errors.Transient("answer lost after the writes were applied (injected)", code="Timeout")
        return replies

    def close(self) -> None:
        """Nothing to close."""

    def token(self, tenant_id: str) -> str:
        """An app-only token carrying the Entra grants (unsigned: nobody checks it here); Exchange's
        grants are never in it."""
        roles = ["Calendars.ReadWrite"] if self.calendar_grant else []
        claims = base64.urlsafe_b64encode(json.dumps({"tid": tenant_id, "roles": [
            *roles, "User.Read.All", "Domain.Read.All"]}).encode()).decode().rstrip("=")
        return f"e30.{claims}.memory"

    def forget(self, tenant_id: str) -> None:
        """Nothing cached."""

    # -- answering --------------------------------------------------------------------------------
    def _user(self, key: str) -> User | None:
        key = key.lower()
        return self.users.get(key) or next((u for u in self.users.values() if u.upn == key), None)

    def _one(self, tenant_id: str, request: Request) -> Reply:
        fault = self.faults.draw({"throttle": self.faults.throttle, "unavailable": self.faults.unavailable})
        if fault == "throttle":
            return _error(429, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.",
                          **{"Retry-After": str(self.faults.retry_after)})
        if fault == "unavailable":
            return _error(503, "ServiceUnavailable", "Service unavailable (injected).")
        if tenant_id != self.tenant_id:
            return _error(401, "InvalidAuthenticationToken", "Access token validation failure.")
        parts = urlsplit(request.path)
        segments = [unquote(s) for s in parts.path.strip("/").split("/")]
        query = dict(parse_qsl(parts.query))
        if segments == ["domains"]:
            return Reply(200, {}, {"value": [{"id": d, "isVerified": True} for d in self.domains]})
        if segments == ["users"]:
            return self._search(query.get("$filter", ""))
        mailbox = len(segments) > 2
        if mailbox and not self.calendar_grant and not self.scoped_groups:
            return _error(403, "ErrorAccessDenied", DENIED)
        user = self._user(segments[1]) if len(segments) >= 2 and segments[0] == "users" else None
        if user is None:
            code = "ErrorInvalidUser" if mailbox else "Request_ResourceNotFound"
            return _error(404, code, f"The requested user '{segments[1:2]}' is invalid.")
        if not mailbox:
            return Reply(200, {}, {"id": user.id})
        self.asked[user.id] += 1
        left = self.throttled.get(user.id, 0.0) - self.clock()
        if left > 0:
            return _error(429, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.",
                          **{"Retry-After": str(max(1, round(left)))})
        if not self.calendar_grant and not any(user.id in self.groups[g] for g in self.scoped_groups):
            return _error(403, "ErrorAccessDenied", DENIED)  # outside the scope: nested members too
        if user.mailbox != "exchange_online":
            return _error(404, "MailboxNotEnabledForRESTAPI", "REST API is not yet supported for this mailbox.")
        if segments[2:] == ["calendarView", "delta"]:
            return self._delta(user, request, query)
        return self._calendar(user, request, segments[3] if len(segments) > 3 else None, query)

    def _delta(self, user: User, request: Request, query: dict[str, str]) -> Reply:
        """``calendarView/delta`` as Graph documents it (see CalendarGateway.delta): a round starts with
        the window and lists what is in it; its deltaLink lists what changed since, an entry gone or
        moved out of the window as ``@removed``; pages of ``odata.maxpagesize``."""
        token = query.get("$skiptoken") or query.get("$deltatoken")
        if token:
            state = json.loads(base64.urlsafe_b64decode(token.encode()))
        elif "startDateTime" in query and "endDateTime" in query:
            state = {"s": query["startDateTime"][:19], "e": query["endDateTime"][:19], "q": None, "o": 0}
        else:
            return _error(400, "ErrorInvalidParameter", "startDateTime and endDateTime are required.")
        inside = [e for e in user.events.values() if e["start"] < state["e"] and e["end"] > state["s"]]
        if state["q"] is None:
            items = [self._item(e) for e in sorted(inside, key=lambda e: str(e["id"]))]
        else:
            ids = list(dict.fromkeys(user.changes[state["q"]:]))
            shown = {e["id"] for e in inside}
            items = [self._item(user.events[i]) if i in shown else {"id": i, "@removed": {"reason": "deleted"}}
                     for i in ids]
        asked = re.search(r"odata.maxpagesize=(\d+)", request.headers.get("Prefer", ""))
        size = int(asked.group(1)) if asked else 100
        page, rest = items[state["o"]:state["o"] + size], items[state["o"] + size:]
        base = f"https://graph.memory/v1.0/users/{user.id}/calendarView/delta?"
        if rest:
            link = {"@odata.nextLink": base + "$skiptoken=" + _token({**state, "o": state["o"] + size})}
        else:
            link = {"@odata.deltaLink": base + "$deltatoken=" + _token({**state, "q": len(user.changes), "o": 0})}
        return Reply(200, {}, {"value": page, **link})

    @staticmethod
    def _item(event: dict[str, Any]) -> dict[str, Any]:
        return {"id": event["id"], "subject": event["subject"],
                "start": {"dateTime": event["start"], "timeZone": "UTC"},
                "end": {"dateTime": event["end"], "timeZone": "UTC"}}

    def _search(self, condition: str) -> Reply:
        value = re.search(r"'((?:[^']|'')*)'", condition)
        wanted = value.group(1).replace("''", "'").lower() if value else ""
        if condition.startswith("mail eq"):
            found = [u for u in self.users.values() if u.mail == wanted]
        else:
            found = [u for u in self.users.values() if wanted.removeprefix("smtp:") in u.proxies]
        return Reply(200, {}, {"value": [{"id": u.id} for u in found]})

    def _calendar(self, user: User, request: Request, event_id: str | None, query: dict[str, str]) -> Reply:
        shown = (request.body or {}).get("showAs") if request.method in ("POST", "PATCH") else None
        if shown is not None and shown not in FREE_BUSY:  # as Graph's CSDL enum check (emulator/csdl.py)
            return _error(400, "RequestBodyRead", f"Cannot convert the literal '{shown}' to the expected type "
                                                  "'microsoft.graph.freeBusyStatus'.")
        if request.method == "GET" and event_id:
            found = user.events.get(event_id)
            return Reply(200, {}, self._item(found)) if found else _error(
                404, "ErrorItemNotFound", "The specified object was not found in the store.")
        if request.method == "GET":
            tag = re.search(r"ep/value eq '((?:[^']|'')*)'", query.get("$filter", ""))
            wanted = tag.group(1).replace("''", "'") if tag else None
            return Reply(200, {}, {"value": [{"id": e["id"]} for e in user.events.values() if e["tag"] == wanted]})
        if request.method == "POST":
            body = dict(request.body or {})
            transaction = body.pop("transactionId", None)
            same = next((e for e in user.events.values() if transaction and e["transactionId"] == transaction), None)
            if same is not None:
                return Reply(201, {}, {"id": same["id"]})
            made = self._event(f"evt-{next(self._ids)}", body, transaction)
            user.events[made["id"]] = made
            user.changes.append(made["id"])
            return Reply(201, {}, {"id": made["id"]})
        event = user.events.get(event_id or "")
        if event is None:
            return _error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        if request.method == "DELETE":
            del user.events[event["id"]]
            user.changes.append(event["id"])
            return Reply(204, {}, None)
        user.events[event["id"]] = self._event(event["id"], {**event["payload"], **(request.body or {})},
                                               event["transactionId"])
        user.changes.append(event["id"])
        return Reply(200, {}, {"id": event["id"]})

    @staticmethod
    def _event(event_id: str, payload: dict[str, Any], transaction: str | None) -> dict[str, Any]:
        return {"id": event_id, "payload": payload, "transactionId": transaction, "tag": _tag(payload),
                "subject": payload.get("subject"), "start": _utc(payload["start"]), "end": _utc(payload["end"])}
