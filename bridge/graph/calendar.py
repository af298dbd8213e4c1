"""The calendar gateway: writes to users' own calendars and look-ups of the plugin's entries by tag.

Its contract (tested against the emulator and against the in-memory tenant alike, by
``tests/bridge/test_calendar_contract.py``):

- :meth:`CalendarGateway.apply` carries out many writes, of many mailboxes, at once and answers
  each one in order: the entry's Graph id (immutable id), or the typed error
  (:mod:`bridge.graph.errors`). A create carries its ``transactionId``: sent twice, Graph makes one
  entry. An update of an entry the user deleted answers :class:`errors.NotFound`; a deletion of
  one already gone counts as done. :class:`errors.Transient` means the answer was lost and the
  write may or may not have been applied; :class:`errors.Throttled` that it was not applied.
- :meth:`CalendarGateway.find` answers, for each (mailbox, tag), the ids of the entries carrying
  that tag (normally 0 or 1), or the typed error.
- A tenant-wide refusal raises :class:`errors.AuthFailed` instead of answering.
- Each method takes the tenant's ``grant`` (:class:`bridge.codes.AccessGrant`): with
  ``EXCHANGE_SCOPE`` a mailbox outside the app's Exchange scope answers
  :class:`errors.MailboxUnreachable` (:data:`Reason.OUTSIDE_EXCHANGE_SCOPE`) and the others go on.

Entries carry no attendees, so nobody receives an e-mail.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from bridge.codes import AccessGrant
from bridge.graph import errors
from bridge.graph.exchange import Exchange
from bridge.graph.wire import IMMUTABLE_IDS, Request, odata_string, path

Answer = str | errors.GraphError
ORGANISATION = AccessGrant.ORGANISATION
UTC_IMMUTABLE = {"Prefer": 'IdType="ImmutableId", outlook.timezone="UTC"'}

# The single-value extended property that tags each entry with the plugin's key for it (DESIGN §2.8;
# https://learn.microsoft.com/graph/api/resources/singlevaluelegacyextendedproperty).
TAG_PROPERTY_ID = "String {6f1c3b9e-2f4a-4c8e-9a51-0d7e5b1c2a47} Name OutlookCalendarForLmsKey"


@dataclass(frozen=True)
class Write:
    """One write to one mailbox: ``create`` (payload, transaction id), ``update`` (event id,
    payload) or ``delete`` (event id)."""

    kind: Literal["create", "update", "delete"]
    mailbox: str
    event_id: str = ""
    payload: Mapping[str, Any] | None = None
    transaction_id: str = ""

    @classmethod
    def create(cls, mailbox: str, payload: Mapping[str, Any], transaction_id: str) -> Write:
        return cls("create", mailbox, payload=payload, transaction_id=transaction_id)

    @classmethod
    def update(cls, mailbox: str, event_id: str, payload: Mapping[str, Any]) -> Write:
        return cls("update", mailbox, event_id, payload=payload)

    @classmethod
    def delete(cls, mailbox: str, event_id: str) -> Write:
        return cls("delete", mailbox, event_id)

    def request(self) -> Request:
        if self.kind == "create":
            return Request("POST", path("users", self.mailbox, "events"), mailbox=self.mailbox,
                           body={**(self.payload or {}), "transactionId": self.transaction_id}, headers=IMMUTABLE_IDS)
        method = "PATCH" if self.kind == "update" else "DELETE"
        return Request(method, path("users", self.mailbox, "events", self.event_id), mailbox=self.mailbox,
                       body=self.payload if self.kind == "update" else None, headers=IMMUTABLE_IDS)


@dataclass(frozen=True)
class DeltaPage:
    """One page of a mailbox's ``calendarView/delta``: the entries changed or added (``changed``:
    immutable id → (start, end) in UTC, "YYYY-MM-DDTHH:MM:SS"), the ids removed from the view
    (deleted, or moved out of the window), and the link to send next: ``next_link`` while the round
    goes on, else ``delta_link`` (kept for the next check)."""

    changed: dict[str, tuple[str, str]]
    removed: list[str]
    next_link: str | None
    delta_link: str | None


@dataclass(frozen=True)
class DeltaAsk:
    """A mailbox's next delta call: the stored ``link`` (an ``@odata.nextLink`` or
    ``@odata.deltaLink``), or, with none, a new round over the window ``start``–``end``
    (ISO 8601 UTC)."""

    mailbox: str
    link: str | None = None
    start: str = ""
    end: str = ""

    def request(self, page_size: int) -> Request:
        headers = {"Prefer": f'IdType="ImmutableId", outlook.timezone="UTC", odata.maxpagesize={page_size}'}
        if self.link:
            return Request("GET", relative(self.link), mailbox=self.mailbox, headers=headers)
        return Request("GET", path("users", self.mailbox, "calendarView", "delta", startDateTime=self.start,
                                   endDateTime=self.end), mailbox=self.mailbox, headers=headers)


def relative(link: str) -> str:
    """A link Graph gave (absolute, under its version segment) as a path for :class:`Request`."""
    at = link.find("/users/")
    if at < 0:
        raise errors.BadRequest(f"not a mailbox's delta link: {link[:80]!r}")
    return link[at:]


class CalendarGateway:
    """The calendar side of Graph, over the one :class:`Exchange` of the process."""

    def __init__(self, exchange: Exchange) -> None:
        self._exchange = exchange

    def apply(self, tenant_id: str, writes: Sequence[Write], grant: AccessGrant = ORGANISATION) -> list[Answer]:
        """Each write's answer in order (see the module); raises :class:`errors.AuthFailed`."""
        answers = self._exchange.run(tenant_id, [w.request() for w in writes], grant)
        return [_answer(write, answer) for write, answer in zip(writes, answers, strict=True)]

    def find(self, tenant_id: str, wanted: Sequence[tuple[str, str]],
             grant: AccessGrant = ORGANISATION) -> list[list[str] | errors.GraphError]:
        """For each (mailbox, tag): ids of the entries carrying the plugin's tag, or the typed error."""
        requests = []
        for mailbox, tag in wanted:
            condition = f"ep/id eq {odata_string(TAG_PROPERTY_ID)} and ep/value eq {odata_string(tag)}"
            requests.append(Request("GET", path("users", mailbox, "events", **{
                "$filter": f"singleValueExtendedProperties/Any(ep: {condition})", "$select": "id", "$top": "10"}),
                mailbox=mailbox, headers=IMMUTABLE_IDS))
        return [answer if isinstance(answer, errors.GraphError)
                else [str(item["id"]) for item in (answer or {}).get("value", [])]
                for answer in self._exchange.run(tenant_id, requests, grant)]

    def probe(self, tenant_id: str, mailbox: str, grant: AccessGrant = ORGANISATION) -> None:
        """Read at most one entry's id: a read-only check that the mailbox can be reached.

        Raises :class:`errors.MailboxUnreachable` (with its reason) as a write would, nothing otherwise.
        """
        self._exchange.one(tenant_id, Request("GET", path("users", mailbox, "events", **{
            "$top": "1", "$select": "id"}), mailbox=mailbox), grant)

    def delta(self, tenant_id: str, asks: Sequence[DeltaAsk], page_size: int = 100,
              grant: AccessGrant = ORGANISATION) -> list[DeltaPage | errors.GraphError]:
        """One page of ``calendarView/delta`` for each mailbox asked, or the typed error.

        As Graph documents it (https://learn.microsoft.com/graph/api/event-delta and
        https://learn.microsoft.com/graph/delta-query-events): the first call of a round names the
        window (``startDateTime``/``endDateTime``, no other parameters: ``$select`` and ``$filter``
        are not supported on calendarView delta); every later call sends back the
        ``@odata.nextLink`` (``$skiptoken``) or ``@odata.deltaLink`` (``$deltatoken``) as given, the
        window being encoded in the token. A removed entry comes as ``{"id", "@removed": {"reason":
        "deleted"}}`` — also when it was moved out of the window, so a caller asks the entry itself
        to tell the two apart. ``Prefer: odata.maxpagesize`` bounds a page; ``IdType="ImmutableId"``
        gives the ids the plugin's entries are recorded by. An expired token answers 410
        (:class:`errors.BadRequest`): the caller starts a new round. Raises :class:`errors.AuthFailed`.
        """
        answers = self._exchange.run(tenant_id, [ask.request(page_size) for ask in asks], grant)
        return [answer if isinstance(answer, errors.GraphError) else _page(answer or {}) for answer in answers]

    def when(self, tenant_id: str, wanted: Sequence[tuple[str, str]],
             grant: AccessGrant = ORGANISATION) -> list[tuple[str, str] | errors.GraphError]:
        """For each (mailbox, event id): the entry's (start, end) in UTC, or the typed error
        (:class:`errors.NotFound` when the user deleted it)."""
        requests = [Request("GET", path("users", mailbox, "events", event_id, **{"$select": "start,end"}),
                            mailbox=mailbox, headers=UTC_IMMUTABLE)
                    for mailbox, event_id in wanted]
        return [answer if isinstance(answer, errors.GraphError) else _times(answer)
                for answer in self._exchange.run(tenant_id, requests, grant)]


def _answer(write: Write, answer: Any) -> Answer:
    if isinstance(answer, errors.NotFound) and write.kind == "delete":
        return write.event_id  # already gone: the deletion's job is done
    if isinstance(answer, errors.GraphError):
        return answer
    return str(answer["id"]) if write.kind == "create" else write.event_id


def _times(event: Mapping[str, Any]) -> tuple[str, str]:
    """An event's (start, end) as UTC "YYYY-MM-DDTHH:MM:SS" (Graph answers UTC unless asked otherwise)."""
    return str(event["start"]["dateTime"])[:19], str(event["end"]["dateTime"])[:19]


def _page(body: Mapping[str, Any]) -> DeltaPage:
    changed: dict[str, tuple[str, str]] = {}
    removed: list[str] = []
    for item in body.get("value", []):
        if "@removed" in item:
            removed.append(str(item["id"]))
        elif "start" in item and "end" in item:
            changed[str(item["id"])] = _times(item)
    return DeltaPage(changed, removed, body.get("@odata.nextLink"), body.get("@odata.deltaLink"))
