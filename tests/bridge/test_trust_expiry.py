"""Days left → warning level (a table), the rotation settings, and reading a certificate's end date."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bridge.codes import CredentialLevel
from bridge.config import ConfigError, Settings
from bridge.trust import expiry

BASE = {"OUTLOOK_SYNC_HOST_SECRET": "h" * 20, "OUTLOOK_SYNC_SECRET_KEY": "k" * 20,
        "OUTLOOK_SYNC_CLIENT_ID": "11111111-2222-3333-4444-555555555555", "OUTLOOK_SYNC_CLIENT_SECRET": "s" * 20}

LEVELS = [  # days left, level
    (None, CredentialLevel.UNKNOWN),
    (400, CredentialLevel.OK),
    (30.01, CredentialLevel.OK),
    (30, CredentialLevel.NOTICE),
    (7.5, CredentialLevel.NOTICE),
    (7, CredentialLevel.WARNING),
    (5, CredentialLevel.WARNING),
    (1, CredentialLevel.CRITICAL),
    (0.2, CredentialLevel.CRITICAL),
    (0, CredentialLevel.EXPIRED),
    (-3, CredentialLevel.EXPIRED),
]


@pytest.mark.parametrize(("days", "level"), LEVELS)
def test_levels(days: float | None, level: str) -> None:
    assert expiry.level(days) == level


def test_rotation_settings_are_read() -> None:
    settings = Settings.from_env({**BASE, "OUTLOOK_SYNC_CLIENT_SECRET_EXPIRES": "2030-06-30",
                                  "OUTLOOK_SYNC_CLIENT_SECRET_NEXT": "n" * 20,
                                  "OUTLOOK_SYNC_CLIENT_SECRET_NEXT_EXPIRES": "2032-06-30"})
    assert settings.client_secret_expires == date(2030, 6, 30)
    assert "n" * 20 not in repr(settings)
    found = expiry.configured(settings)
    assert [(c.slot, c.kind) for c in found] == [("next", "secret"), ("current", "secret")]
    assert found[1].expires_at == datetime(2030, 6, 30, 23, 59, 59, 999999, tzinfo=UTC)
    assert found[1].whole_days_left(datetime(2030, 6, 25, 12, tzinfo=UTC)) == 5


def test_bad_rotation_settings_are_named(tmp_path: Path) -> None:
    pem = tmp_path / "next.pem"
    pem.write_text("x")
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({**BASE, "OUTLOOK_SYNC_CLIENT_SECRET_NEXT_EXPIRES": "soon",
                           "OUTLOOK_SYNC_CLIENT_CERT_PATH_NEXT": str(pem)})
    names = [name for name, _ in caught.value.problems]
    assert names == ["OUTLOOK_SYNC_CLIENT_SECRET_NEXT_EXPIRES", "OUTLOOK_SYNC_CLIENT_CERT_THUMBPRINT_NEXT"]


def test_certificate_end_date_is_read(tmp_path: Path) -> None:
    from tests.page.test_trust_credentials import certificate
    path, _ = certificate(tmp_path, days=5.5)
    end = expiry.certificate_expiry(path)
    assert timedelta(days=5) < end - datetime.now(UTC) < timedelta(days=6)
    (tmp_path / "empty.pem").write_text("no certificate here")
    with pytest.raises(ValueError):
        expiry.certificate_expiry(str(tmp_path / "empty.pem"))


def test_the_days_left_metric(tmp_path: Path) -> None:
    from tests.page.test_trust_credentials import certificate
    path, thumbprint = certificate(tmp_path, days=5.5)
    settings = Settings.from_env({**BASE, "OUTLOOK_SYNC_CLIENT_CERT_PATH": path,
                                  "OUTLOOK_SYNC_CLIENT_CERT_THUMBPRINT": thumbprint,
                                  "OUTLOOK_SYNC_CLIENT_SECRET_NEXT": "n" * 20})
    values = expiry.gauges(settings, datetime.now(UTC))
    assert list(values) == [("certificate", "current")]  # the next secret has no end date given
    assert 5.4 < values[("certificate", "current")] < 5.6
