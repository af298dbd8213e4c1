"""Identity platform: real, unpatched MSAL gets tokens; every refusal has Entra ID's code."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import jwt
import msal
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from emulator.client import EmulatorAdminError
from emulator.testing import EmulatorHandle
from tests.emulator.emu_support import ROLES, SCOPE, SECRET, World, make_world, session


def msal_app(
    world: World, credential: object, authority_tenant: str | None = None, client_id: str | None = None
) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        client_id or world.client_id,
        authority=world.emu.authority(authority_tenant or world.tenant_id),
        client_credential=credential,
        instance_discovery=False,
        verify=world.emu.ca_path,
    )


def decode(emu: EmulatorHandle, token: str, tenant_id: str) -> dict[str, object]:
    config = session(emu).get(f"{emu.base_url}/{tenant_id}/v2.0/.well-known/openid-configuration").json()
    jwks = session(emu).get(config["jwks_uri"]).json()
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(jwt.PyJWK(k) for k in jwks["keys"] if k["kid"] == kid)
    return jwt.decode(token, key.key, algorithms=["RS256"], audience="https://graph.microsoft.com")


def make_cert() -> tuple[str, str, str]:
    """(private key PEM, certificate PEM, SHA-1 thumbprint hex)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lms-outlook-app")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode(), cert.fingerprint(hashes.SHA1()).hex()


def test_msal_secret_token_has_graph_claims(world: World) -> None:
    result = msal_app(world, SECRET).acquire_token_for_client(scopes=[SCOPE])
    assert "access_token" in result, result
    assert result["token_source"] == "identity_provider"
    claims = decode(world.emu, result["access_token"], world.tenant_id)
    assert claims["tid"] == world.tenant_id
    assert claims["aud"] == "https://graph.microsoft.com"
    assert claims["appid"] == claims["azp"] == world.client_id
    assert sorted(claims["roles"]) == sorted(ROLES)  # type: ignore[arg-type]
    assert claims["exp"] - claims["iat"] == 3600  # type: ignore[operator]
    assert claims["iat"] <= time.time() + 1  # type: ignore[operator]
    again = msal_app(world, SECRET)
    assert again.acquire_token_for_client(scopes=[SCOPE])["token_source"] == "identity_provider"


def test_msal_caches_the_token_in_one_app_object(world: World) -> None:
    app = msal_app(world, SECRET)
    first = app.acquire_token_for_client(scopes=[SCOPE])
    second = app.acquire_token_for_client(scopes=[SCOPE])
    assert second["token_source"] == "cache"
    assert second["access_token"] == first["access_token"]


def test_authority_by_verified_domain(world: World) -> None:
    result = msal_app(world, SECRET, authority_tenant="contoso.example").acquire_token_for_client(scopes=[SCOPE])
    assert decode(world.emu, result["access_token"], world.tenant_id)["tid"] == world.tenant_id


@pytest.mark.parametrize("with_public_cert", [False, True], ids=["sha1-thumbprint-RS256", "public-cert-PS256"])
def test_msal_certificate_credential(emu: EmulatorHandle, with_public_cert: bool) -> None:
    key_pem, cert_pem, thumbprint = make_cert()
    world = make_world(emu)
    client_id = str(uuid.uuid4())
    emu.admin.register_app(client_id, certificate_pem=cert_pem, required_roles=["Calendars.ReadWrite"])
    emu.admin.grant_consent(world.tenant_id, client_id)
    credential = {
        "private_key": key_pem,
        **({"public_certificate": cert_pem} if with_public_cert else {"thumbprint": thumbprint}),
    }
    result = msal_app(world, credential, client_id=client_id).acquire_token_for_client(scopes=[SCOPE])
    assert "access_token" in result, result
    claims = decode(emu, result["access_token"], world.tenant_id)
    assert claims["roles"] == ["Calendars.ReadWrite"]
    assert claims["appidacr"] == "2"


def test_unregistered_certificate_is_refused(emu: EmulatorHandle) -> None:
    _, cert_pem, _ = make_cert()
    other_key, _, other_thumb = make_cert()
    world = make_world(emu)
    client_id = str(uuid.uuid4())
    emu.admin.register_app(client_id, certificate_pem=cert_pem)
    emu.admin.grant_consent(world.tenant_id, client_id)
    result = msal_app(
        world, {"private_key": other_key, "thumbprint": other_thumb}, client_id=client_id
    ).acquire_token_for_client(scopes=[SCOPE])
    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [700027]


def test_no_roles_claim_when_consent_granted_nothing(emu: EmulatorHandle) -> None:
    world = make_world(emu, roles=[])
    result = msal_app(world, SECRET).acquire_token_for_client(scopes=[SCOPE])
    assert "roles" not in decode(emu, result["access_token"], world.tenant_id)


def test_never_consented_is_7000229(emu: EmulatorHandle) -> None:
    world = make_world(emu)
    client_id = str(uuid.uuid4())
    emu.admin.register_app(client_id, client_secret=SECRET)
    result = msal_app(world, SECRET, client_id=client_id).acquire_token_for_client(scopes=[SCOPE])
    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [7000229]
    assert result["error_description"].startswith("AADSTS7000229:")
    assert {"trace_id", "correlation_id", "timestamp"} <= set(result)


def test_revoked_consent_is_65001(world: World) -> None:
    world.emu.admin.revoke_consent(world.tenant_id, world.client_id)
    response = world.token()
    assert response.status_code == 400
    body = response.json()
    assert body["error_codes"] == [65001]
    assert body["error"] == "unauthorized_client"
    result = msal_app(world, SECRET).acquire_token_for_client(scopes=[SCOPE])
    assert result["error_codes"] == [65001]


def test_bad_secret_is_7000215(world: World) -> None:
    response = world.token(secret="wrong")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.json()["error_codes"] == [7000215]
    assert msal_app(world, "wrong").acquire_token_for_client(scopes=[SCOPE])["error_codes"] == [7000215]


def test_expired_secret_is_7000222(world: World) -> None:
    world.emu.admin.expire_secret(world.client_id)
    response = world.token()
    assert response.status_code == 401
    assert response.json()["error_codes"] == [7000222]
    assert msal_app(world, SECRET).acquire_token_for_client(scopes=[SCOPE])["error_codes"] == [7000222]


def test_secret_with_future_expiry_still_works(emu: EmulatorHandle) -> None:
    world = make_world(emu)
    client_id = str(uuid.uuid4())
    emu.admin.register_app(client_id, client_secret=SECRET, secret_expires_at=time.time() + 3600)
    emu.admin.grant_consent(world.tenant_id, client_id)
    assert world.token(client_id=client_id).status_code == 200


def test_unknown_tenant_is_90002(world: World) -> None:
    unknown = str(uuid.uuid4())
    response = world.token(tenant=unknown)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert response.json()["error_codes"] == [90002]
    discovery = session(world.emu).get(f"{world.emu.base_url}/{unknown}/v2.0/.well-known/openid-configuration")
    assert discovery.status_code == 400 and discovery.json()["error_codes"] == [90002]
    # MSAL fails at construction (tenant discovery), not with an error dict: the bridge must catch it.
    with pytest.raises(ValueError, match="Unable to get authority configuration"):
        msal_app(world, SECRET, authority_tenant=unknown)


def test_unknown_client_is_700016(world: World) -> None:
    response = world.token(client_id=str(uuid.uuid4()))
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"
    assert response.json()["error_codes"] == [700016]


def test_scope_must_be_graph_default(world: World) -> None:
    response = session(world.emu).post(
        f"{world.emu.base_url}/{world.tenant_id}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": world.client_id,
            "client_secret": SECRET,
            "scope": "https://graph.microsoft.com/Calendars.ReadWrite",
        },
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_basic_auth_client_secret(world: World) -> None:
    response = session(world.emu).post(
        f"{world.emu.base_url}/{world.tenant_id}/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "scope": SCOPE},
        auth=(world.client_id, SECRET),
    )
    assert response.status_code == 200, response.text


def test_discovery_document(world: World) -> None:
    base = world.emu.base_url
    for tenant in (world.tenant_id, "contoso.com", "organizations"):
        config = session(world.emu).get(f"{base}/{tenant}/v2.0/.well-known/openid-configuration").json()
        assert {"authorization_endpoint", "token_endpoint", "issuer", "jwks_uri"} <= set(config)
    config = session(world.emu).get(f"{base}/contoso.com/v2.0/.well-known/openid-configuration").json()
    assert config["token_endpoint"] == f"{base}/{world.tenant_id}/oauth2/v2.0/token"
    assert config["issuer"] == f"{base}/{world.tenant_id}/v2.0"


def test_token_lifetime_is_configurable_and_expiry_is_enforced(world: World) -> None:
    world.emu.admin.set_limits(token_lifetime=2)
    body = world.token().json()
    assert body["expires_in"] == 2
    graph = world.graph(body["access_token"])
    assert graph.get(world.url("/users/alice@contoso.com/events")).status_code == 200
    time.sleep(2.05)
    expired = graph.get(world.url("/users/alice@contoso.com/events"))
    assert expired.status_code == 401
    assert expired.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_opaque_tokens_are_not_jwts_and_graph_still_knows_them(emu: EmulatorHandle) -> None:
    """token_format=opaque: nothing a client could decode, yet Graph authorizes by what consent granted."""
    world = make_world(emu, roles=["User.Read.All"])
    emu.admin.set_limits(token_format="opaque")
    token = world.token().json()["access_token"]
    assert "." not in token
    with pytest.raises(jwt.DecodeError):
        jwt.decode(token, options={"verify_signature": False})
    graph = world.graph(token)
    assert graph.get(world.url("/users/alice@contoso.com")).status_code == 200
    denied = graph.get(world.url("/users/alice@contoso.com/events"))
    assert (denied.status_code, denied.json()["error"]["code"]) == (403, "ErrorAccessDenied")
    forged = world.graph(token[:-4] + "AAAA").get(world.url("/users/alice@contoso.com"))
    assert (forged.status_code, forged.json()["error"]["code"]) == (401, "InvalidAuthenticationToken")


def test_token_format_is_checked(emu: EmulatorHandle) -> None:
    with pytest.raises(EmulatorAdminError, match="token_format"):
        emu.admin.set_limits(token_format="jwe")


def test_requests_ca_bundle_overrides_verify(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """facts.md: REQUESTS_CA_BUNDLE beats ``verify=`` in requests, so MSAL fails with a system bundle set."""
    import certifi
    import requests

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    with pytest.raises(requests.exceptions.SSLError):
        msal_app(world, SECRET)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", world.emu.ca_path)
    assert "access_token" in msal_app(world, SECRET).acquire_token_for_client(scopes=[SCOPE])
