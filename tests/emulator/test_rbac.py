"""RBAC for Applications in Exchange Online (emulator.rbac), as Microsoft documents it: an app whose
Entra consent holds only directory permissions reaches the mailboxes an Exchange role assignment
scopes, by direct group membership; a tenant-wide Entra grant makes the scope restrict nothing;
Graph answers an out-of-scope mailbox 403 ErrorAccessDenied; changes wait for Exchange's cache."""

from __future__ import annotations

from typing import Any

import jwt
import pytest

from emulator.client import EmulatorAdminError
from emulator.testing import EmulatorHandle
from tests.emulator.emu_support import World, event_body, graph_error, make_world

DIRECTORY_ONLY = ["User.Read.All", "Domain.Read.All"]
DENIED = "Access is denied. Check credentials and try again."


def scope_to_group(world: World, group: dict[str, Any], *, filter_value: str | None = None) -> None:
    """What the Exchange administrator's block does: pointer, scope on the group's DN, assignment."""
    admin, tenant = world.emu.admin, world.tenant_id
    admin.new_service_principal(tenant, world.client_id, consent_object_id(world), "Outlook Calendar for the LMS")
    admin.new_management_scope(tenant, "LMS people",
                               f"MemberOfGroup -eq '{filter_value or group['distinguishedName']}'")
    admin.new_role_assignment(tenant, "Application Calendars.ReadWrite", world.client_id,
                              custom_resource_scope="LMS people")


@pytest.fixture
def scoped(emu: EmulatorHandle) -> tuple[World, dict[str, Any]]:
    """Directory permissions in Entra; Alice in the group directly, Bob through a nested group."""
    world = make_world(emu, roles=DIRECTORY_ONLY)
    admin = emu.admin
    admin.create_user(world.tenant_id, "carol@contoso.com")
    inner = admin.create_group(world.tenant_id, "Instructors", members=["bob@contoso.com"])
    group = admin.create_group(world.tenant_id, "LMS people", members=["alice@contoso.com", inner["id"],
                                                                       "onprem@contoso.com"])
    scope_to_group(world, group)
    return world, group


def test_the_token_carries_no_calendar_role(scoped: tuple[World, dict[str, Any]]) -> None:
    world, _ = scoped
    token = world.token().json()["access_token"]
    assert sorted(jwt.decode(token, options={"verify_signature": False})["roles"]) == sorted(DIRECTORY_ONLY)


def test_in_scope_mailboxes_are_written_and_others_refused(scoped: tuple[World, dict[str, Any]]) -> None:
    world, _ = scoped
    graph = world.graph()
    made = graph.post(world.url("/users/alice@contoso.com/events"), json=event_body())
    assert made.status_code == 201
    assert graph.get(world.url(f"/users/alice@contoso.com/events/{made.json()['id']}")).status_code == 200
    for user in ("carol@contoso.com", "bob@contoso.com"):  # not in the group; only in a nested group
        for response in (graph.get(world.url(f"/users/{user}/events")),
                         graph.post(world.url(f"/users/{user}/events"), json=event_body())):
            assert graph_error(response) == (403, "ErrorAccessDenied")
            assert response.json()["error"]["message"] == DENIED
    assert graph_error(graph.get(world.url("/users/ghost@contoso.com/events"))) == (404, "ErrorInvalidUser")
    assert graph_error(graph.get(world.url("/users/onprem@contoso.com/events"))) == (
        404, "MailboxNotEnabledForRESTAPI")
    assert graph.get(world.url("/users/carol@contoso.com")).status_code == 200  # the directory: Entra's grant
    assert [e["subject"] for e in world.emu.admin.events(world.tenant_id, "carol@contoso.com")] == []


def test_batch_items_are_judged_one_by_one(scoped: tuple[World, dict[str, Any]]) -> None:
    world, _ = scoped
    batch = {"requests": [
        {"id": str(n), "method": "POST", "url": f"/users/{user}/events", "body": event_body(),
         "headers": {"Content-Type": "application/json"}}
        for n, user in enumerate(["alice@contoso.com", "carol@contoso.com"])]}
    answers = {r["id"]: r for r in world.graph().post(world.url("/$batch"), json=batch).json()["responses"]}
    assert answers["0"]["status"] == 201
    assert (answers["1"]["status"], answers["1"]["body"]["error"]["code"]) == (403, "ErrorAccessDenied")


def test_the_tenant_wide_grant_makes_the_scope_restrict_nothing(emu: EmulatorHandle) -> None:
    world = make_world(emu)  # Calendars.ReadWrite consented in Entra, as "whole organisation"
    group = emu.admin.create_group(world.tenant_id, "LMS people", members=["alice@contoso.com"])
    scope_to_group(world, group)
    response = world.graph().post(world.url("/users/bob@contoso.com/events"), json=event_body())
    assert response.status_code == 201
    assert emu.admin.test_service_principal_authorization(world.tenant_id, world.client_id,
                                                          "bob@contoso.com")[0]["InScope"] is False


def test_without_any_grant_every_mailbox_is_refused_first(emu: EmulatorHandle) -> None:
    world = make_world(emu, roles=DIRECTORY_ONLY)
    response = world.graph().get(world.url("/users/ghost@contoso.com/events"))  # refused before the look-up
    assert graph_error(response) == (403, "ErrorAccessDenied")
    assert response.json()["error"]["message"] == DENIED


@pytest.mark.parametrize("value", ["name", "mail", "id"])
def test_member_of_group_needs_the_distinguished_name(emu: EmulatorHandle, value: str) -> None:
    world = make_world(emu, roles=DIRECTORY_ONLY)
    group = emu.admin.create_group(world.tenant_id, "LMS people", members=["alice@contoso.com"])
    scope_to_group(world, group, filter_value={"name": "LMS people", "mail": group["mail"], "id": group["id"]}[value])
    assert graph_error(world.graph().get(world.url("/users/alice@contoso.com/events"))) == (403, "ErrorAccessDenied")


def test_a_security_group_exchange_does_not_know_matches_nothing(emu: EmulatorHandle) -> None:
    """Not mail-enabled: no distinguished name in Exchange, so neither a filter nor a group scope reaches
    its members (Microsoft: "Microsoft Entra security groups don't work")."""
    world = make_world(emu, roles=DIRECTORY_ONLY)
    group = emu.admin.create_group(world.tenant_id, "Entra only", members=["alice@contoso.com"], kind="security")
    assert group["distinguishedName"] is None and group["mail"] is None
    scope_to_group(world, group, filter_value=group["id"])
    emu.admin.new_role_assignment(world.tenant_id, "Application Calendars.ReadWrite", world.client_id,
                                  name="by group", recipient_group_scope=group["id"])
    assert graph_error(world.graph().get(world.url("/users/alice@contoso.com/events"))) == (403, "ErrorAccessDenied")
    rows = emu.admin.test_service_principal_authorization(world.tenant_id, world.client_id, "alice@contoso.com")
    assert [row["InScope"] for row in rows] == [False, False]


def test_a_group_scope_is_flat_too(emu: EmulatorHandle) -> None:
    world = make_world(emu, roles=DIRECTORY_ONLY)
    inner = emu.admin.create_group(world.tenant_id, "Inner", members=["bob@contoso.com"])
    outer = emu.admin.create_group(world.tenant_id, "Outer", members=["alice@contoso.com", inner["id"]])
    emu.admin.new_service_principal(world.tenant_id, world.client_id, consent_object_id(world))
    emu.admin.new_role_assignment(world.tenant_id, "Application Calendars.ReadWrite", world.client_id,
                                  recipient_group_scope="Outer")
    graph = world.graph()
    assert graph.get(world.url("/users/alice@contoso.com/events")).status_code == 200
    assert graph_error(graph.get(world.url("/users/bob@contoso.com/events"))) == (403, "ErrorAccessDenied")
    rows = emu.admin.test_service_principal_authorization(world.tenant_id, world.client_id, "bob@contoso.com")
    assert rows == [{"RoleName": "Application Calendars.ReadWrite", "GrantedPermissions": "Calendars.ReadWrite",
                     "AllowedResourceScope": outer["displayName"], "ScopeType": "Group", "InScope": False}]


def test_read_only_role_allows_reading_only(emu: EmulatorHandle) -> None:
    world = make_world(emu, roles=DIRECTORY_ONLY)
    emu.admin.new_service_principal(world.tenant_id, world.client_id, consent_object_id(world))
    emu.admin.new_role_assignment(world.tenant_id, "Application Calendars.Read", world.client_id)  # organisation
    graph = world.graph()
    assert graph.get(world.url("/users/bob@contoso.com/events")).status_code == 200
    assert graph_error(graph.post(world.url("/users/bob@contoso.com/events"), json=event_body())) == (
        403, "ErrorAccessDenied")


def test_changes_wait_for_exchange_s_cache(scoped: tuple[World, dict[str, Any]]) -> None:
    """Microsoft: changes take 30 minutes to 2 hours to reach an active app; the test cmdlet sees them at once."""
    world, group = scoped
    admin, graph = world.emu.admin, world.graph()
    assert graph_error(graph.get(world.url("/users/carol@contoso.com/events"))) == (403, "ErrorAccessDenied")
    admin.add_group_member(world.tenant_id, group["id"], "carol@contoso.com")
    assert admin.test_service_principal_authorization(world.tenant_id, world.client_id,
                                                      "carol@contoso.com")[0]["InScope"] is True
    assert graph_error(graph.get(world.url("/users/carol@contoso.com/events"))) == (403, "ErrorAccessDenied")
    admin.set_limits(rbac_cache_idle_seconds=0)  # as if the app had been idle for 30 minutes
    assert graph.get(world.url("/users/carol@contoso.com/events")).status_code == 200
    admin.remove_group_member(world.tenant_id, group["id"], "carol@contoso.com")
    assert graph_error(graph.get(world.url("/users/carol@contoso.com/events"))) == (403, "ErrorAccessDenied")


def test_an_access_policy_narrows_only_the_entra_grant(emu: EmulatorHandle) -> None:
    """Microsoft's "Example Two": the Entra grant behind a policy and an RBAC grant add up."""
    world = make_world(emu)
    emu.admin.create_user(world.tenant_id, "carol@contoso.com")
    emu.admin.set_access_policy(world.tenant_id, world.client_id, ["alice@contoso.com"])
    group = emu.admin.create_group(world.tenant_id, "LMS people", members=["bob@contoso.com"])
    scope_to_group(world, group)
    graph = world.graph()
    assert graph.get(world.url("/users/alice@contoso.com/events")).status_code == 200  # Entra, in the policy
    assert graph.get(world.url("/users/bob@contoso.com/events")).status_code == 200  # Exchange's scope
    refused = graph.get(world.url("/users/carol@contoso.com/events"))
    assert graph_error(refused) == (403, "ErrorAccessDenied")
    assert refused.json()["error"]["message"] == "Access to OData is disabled."


def test_test_authorization_lists_every_assignment(scoped: tuple[World, dict[str, Any]]) -> None:
    world, _ = scoped
    admin = world.emu.admin
    assert admin.test_service_principal_authorization(world.tenant_id, "Outlook Calendar for the LMS") == [
        {"RoleName": "Application Calendars.ReadWrite", "GrantedPermissions": "Calendars.ReadWrite",
         "AllowedResourceScope": "LMS people", "ScopeType": "CustomRecipientScope", "InScope": "Not Run"}]
    assert admin.test_service_principal_authorization(world.tenant_id, world.client_id,
                                                      "alice@contoso.com")[0]["InScope"] is True
    assert admin.test_service_principal_authorization(world.tenant_id, world.client_id,
                                                      "bob@contoso.com")[0]["InScope"] is False


def consent_object_id(world: World) -> str:
    tenant = next(t for t in world.emu.admin.tenants() if t["id"] == world.tenant_id)
    return str(tenant["consents"][world.client_id]["object_id"])


@pytest.mark.parametrize(("call", "words"), [
    (lambda a, w: a.new_service_principal(w.tenant_id, w.client_id, w.client_id), "Enterprise applications"),
    (lambda a, w: a.new_service_principal(w.tenant_id, "0f0f0f0f-0000-4000-8000-000000000000",
                                          consent_object_id(w)), "consent makes it"),
    (lambda a, w: a.new_management_scope(w.tenant_id, "x", "Department -eq 'Sales'"), "not modelled"),
    (lambda a, w: a.new_management_scope(w.tenant_id, "x", "MemberOfGroup -eq 'CN=a*'"), "wildcards"),
    (lambda a, w: a.new_management_scope(w.tenant_id, "x" * 65, "Alias -eq 'a'"), "64 characters"),
    (lambda a, w: a.new_role_assignment(w.tenant_id, "Mail Recipients", w.client_id), "not an application role"),
    (lambda a, w: a.new_role_assignment(w.tenant_id, "Application Calendars.ReadWrite", "nobody"), "couldn't be found"),
    (lambda a, w: a.remove_management_scope(w.tenant_id, "LMS people"), "used by a role assignment"),
    (lambda a, w: a.create_group(w.tenant_id, "Bad", kind="dynamic"), "kind must be one of"),
])
def test_refused_setups_name_what_is_wrong(scoped: tuple[World, dict[str, Any]], call: Any, words: str) -> None:
    world, _ = scoped
    with pytest.raises(EmulatorAdminError) as refused:
        call(world.emu.admin, world)
    assert refused.value.status in (400, 404) and words in refused.value.message


def test_removing_the_pointer_removes_its_assignments(scoped: tuple[World, dict[str, Any]]) -> None:
    world, _ = scoped
    admin = world.emu.admin
    admin.remove_service_principal(world.tenant_id, world.client_id)
    assert admin.exchange(world.tenant_id)["role_assignments"] == []
    admin.remove_management_scope(world.tenant_id, "LMS people")
    assert admin.exchange(world.tenant_id) == {"service_principals": [], "management_scopes": [],
                                               "role_assignments": []}
