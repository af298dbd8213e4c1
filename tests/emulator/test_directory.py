"""Directory look-ups: users by id, UPN, mail and proxy address; domains."""

from __future__ import annotations

import pytest

from emulator.client import EmulatorAdminError
from tests.emulator.emu_support import World, graph_error


def test_user_by_id_and_upn(world: World) -> None:
    graph = world.graph()
    uid = world.users["alice"]["id"]
    for ref in (uid, uid.upper(), "Alice@Contoso.com"):
        body = graph.get(world.url(f"/users/{ref}")).json()
        assert body["id"] == uid and body["userPrincipalName"] == "alice@contoso.com"
        assert "accountEnabled" not in body  # not a default property
    missing = graph.get(world.url("/users/ghost@contoso.com"))
    assert graph_error(missing) == (404, "Request_ResourceNotFound")


def test_select(world: World) -> None:
    body = world.graph().get(world.url("/users/alice@contoso.com"), params={"$select": "id,mail,accountEnabled"}).json()
    assert {k for k in body if not k.startswith("@")} == {"id", "mail", "accountEnabled"}
    bad = world.graph().get(world.url("/users/alice@contoso.com"), params={"$select": "shoeSize"})
    assert graph_error(bad)[0] == 400


def test_filter_by_mail_and_proxy_address_case_insensitive(world: World) -> None:
    graph = world.graph()
    by_mail = graph.get(world.url("/users"), params={"$filter": "mail eq 'ALICE@contoso.COM'"}).json()["value"]
    assert [u["id"] for u in by_mail] == [world.users["alice"]["id"]]
    by_proxy = graph.get(
        world.url("/users"), params={"$filter": "proxyAddresses/any(x:x eq 'smtp:robert@contoso.example')"}
    ).json()["value"]
    assert [u["id"] for u in by_proxy] == [world.users["bob"]["id"]]
    none = graph.get(world.url("/users"), params={"$filter": "mail eq 'nobody@contoso.com'"}).json()["value"]
    assert none == []
    bad = graph.get(world.url("/users"), params={"$filter": "startswith(mail,'a')"})
    assert graph_error(bad)[0] == 400


def test_users_paging_uses_skiptoken(world: World) -> None:
    world.emu.admin.create_users(world.tenant_id, [{"userPrincipalName": f"u{i}@contoso.com"} for i in range(5)])
    graph = world.graph()
    url: str | None = world.url("/users?$top=4&$select=id")
    ids: list[str] = []
    while url:
        body = graph.get(url).json()
        ids += [u["id"] for u in body["value"]]
        url = body.get("@odata.nextLink")
        assert url is None or "$skiptoken=" in url
    assert len(ids) == len(set(ids)) == 9


def test_domains(world: World) -> None:
    value = world.graph().get(world.url("/domains")).json()["value"]
    assert {d["id"]: (d["isVerified"], d["isDefault"]) for d in value} == {
        "contoso.com": (True, True),
        "contoso.example": (True, False),
        "contoso.onmicrosoft.com": (True, False),
    }


def test_a_rename_keeps_the_id_and_the_old_address_as_an_alias(world: World) -> None:
    """As a tenant rename: new UPN and primary address; the old address only matches proxyAddresses
    (Graph takes no alias in /users/{x}); the object id never changes."""
    graph, uid = world.graph(), world.users["alice"]["id"]
    renamed = world.emu.admin.rename_user(world.tenant_id, "alice@contoso.com", "alice.new@contoso.com")
    assert renamed["id"] == uid and renamed["mail"] == "alice.new@contoso.com"
    assert renamed["proxyAddresses"][0] == "SMTP:alice.new@contoso.com"
    assert "smtp:alice@contoso.com" in renamed["proxyAddresses"]
    assert graph_error(graph.get(world.url("/users/alice@contoso.com"))) == (404, "Request_ResourceNotFound")
    assert graph.get(world.url("/users/alice.new@contoso.com")).json()["id"] == uid
    by_proxy = graph.get(
        world.url("/users"), params={"$filter": "proxyAddresses/any(x:x eq 'smtp:alice@contoso.com')"}
    ).json()["value"]
    assert [u["id"] for u in by_proxy] == [uid]
    assert graph.get(world.url("/users"), params={"$filter": "mail eq 'alice@contoso.com'"}).json()["value"] == []
    with pytest.raises(EmulatorAdminError) as taken:
        world.emu.admin.rename_user(world.tenant_id, uid, world.users["bob"]["userPrincipalName"])
    assert taken.value.status == 409
    with pytest.raises(EmulatorAdminError) as foreign:
        world.emu.admin.rename_user(world.tenant_id, uid, "alice@elsewhere.example")
    assert foreign.value.status == 400
