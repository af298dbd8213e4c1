"""Marshmallow schemas of the host's call for one user's sync state: validation and the OpenAPI document."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from bridge.codes import ConnectionState, UserState
from plugin.contract.feed_schemas import Address, UserCall

FEED_FIELDS = ("offered", "reason", "issued_at")


class UserStateRequest(UserCall):
    """The LMS asks where one of its users stands, to show it to that user."""

    locale = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 35), metadata={
        "description": ("The user's language in the LMS (e.g. ru, ru_RU, pt-BR). The words of the answer are in it "
                        "when the plugin has it, else in the account's language, the request's Accept-Language, "
                        "or English.")})


class UserStateAnswer(Schema):
    """One user's sync state, its reason, and the same in plain words for the user to read."""

    user_id = fields.String(required=True)
    connection = fields.String(required=True, validate=validate.OneOf(list(ConnectionState)), metadata={
        "description": "The account's connection to its Azure AD tenant."})
    state = fields.String(required=True, validate=validate.OneOf(list(UserState)), metadata={
        "description": "Queued (pending, retrying) or the outcome of the user's last pass."})
    reason = fields.String(required=True, allow_none=True, metadata={
        "description": "Why the user has no entries or could not be written (a reason code as on the page), or null."})
    reaches_outlook = fields.Boolean(required=True, metadata={
        "description": "The user's sessions are written to their Outlook calendar."})
    entries = fields.Integer(required=True, metadata={"description": "Entries the plugin keeps in their calendar."})
    changed_at = fields.DateTime(required=True, allow_none=True, metadata={
        "description": "When their last pass ended; null before the first."})
    locale = fields.String(required=True, metadata={"description": "The language of message and reason_text."})
    message = fields.String(required=True, metadata={
        "description": "Whether the user's sessions reach Outlook, in one sentence for the user."})
    reason_text = fields.String(required=True, allow_none=True, metadata={
        "description": "Why not (or what else to know), in plain words for the user; null when nothing to add."})
    feed = fields.Nested(Address, only=FEED_FIELDS, required=True, metadata={
        "description": "Whether a calendar feed is offered, and since when the user has an address: ask "
                       "POST /feeds/address for the address itself."})
