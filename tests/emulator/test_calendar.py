"""Events: create, read, update, delete, list, and the details clients trip over."""

from __future__ import annotations

from tests.emulator.emu_support import World, event_body, graph_error

TAG = "String {7d3c3b1a-2a6b-4d43-9f0b-6f1b8d3c1e55} Name lmsKey"


def create(world: World, user: str = "alice@contoso.com", **extra: object) -> dict[str, object]:
    response = world.graph().post(world.url(f"/users/{user}/events"), json=event_body(**extra))
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_create_returns_full_event_in_utc_with_graph_defaults(world: World) -> None:
    response = world.graph().post(world.url("/users/alice@contoso.com/events"), json=event_body())
    assert response.status_code == 201
    event = response.json()
    assert event["start"] == {"dateTime": "2026-03-29T07:00:00.0000000", "timeZone": "UTC"}  # CEST: UTC+2
    assert event["end"] == {"dateTime": "2026-03-29T08:30:00.0000000", "timeZone": "UTC"}
    assert event["originalStartTimeZone"] == event["originalEndTimeZone"] == "Romance Standard Time"
    assert event["@odata.etag"] == f'W/"{event["changeKey"]}"'
    assert len(event["id"]) > 100 and event["id"].replace("-", "").replace("_", "").replace("=", "").isalnum()
    assert event["isReminderOn"] is True and event["reminderMinutesBeforeStart"] == 15
    assert (event["showAs"], event["importance"], event["sensitivity"], event["type"]) == (
        "busy",
        "normal",
        "normal",
        "singleInstance",
    )
    assert event["isOrganizer"] is True and event["attendees"] == []
    assert event["organizer"] == {"emailAddress": {"name": "Alice Example", "address": "alice@contoso.com"}}
    assert event["responseStatus"]["response"] == "organizer"
    assert event["transactionId"] is None
    assert "singleValueExtendedProperties" not in event
    assert event["body"]["contentType"] == "html" and "<p>Welcome</p>" in event["body"]["content"]
    assert event["location"]["displayName"] == "Room 101"
    assert response.headers["location"].endswith(f"Events('{event['id']}')")
    for key in ("createdDateTime", "lastModifiedDateTime", "iCalUId", "webLink"):
        assert event[key]


def test_prefer_outlook_timezone(world: World) -> None:
    event = create(world)
    response = world.graph().get(
        world.url(f"/users/alice@contoso.com/events/{event['id']}"),
        headers={"Prefer": 'outlook.timezone="Pacific Standard Time"'},
    )
    assert response.json()["start"] == {"dateTime": "2026-03-29T00:00:00.0000000", "timeZone": "Pacific Standard Time"}
    assert response.headers["preference-applied"] == 'outlook.timezone="Pacific Standard Time"'


def test_get_by_id_or_upn_and_calendar_path(world: World) -> None:
    event = create(world)
    uid = world.users["alice"]["id"]
    graph = world.graph()
    for path in (f"/users/{uid}/events/{event['id']}", f"/users/ALICE@contoso.com/calendar/events/{event['id']}"):
        response = graph.get(world.url(path))
        assert response.status_code == 200 and response.json()["id"] == event["id"]


def test_ids_are_case_sensitive_and_malformed_ids_refused(world: World) -> None:
    event_id = str(create(world)["id"])
    graph = world.graph()
    i = next(i for i in range(10, len(event_id)) if event_id[i].isalpha())
    other_case = event_id[:i] + event_id[i].swapcase() + event_id[i + 1 :]
    assert graph_error(graph.get(world.url(f"/users/alice@contoso.com/events/{other_case}"))) == (
        404,
        "ErrorItemNotFound",
    )
    assert graph_error(graph.get(world.url("/users/alice@contoso.com/events/123"))) == (400, "ErrorInvalidIdMalformed")
    bob_view = graph.get(world.url(f"/users/bob@contoso.com/events/{event_id}"))
    assert graph_error(bob_view) == (404, "ErrorItemNotFound")


def test_update_changes_change_key_and_delete_then_404(world: World) -> None:
    event = create(world)
    graph = world.graph()
    url = world.url(f"/users/alice@contoso.com/events/{event['id']}")
    updated = graph.patch(url, json={"subject": "Moved", "reminderMinutesBeforeStart": 30})
    assert updated.status_code == 200
    body = updated.json()
    assert body["subject"] == "Moved" and body["reminderMinutesBeforeStart"] == 30
    assert body["changeKey"] != event["changeKey"]
    assert body["start"] == event["start"]
    stale = graph.patch(url, json={"subject": "x"}, headers={"If-Match": str(event["@odata.etag"])})
    assert graph_error(stale) == (412, "ErrorIrresolvableConflict")
    assert graph.delete(url).status_code == 204
    assert graph_error(graph.get(url)) == (404, "ErrorItemNotFound")
    assert graph_error(graph.delete(url)) == (404, "ErrorItemNotFound")
    assert graph_error(graph.patch(url, json={"subject": "y"})) == (404, "ErrorItemNotFound")


def test_transaction_id_prevents_duplicates_and_is_immutable(world: World) -> None:
    first = create(world, transactionId="lms-1-session-7-user-3")
    second = create(world, transactionId="lms-1-session-7-user-3", subject="retry")
    assert second["id"] == first["id"] and second["subject"] == first["subject"]
    assert first["transactionId"] == "lms-1-session-7-user-3"
    events = world.emu.admin.events(world.tenant_id, "alice@contoso.com")
    assert len(events) == 1
    url = world.url(f"/users/alice@contoso.com/events/{first['id']}")
    assert graph_error(world.graph().patch(url, json={"transactionId": "other"}))[0] == 400
    assert world.graph().patch(url, json={"transactionId": "lms-1-session-7-user-3"}).status_code == 200
    assert world.emu.admin.counters()["duplicate_creates_avoided"] == 1


def test_extended_property_stored_filtered_and_expanded(world: World) -> None:
    tagged = create(world, singleValueExtendedProperties=[{"id": TAG, "value": "k-1"}])
    create(world, singleValueExtendedProperties=[{"id": TAG, "value": "k-2"}])
    create(world)
    assert "singleValueExtendedProperties" not in tagged
    graph = world.graph()
    lowered = TAG.replace("Name", "name").lower().replace("string", "String")
    for op in ("Any", "any"):
        response = graph.get(
            world.url("/users/alice@contoso.com/events"),
            params={"$filter": f"singleValueExtendedProperties/{op}(ep: ep/id eq '{lowered}' and ep/value eq 'k-1')"},
        )
        assert response.status_code == 200, response.text
        assert [e["id"] for e in response.json()["value"]] == [tagged["id"]]
        assert "singleValueExtendedProperties" not in response.json()["value"][0]
    expanded = graph.get(
        world.url(f"/users/alice@contoso.com/events/{tagged['id']}"),
        params={"$expand": f"singleValueExtendedProperties($filter=id eq '{TAG}')"},
    ).json()
    assert expanded["singleValueExtendedProperties"] == [{"id": TAG, "value": "k-1"}]
    patched = graph.patch(
        world.url(f"/users/alice@contoso.com/events/{tagged['id']}"),
        json={"singleValueExtendedProperties": [{"id": TAG, "value": "k-9"}]},
    )
    assert patched.status_code == 200
    stored = world.emu.admin.events(world.tenant_id, "alice@contoso.com")
    assert {"id": TAG, "value": "k-9"} in next(e for e in stored if e["id"] == tagged["id"])[
        "singleValueExtendedProperties"
    ]


def test_list_paging_select_and_top(world: World) -> None:
    ids = {create(world, subject=f"s{i}")["id"] for i in range(7)}
    graph = world.graph()
    url: str | None = world.url("/users/alice@contoso.com/events?$top=3&$select=subject,start")
    seen: list[str] = []
    pages = 0
    while url:
        response = graph.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        for event in body["value"]:
            assert set(event) == {"@odata.etag", "id", "subject", "start"}
        seen += [e["id"] for e in body["value"]]
        url = body.get("@odata.nextLink")
        assert url is None or url.startswith(world.emu.base_url + "/v1.0/")
        pages += 1
    assert pages == 3 and set(seen) == ids and len(seen) == 7
    default = graph.get(world.url("/users/alice@contoso.com/events")).json()
    assert len(default["value"]) == 7
    assert graph_error(graph.get(world.url("/users/alice@contoso.com/events?$top=1001")))[0] == 400
    assert graph_error(graph.get(world.url("/users/alice@contoso.com/events?$select=nope"))) == (
        400,
        "RequestBroker--ParseUri",
    )


def test_filter_by_start_and_unsupported_filter(world: World) -> None:
    create(world)
    later = create(
        world,
        start={"dateTime": "2026-05-01T09:00:00", "timeZone": "UTC"},
        end={"dateTime": "2026-05-01T10:00:00", "timeZone": "UTC"},
    )
    graph = world.graph()
    response = graph.get(
        world.url("/users/alice@contoso.com/events"), params={"$filter": "start/dateTime ge '2026-04-01T00:00:00'"}
    )
    assert [e["id"] for e in response.json()["value"]] == [later["id"]]
    both = graph.get(
        world.url("/users/alice@contoso.com/events"),
        params={"$filter": "start/dateTime lt '2026-04-01T00:00:00' or categories/any(c:c eq 'BLUE')"},
    )
    assert len(both.json()["value"]) == 1
    tagged = create(world, categories=["Blue"])
    found = graph.get(world.url("/users/alice@contoso.com/events"), params={"$filter": "categories/any(c:c eq 'blue')"})
    assert [e["id"] for e in found.json()["value"]] == [tagged["id"]]
    ordered = graph.get(world.url("/users/alice@contoso.com/events"), params={"$orderby": "start/dateTime desc"})
    assert ordered.json()["value"][0]["id"] == later["id"]
    bad = graph.get(world.url("/users/alice@contoso.com/events"), params={"$filter": "bodyPreview eq 'x'"})
    assert graph_error(bad) == (400, "ErrorInvalidUrlQueryFilter")


def test_text_body_comes_back_as_html_unless_text_preferred(world: World) -> None:
    event = create(world, body={"contentType": "text", "content": "Join: https://meet.example/x <now>"})
    assert event["body"]["contentType"] == "html"
    assert "&lt;now&gt;" in event["body"]["content"]
    text = (
        world.graph()
        .get(
            world.url(f"/users/alice@contoso.com/events/{event['id']}"),
            headers={"Prefer": 'outlook.body-content-type="text"'},
        )
        .json()
    )
    assert text["body"] == {"contentType": "text", "content": "Join: https://meet.example/x <now>"}


def test_attendees_are_counted_as_invitations(world: World) -> None:
    create(world)
    assert world.emu.admin.counters()["invitations_sent"] == 0
    create(world, attendees=[{"emailAddress": {"address": "bob@contoso.com"}, "type": "required"}])
    assert world.emu.admin.counters()["invitations_sent"] == 1


def test_admin_delete_is_seen_by_graph(world: World) -> None:
    event = create(world)
    world.emu.admin.delete_event(world.tenant_id, world.users["alice"]["id"], str(event["id"]))
    assert graph_error(world.graph().get(world.url(f"/users/alice@contoso.com/events/{event['id']}"))) == (
        404,
        "ErrorItemNotFound",
    )


def test_subjects_and_locations_over_255_units_are_cut_as_exchange_does(world: World) -> None:
    """Exchange keeps 255 UTF-16 units of a subject ("..." at the end) and of a location."""
    created = world.graph().post(
        world.url("/users/alice@contoso.com/events"),
        json=event_body(subject="S" * 300, location={"displayName": "L" * 254 + "\U0001F600x"}),
    )
    assert created.status_code == 201
    body = created.json()
    assert body["subject"] == "S" * 252 + "..."
    assert body["location"]["displayName"] == "L" * 254  # the emoji's surrogate pair is not split
    patched = world.graph().patch(world.url(f"/users/alice@contoso.com/events/{body['id']}"),
                                  json={"subject": "T" * 255})
    assert patched.json()["subject"] == "T" * 255
