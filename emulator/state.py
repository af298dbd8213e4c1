"""The emulator's world: tenants, app registrations, consent, users and their mailboxes.

Pure data and the rules that change it, no HTTP: the identity, Graph and admin layers all read
and write this one object, so what a test sets up through the admin API is exactly what MSAL and
Graph clients then see.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes

MAILBOX_KINDS = ("exchange_online", "on_premises", "none")
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class StateError(Exception):
    """A refused admin change; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def is_guid(value: str) -> bool:
    return bool(_GUID.match(value.lower()))


@dataclass
class Domain:
    id: str
    is_default: bool = False
    is_initial: bool = False
    is_verified: bool = True


@dataclass
class App:
    """A multi-tenant app registration (lives in the publisher's tenant)."""

    client_id: str
    display_name: str
    client_secret: str | None
    secret_expires_at: float | None
    certificate: x509.Certificate | None
    redirect_uris: list[str]
    required_roles: list[str]
    sha1_thumbprint: str | None = None
    sha256_thumbprint: str | None = None
    # More secrets, as an app registration holds for a rotation: key id → (value, expiry or None).
    more_secrets: dict[str, tuple[str, float | None]] = field(default_factory=dict)

    def add_secret(self, secret: str, expires_at: float | None = None) -> str:
        """Register another secret beside the first; returns its key id."""
        if not secret:
            raise StateError(400, "secret must not be empty")
        key_id = str(uuid.uuid4())
        self.more_secrets[key_id] = (secret, expires_at)
        return key_id

    def revoke_secret(self, key_id: str) -> None:
        """Remove a secret by key id (``primary``: the one given at registration)."""
        if key_id == "primary" and self.client_secret is not None:
            self.client_secret, self.secret_expires_at = None, None
        elif self.more_secrets.pop(key_id, None) is None:
            raise StateError(404, f"no secret {key_id!r} on app {self.client_id}")

    def secret_state(self, secret: str, now: float) -> str:
        """``valid``, ``expired`` or ``unknown`` for a presented secret."""
        known = ([(self.client_secret, self.secret_expires_at)] if self.client_secret else []) + list(
            self.more_secrets.values())
        states = {"expired" if expires is not None and expires <= now else "valid"
                  for value, expires in known if value == secret}
        return "valid" if "valid" in states else states.pop() if states else "unknown"

    def public_view(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "display_name": self.display_name,
            "has_secret": self.client_secret is not None,
            "secret_expires_at": self.secret_expires_at,
            "secret_key_ids": (["primary"] if self.client_secret is not None else []) + list(self.more_secrets),
            "certificate_thumbprint": self.sha1_thumbprint,
            "redirect_uris": self.redirect_uris,
            "required_roles": self.required_roles,
        }


@dataclass
class ServicePrincipal:
    """An app's presence in a customer tenant, made by the first consent."""

    client_id: str
    object_id: str
    roles: set[str]
    consented: bool
    changed_at: float


@dataclass
class User:
    id: str
    tenant_id: str
    user_principal_name: str
    display_name: str
    mail: str | None
    proxy_addresses: list[str]
    account_enabled: bool
    mailbox: str
    given_name: str | None = None
    surname: str | None = None
    job_title: str | None = None

    def addresses(self) -> set[str]:
        """Lower-cased SMTP addresses a directory filter may match."""
        found = {a.split(":", 1)[1].lower() for a in self.proxy_addresses if ":" in a}
        if self.mail:
            found.add(self.mail.lower())
        return found

    def admin_view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "userPrincipalName": self.user_principal_name,
            "displayName": self.display_name,
            "mail": self.mail,
            "proxyAddresses": self.proxy_addresses,
            "accountEnabled": self.account_enabled,
            "mailbox": self.mailbox,
            "tenant_id": self.tenant_id,
        }


@dataclass
class StoredEvent:
    """One calendar entry; ``props`` holds the client-settable properties, normalised."""

    id: str
    props: dict[str, Any]
    start: dt.datetime
    end: dt.datetime
    created: dt.datetime
    modified: dt.datetime
    change_key: str
    ical_uid: str
    seq: int
    extended: dict[str, tuple[str, str]] = field(default_factory=dict)  # lower id -> (id, value)


@dataclass
class Mailbox:
    events: dict[str, StoredEvent] = field(default_factory=dict)
    by_transaction: dict[str, str] = field(default_factory=dict)
    changes: list[str] = field(default_factory=list)  # ids of entries made, changed or deleted, in order (delta)


@dataclass
class Tenant:
    id: str
    name: str
    domains: list[Domain]
    users: dict[str, User] = field(default_factory=dict)
    by_upn: dict[str, str] = field(default_factory=dict)
    service_principals: dict[str, ServicePrincipal] = field(default_factory=dict)
    access_policies: dict[str, set[str]] = field(default_factory=dict)
    mailboxes: dict[str, Mailbox] = field(default_factory=dict)

    def find_user(self, ref: str) -> User | None:
        """By object id or userPrincipalName, case-insensitively (as Graph resolves /users/{x})."""
        low = ref.lower()
        user = self.users.get(low)
        if user is None and low in self.by_upn:
            user = self.users[self.by_upn[low]]
        return user

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "domains": [
                {"id": d.id, "isDefault": d.is_default, "isInitial": d.is_initial, "isVerified": d.is_verified}
                for d in self.domains
            ],
            "user_count": len(self.users),
            "consents": {
                sp.client_id: {"object_id": sp.object_id, "roles": sorted(sp.roles), "consented": sp.consented}
                for sp in self.service_principals.values()
            },
            "access_policies": {k: sorted(v) for k, v in self.access_policies.items()},
        }


def _thumbprints(cert: x509.Certificate) -> tuple[str, str]:
    return cert.fingerprint(hashes.SHA1()).hex(), cert.fingerprint(hashes.SHA256()).hex()


class World:
    """All tenants and apps; the single source of truth of a running emulator."""

    def __init__(self) -> None:
        self.tenants: dict[str, Tenant] = {}
        self.domain_index: dict[str, str] = {}
        self.apps: dict[str, App] = {}

    def clear(self) -> None:
        self.__init__()  # type: ignore[misc]

    def resolve_tenant(self, ref: str) -> Tenant | None:
        """A tenant by GUID or by any of its domains."""
        low = ref.lower()
        return self.tenants.get(low) or self.tenants.get(self.domain_index.get(low, ""))

    def tenant(self, tenant_id: str) -> Tenant:
        found = self.resolve_tenant(tenant_id)
        if found is None:
            raise StateError(404, f"no tenant {tenant_id!r}")
        return found

    def create_tenant(self, name: str, domains: list[str], tenant_id: str | None = None) -> Tenant:
        tid = (tenant_id or str(uuid.uuid4())).lower()
        if not is_guid(tid):
            raise StateError(400, f"tenant id must be a GUID, got {tenant_id!r}")
        if tid in self.tenants:
            raise StateError(409, f"tenant {tid} exists")
        if not name or not isinstance(name, str):
            raise StateError(400, "tenant name is required")
        initial = re.sub(r"[^a-z0-9]", "", name.lower())[:27] or "tenant"
        names = [d.lower() for d in domains] + [f"{initial}.onmicrosoft.com"]
        for d in names:
            if not _DOMAIN.match(d):
                raise StateError(400, f"not a domain name: {d!r}")
            if d in self.domain_index or names.count(d) > 1:
                raise StateError(409, f"domain {d} already belongs to a tenant")
        doms = [Domain(d, is_default=i == 0, is_initial=i == len(names) - 1) for i, d in enumerate(names)]
        tenant = Tenant(tid, name, doms)
        self.tenants[tid] = tenant
        for d in names:
            self.domain_index[d] = tid
        return tenant

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
    ) -> App:
        if not is_guid(client_id):
            raise StateError(400, f"client_id must be a GUID, got {client_id!r}")
        cert = None
        if certificate_pem:
            try:
                cert = x509.load_pem_x509_certificate(certificate_pem.encode())
            except ValueError as exc:
                raise StateError(400, f"certificate_pem is not a PEM certificate: {exc}") from exc
        if client_secret is None and cert is None:
            raise StateError(400, "an app needs client_secret or certificate_pem")
        app = App(
            client_id.lower(),
            display_name or "Outlook Calendar for the LMS",
            client_secret,
            secret_expires_at,
            cert,
            list(redirect_uris or []),
            list(required_roles or ["Calendars.ReadWrite", "User.Read.All", "Domain.Read.All"]),
        )
        if cert is not None:
            app.sha1_thumbprint, app.sha256_thumbprint = _thumbprints(cert)
        self.apps[app.client_id] = app
        return app

    def app(self, client_id: str) -> App:
        found = self.apps.get(client_id.lower())
        if found is None:
            raise StateError(404, f"no app {client_id!r}")
        return found

    def add_user(self, tenant: Tenant, spec: dict[str, Any]) -> User:
        upn = spec.get("userPrincipalName")
        if not isinstance(upn, str) or "@" not in upn:
            raise StateError(400, f"userPrincipalName must be an address, got {upn!r}")
        domain = upn.rsplit("@", 1)[1].lower()
        if domain not in {d.id for d in tenant.domains}:
            raise StateError(400, f"{upn}: domain {domain} is not a domain of tenant {tenant.id}")
        if upn.lower() in tenant.by_upn:
            raise StateError(409, f"user {upn} exists")
        kind = spec.get("mailbox", "exchange_online")
        if kind not in MAILBOX_KINDS:
            raise StateError(400, f"mailbox must be one of {', '.join(MAILBOX_KINDS)}, got {kind!r}")
        uid = str(spec.get("id") or uuid.uuid4()).lower()
        if not is_guid(uid) or uid in tenant.users:
            raise StateError(400, f"user id must be a new GUID, got {spec.get('id')!r}")
        mail = spec.get("mail", upn if kind != "none" else None)
        proxies = spec.get("proxyAddresses")
        if proxies is None:
            proxies = [f"SMTP:{mail}"] if mail else []
        if not isinstance(proxies, list) or not all(isinstance(p, str) for p in proxies):
            raise StateError(400, "proxyAddresses must be a list of strings")
        user = User(
            uid,
            tenant.id,
            upn,
            str(spec.get("displayName") or upn.split("@")[0]),
            mail,
            proxies,
            bool(spec.get("accountEnabled", True)),
            kind,
            spec.get("givenName"),
            spec.get("surname"),
            spec.get("jobTitle"),
        )
        tenant.users[uid] = user
        tenant.by_upn[upn.lower()] = uid
        tenant.mailboxes[uid] = Mailbox()
        return user

    def rename_user(self, tenant: Tenant, ref: str, spec: dict[str, Any]) -> User:
        """What a tenant administrator's rename does: a new ``userPrincipalName`` (and ``mail``,
        the new UPN unless given); the old primary address stays as an alias (``smtp:``) in
        ``proxyAddresses``, the new one becomes primary (``SMTP:``). The object id never changes."""
        user = tenant.find_user(ref)
        if user is None:
            raise StateError(404, f"no user {ref!r} in tenant {tenant.id}")
        upn = spec.get("userPrincipalName")
        if not isinstance(upn, str) or "@" not in upn:
            raise StateError(400, f"userPrincipalName must be an address, got {upn!r}")
        if upn.rsplit("@", 1)[1].lower() not in {d.id for d in tenant.domains}:
            raise StateError(400, f"{upn}: domain is not a domain of tenant {tenant.id}")
        if tenant.by_upn.get(upn.lower(), user.id) != user.id:
            raise StateError(409, f"user {upn} exists")
        mail = spec.get("mail", upn)
        if not isinstance(mail, str) or "@" not in mail:
            raise StateError(400, f"mail must be an address, got {mail!r}")
        kept = [a for a in user.proxy_addresses if a.split(":", 1)[-1].lower() != mail.lower()]
        aliases = ["smtp:" + a.split(":", 1)[1] if a.startswith("SMTP:") else a for a in kept]
        if user.mail and all(a.split(":", 1)[-1].lower() != user.mail.lower() for a in aliases):
            aliases.append(f"smtp:{user.mail}")
        del tenant.by_upn[user.user_principal_name.lower()]
        user.user_principal_name, user.mail, user.proxy_addresses = upn, mail, [f"SMTP:{mail}", *aliases]
        tenant.by_upn[upn.lower()] = user.id
        return user

    def grant(self, tenant: Tenant, client_id: str, roles: list[str] | None = None) -> ServicePrincipal:
        """Admin consent: create or refresh the service principal with the app's roles."""
        app = self.app(client_id)
        granted = set(app.required_roles if roles is None else roles)
        sp = tenant.service_principals.get(app.client_id)
        if sp is None:
            sp = ServicePrincipal(app.client_id, str(uuid.uuid4()), granted, True, time.time())
            tenant.service_principals[app.client_id] = sp
        sp.roles, sp.consented, sp.changed_at = granted, True, time.time()
        return sp

    def revoke(self, tenant: Tenant, client_id: str) -> None:
        """Consent withdrawn: the service principal stays, with no grants (AADSTS65001)."""
        sp = tenant.service_principals.get(client_id.lower())
        if sp is None:
            raise StateError(404, f"app {client_id} has no consent in tenant {tenant.id}")
        sp.roles, sp.consented, sp.changed_at = set(), False, time.time()


def derive_ical_uid(event_id: str) -> str:
    """A stable iCalUId in Outlook's hex shape."""
    digest = hashlib.sha256(event_id.encode()).hexdigest().upper()
    return "040000008200E00074C5B7101A82E00800000000" + digest[:72]
