"""Admin API under ``/_emulator/`` (JSON, no auth, not Graph): set up the world, look inside it.

Tests, the demo and benchmarks create tenants, apps, users and consent here, look at what
clients wrote (mailboxes with extended properties included), play a user deleting an entry in
Outlook, and tune faults and limits while the emulator runs.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .calendar import remove_event
from .config import OptionError, as_dict, update_dataclass
from .core import Emulator
from .errors import GraphError
from .state import StateError, Tenant


def _emu(request: Request) -> Emulator:
    return request.app.state.emu


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise StateError(400, f"body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise StateError(400, "body must be a JSON object")
    return body


def _tenant(request: Request) -> Tenant:
    return _emu(request).world.tenant(request.path_params["tid"])


def _wrap(handler: Any) -> Any:
    async def endpoint(request: Request) -> Response:
        try:
            result = await handler(request)
        except StateError as exc:
            return JSONResponse({"error": exc.message}, exc.status)
        except (OptionError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, 400)
        if isinstance(result, Response):
            return result
        return JSONResponse(result)

    return endpoint


async def health(request: Request) -> Any:
    emu = _emu(request)
    return {"status": "ok", "tenants": len(emu.world.tenants), "csdl": str(emu.schema.path)}


async def create_tenant(request: Request) -> Any:
    body = await _json(request)
    domains = body.get("domains", [])
    if not isinstance(domains, list) or not all(isinstance(d, str) for d in domains):
        raise StateError(400, "domains must be a list of domain names")
    tenant = _emu(request).world.create_tenant(str(body.get("name", "")), domains, body.get("id"))
    return JSONResponse(tenant.view(), 201)


async def list_tenants(request: Request) -> Any:
    return {"tenants": [t.view() for t in _emu(request).world.tenants.values()]}


async def get_tenant(request: Request) -> Any:
    return _tenant(request).view()


async def register_app(request: Request) -> Any:
    body = await _json(request)
    allowed = {
        "client_id",
        "client_secret",
        "secret_expires_at",
        "certificate_pem",
        "redirect_uris",
        "required_roles",
        "display_name",
    }
    unknown = set(body) - allowed
    if unknown:
        raise StateError(400, f"unknown fields: {', '.join(sorted(unknown))}")
    if "client_id" not in body:
        raise StateError(400, "client_id is required")
    app = _emu(request).world.register_app(str(body.pop("client_id")), **body)
    return JSONResponse(app.public_view(), 201)


async def list_apps(request: Request) -> Any:
    return {"apps": [a.public_view() for a in _emu(request).world.apps.values()]}


async def expire_secret(request: Request) -> Any:
    app = _emu(request).world.app(request.path_params["client_id"])
    app.secret_expires_at = 0.0
    return app.public_view()


async def add_secret(request: Request) -> Any:
    """Register another secret on an app (as Azure keeps several for a rotation): ``{"secret",
    "expires_at"?}`` → ``{"key_id"}``."""
    body = await _json(request)
    app = _emu(request).world.app(request.path_params["client_id"])
    expires = body.get("expires_at")
    key_id = app.add_secret(str(body.get("secret") or ""), float(expires) if expires is not None else None)
    return JSONResponse({"key_id": key_id}, 201)


async def revoke_secret(request: Request) -> Any:
    """Remove one secret of an app by key id (``primary`` for the first)."""
    _emu(request).world.app(request.path_params["client_id"]).revoke_secret(request.path_params["key_id"])
    return Response(status_code=204)


async def create_user(request: Request) -> Any:
    user = _emu(request).world.add_user(_tenant(request), await _json(request))
    return JSONResponse(user.admin_view(), 201)


async def create_users(request: Request) -> Any:
    body = await _json(request)
    specs = body.get("users")
    if not isinstance(specs, list):
        raise StateError(400, "users must be a list")
    world, tenant = _emu(request).world, _tenant(request)
    return JSONResponse({"users": [world.add_user(tenant, s).admin_view() for s in specs]}, 201)


async def rename_user(request: Request) -> Any:
    """A rename in the tenant (new UPN and primary address, the old one kept as an alias)."""
    world, tenant = _emu(request).world, _tenant(request)
    return world.rename_user(tenant, request.path_params["uid"], await _json(request)).admin_view()


async def list_users(request: Request) -> Any:
    return {"users": [u.admin_view() for u in _tenant(request).users.values()]}


async def consent(request: Request) -> Any:
    emu, tenant = _emu(request), _tenant(request)
    client_id = request.path_params["client_id"]
    if request.method == "DELETE":
        emu.world.revoke(tenant, client_id)
        return Response(status_code=204)
    roles = (await _json(request)).get("roles")
    if roles is not None and (not isinstance(roles, list) or not all(isinstance(r, str) for r in roles)):
        raise StateError(400, "roles must be a list of strings")
    sp = emu.world.grant(tenant, client_id, roles)
    return {"client_id": sp.client_id, "object_id": sp.object_id, "roles": sorted(sp.roles), "consented": sp.consented}


async def access_policy(request: Request) -> Any:
    emu, tenant = _emu(request), _tenant(request)
    client_id = emu.world.app(request.path_params["client_id"]).client_id
    if request.method == "DELETE":
        tenant.access_policies.pop(client_id, None)
        return Response(status_code=204)
    ids = (await _json(request)).get("allowed_user_ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise StateError(400, "allowed_user_ids must be a list of user ids or userPrincipalNames")
    resolved = set()
    for ref in ids:
        user = tenant.find_user(ref)
        if user is None:
            raise StateError(400, f"no user {ref!r} in tenant {tenant.id}")
        resolved.add(user.id)
    tenant.access_policies[client_id] = resolved
    return {"client_id": client_id, "allowed_user_ids": sorted(resolved)}


async def mailboxes(request: Request) -> Any:
    emu, tenant = _emu(request), _tenant(request)
    return {
        user.id: {
            "userPrincipalName": user.user_principal_name,
            "mailbox": user.mailbox,
            "events": [emu.rules.storage_view(e, user) for e in tenant.mailboxes[user.id].events.values()],
        }
        for user in tenant.users.values()
    }


def _user(request: Request) -> Any:
    tenant = _tenant(request)
    user = tenant.find_user(request.path_params["uid"])
    if user is None:
        raise StateError(404, f"no user {request.path_params['uid']!r} in tenant {tenant.id}")
    return tenant, user


async def user_events(request: Request) -> Any:
    tenant, user = _user(request)
    rules = _emu(request).rules
    return {"events": [rules.storage_view(e, user) for e in tenant.mailboxes[user.id].events.values()]}


async def delete_event(request: Request) -> Any:
    tenant, user = _user(request)
    mailbox = tenant.mailboxes[user.id]
    event = mailbox.events.get(request.path_params["event_id"])
    if event is None:
        raise StateError(404, "no such event")
    remove_event(mailbox, event)
    return Response(status_code=204)


async def edit_event(request: Request) -> Any:
    """What a user moving or editing the entry in Outlook does: the body is a Graph event update
    (e.g. ``start``/``end`` as dateTimeTimeZone); the change shows in the mailbox's delta."""
    tenant, user = _user(request)
    mailbox = tenant.mailboxes[user.id]
    event = mailbox.events.get(request.path_params["event_id"])
    if event is None:
        raise StateError(404, "no such event")
    rules = _emu(request).rules
    try:
        props, ext = rules.clean(await _json(request))
        rules.update(event, props, ext, datetime.now(UTC))
    except GraphError as exc:
        raise StateError(400, exc.message) from exc
    mailbox.changes.append(event.id)
    return rules.storage_view(event, user)


async def faults(request: Request) -> Any:
    emu = _emu(request)
    if request.method == "PUT":
        update_dataclass(emu.options.faults, await _json(request), label="faults.")
        emu.faults.configure(emu.options.faults)
    return as_dict(emu.options.faults)


async def limits(request: Request) -> Any:
    emu = _emu(request)
    if request.method == "PUT":
        update_dataclass(emu.options.limits, await _json(request), label="limits.")
        emu.throttle.limits = emu.options.limits
        emu.metrics.resize(emu.options.limits.request_log_size)
    return as_dict(emu.options.limits)


async def requests_log(request: Request) -> Any:
    log = list(_emu(request).metrics.log)
    since = request.query_params.get("since")
    if since is not None:
        log = [e for e in log if e["seq"] > int(since)]
    limit = request.query_params.get("limit")
    return {"requests": log[-int(limit) :] if limit else log}


async def counters(request: Request) -> Any:
    return _emu(request).counters()


async def reset(request: Request) -> Any:
    scope = (await _json(request)).get("scope", "all")
    if scope not in ("all", "faults", "counters"):
        raise StateError(400, "scope must be all, faults or counters")
    _emu(request).reset(scope)
    return {"reset": scope}


def _r(path: str, handler: Any, methods: list[str]) -> Route:
    return Route(path, _wrap(handler), methods=methods)


routes = [
    _r("/health", health, ["GET"]),
    _r("/tenants", create_tenant, ["POST"]),
    _r("/tenants", list_tenants, ["GET"]),
    _r("/tenants/{tid}", get_tenant, ["GET"]),
    _r("/apps", register_app, ["POST"]),
    _r("/apps", list_apps, ["GET"]),
    _r("/apps/{client_id}/expire-secret", expire_secret, ["POST"]),
    _r("/apps/{client_id}/secrets", add_secret, ["POST"]),
    _r("/apps/{client_id}/secrets/{key_id}", revoke_secret, ["DELETE"]),
    _r("/tenants/{tid}/users:bulk", create_users, ["POST"]),
    _r("/tenants/{tid}/users", create_user, ["POST"]),
    _r("/tenants/{tid}/users", list_users, ["GET"]),
    _r("/tenants/{tid}/users/{uid}", rename_user, ["PATCH"]),
    _r("/tenants/{tid}/consents/{client_id}", consent, ["POST", "DELETE"]),
    _r("/tenants/{tid}/access-policies/{client_id}", access_policy, ["PUT", "DELETE"]),
    _r("/tenants/{tid}/mailboxes", mailboxes, ["GET"]),
    _r("/tenants/{tid}/users/{uid}/events", user_events, ["GET"]),
    _r("/tenants/{tid}/users/{uid}/events/{event_id}", delete_event, ["DELETE"]),
    _r("/tenants/{tid}/users/{uid}/events/{event_id}", edit_event, ["PATCH"]),
    _r("/faults", faults, ["GET", "PUT"]),
    _r("/limits", limits, ["GET", "PUT"]),
    _r("/requests", requests_log, ["GET"]),
    _r("/counters", counters, ["GET"]),
    _r("/reset", reset, ["POST"]),
]
