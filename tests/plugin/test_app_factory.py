"""create_app: settings from the environment, the manifest checked at start, health reported."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bridge.config import ConfigError, Settings
from bridge.db import Database
from plugin import create_app
from plugin.contract import manifest
from plugin.services import Services, services


def test_app_holds_its_services(app: Flask, settings: Settings, database: Database) -> None:
    with app.app_context():
        assert services() == Services(settings, database, manifest.load_manifest())
    assert app.secret_key == settings.secret_key
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024


def test_settings_default_to_the_environment(monkeypatch: pytest.MonkeyPatch, database: Database) -> None:
    for name, value in {"HOST_SECRET": "env-host-secret-123456", "SECRET_KEY": "env-secret-key-1234567",
                        "CLIENT_ID": "client", "CLIENT_SECRET": "secret"}.items():
        monkeypatch.setenv(f"OUTLOOK_SYNC_{name}", value)
    app = create_app(database=database)
    with app.app_context():
        assert services().settings.host_secret == "env-host-secret-123456"


def test_missing_setting_stops_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OUTLOOK_SYNC_HOST_SECRET", raising=False)
    with pytest.raises(ConfigError, match="OUTLOOK_SYNC_HOST_SECRET"):
        create_app()


def test_invalid_manifest_stops_start_up(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, settings: Settings, database: Database
) -> None:
    broken = json.loads(manifest.MANIFEST_PATH.read_text(encoding="utf-8"))
    broken["version"] = "one"
    (tmp_path / "plugin.json").write_text(json.dumps(broken), encoding="utf-8")
    monkeypatch.setattr(manifest, "MANIFEST_PATH", tmp_path / "plugin.json")
    with pytest.raises(manifest.ManifestError, match=r"plugin\.json: version: Must be a semantic version"):
        create_app(settings, database)


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.json) == (200, {"status": "ok", "version": "0.1.0"})
