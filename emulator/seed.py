"""``--seed demo``: start the emulator with an app registration, a tenant and a few users.

So ``outlook-sync serve`` can be tried against it without its admin API: the app is registered
with the redirect URI ``<public URL>/integrations/outlook/consent`` and the three application
permissions the plugin asks for, and its second registration with the two directory permissions only;
the tenant has verified domains and users with each kind of
mailbox. Consent is not granted: the plugin's page makes the link, and the consent page accepts
any address at a tenant domain as the Azure AD administrator. For "only the LMS's people" (RBAC for
Applications, emulator.rbac) the tenant has a mail-enabled security group of the LMS's people, one of
them only through a nested group (out of any Exchange scope on it, as Microsoft documents).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from .rbac import Rbac
from .state import World

SEEDS = ("demo",)
CLIENT_ID = "8d6c0a8e-5b1f-4c55-9d0e-6f3f5a1b2c3d"
# The second registration, for "only the LMS's people": directory permissions only (application
# permissions are fixed per registration; Exchange's RBAC for Applications gives the calendars).
SCOPED_CLIENT_ID = "3f2b9c71-6a4e-4d0b-8c15-2e7d9a6b4f10"
CONSENT_PATH = "/integrations/outlook/consent"
PERMISSIONS = ["Calendars.ReadWrite", "User.Read.All", "Domain.Read.All"]
SCOPED_PERMISSIONS = ["User.Read.All", "Domain.Read.All"]
DOMAINS = ["contoso.example", "contoso-learning.example"]
# (user principal name, display name, mailbox kind)
USERS = [
    ("olivia@contoso.example", "Olivia Owner", "exchange_online"),
    ("ingrid@contoso.example", "Ingrid Instructor", "exchange_online"),
    ("lena@contoso.example", "Lena Learner", "exchange_online"),
    ("lars@contoso-learning.example", "Lars Learner", "exchange_online"),
    ("otto@contoso.example", "Otto Onprem", "on_premises"),
]

# Mail-enabled security groups: (display name, direct members: UPNs or earlier groups' names).
GROUPS = [
    ("Instructors", ["ingrid@contoso.example"]),
    ("LMS people", ["olivia@contoso.example", "lena@contoso.example", "lars@contoso-learning.example", "Instructors"]),
]


@dataclass(frozen=True)
class Seeded:
    """What was put in the world: enough for the plugin's settings."""

    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str
    tenant_id: str
    users: list[str]
    groups: dict[str, str]  # display name -> distinguished name (what a MemberOfGroup filter needs)
    scoped_client_id: str = SCOPED_CLIENT_ID
    scoped_client_secret: str = field(default="", repr=False)


def seed(world: World, exchange: dict[str, Rbac], name: str, public_url: str) -> Seeded:
    """Put seed ``name`` (one of SEEDS) into ``world`` (groups into ``exchange``, the emulator's
    per-tenant :class:`emulator.rbac.Rbac`); the app redirects to ``public_url``'s consent path.

    Raises ValueError for an unknown seed name.
    """
    if name not in SEEDS:
        raise ValueError(f"unknown seed {name!r}; choose one of {', '.join(SEEDS)}")
    secret = "emulator-" + secrets.token_urlsafe(24)
    redirect_uri = public_url.rstrip("/") + CONSENT_PATH
    world.register_app(CLIENT_ID, client_secret=secret, redirect_uris=[redirect_uri], required_roles=PERMISSIONS,
                       display_name="Outlook Calendar for the LMS (emulator seed)")
    scoped_secret = "emulator-" + secrets.token_urlsafe(24)
    world.register_app(SCOPED_CLIENT_ID, client_secret=scoped_secret, redirect_uris=[redirect_uri],
                       required_roles=SCOPED_PERMISSIONS,
                       display_name="Outlook Calendar for the LMS, only the LMS's people (emulator seed)")
    tenant = world.create_tenant("Contoso", list(DOMAINS))
    for upn, display_name, kind in USERS:
        world.add_user(tenant, {"userPrincipalName": upn, "displayName": display_name, "mailbox": kind})
    rbac = exchange.setdefault(tenant.id, Rbac())
    made: dict[str, str] = {}
    for group_name, members in GROUPS:
        group = rbac.add_group(tenant, {"displayName": group_name, "members": [made.get(m, m) for m in members]},
                               dt.datetime.now(dt.UTC))
        made[group_name] = group.id
    dns = {g.display_name: g.distinguished_name or "" for g in rbac.groups.values()}
    return Seeded(CLIENT_ID, secret, redirect_uri, tenant.id, [upn for upn, _, _ in USERS], dns,
                  SCOPED_CLIENT_ID, scoped_secret)


def settings_text(seeded: Seeded, base_url: str, ca_path: str, public_url: str) -> str:
    """The variables to export so ``outlook-sync serve`` uses this emulator, with a summary of the world."""
    plugin_secrets = {name: secrets.token_urlsafe(32) for name in ("HOST_SECRET", "SECRET_KEY")}
    lines = [
        f"Seeded: app {seeded.client_id} (redirect URI {seeded.redirect_uri}; {', '.join(PERMISSIONS)}),",
        f"        app {seeded.scoped_client_id} for only the LMS's people ({', '.join(SCOPED_PERMISSIONS)}),",
        f"        tenant Contoso {seeded.tenant_id} (verified domains {', '.join(DOMAINS)}),",
        f"        users {', '.join(seeded.users)} (otto's mailbox is on-premises),",
        "        mail-enabled security groups " + "; ".join(
            f"{name} ({', '.join(members)})" for name, members in GROUPS) + ",",
        f"        LMS people's distinguished name: {seeded.groups['LMS people']}",
        "Consent is not granted yet: the plugin's page makes the link; sign in on the consent page as",
        f"{seeded.users[0]}. To try the plugin against this emulator, in another shell:",
        "",
        f"export OUTLOOK_SYNC_CLIENT_ID={seeded.client_id}",
        f"export OUTLOOK_SYNC_CLIENT_SECRET={seeded.client_secret}",
        f"export OUTLOOK_SYNC_SCOPED_CLIENT_ID={seeded.scoped_client_id}",
        f"export OUTLOOK_SYNC_SCOPED_CLIENT_SECRET={seeded.scoped_client_secret}",
        f"export OUTLOOK_SYNC_AUTHORITY_URL={base_url}",
        f"export OUTLOOK_SYNC_GRAPH_URL={base_url}/v1.0",
        f"export OUTLOOK_SYNC_CA_BUNDLE={Path(ca_path).resolve()}",  # absolute: the shell may be elsewhere
        f"export OUTLOOK_SYNC_PUBLIC_URL={public_url.rstrip('/')}",
        *(f"export OUTLOOK_SYNC_{name}={value}" for name, value in plugin_secrets.items()),
    ]
    return "\n".join(lines)
