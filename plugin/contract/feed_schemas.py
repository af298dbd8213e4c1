"""Marshmallow schemas of the host's call for a feed address: validation and the OpenAPI document."""
from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

ACTIONS = ("get", "rotate", "revoke")
REQUEST_ID = r"^[!-~]{1,128}$"  # printable ASCII, no spaces


class UserCall(Schema):
    """A signed call about one user of the signed account (the feed address, the user's state)."""

    class Meta:
        unknown = RAISE

    account = fields.String(required=True, validate=validate.Length(1, 128),
                            metadata={"description": "The LMS account id."})
    user_id = fields.String(required=True, validate=validate.Length(1, 128))
    request_id = fields.String(required=True, validate=validate.Regexp(REQUEST_ID), metadata={"description": (
        "A fresh id for each request (1 to 128 printable ASCII characters; a UUID will do). The plugin serves "
        "an id once: a repeat within the signature's time window is answered 409, never acted on.")})


class AddressRequest(UserCall):
    """The LMS asks for one user's feed address."""

    action = fields.String(load_default="get", validate=validate.OneOf(ACTIONS), metadata={"description": (
        "get: make an address if the user has none; rotate: make a new one (the old stops working); "
        "revoke: remove it.")})


class Address(Schema):
    """Whether the user is offered a feed, and the address when one was just made."""

    user_id = fields.String(required=True)
    offered = fields.Boolean(required=True, metadata={"description": "The account offers this user a feed."})
    reason = fields.String(required=True, metadata={"description": (
        "Why: personal_email, domain_not_in_tenant, no_email, mailbox_not_in_exchange_online, user_not_found, "
        "not_connected or everyone when offered; in_outlook, inactive or feeds_off when not.")})
    url = fields.String(allow_none=True, metadata={"description": (
        "https address of the feed, only in the answer that made it (the plugin keeps a hash only).")})
    webcal_url = fields.String(allow_none=True, metadata={"description": "The same address as webcal://."})
    issued_at = fields.DateTime(allow_none=True, metadata={"description": "When the current address was made."})
