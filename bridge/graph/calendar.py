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

Entries carry no attendees, so nobody receives an e-mail.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from bridge.graph import errors
from bridge.graph.exchange import Exchange
from bridge.graph.wire import IMMUTABLE_IDS, Request, odata_string, path
from bridge.payload import TAG_PROPERTY_ID

Answer = str | errors.GraphError


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


class CalendarGateway:
    """The calendar side of Graph, over the one :class:`Exchange` of the process."""

    def __init__(self, exchange: Exchange) -> None:
        self._exchange = exchange

    def apply(self, tenant_id: str, writes: Sequence[Write]) -> list[Answer]:
        """Each write's answer in order (see the module); raises :class:`errors.AuthFailed`."""
        answers = self._exchange.run(tenant_id, [w.request() for w in writes])
        return [_answer(write, answer) for write, answer in zip(writes, answers, strict=True)]

    def find(self, tenant_id: str, wanted: Sequence[tuple[str, str]]) -> list[list[str] | errors.GraphError]:
        """For each (mailbox, tag): ids of the entries carrying the plugin's tag, or the typed error."""
        requests = []
        for mailbox, tag in wanted:
            condition = f"ep/id eq {odata_string(TAG_PROPERTY_ID)} and ep/value eq {odata_string(tag)}"
            requests.append(Request("GET", path("users", mailbox, "events", **{
                "$filter": f"singleValueExtendedProperties/Any(ep: {condition})", "$select": "id", "$top": "10"}),
                mailbox=mailbox, headers=IMMUTABLE_IDS))
        return [answer if isinstance(answer, errors.GraphError)
                else [str(item["id"]) for item in (answer or {}).get("value", [])]
                for answer in self._exchange.run(tenant_id, requests)]

    def probe(self, tenant_id: str, mailbox: str) -> None:
        """Read at most one entry's id: a read-only check that the mailbox can be reached.

        Raises :class:`errors.MailboxUnreachable` (with its reason) as a write would, nothing otherwise.
        """
        self._exchange.one(tenant_id, Request("GET", path("users", mailbox, "events", **{
            "$top": "1", "$select": "id"}), mailbox=mailbox))


def _answer(write: Write, answer: Any) -> Answer:
    if isinstance(answer, errors.NotFound) and write.kind == "delete":
        return write.event_id  # already gone: the deletion's job is done
    if isinstance(answer, errors.GraphError):
        return answer
    return str(answer["id"]) if write.kind == "create" else write.event_id
