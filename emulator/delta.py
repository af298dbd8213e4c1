"""Graph's ``/users/{id | userPrincipalName}/[calendar/]calendarView/delta``, as documented in
https://learn.microsoft.com/graph/api/event-delta and https://learn.microsoft.com/graph/delta-query-events:

- the first call of a round names the window (``startDateTime`` and ``endDateTime``, both required:
  400 ErrorInvalidParameter otherwise) and lists every entry in it;
- a page holds at most ``Prefer: odata.maxpagesize`` entries (default 10, at most 1000) and ends with
  an ``@odata.nextLink`` (``$skiptoken``) while the round goes on, else an ``@odata.deltaLink``
  (``$deltatoken``); the tokens are opaque and carry the window and the other parameters, so later
  calls send the link as given;
- a deltaLink lists what changed since it was given, each entry once in its latest state: made or
  changed and in the window in full, deleted or moved out of the window as
  ``{"@odata.type": "#microsoft.graph.event", "id", "@removed": {"reason": "deleted"}}``;
- ``$select``, ``$filter``, ``$orderby`` and the like are refused (400), as on Graph.

Changes are read from the mailbox's change log (:attr:`emulator.state.Mailbox.changes`); a token
that does not decode, or names another mailbox, answers 400 ``ErrorInvalidUrlQuery`` (Graph's
expired token is 410, not modelled).
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any
from urllib.parse import quote

from .calendar import Target, _applied, _view
from .calls import Call, Result
from .core import Emulator
from .errors import GraphError
from .odata import check_options
from .zones import DateTimeError, parse_instant

DEFAULT_PAGE = 10
MAX_PAGE = 1000


def _token(state: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode().rstrip("=")


def _state(call: Call, t: Target) -> dict[str, Any]:
    token = call.query.get("$skiptoken") or call.query.get("$deltatoken")
    if token:
        try:
            state = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        except (binascii.Error, ValueError) as exc:
            raise GraphError(400, "ErrorInvalidUrlQuery", "The delta token is not valid.") from exc
        if not isinstance(state, dict) or state.get("u") != t.user.id:
            raise GraphError(400, "ErrorInvalidUrlQuery", "The delta token is not valid for this mailbox.")
        return state
    start, end = call.query.get("startDateTime"), call.query.get("endDateTime")
    if not start or not end:
        raise GraphError(400, "ErrorInvalidParameter", "This request requires a time window specified by the "
                         "query string parameters StartDateTime and EndDateTime.")
    try:
        window = parse_instant(start), parse_instant(end)
    except DateTimeError as exc:
        raise GraphError(400, "ErrorInvalidParameter", str(exc)) from exc
    return {"u": t.user.id, "s": window[0].isoformat(), "e": window[1].isoformat(), "q": None, "o": 0}


def calendar_view_delta(emu: Emulator, call: Call, t: Target) -> Result:
    """One page of the mailbox's calendarView delta (see the module)."""
    check_options(call.query, {"$skiptoken", "$deltatoken"})
    view = _view(emu, call, t)
    state = _state(call, t)
    start, end = parse_instant(state["s"]), parse_instant(state["e"])
    snapshot = state.get("n", len(t.mailbox.changes))  # the round's changes end where its first page was
    inside = {e.id: e for e in t.mailbox.events.values() if e.start < end and e.end > start}
    if state["q"] is None:
        items = [emu.rules.render(e, t.user, **view) for e in sorted(inside.values(), key=lambda e: e.seq)]
    else:
        changed = list(dict.fromkeys(t.mailbox.changes[state["q"]:snapshot]))
        items = [emu.rules.render(inside[i], t.user, **view) if i in inside
                 else {"@odata.type": "#microsoft.graph.event", "id": i, "@removed": {"reason": "deleted"}}
                 for i in changed]
    asked = re.search(r"odata\.maxpagesize\s*=\s*(\d+)", call.headers.get("prefer", ""), re.IGNORECASE)
    size = min(max(int(asked.group(1)), 1), MAX_PAGE) if asked else DEFAULT_PAGE
    offset = state["o"]
    link = f"{call.base}/v1.0/users/{quote(t.user_ref, safe='@')}/calendarView/delta?"
    body: dict[str, Any] = {"@odata.context": f"{call.base}/v1.0/$metadata#Collection(event)",
                            "value": items[offset:offset + size]}
    if offset + size < len(items):
        body["@odata.nextLink"] = link + "$skiptoken=" + _token({**state, "o": offset + size, "n": snapshot})
    else:
        body["@odata.deltaLink"] = link + "$deltatoken=" + _token(
            {"u": state["u"], "s": state["s"], "e": state["e"], "q": snapshot, "o": 0})
    headers = _applied(view)
    if asked:
        headers = {**headers, "Preference-Applied": ", ".join(
            filter(None, [headers.get("Preference-Applied"), f"odata.maxpagesize={size}"]))}
    return Result(200, body, headers)
