"""`EmulatorAdmin`: a thin Python client of the admin API, one method per call.

Uses its own ``requests.Session`` with ``trust_env=False`` so ``REQUESTS_CA_BUNDLE`` /
``CURL_CA_BUNDLE`` cannot override the emulator's CA (see facts.md). Errors raise
``EmulatorAdminError`` with the status and the emulator's message.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import requests


class EmulatorAdminError(RuntimeError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class EmulatorAdmin:
    """Admin calls against ``{base_url}/_emulator``."""

    def __init__(self, base_url: str, ca_path: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = ca_path
        self.timeout = timeout

    def close(self) -> None:
        self.session.close()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None, **params: Any) -> Any:
        response = self.session.request(
            method,
            f"{self.base_url}/_emulator{path}",
            json=body,
            timeout=self.timeout,
            params={k: v for k, v in params.items() if v is not None} or None,
        )
        if response.status_code >= 400:
            try:
                message = response.json().get("error", response.text)
            except ValueError:
                message = response.text
            raise EmulatorAdminError(response.status_code, message)
        return response.json() if response.content else None

    # ---- world -------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        return self._call("GET", "/health")

    def create_tenant(
        self, name: str, domains: list[str] | None = None, tenant_id: str | None = None
    ) -> dict[str, Any]:
        """Returns the tenant: ``id``, ``name``, ``domains`` [{id, isDefault, isInitial, isVerified}], ..."""
        body: dict[str, Any] = {"name": name, "domains": domains or []}
        if tenant_id:
            body["id"] = tenant_id
        return self._call("POST", "/tenants", body)

    def tenants(self) -> list[dict[str, Any]]:
        return self._call("GET", "/tenants")["tenants"]

    def register_app(
        self,
        client_id: str,
        *,
        client_secret: str | None = None,
        secret_expires_at: float | None = None,
        certificate_pem: str | None = None,
        redirect_uris: list[str] | None = None,
        required_roles: list[str] | None = None,
        display_name: str | None = None,
    ) -> dict[str, Any]:
        body = {
            k: v
            for k, v in {
                "client_id": client_id,
                "client_secret": client_secret,
                "secret_expires_at": secret_expires_at,
                "certificate_pem": certificate_pem,
                "redirect_uris": redirect_uris,
                "required_roles": required_roles,
                "display_name": display_name,
            }.items()
            if v is not None
        }
        return self._call("POST", "/apps", body)

    def expire_secret(self, client_id: str) -> dict[str, Any]:
        return self._call("POST", f"/apps/{client_id}/expire-secret")

    def add_secret(self, client_id: str, secret: str, expires_at: float | None = None) -> str:
        """Register another secret on the app; returns its key id."""
        body: dict[str, Any] = {"secret": secret}
        if expires_at is not None:
            body["expires_at"] = expires_at
        return str(self._call("POST", f"/apps/{client_id}/secrets", body)["key_id"])

    def revoke_secret(self, client_id: str, key_id: str) -> None:
        """Remove one of the app's secrets (``primary``: the one given at registration)."""
        self._call("DELETE", f"/apps/{client_id}/secrets/{key_id}")

    def create_user(
        self,
        tenant_id: str,
        user_principal_name: str,
        *,
        display_name: str | None = None,
        mail: str | None = None,
        proxy_addresses: list[str] | None = None,
        account_enabled: bool = True,
        mailbox: str = "exchange_online",
        **extra: Any,
    ) -> dict[str, Any]:
        """``mailbox``: exchange_online | on_premises | none. Returns the user with its ``id``."""
        spec: dict[str, Any] = {
            "userPrincipalName": user_principal_name,
            "accountEnabled": account_enabled,
            "mailbox": mailbox,
            **extra,
        }
        for key, value in (("displayName", display_name), ("mail", mail), ("proxyAddresses", proxy_addresses)):
            if value is not None:
                spec[key] = value
        return self._call("POST", f"/tenants/{tenant_id}/users", spec)

    def rename_user(self, tenant_id: str, user: str, user_principal_name: str, *,
                    mail: str | None = None) -> dict[str, Any]:
        """Rename ``user`` (id or UPN): new UPN and primary address (``mail``, the UPN unless
        given); the old address stays as an alias. Returns the user, same ``id``."""
        spec: dict[str, Any] = {"userPrincipalName": user_principal_name}
        if mail is not None:
            spec["mail"] = mail
        return self._call("PATCH", f"/tenants/{tenant_id}/users/{user}", spec)

    def create_users(self, tenant_id: str, users: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Bulk: each dict as the admin JSON (``userPrincipalName``, ``mail``, ``mailbox``, ...)."""
        return self._call("POST", f"/tenants/{tenant_id}/users:bulk", {"users": users})["users"]

    def users(self, tenant_id: str) -> list[dict[str, Any]]:
        return self._call("GET", f"/tenants/{tenant_id}/users")["users"]

    def grant_consent(self, tenant_id: str, client_id: str, roles: list[str] | None = None) -> dict[str, Any]:
        """Admin consent (all the app's required roles unless ``roles`` names a subset)."""
        return self._call(
            "POST", f"/tenants/{tenant_id}/consents/{client_id}", {"roles": roles} if roles is not None else None
        )

    def revoke_consent(self, tenant_id: str, client_id: str) -> None:
        self._call("DELETE", f"/tenants/{tenant_id}/consents/{client_id}")

    def set_access_policy(self, tenant_id: str, client_id: str, allowed_user_ids: list[str] | None) -> Any:
        """Restrict the app to these users' mailboxes; ``None`` removes the policy."""
        path = f"/tenants/{tenant_id}/access-policies/{client_id}"
        if allowed_user_ids is None:
            return self._call("DELETE", path)
        return self._call("PUT", path, {"allowed_user_ids": allowed_user_ids})

    # ---- groups and Exchange RBAC for Applications (emulator.rbac) -----------------------
    def create_group(self, tenant_id: str, display_name: str, *, members: list[str] | None = None,
                     kind: str = "mail_enabled_security", mail_nickname: str | None = None) -> dict[str, Any]:
        """A group (``kind``: mail_enabled_security | microsoft365 | distribution | security) with direct
        ``members`` (user ids, UPNs or group ids); returns it with ``id`` and ``distinguishedName``."""
        spec: dict[str, Any] = {"displayName": display_name, "kind": kind, "members": members or []}
        if mail_nickname is not None:
            spec["mailNickname"] = mail_nickname
        return self._call("POST", f"/tenants/{tenant_id}/groups", spec)

    def groups(self, tenant_id: str) -> list[dict[str, Any]]:
        return self._call("GET", f"/tenants/{tenant_id}/groups")["groups"]

    def add_group_member(self, tenant_id: str, group: str, member: str) -> dict[str, Any]:
        return self._call("POST", f"/tenants/{tenant_id}/groups/{quote(group, safe='')}/members", {"member": member})

    def remove_group_member(self, tenant_id: str, group: str, member: str) -> dict[str, Any]:
        return self._call("DELETE", f"/tenants/{tenant_id}/groups/{quote(group, safe='')}/members/"
                                    f"{quote(member, safe='')}")

    def exchange(self, tenant_id: str) -> dict[str, Any]:
        """``{"service_principals", "management_scopes", "role_assignments"}`` of the tenant."""
        return self._call("GET", f"/tenants/{tenant_id}/exchange")

    def new_service_principal(self, tenant_id: str, app_id: str, object_id: str,
                              display_name: str | None = None) -> dict[str, Any]:
        """``New-ServicePrincipal``: ``object_id`` is the Entra service principal's (``grant_consent``)."""
        body = {"AppId": app_id, "ObjectId": object_id, **({"DisplayName": display_name} if display_name else {})}
        return self._call("POST", f"/tenants/{tenant_id}/exchange/service-principals", body)

    def remove_service_principal(self, tenant_id: str, identity: str) -> None:
        self._call("DELETE", f"/tenants/{tenant_id}/exchange/service-principals/{quote(identity, safe='')}")

    def new_management_scope(self, tenant_id: str, name: str, recipient_restriction_filter: str) -> dict[str, Any]:
        """``New-ManagementScope -Name -RecipientRestrictionFilter`` (OPATH, emulator.opath)."""
        return self._call("POST", f"/tenants/{tenant_id}/exchange/management-scopes",
                          {"Name": name, "RecipientRestrictionFilter": recipient_restriction_filter})

    def remove_management_scope(self, tenant_id: str, name: str) -> None:
        self._call("DELETE", f"/tenants/{tenant_id}/exchange/management-scopes/{quote(name, safe='')}")

    def new_role_assignment(self, tenant_id: str, role: str, app: str, *, name: str | None = None,
                            custom_resource_scope: str | None = None,
                            recipient_group_scope: str | None = None) -> dict[str, Any]:
        """``New-ManagementRoleAssignment -App -Role`` with a scope (none: the whole organisation)."""
        body = {k: v for k, v in {"Name": name, "Role": role, "App": app, "CustomResourceScope": custom_resource_scope,
                                  "RecipientGroupScope": recipient_group_scope}.items() if v is not None}
        return self._call("POST", f"/tenants/{tenant_id}/exchange/role-assignments", body)

    def remove_role_assignment(self, tenant_id: str, name: str) -> None:
        self._call("DELETE", f"/tenants/{tenant_id}/exchange/role-assignments/{quote(name, safe='')}")

    def test_service_principal_authorization(self, tenant_id: str, identity: str,
                                             resource: str | None = None) -> list[dict[str, Any]]:
        """``Test-ServicePrincipalAuthorization``: rows of RoleName, GrantedPermissions,
        AllowedResourceScope, ScopeType, InScope (True/False, "Not Run" without ``resource``)."""
        return self._call("GET", f"/tenants/{tenant_id}/exchange/service-principals/{quote(identity, safe='')}/"
                                 "authorization", resource=resource)["results"]

    # ---- mailboxes ---------------------------------------------------------------------
    def mailboxes(self, tenant_id: str) -> dict[str, Any]:
        """``{user id: {"userPrincipalName", "mailbox", "events": [...]}}`` (extended props included)."""
        return self._call("GET", f"/tenants/{tenant_id}/mailboxes")

    def events(self, tenant_id: str, user: str) -> list[dict[str, Any]]:
        return self._call("GET", f"/tenants/{tenant_id}/users/{user}/events")["events"]

    def delete_event(self, tenant_id: str, user: str, event_id: str) -> None:
        """What a user deleting the entry in Outlook does."""
        self._call("DELETE", f"/tenants/{tenant_id}/users/{user}/events/{event_id}")

    def edit_event(self, tenant_id: str, user: str, event_id: str, **changes: Any) -> dict[str, Any]:
        """What a user moving or editing the entry in Outlook does (``changes``: Graph event properties,
        e.g. ``start={"dateTime": ..., "timeZone": "UTC"}``); returns the entry as stored."""
        return self._call("PATCH", f"/tenants/{tenant_id}/users/{user}/events/{event_id}", changes)

    # ---- behaviour ---------------------------------------------------------------------
    def set_faults(self, **faults: Any) -> dict[str, Any]:
        """latency_ms, latency_jitter_ms, latency_distribution, rate_503, rate_429, rate_ambiguous,
        rate_reset, rate_concurrent_item_save, ambiguous_hold_ms, retry_after_s, methods, seed."""
        return self._call("PUT", "/faults", faults)

    def set_limits(self, **limits: Any) -> dict[str, Any]:
        """window_seconds, window_requests, concurrency, token_lifetime, token_format, request_log_size,
        rbac_cache_idle_seconds, rbac_cache_max_seconds."""
        return self._call("PUT", "/limits", limits)

    def requests_log(self, since: int | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        return self._call("GET", "/requests", since=since, limit=limit)["requests"]

    def counters(self) -> dict[str, Any]:
        return self._call("GET", "/counters")

    def reset(self, scope: str = "all") -> None:
        """``all`` (everything back to start-up), ``faults`` (faults+limits) or ``counters``."""
        self._call("POST", "/reset", {"scope": scope})
