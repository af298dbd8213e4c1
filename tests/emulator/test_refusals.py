"""Every refusal a product must tell apart, with its exact status and Graph error code."""

from __future__ import annotations

import pytest

from emulator.testing import EmulatorHandle
from tests.emulator.emu_support import World, event_body, graph_error, make_world, session


@pytest.mark.parametrize("user", ["onprem@contoso.com", "nolicense@contoso.com"])
def test_mailbox_graph_cannot_reach(world: World, user: str) -> None:
    graph = world.graph()
    for response in (
        graph.get(world.url(f"/users/{user}/events")),
        graph.post(world.url(f"/users/{user}/events"), json=event_body()),
    ):
        assert graph_error(response) == (404, "MailboxNotEnabledForRESTAPI")
        assert response.json()["error"]["message"] == "REST API is not yet supported for this mailbox."


def test_unknown_user_in_calendar_path(world: World) -> None:
    response = world.graph().post(world.url("/users/ghost@contoso.com/events"), json=event_body())
    assert graph_error(response) == (404, "ErrorInvalidUser")
    assert response.json()["error"]["message"] == "The requested user 'ghost@contoso.com' is invalid."


def test_mail_address_is_not_a_user_reference(world: World) -> None:
    # Bob's secondary address is a proxy address, not his UPN: Graph does not resolve it in a path.
    response = world.graph().get(world.url("/users/robert@contoso.example/events"))
    assert graph_error(response) == (404, "ErrorInvalidUser")


def test_application_access_policy(world: World) -> None:
    admin = world.emu.admin
    admin.set_access_policy(world.tenant_id, world.client_id, [world.users["alice"]["id"]])
    graph = world.graph()
    assert graph.get(world.url("/users/alice@contoso.com/events")).status_code == 200
    denied = graph.get(world.url("/users/bob@contoso.com/events"))
    assert graph_error(denied) == (403, "ErrorAccessDenied")
    assert denied.json()["error"]["message"] == "Access to OData is disabled."
    assert graph.get(world.url("/users/bob@contoso.com")).status_code == 200  # directory unaffected
    admin.set_access_policy(world.tenant_id, world.client_id, None)
    assert graph.get(world.url("/users/bob@contoso.com/events")).status_code == 200


def test_missing_calendar_permission(emu: EmulatorHandle) -> None:
    world = make_world(emu, roles=["User.Read.All"])
    response = world.graph().get(world.url("/users/alice@contoso.com/events"))
    assert graph_error(response) == (403, "ErrorAccessDenied")
    assert response.json()["error"]["message"] == "Access is denied. Check credentials and try again."


def test_no_roles_at_all(emu: EmulatorHandle) -> None:
    world = make_world(emu, roles=[])
    graph = world.graph()
    assert graph_error(graph.post(world.url("/users/alice@contoso.com/events"), json=event_body())) == (
        403,
        "ErrorAccessDenied",
    )
    assert graph_error(graph.get(world.url("/users/alice@contoso.com"))) == (403, "Authorization_RequestDenied")
    assert graph_error(graph.get(world.url("/domains"))) == (403, "Authorization_RequestDenied")


def test_calendars_read_allows_get_only(emu: EmulatorHandle) -> None:
    world = make_world(emu, roles=["Calendars.Read"])
    graph = world.graph()
    assert graph.get(world.url("/users/alice@contoso.com/events")).status_code == 200
    assert graph_error(graph.post(world.url("/users/alice@contoso.com/events"), json=event_body())) == (
        403,
        "ErrorAccessDenied",
    )


def test_missing_directory_permission(emu: EmulatorHandle) -> None:
    world = make_world(emu, roles=["Calendars.ReadWrite"])
    response = world.graph().get(world.url("/users/alice@contoso.com"))
    assert graph_error(response) == (403, "Authorization_RequestDenied")
    assert response.json()["error"]["message"] == "Insufficient privileges to complete the operation."


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer not.a.token", "Basic abc"])
def test_bad_bearer_token(world: World, header: str | None) -> None:
    s = session(world.emu)
    headers = {"Authorization": header} if header else {}
    response = s.get(world.url("/users/alice@contoso.com/events"), headers=headers)
    assert graph_error(response) == (401, "InvalidAuthenticationToken")
    assert "Bearer" in response.headers["www-authenticate"]


def test_token_of_another_emulator_run_is_refused(world: World) -> None:
    import jwt

    forged = jwt.encode(
        {
            "aud": "https://graph.microsoft.com",
            "tid": world.tenant_id,
            "appid": world.client_id,
            "exp": 9999999999,
            "roles": ["Calendars.ReadWrite"],
        },
        "s" * 32,
        algorithm="HS256",
    )
    response = world.graph(forged).get(world.url("/users/alice@contoso.com/events"))
    assert graph_error(response) == (401, "InvalidAuthenticationToken")


def test_unknown_segment_and_bad_json(world: World) -> None:
    graph = world.graph()
    assert graph_error(graph.get(world.url("/users/alice@contoso.com/nonsense")))[0] == 400
    bad = graph.post(
        world.url("/users/alice@contoso.com/events"), data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert graph_error(bad) == (400, "BadRequest")
