"""The Microsoft identity platform, client-credentials only: discovery, JWKS, token endpoint.

The authority is ``{base}/{tenant}`` so an unpatched MSAL ConfidentialClientApplication works
against it (``instance_discovery=False``, ``verify=<CA file>``). Refusals use Entra ID's codes:
90002 unknown tenant, 700016 unknown app, 7000215/7000222 bad/expired secret, 700027 bad
certificate assertion, 7000229 never consented (no service principal), 65001 consent revoked.
"""

from __future__ import annotations

import base64
import time
from typing import Any, cast
from urllib.parse import parse_qsl, unquote_plus, urlsplit

import jwt
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .core import Emulator
from .errors import aad_error
from .state import App, Tenant
from .tokens import GRAPH_SCOPE

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MULTI_TENANT = ("organizations", "common", "consumers")
_RESERVED_SCOPES = {"openid", "profile", "offline_access"}


def _base(request: Request) -> str:
    return f"https://{request.headers.get('host', request.url.netloc)}"


def _error(code: int, **fields: str) -> JSONResponse:
    status, body = aad_error(code, **fields)
    return JSONResponse(body, status)


def _record(
    emu: Emulator, request: Request, status: int, tenant: str | None = None, client_id: str | None = None
) -> None:
    emu.metrics.record(
        kind="identity", method=request.method, path=request.url.path, status=status, tenant=tenant, client_id=client_id
    )


async def openid_configuration(request: Request) -> Response:
    emu: Emulator = request.app.state.emu
    ref = request.path_params["tenant"]
    base = _base(request)
    tenant = emu.world.resolve_tenant(ref)
    if tenant is None and ref.lower() not in MULTI_TENANT:
        _, body = aad_error(90002, tenant=ref)
        body["error"] = "invalid_tenant"
        _record(emu, request, 400, ref)
        return JSONResponse(body, 400)
    segment = tenant.id if tenant else ref.lower()
    issuer_tid = tenant.id if tenant else "{tenantid}"
    _record(emu, request, 200, segment)
    return JSONResponse(
        {
            "token_endpoint": f"{base}/{segment}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": f"{base}/{segment}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{base}/{issuer_tid}/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": f"{base}/oidc/userinfo",
            "authorization_endpoint": f"{base}/{segment}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/{segment}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/{segment}/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "roles", "appid", "azp"],
            "tenant_region_scope": "EU",
            "cloud_instance_name": "emulator.local",
            "msgraph_host": "graph.microsoft.com",
        }
    )


async def keys(request: Request) -> Response:
    emu: Emulator = request.app.state.emu
    return JSONResponse(emu.tokens.jwks())


async def instance_discovery(request: Request) -> Response:
    """MSAL's instance discovery (skipped by the product, harmless to answer)."""
    base = _base(request)
    endpoint = request.query_params.get("authorization_endpoint", "")
    segs = urlsplit(endpoint).path.strip("/").split("/")
    tenant = segs[0] if segs and segs[0] else "common"
    host = urlsplit(base).netloc
    return JSONResponse(
        {
            "tenant_discovery_endpoint": f"{base}/{tenant}/v2.0/.well-known/openid-configuration",
            "api-version": "1.1",
            "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
        }
    )


async def authorize(request: Request) -> Response:
    return Response(
        "<!doctype html><title>Not emulated</title><p>Interactive sign-in is not emulated: the "
        "product uses application permissions (client credentials) only.</p>",
        400,
        media_type="text/html",
    )


def _b64url_hex(hex_digest: str) -> str:
    return base64.urlsafe_b64encode(bytes.fromhex(hex_digest)).rstrip(b"=").decode()


def _check_assertion(app: App, assertion: str, tenant: Tenant) -> JSONResponse | None:
    """Verify an MSAL certificate assertion (RS256+x5t or PS256+x5t#S256)."""
    fields = {"client_id": app.client_id, "tenant": tenant.id}
    try:
        header = jwt.get_unverified_header(assertion)
    except jwt.PyJWTError:
        return _error(50027, detail="The client assertion is not a JWT.", **fields)
    cert = app.certificate
    matches = cert is not None and (
        str(header.get("x5t", "")).rstrip("=") == _b64url_hex(app.sha1_thumbprint or "")
        or str(header.get("x5t#S256", "")).rstrip("=") == _b64url_hex(app.sha256_thumbprint or "")
    )
    if cert is None or not matches or header.get("alg") not in ("RS256", "PS256"):
        return _error(
            700027,
            detail=(
                "The certificate with identifier used to sign the client assertion is not registered "
                f"on application. [Reason - The key was not found., Thumbprint of key used by client: "
                f"'{header.get('x5t') or header.get('x5t#S256')}']"
            ),
            **fields,
        )
    try:
        claims = jwt.decode(
            assertion,
            cast(Any, cert.public_key()),  # an RSA key: the registered certificate signs RS256/PS256
            algorithms=[header["alg"]],
            options={
                "verify_aud": False,
                "verify_exp": False,
                "verify_nbf": False,
                "require": ["aud", "exp", "iss", "sub"],
            },
        )
    except jwt.PyJWTError as exc:
        return _error(700027, detail=f"Signature validation failed ({exc}).", **fields)
    now = time.time()
    if claims["exp"] < now - 300 or claims.get("nbf", 0) > now + 300:
        return _error(700024, detail=f"Current time: {int(now)}, assertion valid until {claims['exp']}.", **fields)
    if not urlsplit(str(claims["aud"])).path.endswith(("/oauth2/v2.0/token", "/oauth2/token")):
        return _error(700023, detail=f"Audience '{claims['aud']}' is not a token endpoint.", **fields)
    if claims["iss"] != claims["sub"] or str(claims["iss"]).lower() != app.client_id:
        return _error(50027, detail="The issuer and subject of the assertion must be the client id.", **fields)
    return None


async def token(request: Request) -> Response:
    emu: Emulator = request.app.state.emu
    ref = request.path_params["tenant"]
    form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
    basic_id = basic_secret = None
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("basic "):
        try:
            raw_id, _, raw_secret = base64.b64decode(auth[6:].strip()).decode().partition(":")
            basic_id, basic_secret = unquote_plus(raw_id), unquote_plus(raw_secret)
        except ValueError:
            pass
    client_id = (form.get("client_id") or basic_id or "").lower()
    response = _issue(emu, request, ref, form, client_id, form.get("client_secret") or basic_secret)
    _record(emu, request, response.status_code, ref, client_id or None)
    return response


def _issue(
    emu: Emulator, request: Request, ref: str, form: dict[str, str], client_id: str, secret: str | None
) -> Response:
    if ref.lower() in MULTI_TENANT:
        return _error(50059)
    tenant = emu.world.resolve_tenant(ref)
    if tenant is None:
        return _error(90002, tenant=ref)
    grant = form.get("grant_type", "")
    if grant != "client_credentials":
        return _error(70003, detail=grant) if grant else _error(900144, detail="grant_type")
    if not client_id:
        return _error(900144, detail="client_id")
    app = emu.world.apps.get(client_id)
    if app is None:
        return _error(700016, client_id=client_id, tenant=tenant.id)
    fields = {"client_id": app.client_id, "tenant": tenant.id, "app_name": app.display_name}
    assertion = form.get("client_assertion")
    if assertion:
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            return _error(900144, detail="client_assertion_type")
        failure = _check_assertion(app, assertion, tenant)
        if failure is not None:
            return failure
        credential = "cert"
    elif secret:
        state = app.secret_state(secret, time.time())
        if state == "unknown":
            return _error(7000215, **fields)
        if state == "expired":
            return _error(7000222, **fields)
        credential = "secret"
    else:
        return _error(7000218, **fields)
    scopes = [s for s in form.get("scope", "").split() if s not in _RESERVED_SCOPES]
    if not scopes:
        return _error(900144, detail="scope")
    if scopes != [GRAPH_SCOPE]:
        bad = " ".join(scopes)
        return _error(
            1002012 if all(s.startswith("https://graph.microsoft.com/") for s in scopes) else 70011, detail=bad
        )
    sp = tenant.service_principals.get(app.client_id)
    if sp is None:
        return _error(7000229, **fields)
    if not sp.consented:
        return _error(65001, **fields)
    access, expires_in = emu.tokens.issue(
        issuer=f"{_base(request)}/{tenant.id}/v2.0",
        tenant_id=tenant.id,
        client_id=app.client_id,
        roles=sorted(sp.roles),
        object_id=sp.object_id,
        lifetime=emu.options.limits.token_lifetime,
        credential=credential,
        opaque=emu.options.limits.token_format == "opaque",
    )
    emu.metrics.outcomes["token"] += 1
    body: dict[str, Any] = {
        "token_type": "Bearer",
        "expires_in": expires_in,
        "ext_expires_in": expires_in,
        "access_token": access,
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"})


routes = [
    Route("/common/discovery/instance", instance_discovery, methods=["GET"]),
    Route("/{tenant}/v2.0/.well-known/openid-configuration", openid_configuration, methods=["GET"]),
    Route("/{tenant}/discovery/v2.0/keys", keys, methods=["GET"]),
    Route("/{tenant}/discovery/keys", keys, methods=["GET"]),
    Route("/{tenant}/oauth2/v2.0/token", token, methods=["POST"]),
    Route("/{tenant}/oauth2/v2.0/authorize", authorize, methods=["GET", "POST"]),
]
