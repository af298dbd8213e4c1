"""Exchange Online's RBAC for Applications in a tenant: groups, service principal pointers, management
scopes, role assignments, and what they let an app reach.

As "Role Based Access Control for Applications in Exchange Online" documents it
(https://learn.microsoft.com/exchange/permissions-exo/application-rbac, facts.md):

- an assignment gives an Exchange service principal *pointer* an application role over a scope: a
  management scope (a recipient filter, :mod:`emulator.opath`), a group's direct members
  (``-RecipientGroupScope``), or the whole organisation (no scope);
- the pointer must name the app's real Entra service principal (made by consent) by its object id;
- scopes are flat: "Nested group members are considered out of scope. Only direct group membership
  results in the member being considered in scope"; ``MemberOfGroup`` matches only a group Exchange
  knows (mail-enabled security group, Microsoft 365 group, distribution list) by its distinguished
  name — a security group that is not mail-enabled matches nothing;
- these grants are a union with the app's Entra grants (:func:`authorization` answers only
  Exchange's part; the Graph side adds Entra's);
- "Changes to app permissions are subject to cache maintenance ... The cache of an app with no
  inbound calls to APIs is reset after 30 minutes. The cache of an active app is kept alive for up
  to 2 hours": Graph sees a snapshot per app, taken on its first calendar call and renewed when the
  app was idle ``idle`` seconds or the snapshot is ``longest`` seconds old (limits
  ``rbac_cache_idle_seconds`` / ``rbac_cache_max_seconds``). The test cmdlet (:func:`test`) bypasses
  it. Group membership is part of the snapshot (the stricter reading).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from . import opath
from .state import StateError, Tenant, User

# Application roles and the Graph permissions each stands for (the page's "Supported Application Roles").
APPLICATION_ROLES: dict[str, frozenset[str]] = {name: frozenset(perms) for name, perms in {
    "Application Mail.Read": ["Mail.Read"],
    "Application Mail.ReadBasic": ["Mail.ReadBasic"],
    "Application Mail.ReadWrite": ["Mail.ReadWrite"],
    "Application Mail.Send": ["Mail.Send"],
    "Application MailboxSettings.Read": ["MailboxSettings.Read"],
    "Application MailboxSettings.ReadWrite": ["MailboxSettings.ReadWrite"],
    "Application Calendars.Read": ["Calendars.Read"],
    "Application Calendars.ReadWrite": ["Calendars.ReadWrite"],
    "Application Contacts.Read": ["Contacts.Read"],
    "Application Contacts.ReadWrite": ["Contacts.ReadWrite"],
    "Application MailboxFolder.Read": ["MailboxFolder.Read.All"],
    "Application MailboxFolder.ReadWrite": ["MailboxFolder.ReadWrite.All"],
    "Application MailboxItem.Read": ["MailboxItem.Read.All"],
    "Application MailboxItem.ReadWrite": ["MailboxItem.ReadWrite.All"],
    "Application MailboxItem.Export": ["MailboxItem.Export.All"],
    "Application MailboxItem.ImportExport": ["MailboxItem.ImportExport.All"],
    "Application Mail Full Access": ["Mail.ReadWrite", "Mail.Send"],
    "Application Exchange Full Access": ["Mail.ReadWrite", "Mail.Send", "MailboxSettings.ReadWrite",
                                         "Calendars.ReadWrite", "Contacts.ReadWrite"],
    "Application EWS.AccessAsApp": ["EWS.AccessAsApp"],
    "Application SMTP.SendAsApp": ["SMTP.SendAsApp"],
    "Application MailboxConfigItem.Read": ["MailboxConfigItem.Read"],
    "Application MailboxConfigItem.ReadWrite": ["MailboxConfigItem.ReadWrite"],
    "Application MailTips.ReadBasic.All": ["MailTips.ReadBasic.All"],
    "Application Mail-Advanced.ReadWrite.All": ["Mail-Advanced.ReadWrite.All"],
}.items()}
GROUP_KINDS = ("mail_enabled_security", "microsoft365", "distribution", "security")
_ALIAS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_DN_TAIL = "OU=Microsoft Exchange Hosted Organizations,DC=NAMPR00A001,DC=prod,DC=outlook,DC=com"


@dataclass
class Group:
    """A directory group; ``members`` are direct members (user or group ids)."""

    id: str
    display_name: str
    alias: str
    kind: str
    mail: str | None
    distinguished_name: str | None  # None for a security group Exchange does not know
    members: list[str] = field(default_factory=list)

    def view(self) -> dict[str, Any]:
        return {"id": self.id, "displayName": self.display_name, "mailNickname": self.alias, "kind": self.kind,
                "mail": self.mail, "distinguishedName": self.distinguished_name, "members": list(self.members)}


@dataclass
class Pointer:
    """``New-ServicePrincipal``: Exchange's reference to an Entra service principal."""

    app_id: str
    object_id: str
    display_name: str

    def names(self) -> set[str]:
        return {self.app_id, self.object_id, self.display_name.lower()}

    def view(self) -> dict[str, Any]:
        return {"AppId": self.app_id, "ObjectId": self.object_id, "DisplayName": self.display_name}


@dataclass
class Scope:
    name: str
    text: str
    filter: opath.Node

    def view(self) -> dict[str, Any]:
        return {"Name": self.name, "ScopeRestrictionType": "RecipientScope", "RecipientFilter": self.text}


@dataclass
class Assignment:
    name: str
    role: str
    app: str  # the pointer's object id
    scope_type: str  # Organization | CustomRecipientScope | Group
    scope: str  # the management scope's name, the group's id, or "Organization"

    def view(self) -> dict[str, Any]:
        return {"Name": self.name, "Role": self.role, "RoleAssignee": self.app, "RoleAssigneeType": "ServicePrincipal",
                "ScopeType": self.scope_type, "Scope": self.scope}


@dataclass
class Grant:
    """One assignment as Graph sees it: its permissions over its mailboxes (``None``: all)."""

    permissions: frozenset[str]
    mailboxes: frozenset[str] | None

    def covers(self, permissions: set[str], user_id: str) -> bool:
        return bool(self.permissions & permissions) and (self.mailboxes is None or user_id in self.mailboxes)


@dataclass
class Snapshot:
    grants: list[Grant]
    taken_at: float
    used_at: float


@dataclass
class Rbac:
    """One tenant's groups and Exchange RBAC for Applications, with Graph's cached view of them."""

    groups: dict[str, Group] = field(default_factory=dict)
    pointers: dict[str, Pointer] = field(default_factory=dict)  # by object id
    scopes: dict[str, Scope] = field(default_factory=dict)  # by lower-cased name
    assignments: dict[str, Assignment] = field(default_factory=dict)  # by lower-cased name
    cache: dict[str, Snapshot] = field(default_factory=dict)  # by client id

    # -- groups (directory objects) ------------------------------------------------------------
    def group(self, ref: str) -> Group:
        low = ref.lower()
        found = self.groups.get(low) or next((g for g in self.groups.values() if low in {
            g.alias.lower(), g.display_name.lower(), (g.mail or "").lower(), (g.distinguished_name or "").lower()}),
            None)
        if found is None:
            raise StateError(404, f"no group {ref!r}")
        return found

    def add_group(self, tenant: Tenant, spec: dict[str, Any], now: dt.datetime) -> Group:
        name = spec.get("displayName")
        if not isinstance(name, str) or not name.strip():
            raise StateError(400, "displayName is required")
        alias = spec.get("mailNickname") or re.sub(r"[^A-Za-z0-9]", "", name)[:64]
        if not isinstance(alias, str) or not _ALIAS.match(alias):
            raise StateError(400, f"mailNickname must be letters, digits, '.', '_' or '-', got {alias!r}")
        kind = spec.get("kind", "mail_enabled_security")
        if kind not in GROUP_KINDS:
            raise StateError(400, f"kind must be one of {', '.join(GROUP_KINDS)}, got {kind!r}")
        if any(g.alias.lower() == alias.lower() for g in self.groups.values()):
            raise StateError(409, f"a group with mailNickname {alias} exists")
        known = kind != "security"  # Exchange knows mail-enabled groups only
        initial = next(d.id for d in tenant.domains if d.is_initial)
        default = next(d.id for d in tenant.domains if d.is_default)
        group = Group(str(uuid.uuid4()), name.strip(), alias, kind, f"{alias}@{default}" if known else None,
                      f"CN={alias}{now:%Y%m%d%H%M%S},OU={initial},{_DN_TAIL}" if known else None)
        self.groups[group.id] = group
        for member in spec.get("members") or []:
            self.add_member(tenant, group.id, member)
        return group

    def add_member(self, tenant: Tenant, group_ref: str, member: Any) -> Group:
        group = self.group(group_ref)
        if not isinstance(member, str):
            raise StateError(400, f"a member is a user id, userPrincipalName or group id, got {member!r}")
        user = tenant.find_user(member)
        member_id = user.id if user else self.group(member).id
        if member_id == group.id:
            raise StateError(400, "a group cannot be its own member")
        if member_id not in group.members:
            group.members.append(member_id)
        return group

    def remove_member(self, tenant: Tenant, group_ref: str, member: str) -> Group:
        group = self.group(group_ref)
        user = tenant.find_user(member)
        member_id = user.id if user else self.group(member).id
        if member_id not in group.members:
            raise StateError(404, f"{member} is not a direct member of {group.display_name}")
        group.members.remove(member_id)
        return group

    # -- Exchange: pointers, scopes, assignments -------------------------------------------------
    def pointer(self, identity: str) -> Pointer:
        """By ObjectId, AppId or DisplayName, as the cmdlets' -Identity / -App take it."""
        low = identity.lower()
        found = next((p for p in self.pointers.values() if low in p.names()), None)
        if found is None:
            raise StateError(404, f"The operation couldn't be performed because object '{identity}' couldn't be found.")
        return found

    def new_pointer(self, tenant: Tenant, spec: dict[str, Any]) -> Pointer:
        app_id, object_id = str(spec.get("AppId") or "").lower(), str(spec.get("ObjectId") or "").lower()
        if not app_id or not object_id:
            raise StateError(400, "AppId and ObjectId are required")
        entra = tenant.service_principals.get(app_id)
        if entra is None:
            raise StateError(400, f"no service principal of app {app_id} in this tenant: consent makes it")
        if entra.object_id != object_id:
            raise StateError(400, f"ObjectId {object_id} is not the service principal of app {app_id} (use the "
                                  "Enterprise applications page's Object ID, not the App registrations page's)")
        if object_id in self.pointers or any(p.app_id == app_id for p in self.pointers.values()):
            raise StateError(409, f"a service principal for app {app_id} exists")
        pointer = Pointer(app_id, object_id, str(spec.get("DisplayName") or app_id))
        self.pointers[object_id] = pointer
        return pointer

    def remove_pointer(self, identity: str) -> None:
        pointer = self.pointer(identity)
        del self.pointers[pointer.object_id]
        for name in [k for k, a in self.assignments.items() if a.app == pointer.object_id]:
            del self.assignments[name]

    def new_scope(self, spec: dict[str, Any]) -> Scope:
        name, text = spec.get("Name"), spec.get("RecipientRestrictionFilter")
        if not isinstance(name, str) or not 0 < len(name.strip()) <= 64:
            raise StateError(400, "Name is required, up to 64 characters")
        if not isinstance(text, str):
            raise StateError(400, "RecipientRestrictionFilter is required")
        if name.lower() in self.scopes:
            raise StateError(409, f"management scope {name} exists")
        try:
            scope = Scope(name, text, opath.parse(text))
        except opath.FilterError as exc:
            raise StateError(400, f"RecipientRestrictionFilter: {exc}") from exc
        self.scopes[name.lower()] = scope
        return scope

    def remove_scope(self, name: str) -> None:
        if name.lower() not in self.scopes:
            raise StateError(404, f"no management scope {name!r}")
        if any(a.scope_type == "CustomRecipientScope" and a.scope.lower() == name.lower()
               for a in self.assignments.values()):
            raise StateError(400, f"management scope {name} is used by a role assignment: remove that first")
        del self.scopes[name.lower()]

    def new_assignment(self, spec: dict[str, Any]) -> Assignment:
        role = next((r for r in APPLICATION_ROLES if r.lower() == str(spec.get("Role", "")).lower()), None)
        if role is None:
            raise StateError(400, f"Role {spec.get('Role')!r} is not an application role (with -App only "
                                  "application roles can be assigned)")
        pointer = self.pointer(str(spec.get("App") or ""))
        custom, group = spec.get("CustomResourceScope"), spec.get("RecipientGroupScope")
        if custom and group:
            raise StateError(400, "CustomResourceScope and RecipientGroupScope cannot be used together")
        if custom:
            scope_type, scope = "CustomRecipientScope", self._scope(str(custom)).name
        elif group:
            scope_type, scope = "Group", self.group(str(group)).id
        else:
            scope_type, scope = "Organization", "Organization"
        name = str(spec.get("Name") or f"{role}-{pointer.object_id}")[:64]
        if name.lower() in self.assignments:
            raise StateError(409, f"role assignment {name} exists")
        assignment = Assignment(name, role, pointer.object_id, scope_type, scope)
        self.assignments[name.lower()] = assignment
        return assignment

    def remove_assignment(self, name: str) -> None:
        if self.assignments.pop(name.lower(), None) is None:
            raise StateError(404, f"no role assignment {name!r}")

    def _scope(self, name: str) -> Scope:
        found = self.scopes.get(name.lower())
        if found is None:
            raise StateError(404, f"no management scope {name!r}")
        return found

    # -- what an app may reach ------------------------------------------------------------------
    def in_scope(self, tenant: Tenant, assignment: Assignment) -> frozenset[str] | None:
        """The ids of the users an assignment reaches (``None``: the whole organisation)."""
        if assignment.scope_type == "Organization":
            return None
        if assignment.scope_type == "Group":  # direct members, of a group Exchange knows
            group = self.groups.get(assignment.scope)
            known = group is not None and group.distinguished_name is not None
            return frozenset(m for m in (group.members if group and known else []) if m in tenant.users)
        scope = self.scopes.get(assignment.scope.lower())
        if scope is None:
            return frozenset()
        return frozenset(u.id for u in tenant.users.values() if scope.filter.matches(self._recipient(u)))

    def _recipient(self, user: User) -> opath.Recipient:
        dns = {g.distinguished_name.lower() for g in self.groups.values()
               if g.distinguished_name and user.id in g.members}  # direct members only
        values = {"MemberOfGroup": dns, "PrimarySmtpAddress": {(user.mail or "").lower()},
                  "UserPrincipalName": {user.user_principal_name.lower()},
                  "Alias": {user.user_principal_name.split("@")[0].lower()}}
        return lambda prop: values[prop]

    def grants(self, tenant: Tenant, client_id: str) -> list[Grant]:
        """What Exchange grants the app now (no cache)."""
        pointer = next((p for p in self.pointers.values() if p.app_id == client_id.lower()), None)
        if pointer is None:
            return []
        return [Grant(APPLICATION_ROLES[a.role], self.in_scope(tenant, a))
                for a in self.assignments.values() if a.app == pointer.object_id]

    def authorization(self, tenant: Tenant, client_id: str, now: float, idle: float, longest: float) -> list[Grant]:
        """What Graph sees of the app's Exchange grants at ``now`` (seconds): the cached snapshot."""
        snap = self.cache.get(client_id)
        if snap is None or now - snap.used_at >= idle or now - snap.taken_at >= longest:
            snap = self.cache[client_id] = Snapshot(self.grants(tenant, client_id), now, now)
        snap.used_at = now
        return snap.grants

    def test(self, tenant: Tenant, identity: str, resource: str | None) -> list[dict[str, Any]]:
        """``Test-ServicePrincipalAuthorization``: each assignment of the pointer, live (no cache, no
        Entra permissions), with InScope for ``resource`` (True/False, or "Not Run" without one)."""
        pointer = self.pointer(identity)
        user = None
        if resource is not None:
            user = tenant.find_user(resource) or next(
                (u for u in tenant.users.values() if (u.mail or "").lower() == resource.lower()), None)
            if user is None:
                raise StateError(404, f"The operation couldn't be performed because object '{resource}' "
                                      "couldn't be found.")
        rows = []
        for a in self.assignments.values():
            if a.app != pointer.object_id:
                continue
            reached = self.in_scope(tenant, a)
            scope = self.groups[a.scope].display_name if a.scope_type == "Group" and a.scope in self.groups \
                else a.scope
            rows.append({"RoleName": a.role, "GrantedPermissions": ", ".join(sorted(APPLICATION_ROLES[a.role])),
                         "AllowedResourceScope": scope, "ScopeType": a.scope_type,
                         "InScope": "Not Run" if user is None else (reached is None or user.id in reached)})
        return rows

    def view(self) -> dict[str, Any]:
        return {"service_principals": [p.view() for p in self.pointers.values()],
                "management_scopes": [s.view() for s in self.scopes.values()],
                "role_assignments": [a.view() for a in self.assignments.values()]}
