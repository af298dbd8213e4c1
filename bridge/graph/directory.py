"""Finding a user's mailbox in the tenant, and the tenant's verified domains."""
from __future__ import annotations

from urllib.parse import quote

from bridge.graph import errors
from bridge.graph.http import GraphHttp, odata_string


class Directory:
    """Directory look-ups (``User.Read.All`` / ``Domain.Read.All``)."""

    def __init__(self, http: GraphHttp) -> None:
        self._http = http

    def find_user(self, tenant_id: str, address: str) -> str | None:
        """The Graph user id for an address: by UPN, then by ``mail``, then by ``proxyAddresses``.

        ``None`` when no user has it. Without permission to read the directory the address itself
        is returned, since Graph also accepts a UPN in calendar paths.
        """
        try:
            try:
                user = self._http.request(tenant_id, "GET", f"/users/{quote(address, safe='@')}",
                                          params={"$select": "id"})
                return str(user["id"])
            except errors.MailboxUnreachable:
                pass
            for condition in (f"mail eq {odata_string(address)}",
                              f"proxyAddresses/any(x:x eq {odata_string('smtp:' + address)})"):
                found = self._http.request(tenant_id, "GET", "/users",
                                           params={"$filter": condition, "$select": "id"})
                if found.get("value"):
                    return str(found["value"][0]["id"])
        except errors.AuthFailed as exc:
            if exc.reason == errors.PERMISSION_MISSING and exc.status == 403:
                return address
            raise
        return None

    def verified_domains(self, tenant_id: str) -> list[str] | None:
        """The tenant's verified domains, or ``None`` when the permission to read them is missing."""
        try:
            found = self._http.request(tenant_id, "GET", "/domains", params={"$select": "id,isVerified"})
        except errors.AuthFailed as exc:
            if exc.status == 403:
                return None
            raise
        return sorted(str(d["id"]).lower() for d in found.get("value", []) if d.get("isVerified"))
