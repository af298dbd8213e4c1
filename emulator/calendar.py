"""Graph's calendar routes: ``/users/{id | userPrincipalName}/[calendar/]events[/{id}]``.

`prepare` applies, in Graph's order, the refusals a product must tell apart: missing
permission (403 ErrorAccessDenied), unknown user (404 ErrorInvalidUser), application access
policy (403 "Access to OData is disabled."), a mailbox outside the app's Exchange RBAC scope
(403 ErrorAccessDenied, as a missing permission), mailbox Graph cannot reach (404
MailboxNotEnabledForRESTAPI). Handlers are synchronous, so each write is atomic.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import quote

from .calls import Call, Result
from .core import Emulator
from .errors import GraphError
from .events import is_event_id
from .odata import FilterError, check_fields, check_options, evaluate, parse_filter, parse_int, parse_select
from .state import Mailbox, StoredEvent, Tenant, User
from .zones import DateTimeError, ZoneError, parse_instant

_EXPAND = re.compile(r"^singleValueExtendedProperties\(\$filter=(?P<filter>.+)\)$", re.IGNORECASE)
_FILTER_FIELDS = {"subject", "start/datetime", "end/datetime"}
_FILTER_LAMBDAS = {"singlevalueextendedproperties": {"id", "value"}, "categories": {""}}
_ORDER_FIELDS = {
    "start/datetime": "start",
    "end/datetime": "end",
    "createddatetime": "created",
    "lastmodifieddatetime": "modified",
    "subject": "subject",
}
MAX_TOP = 1000
DENIED = "Access is denied. Check credentials and try again."


@dataclass
class Target:
    tenant: Tenant
    user: User
    mailbox: Mailbox
    user_ref: str
    event_ref: str | None

    @property
    def mailbox_id(self) -> str:
        return self.user.id


def prepare(emu: Emulator, call: Call, tenant: Tenant, params: dict[str, str]) -> Target:
    """Who may reach this mailbox: the app's Entra grant (token roles), narrowed by an application
    access policy, united with its Exchange RBAC for Applications grants as Graph's cache sees them
    (emulator.rbac). Neither at all: 403 before the user is looked up; out of every reach: 403 again,
    "Access to OData is disabled." when a policy refused the Entra grant."""
    needed = {"Calendars.ReadWrite"} | ({"Calendars.Read"} if call.method == "GET" else set())
    entra = bool(needed & call.principal.roles)
    limits = emu.options.limits
    exchange = emu.rbac(tenant.id).authorization(tenant, call.principal.client_id, time.time(),
                                                 limits.rbac_cache_idle_seconds, limits.rbac_cache_max_seconds)
    if not entra and not any(grant.permissions & needed for grant in exchange):
        raise GraphError(403, "ErrorAccessDenied", DENIED)
    user = tenant.find_user(params["user"])
    if user is None:
        raise GraphError(404, "ErrorInvalidUser", f"The requested user '{params['user']}' is invalid.")
    policy = tenant.access_policies.get(call.principal.client_id)
    by_entra = entra and (policy is None or user.id in policy)
    if not by_entra and not any(grant.covers(needed, user.id) for grant in exchange):
        raise GraphError(403, "ErrorAccessDenied", "Access to OData is disabled." if entra else DENIED)
    if user.mailbox != "exchange_online":
        raise GraphError(404, "MailboxNotEnabledForRESTAPI", "REST API is not yet supported for this mailbox.")
    return Target(tenant, user, tenant.mailboxes[user.id], params["user"], params.get("event"))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _view(emu: Emulator, call: Call, t: Target) -> dict[str, Any]:
    """Rendering options from Prefer headers and $select / $expand."""
    zone = call.prefer("outlook.timezone")
    if zone is not None and not emu.zones.accepts(zone):
        raise GraphError(400, "TimeZoneNotSupportedException", str(ZoneError(zone)))
    select = parse_select(call.query.get("$select"), emu.rules.known, "microsoft.graph.event")
    expand = call.query.get("$expand")
    expand_ids = None
    if expand is not None:
        m = _EXPAND.match(expand.strip())
        if not m:
            raise GraphError(
                400, "BadRequest", f"Parsing OData Select and Expand failed: unsupported $expand '{expand}'."
            )
        try:
            tree = parse_filter(m.group("filter"))
            leaves = tree.parts if getattr(tree, "op", "") == "or" else (tree,)
            expand_ids = [leaf.value for leaf in leaves if leaf.path.lower() == "id" and leaf.op == "eq"]
            if len(expand_ids) != len(leaves):
                raise FilterError("only id eq '...' is supported")
        except (FilterError, AttributeError) as exc:
            raise GraphError(
                400, "ErrorInvalidUrlQueryFilter", f"The $filter in $expand is not supported: {exc}"
            ) from exc
    return {
        "base": call.base,
        "user_ref": t.user_ref,
        "zone": zone,
        "body_text": (call.prefer("outlook.body-content-type") or "").lower() == "text",
        "select": select,
        "expand_ids": expand_ids,
    }


def _applied(view: dict[str, Any]) -> dict[str, str]:
    if view["zone"]:
        return {"Preference-Applied": f'outlook.timezone="{view["zone"]}"'}
    return {}


def _find(t: Target) -> StoredEvent:
    ref = t.event_ref or ""
    if not is_event_id(ref):
        raise GraphError(400, "ErrorInvalidIdMalformed", "Id is malformed.")
    event = t.mailbox.events.get(ref)
    if event is None:
        raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
    return event


def _context(call: Call, t: Target, suffix: str = "") -> str:
    return f"{call.base}/v1.0/$metadata#users('{t.user_ref}')/events{suffix}"


def create_event(emu: Emulator, call: Call, t: Target) -> Result:
    check_options(call.query, set())
    view = _view(emu, call, t)
    props, ext = emu.rules.clean(call.body)
    txn = props.get("transactionId")
    existing = t.mailbox.by_transaction.get(txn) if txn else None
    if existing is not None:
        event = t.mailbox.events[existing]
        emu.metrics.outcomes["transaction_replay"] += 1
    else:
        event = emu.rules.create(props, ext, _now(), emu.next_seq())
        t.mailbox.events[event.id] = event
        t.mailbox.changes.append(event.id)
        if txn:
            t.mailbox.by_transaction[txn] = event.id
        emu.metrics.outcomes["create"] += 1
        emu.metrics.outcomes["invitation"] += len(props.get("attendees") or [])
    body = {"@odata.context": _context(call, t, "/$entity"), **emu.rules.render(event, t.user, **view)}
    location = f"{call.base}/v1.0/Users('{t.user.id}')/Events('{event.id}')"
    return Result(201, body, {"Location": location, **_applied(view)})


def get_event(emu: Emulator, call: Call, t: Target) -> Result:
    check_options(call.query, {"$select", "$expand"})
    view = _view(emu, call, t)
    event = _find(t)
    body = {"@odata.context": _context(call, t, "/$entity"), **emu.rules.render(event, t.user, **view)}
    return Result(200, body, _applied(view))


def update_event(emu: Emulator, call: Call, t: Target) -> Result:
    check_options(call.query, set())
    view = _view(emu, call, t)
    event = _find(t)
    if_match = call.headers.get("if-match")
    if if_match and if_match.strip() not in ("*", f'W/"{event.change_key}"', f'"{event.change_key}"'):
        raise GraphError(
            412,
            "ErrorIrresolvableConflict",
            "The send or update operation could not be performed because the change key passed in the "
            "request does not match the current change key for the item.",
        )
    props, ext = emu.rules.clean(call.body)
    emu.rules.update(event, props, ext, _now())
    t.mailbox.changes.append(event.id)
    emu.metrics.outcomes["update"] += 1
    emu.metrics.outcomes["invitation"] += len(props.get("attendees") or [])
    body = {"@odata.context": _context(call, t, "/$entity"), **emu.rules.render(event, t.user, **view)}
    return Result(200, body, _applied(view))


def delete_event(emu: Emulator, call: Call, t: Target) -> Result:
    check_options(call.query, set())
    event = _find(t)
    remove_event(t.mailbox, event)
    emu.metrics.outcomes["delete"] += 1
    return Result(204)


def remove_event(mailbox: Mailbox, event: StoredEvent) -> None:
    if mailbox.events.pop(event.id, None) is not None:
        mailbox.changes.append(event.id)
    txn = event.props.get("transactionId")
    if txn and mailbox.by_transaction.get(txn) == event.id:
        del mailbox.by_transaction[txn]


def _field(event: StoredEvent, path: str) -> Any:
    low = path.lower()
    if low == "start/datetime":
        return event.start
    if low == "end/datetime":
        return event.end
    if low == "singlevalueextendedproperties":
        return [{"id": pid, "value": value} for pid, value in event.extended.values()]
    if low == "categories":
        return event.props.get("categories") or []
    return event.props.get("subject") or ""


def _compare(path: str, left: Any, op: str, right: Any) -> bool:
    low = path.lower()
    if isinstance(left, dt.datetime):
        right = parse_instant(str(right))
    elif low in ("singlevalueextendedproperties/id", "subject", "categories/"):
        left, right = str(left).lower(), str(right).lower()
    ops = {"eq": left == right, "ne": left != right}
    if op in ops:
        return ops[op]
    return {"gt": left > right, "ge": left >= right, "lt": left < right, "le": left <= right}[op]


def _sort_value(name: str, event: StoredEvent) -> Any:
    return event.props.get("subject") or "" if name == "subject" else getattr(event, name)


def _order_key(spec: str) -> tuple[str, bool]:
    parts = spec.strip().split()
    name = _ORDER_FIELDS.get(parts[0].lower()) if parts else None
    desc = len(parts) == 2 and parts[1].lower() == "desc"
    if name is None or len(parts) > 2 or (len(parts) == 2 and parts[1].lower() not in ("asc", "desc")):
        raise GraphError(400, "ErrorInvalidProperty", f"The property '{spec}' does not support $orderby.")
    return name, desc


def list_events(emu: Emulator, call: Call, t: Target) -> Result:
    q = call.query
    check_options(q, {"$select", "$top", "$skip", "$filter", "$expand", "$orderby"})
    view = _view(emu, call, t)
    top = max(parse_int(q.get("$top"), "$top", 10, MAX_TOP), 1)
    skip = parse_int(q.get("$skip"), "$skip", 0)
    events = list(t.mailbox.events.values())
    if q.get("$filter"):
        try:
            tree = parse_filter(q["$filter"])
            check_fields(tree, _FILTER_FIELDS, _FILTER_LAMBDAS)
            events = [e for e in events if evaluate(tree, partial(_field, e), _compare)]
        except (FilterError, DateTimeError) as exc:
            raise GraphError(
                400, "ErrorInvalidUrlQueryFilter", f"The query filter '{q['$filter']}' is not supported: {exc}"
            ) from exc
    if q.get("$orderby"):
        for spec in reversed(q["$orderby"].split(",")):
            name, desc = _order_key(spec)
            events.sort(key=partial(_sort_value, name), reverse=desc)
    page = events[skip : skip + top]
    body: dict[str, Any] = {
        "@odata.context": _context(call, t),
        "value": [emu.rules.render(e, t.user, **view) for e in page],
    }
    if skip + top < len(events):
        params = {k: v for k, v in q.items() if k != "$skip"} | {"$skip": str(skip + top)}
        query = "&".join(f"{k}={quote(v, safe=chr(36) + chr(39) + '(),/:@')}" for k, v in params.items())
        body["@odata.nextLink"] = f"{call.base}/v1.0/users/{quote(t.user_ref, safe='@')}/events?{query}"
    return Result(200, body, _applied(view))
