"""How an account's tenant grants the plugin calendar access, chosen on the page before the consent link.

Two ways (:class:`bridge.codes.AccessGrant`; Microsoft's facts with their sources in facts.md, "RBAC for
Applications"):

- *whole organisation*: the Azure AD administrator consents to the plugin's registration, whose
  application permissions include ``Calendars.ReadWrite``: every mailbox of the tenant;
- *only the LMS's people*: the consent is to a second registration that asks only for ``User.Read.All``
  and ``Domain.Read.All`` (application permissions are fixed per app registration: the consent link
  cannot ask for fewer), and an Exchange administrator gives it ``Application Calendars.ReadWrite``
  on a management scope: the direct members of one mail-enabled security group (RBAC for Applications,
  which replaces the legacy application access policies). :func:`powershell` writes their block.

Grants add up: while the tenant-wide Entra grant of ``Calendars.ReadWrite`` exists, the scope restricts
nothing. Access is proven by Graph's answers (:mod:`bridge.accounts.connection`); the token's ``roles``
claim, when readable, is only a hint used to tell the account that the broad grant is still there
(:func:`broad_grant_in`, :func:`saw_broad_grant`). Owns the ``access_grants`` table.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bridge.codes import AccessGrant, ConnectionState
from bridge.graph.auth import token_roles
from bridge.lms.ingest import ensure_account
from bridge.models import AccessGrantChoice, Connection

MAX_GROUP = 256  # Exchange's longest display name of a group
BROAD_ROLE = "Calendars.ReadWrite"
EXCHANGE_ROLE = "Application Calendars.ReadWrite"
SCOPE_NAME = "Outlook Calendar for the LMS"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PS_QUOTES = re.compile("(['\u2018\u2019\u201a\u201b])")  # PowerShell's single quotes, plain and typographic


class BadChoice(ValueError):
    """The choice cannot be stored; the message names what is wrong (nothing was stored)."""


class Locked(Exception):
    """The way to grant is not changed while connected, suspended or disconnecting: Disconnect first."""


@dataclass(frozen=True)
class Grant:
    """The account's choice: ``grant``, the Exchange group named for the scope (None: not named yet),
    and when the tenant-wide Entra grant was last seen beside a scope (UTC; None: not seen)."""

    grant: AccessGrant
    scope_group: str | None
    broad_grant_seen_at: datetime | None

    @property
    def scoped(self) -> bool:
        return self.grant is AccessGrant.EXCHANGE_SCOPE


def read(session: Session, account_id: str) -> Grant:
    """The account's choice; *whole organisation* until one is made."""
    row = session.get(AccessGrantChoice, account_id)
    if row is None:
        return Grant(AccessGrant.ORGANISATION, None, None)
    return Grant(AccessGrant(row.grant), row.scope_group, row.broad_grant_seen_at)


def parse(grant: str, group: str) -> tuple[AccessGrant, str | None]:
    """The form's two fields checked: the way (``organisation`` or ``exchange_scope``) and, for the
    scoped way, the group's name (trimmed, 1–256 characters, no control characters).

    Raises :class:`BadChoice` naming the field that is wrong.
    """
    try:
        chosen = AccessGrant(grant)
    except ValueError:
        raise BadChoice("Choose whole organisation or only the LMS's people.") from None
    if chosen is AccessGrant.ORGANISATION:
        return chosen, None
    name = group.strip()
    if not name:
        raise BadChoice("Name the mail-enabled security group that holds the LMS's people.")
    if len(name) > MAX_GROUP or _CONTROL.search(name):
        raise BadChoice(f"The group's name must be at most {MAX_GROUP} characters, on one line.")
    return chosen, name


def choose(session: Session, account_id: str, grant: AccessGrant, group: str | None) -> None:
    """Store the account's choice (the group is kept for *whole organisation* too, for a later switch).

    Raises :class:`Locked` when the way changes while the account is connected or disconnecting: its
    consent belongs to the other registration.
    """
    conn = session.get(Connection, account_id)
    busy = conn is not None and conn.state in (ConnectionState.CONNECTED, ConnectionState.SUSPENDED,
                                               ConnectionState.DISCONNECTING)
    if busy and read(session, account_id).grant is not grant:
        raise Locked
    ensure_account(session, account_id)
    row = session.get(AccessGrantChoice, account_id)
    if row is None:
        row = AccessGrantChoice(account_id=account_id, grant=AccessGrant.ORGANISATION)
        session.add(row)
    row.grant = grant
    if group is not None:
        row.scope_group = group
    if grant is AccessGrant.ORGANISATION:
        row.broad_grant_seen_at = None
    session.flush()


def broad_grant_in(token: str) -> bool:
    """Whether a token's readable ``roles`` claim carries the tenant-wide ``Calendars.ReadWrite`` (an
    unreadable token says nothing: False)."""
    roles = token_roles(token)
    return roles is not None and BROAD_ROLE in roles


def saw_broad_grant(session: Session, account_id: str, broad: bool, now: datetime) -> None:
    """Record what a fresh token of a scoped account said (:func:`broad_grant_in`): the broad Entra
    grant seen (now) or gone; an account granting the whole organisation records nothing."""
    row = session.get(AccessGrantChoice, account_id)
    if row is None or row.grant != AccessGrant.EXCHANGE_SCOPE:
        return
    if not broad:
        row.broad_grant_seen_at = None
    elif row.broad_grant_seen_at is None:
        row.broad_grant_seen_at = now


def powershell(app_id: str, group: str) -> str:
    """The Exchange administrator's block for ``group``: the service principal pointer (app id and the
    Entra service principal's object id), a management scope on the group's direct members, the role
    assignment ``Application Calendars.ReadWrite`` on that scope, and the test. Sources: facts.md ("RBAC
    for Applications": New-ServicePrincipal, New-ManagementScope, New-ManagementRoleAssignment
    -CustomResourceScope, Test-ServicePrincipalAuthorization)."""
    name = _PS_QUOTES.sub(r"\1\1", group)
    return "\n".join([
        f"# {SCOPE_NAME}: calendars of the direct members of '{name}' only (RBAC for Applications)",
        "# Run after the Azure AD administrator accepted the consent link.",
        "Connect-MgGraph -Scopes 'Application.Read.All'",
        f"$sp = Get-MgServicePrincipal -Filter \"appId eq '{app_id}'\"",
        "Connect-ExchangeOnline",
        f"New-ServicePrincipal -AppId $sp.AppId -ObjectId $sp.Id -DisplayName '{SCOPE_NAME}'",
        f"$group = Get-DistributionGroup -Identity '{name}'",
        f"New-ManagementScope -Name '{SCOPE_NAME}' "
        "-RecipientRestrictionFilter \"MemberOfGroup -eq '$($group.DistinguishedName)'\"",
        f"New-ManagementRoleAssignment -App $sp.AppId -Role '{EXCHANGE_ROLE}' -CustomResourceScope '{SCOPE_NAME}'",
        f"$member = Get-DistributionGroupMember -Identity '{name}' | Select-Object -First 1",
        "Test-ServicePrincipalAuthorization -Identity $sp.AppId -Resource $member.PrimarySmtpAddress",
    ])
