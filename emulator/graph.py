"""Graph v1.0 front door: bearer auth, routing, throttling and faults around each handler.

Every Graph request (and every $batch item) goes through `execute`, so limits and faults
behave the same whether a client batches or not. Order, as in Graph: route, permission and
mailbox checks, per-mailbox throttle, latency, injected fault, handler.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from . import calendar, delta, directory
from .batch import run_batch
from .calls import Call, Result, error_result
from .core import Emulator
from .errors import GraphError, graph_error_body
from .faults import abort_connection
from .throttle import format_retry_after
from .tokens import Principal, TokenInvalid

JSON_TYPE = "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8"
INVALID_JSON = object()
MAX_REQUEST_BYTES = 4_000_000  # Graph refuses a larger request (or $batch envelope) with 413: emulator/README.md
_WWW_AUTH = (
    'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize",'
    ' client_id="00000003-0000-0000-c000-000000000000"'
)


Handler = Callable[[Emulator, Call, Any], Result]
Prepare = Callable[[Emulator, Call, Any, dict[str, str]], Any]


@dataclass(frozen=True)
class Route:
    pattern: re.Pattern[str]
    methods: dict[str, Handler]
    kind: str
    prepare: Prepare


ROUTES = (
    Route(
        re.compile(r"^/users/(?P<user>[^/]+)/(?:calendar/)?events$", re.I),
        {"GET": calendar.list_events, "POST": calendar.create_event},
        "calendar",
        calendar.prepare,
    ),
    Route(
        re.compile(r"^/users/(?P<user>[^/]+)/(?:calendar/)?events/(?P<event>[^/]+)$", re.I),
        {"GET": calendar.get_event, "PATCH": calendar.update_event, "DELETE": calendar.delete_event},
        "calendar",
        calendar.prepare,
    ),
    Route(
        re.compile(r"^/users/(?P<user>[^/]+)/(?:calendar/)?calendarView/delta$", re.I),
        {"GET": delta.calendar_view_delta},
        "calendar",
        calendar.prepare,
    ),
    Route(
        re.compile(r"^/users/(?P<user>[^/]+)$", re.I), {"GET": directory.get_user}, "directory", directory.prepare_users
    ),
    Route(re.compile(r"^/users/?$", re.I), {"GET": directory.list_users}, "directory", directory.prepare_users),
    Route(re.compile(r"^/domains/?$", re.I), {"GET": directory.list_domains}, "directory", directory.prepare_domains),
)


def match(method: str, path: str) -> tuple[Route, Handler, dict[str, str]]:
    for route in ROUTES:
        m = route.pattern.match(path)
        if m:
            handler = route.methods.get(method)
            if handler is None:
                raise GraphError(
                    405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target."
                )
            return route, handler, m.groupdict()
    segment = path.rstrip("/").rsplit("/", 1)[-1]
    raise GraphError(400, "BadRequest", f"Resource not found for the segment '{segment}'.")


async def execute(emu: Emulator, call: Call, *, whole_request: bool = True) -> Result:
    """Run one Graph request through checks, throttle, faults and its handler."""
    started = time.time()
    key = None
    tenant_id = call.principal.tenant_id
    mailbox_id: str | None = None
    fault_kind = ""
    kind = "graph"
    result: Result
    try:
        tenant = emu.world.tenants.get(tenant_id)
        if tenant is None:
            raise GraphError(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid tenant.")
        route, handler, params = match(call.method, call.path)
        kind = route.kind
        target = route.prepare(emu, call, tenant, params)
        mailbox_id = getattr(target, "mailbox_id", None)
        if mailbox_id is not None:
            candidate = (call.principal.client_id, tenant.id, mailbox_id)
            refusal = emu.throttle.enter(candidate)
            if refusal is not None:
                emu.metrics.throttled[refusal.reason] += 1
                headers = (
                    {} if refusal.retry_after is None else {"Retry-After": format_retry_after(refusal.retry_after)}
                )
                raise GraphError(429, refusal.code, refusal.message, headers)
            key = candidate
        delay = emu.faults.latency()
        if delay:
            await asyncio.sleep(delay)
        fault = emu.faults.draw(call.method, event_create=handler is calendar.create_event, whole_request=whole_request)
        fault_kind = fault.kind
        if fault.kind == "reset":
            result = Result(0, connection="reset")
        elif fault.kind in ("503", "429", "concurrent_item_save"):
            result = _fault_result(fault.kind, fault.retry_after, call)
            if fault.kind == "429":
                emu.metrics.throttled["fault"] += 1
        else:
            result = handler(emu, call, target)
            if fault.kind == "ambiguous":
                await emu.faults.hold_ambiguous()
                result.connection = "ambiguous"
    except GraphError as exc:
        result = error_result(exc, call)
    finally:
        if key is not None:
            emu.throttle.leave(key)
    emu.metrics.record(
        kind=kind,
        method=call.method,
        path="/v1.0" + call.path,
        query=sorted(call.query),
        status=0 if result.connection else result.status,
        tenant=tenant_id,
        mailbox=mailbox_id,
        client_id=call.principal.client_id,
        fault=fault_kind,
        started=started,
        batch=call.batch,
    )
    return result


def _fault_result(kind: str, retry_after: float | None, call: Call) -> Result:
    headers = {} if retry_after is None else {"Retry-After": format_retry_after(retry_after)}
    if kind == "429":
        exc = GraphError(
            429,
            "TooManyRequests",
            "Too many requests. Please retry after the time given in the Retry-After header.",
            headers,
        )
    elif kind == "503":
        exc = GraphError(
            503, "ServiceNotAvailable", "The service is temporarily unavailable. Please retry later.", headers
        )
    else:
        exc = GraphError(
            503,
            "ConcurrentItemSave",
            "Conflicts occurred during saving data to store (saveResult: IrresolvableConflict, properties: ). "
            "Please try again later.",
        )
    return error_result(exc, call)


def authenticate(emu: Emulator, header: str | None) -> Principal:
    if not header or not header.lower().startswith("bearer ") or not header[7:].strip():
        raise TokenInvalid("Access token is empty.")
    return emu.tokens.verify(header[7:].strip())


def base_url(request: Request) -> str:
    return f"https://{request.headers.get('host', request.url.netloc)}"


def parse_body(raw: bytes, content_type: str) -> Any:
    if not raw.strip():
        return None
    if "json" not in content_type.lower():
        return INVALID_JSON
    try:
        return json.loads(raw)
    except ValueError:
        return INVALID_JSON


def to_response(result: Result, call_ids: tuple[str, str]) -> Response:
    headers = {"request-id": call_ids[0], "client-request-id": call_ids[1], **result.headers}
    if result.body is None:
        return Response(status_code=result.status, headers=headers)
    headers.setdefault("content-type", JSON_TYPE)
    return Response(json.dumps(result.body, ensure_ascii=False).encode(), result.status, headers)


async def endpoint(request: Request) -> Response:
    """Starlette endpoint for everything under /v1.0."""
    emu: Emulator = request.app.state.emu
    path = "/" + request.path_params["path"]
    request_id = str(uuid.uuid4())
    client_request_id = request.headers.get("client-request-id") or request_id
    try:
        principal = authenticate(emu, request.headers.get("authorization"))
    except TokenInvalid as exc:
        emu.metrics.record(kind="graph_auth", method=request.method, path="/v1.0" + path, status=401)
        body = graph_error_body("InvalidAuthenticationToken", str(exc), request_id, client_request_id)
        result = Result(401, body, {"WWW-Authenticate": _WWW_AUTH})
        return to_response(result, (request_id, client_request_id))
    raw = await request.body()
    call = Call(
        request.method,
        path,
        dict(request.query_params),
        {k.lower(): v for k, v in request.headers.items()},
        parse_body(raw, request.headers.get("content-type", "")),
        principal,
        base_url(request),
        request_id,
        client_request_id,
    )
    if len(raw) > MAX_REQUEST_BYTES:  # Graph: 413 over 4 MB, a $batch envelope too (emulator/README.md)
        result = error_result(
            GraphError(413, "RequestEntityTooLarge", "The request size exceeds the maximum limit."), call
        )
    elif call.body is INVALID_JSON:
        result = error_result(
            GraphError(
                400,
                "BadRequest",
                "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of "
                "valid JSON format.",
            ),
            call,
        )
    elif path.lower() == "/$batch":
        result = await run_batch(emu, call, execute)
    else:
        result = await execute(emu, call)
    if result.connection:
        await abort_connection(request.scope)
    return to_response(result, (request_id, client_request_id))
