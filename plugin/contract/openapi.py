"""The OpenAPI document of the hooks, the feed-address call and the user-state call, generated from the marshmallow
schemas that validate them."""
from __future__ import annotations

import functools
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.openapi import OpenAPIConverter
from marshmallow import Schema, fields, validate

from bridge.codes import HookOutcome
from bridge.feeds.ical import REFRESH
from plugin.contract.feed_schemas import Address, AddressRequest
from plugin.contract.schemas import DELIVERIES, MAX_BATCH, Batch, DeliveryField
from plugin.contract.user_state_schemas import FEED_FIELDS, UserStateAnswer, UserStateRequest
from plugin.host import FEED_ADDRESS_PATH, USER_STATE_PATH
from plugin.signing import KEY_HEADER, MAX_SKEW_SECONDS, SIGNATURE_HEADER, TIMESTAMP_HEADER

# Signed with the account's own key (named in X-Hook-Key), or with the shared secret (no key named).
SIGNED: list[dict[str, list[str]]] = [{"HookKey": [], "HookSignature": [], "HookTimestamp": []},
                                      {"HookSignature": [], "HookTimestamp": []}]
WRONG_ACCOUNT = ("The signature is good but its signer may not act for the account named: another account's key, "
                 "or the shared secret for an account with a key of its own; nothing {}")


class Result(Schema):
    id = fields.String(required=True, metadata={"description": "The delivery id."})
    status = fields.String(required=True, validate=validate.OneOf([o.value for o in HookOutcome]))


class BatchResult(Schema):
    results = fields.List(fields.Nested(Result), required=True, metadata={"description": "In request order."})


class Error(Schema):
    error = fields.String(required=True)
    fields_ = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        data_key="fields",
        metadata={"description": 'Messages by dotted path, e.g. "data.sessions.0.end"; "$" is the body.'},
    )


class Repeat(Schema):
    error = fields.String(required=True)
    request_id = fields.String(required=True, metadata={"description": "The repeated request id."})


def _ref(name: str) -> str:
    return f"#/components/schemas/{name}"


def _any_delivery() -> dict[str, Any]:
    """One of the topic envelopes, told apart by ``topic``."""
    return {
        "oneOf": [{"$ref": _ref(schema.__name__)} for schema in DELIVERIES.values()],
        "discriminator": {
            "propertyName": "topic",
            "mapping": {topic: _ref(schema.__name__) for topic, schema in DELIVERIES.items()},
        },
    }


def _delivery_field(self: OpenAPIConverter, field: fields.Field, **kwargs: Any) -> dict[str, Any]:
    return _any_delivery() if isinstance(field, DeliveryField) else {}


def _response(description: str, schema: Any, **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}, **extra}


def _operation(summary: str, body: Any, result: type[Schema], unchanged: str, applied: str) -> dict[str, Any]:
    retry = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}
    responses = {
        "200": _response(unchanged, result),
        "202": _response(applied, result),
        "400": _response("Invalid JSON or body; nothing stored", Error),
        "401": _response("Missing or bad signature or timestamp, or an unknown or revoked key; nothing stored", Error),
        "403": _response(WRONG_ACCOUNT.format("stored"), Error),
        "413": _response("Body over 1 MiB; nothing stored", Error),
        "503": _response("Database unavailable; nothing stored, retry", Error, headers=retry),
    }
    return {
        "summary": summary,
        "security": SIGNED,
        "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
        "responses": responses,
    }


def _user_call(summary: str, description: str, body: type[Schema], answer: type[Schema], answered: str
               ) -> dict[str, Any]:
    """A signed call about one user of the signed account (the feed address, the user's state)."""
    return {
        "summary": summary,
        "description": description,
        "security": SIGNED,
        "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
        "responses": {
            "200": _response(answered, answer),
            "400": _response("Invalid JSON or body; nothing changed", Error),
            "401": _response("Missing or bad signature or timestamp, or an unknown or revoked key; nothing changed",
                             Error),
            "403": _response(WRONG_ACCOUNT.format("changed"), Error),
            "404": _response("No such user in this account", Error),
            "409": _response("This request_id was served before: the request is a repeat; nothing changed", Repeat),
        },
    }


def _feed_paths(spec: APISpec) -> None:
    """The signed call for a user's feed address, and the feed itself (opened by its secret token)."""
    spec.path(FEED_ADDRESS_PATH, operations={"post": _user_call(
        "Make, rotate or revoke a user's calendar-feed address",
        "For users Graph cannot reach (or everyone, as the account's managers choose). The plugin keeps only a hash "
        "of the token, so `url` is in the answer that made it and never again.",
        AddressRequest, Address, "Whether the user is offered a feed; the address when one was made")})
    calendar = {"text/calendar": {"schema": {"type": "string", "format": "binary"}}}
    spec.path("/feeds/{token}.ics", operations={"get": {
        "summary": "A user's sessions as an iCalendar (RFC 5545) subscription",
        "description": f"Clients should poll every {int(REFRESH.total_seconds() // 60)} minutes with If-None-Match.",
        "security": [],
        "parameters": [
            {"name": "token", "in": "path", "required": True, "schema": {"type": "string"},
             "description": "The secret token from the feed-address call."},
            {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"}},
        ],
        "responses": {
            "200": {"description": "The feed", "content": calendar,
                    "headers": {"ETag": {"schema": {"type": "string"}}}},
            "304": {"description": "Unchanged since the ETag given"},
            "404": {"description": "Unknown, rotated or revoked token, or feeds turned off"},
        },
    }})


def _user_state_path(spec: APISpec) -> None:
    """The signed call for where one user stands, for the LMS to show on that user's own page."""
    spec.path(USER_STATE_PATH, operations={"post": _user_call(
        "Where one user stands: do their sessions reach Outlook, and if not, why",
        "In codes (as on the plugin's page) and in plain words for the user, in their language; and whether a "
        "calendar feed is offered. Only the signed account's users are answered.",
        UserStateRequest, UserStateAnswer, "The user's state")})


@functools.cache
def document(version: str) -> dict[str, Any]:
    """The OpenAPI 3.0 document served at ``/hooks/openapi.json``."""
    marshmallow = MarshmallowPlugin()
    spec = APISpec(
        title="Outlook Calendar for the LMS: hooks",
        version=version,
        openapi_version="3.0.3",
        plugins=[marshmallow],
        info={"description": "How the LMS tells the plugin about users, events, enrollments and deadlines, and asks "
                             "for a user's calendar-feed address and where a user stands."},
    )
    assert marshmallow.converter is not None  # set by APISpec
    marshmallow.converter.add_attribute_function(_delivery_field)
    for schema in DELIVERIES.values():
        spec.components.schema(schema.__name__, schema=schema)
    for schema in (Batch, Result, BatchResult, Error, Repeat, AddressRequest, Address, UserStateRequest):
        spec.components.schema(schema.__name__, schema=schema)
    spec.components.schema("FeedState", schema=Address(only=FEED_FIELDS))  # the part of Address in UserStateAnswer
    spec.components.schema(UserStateAnswer.__name__, schema=UserStateAnswer)
    signature = (f"HMAC-SHA256 of '<{TIMESTAMP_HEADER}>.<raw body>' with the secret of the key {KEY_HEADER} names "
                 "(or the shared host secret when none is named), as sha256=<hex>.")
    spec.components.security_scheme(
        "HookSignature",
        {"type": "apiKey", "in": "header", "name": SIGNATURE_HEADER, "description": signature},
    )
    spec.components.security_scheme(
        "HookKey",
        {"type": "apiKey", "in": "header", "name": KEY_HEADER,
         "description": "The id of the account's own host key (outlook-sync host-key create). An account with a key "
                        "of its own must name it; only accounts without one sign with the shared secret."},
    )
    spec.components.security_scheme(
        "HookTimestamp",
        {"type": "apiKey", "in": "header", "name": TIMESTAMP_HEADER,
         "description": f"Unix seconds; at most {MAX_SKEW_SECONDS} s from the plugin's clock."},
    )
    spec.path("/hooks", operations={"post": _operation(
        "Deliver one change", _any_delivery(), Result,
        "Duplicate or stale: acknowledged, not applied", "Applied",
    )})
    spec.path("/hooks/batch", operations={"post": _operation(
        f"Deliver up to {MAX_BATCH} changes; all are validated before any is stored", Batch, BatchResult,
        "Every delivery duplicate or stale", "At least one delivery applied",
    )})
    _feed_paths(spec)
    _user_state_path(spec)
    spec.path("/hooks/openapi.json", operations={"get": {
        "summary": "This document", "responses": {"200": {"description": "OpenAPI document"}},
    }})
    return spec.to_dict()


if __name__ == "__main__":  # python -m plugin.contract.openapi > docs/hooks-openapi.json
    import json

    from plugin.contract.manifest import load_manifest

    print(json.dumps(document(load_manifest().version), indent=2, ensure_ascii=False))
