"""Microsoft's own Graph SDK (msgraph-sdk, over httpx) as an independent client of the emulator:
if the SDK's generated models and serializers are happy, our wire format is Graph's."""

from __future__ import annotations

import asyncio
import warnings
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.emulator.emu_support import World

with warnings.catch_warnings():  # the SDK's generated code warns about itself at import time
    warnings.simplefilter("ignore", DeprecationWarning)
    from kiota_abstractions.authentication import (
        AccessTokenProvider,
        AllowedHostsValidator,
        BaseBearerTokenAuthenticationProvider,
    )
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph import GraphRequestAdapter, GraphServiceClient
    from msgraph.generated.models.body_type import BodyType
    from msgraph.generated.models.date_time_time_zone import DateTimeTimeZone
    from msgraph.generated.models.event import Event
    from msgraph.generated.models.free_busy_status import FreeBusyStatus
    from msgraph.generated.models.item_body import ItemBody
    from msgraph.generated.models.location import Location
    from msgraph.generated.models.o_data_errors.o_data_error import ODataError
    from msgraph.generated.models.single_value_legacy_extended_property import SingleValueLegacyExtendedProperty
    from msgraph.generated.users.item.events.events_request_builder import EventsRequestBuilder
    from msgraph_core import GraphClientFactory

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK's own generated code warns
TAG = "String {0c9f21d4-1b3e-4d4c-9a51-5e1b1a7c2f00} Name lmsKey"


class StaticToken(AccessTokenProvider):
    """Token from the emulator's token endpoint (no azure-identity involved)."""

    def __init__(self, token: str, host: str) -> None:
        self.token = token
        self.hosts = AllowedHostsValidator([host])

    async def get_authorization_token(self, uri: str, additional_authentication_context: dict[str, Any] = {}) -> str:  # noqa: B006
        return self.token

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return self.hosts


def sdk_client(world: World, http: httpx.AsyncClient) -> GraphServiceClient:
    host = urlsplit(world.emu.base_url).hostname or "127.0.0.1"
    auth = BaseBearerTokenAuthenticationProvider(StaticToken(world.token().json()["access_token"], host))
    adapter = GraphRequestAdapter(auth, client=GraphClientFactory.create_with_default_middleware(client=http))
    adapter.base_url = world.emu.graph_url
    return GraphServiceClient(request_adapter=adapter)


def new_event(i: int) -> Event:
    return Event(
        subject=f"SDK session {i}",
        body=ItemBody(content_type=BodyType.Html, content="<p>Hello</p>"),
        start=DateTimeTimeZone(date_time="2026-10-25T09:00:00", time_zone="W. Europe Standard Time"),
        end=DateTimeTimeZone(date_time="2026-10-25T10:00:00", time_zone="W. Europe Standard Time"),
        location=Location(display_name="Hall"),
        show_as=FreeBusyStatus.Busy,
        is_reminder_on=True,
        reminder_minutes_before_start=15,
        transaction_id=f"sdk-{i}",
        single_value_extended_properties=[SingleValueLegacyExtendedProperty(id=TAG, value=f"key-{i}")],
    )


async def scenario(world: World) -> None:
    async with httpx.AsyncClient(verify=world.emu.ca_path, trust_env=False) as http:
        client = sdk_client(world, http)
        events = client.users.by_user_id("alice@contoso.com").events
        created = [await events.post(new_event(i)) for i in range(5)]
        first = created[0]
        assert first is not None and first.id and first.start is not None
        assert first.start.time_zone == "UTC" and first.start.date_time == "2026-10-25T08:00:00.0000000"
        assert first.show_as == FreeBusyStatus.Busy and first.transaction_id == "sdk-0"

        got = await events.by_event_id(first.id).get()
        assert got is not None and got.subject == "SDK session 0" and got.change_key == first.change_key

        updated = await events.by_event_id(first.id).patch(Event(subject="Renamed", reminder_minutes_before_start=30))
        assert updated is not None and updated.subject == "Renamed" and updated.change_key != first.change_key

        query = EventsRequestBuilder.EventsRequestBuilderGetQueryParameters(top=2, select=["subject", "start"])
        page = await events.get(RequestConfiguration(query_parameters=query))
        seen: list[str] = []
        while page is not None:
            seen += [e.id for e in page.value or [] if e.id]
            if not page.odata_next_link:
                break
            page = await events.with_url(page.odata_next_link).get()
        assert sorted(seen) == sorted(e.id for e in created if e and e.id)

        tagged = EventsRequestBuilder.EventsRequestBuilderGetQueryParameters(
            filter=f"singleValueExtendedProperties/Any(ep: ep/id eq '{TAG}' and ep/value eq 'key-3')"
        )
        found = await events.get(RequestConfiguration(query_parameters=tagged))
        assert found is not None and [e.id for e in found.value or []] == [created[3].id if created[3] else None]

        await events.by_event_id(first.id).delete()
        try:
            await events.by_event_id(first.id).get()
        except ODataError as exc:
            assert exc.response_status_code == 404
            assert exc.error is not None and exc.error.code == "ErrorItemNotFound"
        else:
            raise AssertionError("deleted event still readable")


def test_msgraph_sdk_crud_and_paging(world: World) -> None:
    asyncio.run(scenario(world))
    assert len(world.emu.admin.events(world.tenant_id, "alice@contoso.com")) == 4
