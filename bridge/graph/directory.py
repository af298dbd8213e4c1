"""Finding a user's mailbox in the tenant, and the tenant's verified domains."""
from __future__ import annotations

from bridge.codes import TenantReason
from bridge.graph import errors
from bridge.graph.exchange import Exchange
from bridge.graph.wire import Request, odata_string, path


class Directory:
    """Directory look-ups (``User.Read.All`` / ``Domain.Read.All``) over the process's :class:`Exchange`."""

    def __init__(self, exchange: Exchange) -> None:
        self._exchange = exchange

    def find_user(self, tenant_id: str, address: str) -> str | None:
        """The Graph user id for an address: by UPN, else by ``mail``, else by ``proxyAddresses``
        (the three asked at once).

        ``None`` when no user has it. Without permission to read the directory the address itself
        is returned, since Graph also accepts a UPN in calendar paths. Raises the typed error of a
        look-up that could not be answered (throttled, lost).
        """
        asked = [Request("GET", path("users", address, **{"$select": "id"}))] + [
            Request("GET", path("users", **{"$filter": condition, "$select": "id"}))
            for condition in (f"mail eq {odata_string(address)}",
                              f"proxyAddresses/any(x:x eq {odata_string('smtp:' + address)})")]
        try:
            by_upn, by_mail, by_proxy = self._exchange.run(tenant_id, asked)
        except errors.AuthFailed as exc:
            if exc.reason == TenantReason.PERMISSION_MISSING and exc.status == 403:
                return address
            raise
        if not isinstance(by_upn, errors.MailboxUnreachable):
            if isinstance(by_upn, errors.GraphError):
                raise by_upn
            return str(by_upn["id"])
        for found in (by_mail, by_proxy):
            if isinstance(found, errors.GraphError):
                raise found
            if found.get("value"):
                return str(found["value"][0]["id"])
        return None

    def verified_domains(self, tenant_id: str) -> list[str] | None:
        """The tenant's verified domains, or ``None`` when the permission to read them is missing."""
        try:
            found = self._exchange.one(tenant_id, Request("GET", path("domains", **{"$select": "id,isVerified"})))
        except errors.AuthFailed as exc:
            if exc.status == 403:
                return None
            raise
        return sorted(str(d["id"]).lower() for d in found.get("value", []) if d.get("isVerified"))
