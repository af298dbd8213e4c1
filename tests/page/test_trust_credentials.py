"""Credentials that never expire silently: days left and warnings on the page, rotation with a second
credential (the new one first, the old one as fall-back) against the real emulator and real MSAL."""
from __future__ import annotations

import dataclasses
import html
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from flask.testing import FlaskClient

from bridge.codes import TenantReason
from bridge.config import Settings
from bridge.db import Database
from bridge.graph.client import Graph
from bridge.trust import credentials, expiry
from bridge.worker.loop import Worker
from emulator.testing import EmulatorHandle
from tests.page import lms_sample
from tests.page.conftest import ACCOUNT, ACTIVITY, CLIENT_ID, CLIENT_SECRET, Launch, Tenant, emulator_settings
from tests.page.test_connect import activate, consent

PAGE = "/integrations/outlook"
BAD_SECRET = "not-the-registered-secret-0123456789"


def certificate(tmp_path: Path, days: float) -> tuple[str, str]:
    """A self-signed certificate with its key in one PEM, valid for ``days`` more; (path, SHA-1 thumbprint)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "outlook-sync test")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=300))
            .not_valid_after(now + timedelta(days=days)).sign(key, hashes.SHA256()))
    path = tmp_path / "plugin.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()) + cert.public_bytes(serialization.Encoding.PEM))
    return str(path), cert.fingerprint(hashes.SHA1()).hex()


@pytest.fixture
def settings(database: Database, emulator: EmulatorHandle) -> Settings:
    return emulator_settings(database, emulator)


def worker_graph(settings: Settings, database: Database) -> Graph:
    """The Graph client as ``outlook-sync worker`` wires it: credential outcomes stored."""
    graph = Graph.from_settings(settings)
    graph.tokens.on_outcome = credentials.recorder(database)
    return graph


def connect_with_sample(client: FlaskClient, launch: Launch, emulator: EmulatorHandle,
                        hooks: Callable[..., object]) -> None:
    hooks(ACCOUNT, lms_sample.deliveries(datetime.now(UTC)))
    launch("owner", user_id="u-owner")
    assert consent(client, emulator).startswith("200")
    assert activate(client)[0] == 303


def test_a_bad_new_secret_keeps_syncing_on_the_old_one_and_says_why(
        client: FlaskClient, launch: Launch, database: Database, settings: Settings, tenant: Tenant,
        emulator: EmulatorHandle, hooks: Callable[..., object], caplog: pytest.LogCaptureFixture) -> None:
    connect_with_sample(client, launch, emulator, hooks)
    rotating = dataclasses.replace(settings, client_secret_next=BAD_SECRET)
    with caplog.at_level(logging.WARNING, logger="outlook_sync.auth"):
        Worker(database, worker_graph(rotating, database), concurrency=4).drain(timeout=60)
    events = {m["userPrincipalName"]: m["events"] for m in emulator.admin.mailboxes(tenant.id).values()}
    assert len(events["olivia@contoso.example"]) == 2 and len(events["ada@contoso.example"]) == 1
    assert any("AADSTS7000215" in r.getMessage() and "next" in r.getMessage() for r in caplog.records)
    assert not any(BAD_SECRET in r.getMessage() or CLIENT_SECRET in r.getMessage() for r in caplog.records)

    client.application.extensions["outlook_sync"] = dataclasses.replace(
        client.application.extensions["outlook_sync"], settings=rotating)
    page = html.unescape(client.get(PAGE).get_data(as_text=True))
    assert "Next (tried first) client secret" in page
    assert "Refused by Azure AD" in page and "AADSTS7000215" in page
    assert "The current credential is used meanwhile." in page
    assert BAD_SECRET not in page and CLIENT_SECRET not in page


def test_a_good_new_secret_carries_on_when_the_old_one_is_revoked(
        client: FlaskClient, launch: Launch, database: Database, settings: Settings, tenant: Tenant,
        emulator: EmulatorHandle, hooks: Callable[..., object]) -> None:
    connect_with_sample(client, launch, emulator, hooks)
    new_secret = "the-new-registered-secret-0123456789"
    emulator.admin.add_secret(CLIENT_ID, new_secret)
    emulator.admin.revoke_secret(CLIENT_ID, "primary")
    rotating = dataclasses.replace(settings, client_secret_next=new_secret)
    with database.session() as session:
        credentials.note_rotation(session, credentials.settings_fingerprints(settings), datetime.now(UTC))
        assert credentials.note_rotation(session, credentials.settings_fingerprints(rotating),
                                         datetime.now(UTC)) == ["next"]
    Worker(database, worker_graph(rotating, database), concurrency=4).drain(timeout=60)
    events = {m["userPrincipalName"]: m["events"] for m in emulator.admin.mailboxes(tenant.id).values()}
    assert len(events["olivia@contoso.example"]) == 2 and len(events["ada@contoso.example"]) == 1
    with database.session() as session:
        states = {s.slot: s for s in credentials.states(session, expiry.configured(rotating), datetime.now(UTC))}
    assert states["next"].ok_at is not None and not states["next"].failing
    page = html.unescape(client.get(ACTIVITY).get_data(as_text=True))
    assert "A credential of the plugin was changed" in page and "credential changed: next (tried first)" in page


def test_a_certificate_five_days_from_expiry_shows_a_warning(
        client: FlaskClient, launch: Launch, database: Database, settings: Settings, tmp_path: Path) -> None:
    path, thumbprint = certificate(tmp_path, days=5.5)
    with_cert = dataclasses.replace(settings, client_secret=None, client_cert_path=path,
                                    client_cert_thumbprint=thumbprint,
                                    client_secret_next="x" * 20, client_secret_next_expires=date(2099, 1, 1))
    client.application.extensions["outlook_sync"] = dataclasses.replace(
        client.application.extensions["outlook_sync"], settings=with_cert)
    launch("owner", user_id="u-owner")
    page = html.unescape(client.get(PAGE).get_data(as_text=True))
    assert "Current certificate" in page and "5 days left" in page
    assert "Expires within 7 days: rotate it now." in page
    assert 'credential-7_days' in page and 'credential-ok' in page
    launch("learner", user_id="u-ada")
    assert "days left" not in client.get(PAGE).get_data(as_text=True)


def test_when_no_credential_works_the_current_ones_refusal_is_raised_and_each_reported_once(
        settings: Settings, tenant: Tenant, emulator: EmulatorHandle) -> None:
    from bridge.graph import errors

    emulator.admin.grant_consent(tenant.id, CLIENT_ID)
    seen: list[tuple[str, str | None]] = []
    graph = Graph.from_settings(dataclasses.replace(settings, client_secret="wrong-current-secret-0123456789",
                                                    client_secret_next=BAD_SECRET))
    graph.tokens.on_outcome = lambda slot, refusal: seen.append((slot, refusal.code if refusal else None))
    for _ in range(2):
        with pytest.raises(errors.AuthFailed) as caught:
            graph.tokens.token(tenant.id)
        assert caught.value.reason == TenantReason.SECRET_INVALID and caught.value.code == "7000215"
    assert seen == [("next", "7000215"), ("current", "7000215")]
