"""Error bodies in Microsoft's own shapes.

Clients branch on these shapes (MSAL reads ``error``/``error_description``; Graph clients read
``error.code``), so every refusal the emulator makes goes through here.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any


def utc_now_text(fraction: bool = False) -> str:
    now = dt.datetime.now(dt.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S") + (f".{now.microsecond:06d}Z" if fraction else "Z")


class GraphError(Exception):
    """A Graph refusal: HTTP status, ``error.code``, message, extra headers."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def graph_error_body(code: str, message: str, request_id: str, client_request_id: str) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": utc_now_text(),
                "request-id": request_id,
                "client-request-id": client_request_id,
            },
        }
    }


# AADSTS codes -> (OAuth error, HTTP status, description template)
AAD_ERRORS: dict[int, tuple[str, int, str]] = {
    90002: (
        "invalid_request",
        400,
        "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are "
        "signing into the correct cloud. Check with your subscription administrator, this may "
        "happen if there are no active subscriptions for the tenant.",
    ),
    50059: (
        "invalid_request",
        400,
        "No tenant-identifying information found in either the request or implied by any provided credentials.",
    ),
    700016: (
        "unauthorized_client",
        400,
        "Application with identifier '{client_id}' was not found in the directory '{tenant}'. "
        "This can happen if the application has not been installed by the administrator of "
        "the tenant or consented to by any user in the tenant. You may have sent your "
        "authentication request to the wrong tenant.",
    ),
    7000229: (
        "invalid_client",
        401,
        "The client application {client_id} is missing service principal in the tenant "
        "{tenant}. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119",
    ),
    65001: (
        "unauthorized_client",
        400,
        "The user or administrator has not consented to use the application with ID "
        "'{client_id}' named '{app_name}'. Send an interactive authorization request for this "
        "user and resource.",
    ),
    7000215: (
        "invalid_client",
        401,
        "Invalid client secret provided. Ensure the secret being sent in the request is the "
        "client secret value, not the client secret ID, for a secret added to app "
        "'{client_id}'.",
    ),
    7000222: (
        "invalid_client",
        401,
        "The provided client secret keys for app '{client_id}' are expired. Visit the Azure "
        "portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider "
        "using certificate credentials for added security: https://aka.ms/certCreds.",
    ),
    7000218: (
        "invalid_client",
        401,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    ),
    700027: ("invalid_client", 401, "Client assertion failed signature validation. {detail}"),
    700024: ("invalid_client", 401, "Client assertion is not within its valid time range. {detail}"),
    700023: ("invalid_client", 401, "Client assertion audience claim does not match Realm issuer. {detail}"),
    50027: ("invalid_client", 401, "JWT token is invalid or malformed. {detail}"),
    70003: ("unsupported_grant_type", 400, "The app requested an unsupported grant type '{detail}'."),
    70011: (
        "invalid_scope",
        400,
        "The provided request must include a 'scope' input parameter. The provided value for "
        "the input parameter 'scope' is not valid. The scope {detail} is not valid.",
    ),
    1002012: (
        "invalid_scope",
        400,
        "The provided value for scope {detail} is not valid. Client credential flows must "
        "have a scope value with /.default suffixed to the resource identifier (application "
        "ID URI).",
    ),
    900144: ("invalid_request", 400, "The request body must contain the following parameter: '{detail}'."),
}


def aad_error(code: int, **fields: str) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) of a token-endpoint error in Entra ID's JSON shape."""
    error, status, template = AAD_ERRORS[code]
    values = {"tenant": "", "client_id": "", "app_name": "", "detail": ""} | fields
    trace_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
    timestamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    description = (
        f"AADSTS{code}: {template.format(**values).strip()} Trace ID: {trace_id} "
        f"Correlation ID: {correlation_id} Timestamp: {timestamp}"
    )
    return status, {
        "error": error,
        "error_description": description,
        "error_codes": [code],
        "timestamp": timestamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    }
