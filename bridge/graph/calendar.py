"""The calendar gateway: create / update / delete / find-by-tag of one mailbox's entries."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from bridge.graph import errors
from bridge.graph.http import GraphHttp, odata_string
from bridge.payload import TAG_PROPERTY_ID


class CalendarGateway:
    """Writes entries straight into a user's own calendar (no attendees, so no e-mails).

    Every method raises the typed errors of :mod:`bridge.graph.errors`.
    """

    def __init__(self, http: GraphHttp) -> None:
        self._http = http

    @staticmethod
    def _events(mailbox: str) -> str:
        return f"/users/{quote(mailbox, safe='@')}/events"

    def create(self, tenant_id: str, mailbox: str, payload: dict[str, Any], transaction_id: str) -> str:
        """Create an entry; returns its Graph id. A timeout or 5xx leaves the outcome unknown."""
        body = {**payload, "transactionId": transaction_id}
        created = self._http.request(tenant_id, "POST", self._events(mailbox), mailbox=mailbox, json=body,
                                     headers={"Prefer": 'IdType="ImmutableId"'})
        return str(created["id"])

    def update(self, tenant_id: str, mailbox: str, event_id: str, payload: dict[str, Any]) -> None:
        """Rewrite an entry; :class:`errors.NotFound` when the user deleted it."""
        self._http.request(tenant_id, "PATCH", f"{self._events(mailbox)}/{quote(event_id, safe='')}",
                           mailbox=mailbox, json=payload, headers={"Prefer": 'IdType="ImmutableId"'})

    def delete(self, tenant_id: str, mailbox: str, event_id: str) -> None:
        """Remove an entry; one already gone counts as removed."""
        try:
            self._http.request(tenant_id, "DELETE", f"{self._events(mailbox)}/{quote(event_id, safe='')}",
                               mailbox=mailbox, headers={"Prefer": 'IdType="ImmutableId"'})
        except errors.NotFound:
            return

    def find_by_tag(self, tenant_id: str, mailbox: str, tag: str) -> list[str]:
        """Ids of the entries in the mailbox that carry the plugin's tag ``tag`` (normally 0 or 1)."""
        condition = f"ep/id eq {odata_string(TAG_PROPERTY_ID)} and ep/value eq {odata_string(tag)}"
        found = self._http.request(
            tenant_id, "GET", self._events(mailbox), mailbox=mailbox,
            params={"$filter": f"singleValueExtendedProperties/Any(ep: {condition})", "$select": "id",
                    "$top": "10"},
            headers={"Prefer": 'IdType="ImmutableId"'},
        )
        return [str(item["id"]) for item in found.get("value", [])]

    def probe(self, tenant_id: str, mailbox: str) -> None:
        """Read at most one entry's id: a read-only check that the mailbox can be reached.

        Raises :class:`errors.MailboxUnreachable` (with its reason) as a write would, nothing otherwise.
        """
        self._http.request(tenant_id, "GET", self._events(mailbox), mailbox=mailbox,
                           params={"$top": "1", "$select": "id"})
