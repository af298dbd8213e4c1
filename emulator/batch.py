"""``POST /v1.0/$batch``: up to 20 requests in one envelope, each answered on its own.

As in Graph: the envelope is 200 whenever it parses; items run concurrently except along
``dependsOn`` chains (424 when a dependency failed); Graph dispatches at most 4 Outlook items of
one batch at a time, whatever their mailboxes (the fifth waits for a free place: Microsoft's answer
on the MailboxConcurrency limit, learn.microsoft.com/answers/questions/1660054, and the Outlook
service limits in Graph's throttling documentation); each item is throttled and faulted on its own
(a 429 item carries its own Retry-After). A write item must carry a Content-Type header. Connection
faults (reset, ambiguous) hit the whole envelope. Responses come back in completion order: match
them by id.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from .calls import Call, Result, error_result
from .core import Emulator
from .errors import GraphError

Execute = Callable[..., Awaitable[Result]]  # emulator.graph.execute(emu, call, *, whole_request)
MAX_REQUESTS = 20
OUTLOOK_AT_A_TIME = 4  # Outlook items of one batch that Graph dispatches at once, any mailboxes


def _envelope_error(message: str, call: Call) -> Result:
    return error_result(GraphError(400, "BadRequest", message), call)


def _validate(body: Any, call: Call) -> list[dict[str, Any]] | Result:
    if not isinstance(body, dict) or not isinstance(body.get("requests"), list):
        return _envelope_error("Invalid batch payload format.", call)
    items = body["requests"]
    if not items:
        return _envelope_error("Invalid batch payload format. The batch contains no requests.", call)
    if len(items) > MAX_REQUESTS:
        return _envelope_error(
            f"Limit of {MAX_REQUESTS} requests exceeded. Reduce the number of requests in the batch.", call
        )
    ids: set[str] = set()
    for item in items:
        if not isinstance(item, dict):
            return _envelope_error("Invalid batch payload format.", call)
        rid, method, url = item.get("id"), item.get("method"), item.get("url")
        if not isinstance(rid, str) or not rid or not isinstance(method, str) or not isinstance(url, str):
            return _envelope_error("Invalid batch payload format. Each request needs id, method and url.", call)
        if rid in ids:
            return _envelope_error(f"Batch request contains duplicate ids. Duplicate id: '{rid}'.", call)
        ids.add(rid)
        if urlsplit(url).scheme or url.lstrip("/").lower().startswith(("v1.0/", "beta/")):
            return _envelope_error(f"Invalid request URL '{url}'. Batch request URLs must be relative.", call)
    for item in items:
        deps = item.get("dependsOn") or []
        if not isinstance(deps, list) or any(d not in ids or d == item["id"] for d in deps):
            return _envelope_error(f"Request '{item['id']}' has an invalid dependsOn.", call)
    return items


def _item_call(item: dict[str, Any], envelope: Call) -> Call | GraphError:
    parts = urlsplit("/" + item["url"].lstrip("/"))
    headers = {str(k).lower(): str(v) for k, v in (item.get("headers") or {}).items()}
    method = item["method"].upper()
    body = item.get("body")
    if method in ("POST", "PATCH", "PUT") and (body is None or "content-type" not in headers):
        return GraphError(
            400, "BadRequest", f"Write request id : {item['id']} does not contain Content-Type header or body."
        )
    headers.pop("authorization", None)
    return Call(
        method,
        unquote(parts.path),
        dict(parse_qsl(parts.query, keep_blank_values=True)),
        headers,
        body,
        envelope.principal,
        envelope.base,
        client_request_id=envelope.client_request_id,
        batch=True,
    )


def _is_outlook(call: Call) -> bool:
    """A mailbox request (``/users/{id}/events...``), as opposed to a directory look-up."""
    segs = call.path.strip("/").split("/")
    return len(segs) >= 3 and segs[0].lower() == "users"


async def run_batch(emu: Emulator, envelope: Call, execute: Execute) -> Result:
    """Answer a ``$batch`` envelope, each item through ``execute`` (the router's, :func:`emulator.graph.execute`)."""
    if envelope.method != "POST":
        return error_result(GraphError(405, "BadRequest", "The $batch endpoint only accepts POST."), envelope)
    checked = _validate(envelope.body, envelope)
    if isinstance(checked, Result):
        emu.metrics.record(
            kind="batch",
            method="POST",
            path="/v1.0/$batch",
            status=checked.status,
            tenant=envelope.principal.tenant_id,
            client_id=envelope.principal.client_id,
        )
        return checked
    started = time.time()
    delay = emu.faults.latency()
    if delay:
        await asyncio.sleep(delay)
    fault = emu.faults.draw("POST", event_create=False, whole_request=True, connection_only=True)
    if fault.kind == "reset":
        emu.metrics.record(
            kind="batch",
            method="POST",
            path="/v1.0/$batch",
            status=0,
            fault="reset",
            tenant=envelope.principal.tenant_id,
            client_id=envelope.principal.client_id,
        )
        return Result(0, connection="reset")

    done: dict[str, asyncio.Future[Result]] = {i["id"]: asyncio.get_running_loop().create_future() for i in checked}
    outlook = asyncio.Semaphore(OUTLOOK_AT_A_TIME)
    finished: list[dict[str, Any]] = []

    async def run(item: dict[str, Any]) -> None:
        rid = item["id"]
        results = [await done[d] for d in item.get("dependsOn") or []]
        call = _item_call(item, envelope)
        if any(not 200 <= r.status < 300 for r in results):
            result = error_result(
                GraphError(
                    424,
                    "FailedDependency",
                    "The request could not be completed because a request it depends on failed.",
                ),
                envelope,
            )
        elif isinstance(call, GraphError):
            result = error_result(call, envelope)
        else:
            if _is_outlook(call):
                async with outlook:
                    result = await execute(emu, call, whole_request=False)
            else:
                result = await execute(emu, call, whole_request=False)
        done[rid].set_result(result)
        entry: dict[str, Any] = {"id": rid, "status": result.status, "headers": dict(result.headers)}
        if result.body is not None:
            entry["headers"].setdefault("Content-Type", "application/json")
            entry["body"] = result.body
        finished.append(entry)

    await asyncio.gather(*(run(item) for item in checked))
    emu.metrics.record(
        kind="batch",
        method="POST",
        path="/v1.0/$batch",
        status=0 if fault.kind == "ambiguous" else 200,
        fault=fault.kind if fault.kind == "ambiguous" else "",
        started=started,
        tenant=envelope.principal.tenant_id,
        client_id=envelope.principal.client_id,
    )
    if fault.kind == "ambiguous":
        await emu.faults.hold_ambiguous()
        return Result(0, connection="ambiguous")
    return Result(200, {"responses": finished})
