"""Configuration: defaults for the embedded case, and a message naming each bad variable."""
from __future__ import annotations

from pathlib import Path

import pytest

from bridge.config import ConfigError, Settings
from bridge.db import Database, DatabaseUnreachable

BASE = {"OUTLOOK_SYNC_HOST_SECRET": "h" * 20, "OUTLOOK_SYNC_SECRET_KEY": "k" * 20,
        "OUTLOOK_SYNC_CLIENT_ID": "11111111-2222-3333-4444-555555555555",
        "OUTLOOK_SYNC_CLIENT_SECRET": "client-secret-value"}


def test_defaults_are_the_embedded_case() -> None:
    settings = Settings.from_env(BASE)
    assert settings.database_url.startswith("sqlite:///") and settings.database_url.endswith("outlook-sync.sqlite3")
    assert settings.authority_url == "https://login.microsoftonline.com"
    assert settings.graph_url == "https://graph.microsoft.com/v1.0"
    assert settings.public_url == "http://127.0.0.1:8000" and settings.ca_bundle is None


def test_postgresql_urls_use_psycopg() -> None:
    settings = Settings.from_env({**BASE, "OUTLOOK_SYNC_DATABASE_URL": "postgres://u@db/x"})
    assert settings.database_url == "postgresql+psycopg://u@db/x"


@pytest.mark.parametrize(("change", "named"), [
    ({"OUTLOOK_SYNC_HOST_SECRET": ""}, "OUTLOOK_SYNC_HOST_SECRET"),
    ({"OUTLOOK_SYNC_SECRET_KEY": "short"}, "OUTLOOK_SYNC_SECRET_KEY"),
    ({"OUTLOOK_SYNC_CLIENT_ID": ""}, "OUTLOOK_SYNC_CLIENT_ID"),
    ({"OUTLOOK_SYNC_CLIENT_SECRET": ""}, "OUTLOOK_SYNC_CLIENT_SECRET"),
    ({"OUTLOOK_SYNC_SCOPED_CLIENT_ID": "22222222-3333-4444-5555-666666666666"}, "OUTLOOK_SYNC_SCOPED_CLIENT_SECRET"),
    ({"OUTLOOK_SYNC_SCOPED_CLIENT_SECRET": "scoped-secret"}, "OUTLOOK_SYNC_SCOPED_CLIENT_ID"),
    ({"OUTLOOK_SYNC_DATABASE_URL": "mysql://x"}, "OUTLOOK_SYNC_DATABASE_URL"),
    ({"OUTLOOK_SYNC_PUBLIC_URL": "not a url"}, "OUTLOOK_SYNC_PUBLIC_URL"),
    ({"OUTLOOK_SYNC_AUTHORITY_URL": "http://login.example"}, "OUTLOOK_SYNC_AUTHORITY_URL"),
    ({"OUTLOOK_SYNC_GRAPH_URL": "graph"}, "OUTLOOK_SYNC_GRAPH_URL"),
    ({"OUTLOOK_SYNC_CA_BUNDLE": "/no/such/file.pem"}, "OUTLOOK_SYNC_CA_BUNDLE"),
    ({"OUTLOOK_SYNC_WORKER_CONCURRENCY": "many"}, "OUTLOOK_SYNC_WORKER_CONCURRENCY"),
    ({"OUTLOOK_SYNC_WORKER_CONCURRENCY": "0"}, "OUTLOOK_SYNC_WORKER_CONCURRENCY"),
    ({"OUTLOOK_SYNC_CLIENT_CERT_THUMBPRINT": "AB"}, "OUTLOOK_SYNC_CLIENT_CERT_PATH"),
    ({"OUTLOOK_SYNC_LOG_FORMAT": "xml"}, "OUTLOOK_SYNC_LOG_FORMAT"),
])
def test_a_bad_variable_is_named(change: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_env({**BASE, **change})
    assert error.value.name == named and named in str(error.value)


def test_secrets_stay_out_of_messages_and_repr() -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_env({**BASE, "OUTLOOK_SYNC_HOST_SECRET": "tooshort"})
    assert "tooshort" not in str(error.value)
    shown = repr(Settings.from_env({**BASE, "OUTLOOK_SYNC_SCOPED_CLIENT_ID": "22222222-3333-4444-5555-666666666666",
                                    "OUTLOOK_SYNC_SCOPED_CLIENT_SECRET": "scoped-secret-value"}))
    assert "client-secret-value" not in shown and "h" * 20 not in shown and "scoped-secret-value" not in shown


def test_a_certificate_instead_of_a_secret(tmp_path: Path) -> None:
    pem = tmp_path / "app.pem"
    pem.write_text("-----BEGIN PRIVATE KEY-----\n")
    env = {k: v for k, v in BASE.items() if k != "OUTLOOK_SYNC_CLIENT_SECRET"}
    settings = Settings.from_env({**env, "OUTLOOK_SYNC_CLIENT_CERT_PATH": str(pem),
                                  "OUTLOOK_SYNC_CLIENT_CERT_THUMBPRINT": "AB12"})
    assert settings.client_cert_path == str(pem) and settings.client_secret is None


def test_every_missing_or_bad_variable_is_named_at_once() -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_env({"OUTLOOK_SYNC_WORKER_CONCURRENCY": "many"})
    named = [name for name, _ in error.value.problems]
    assert named == ["OUTLOOK_SYNC_HOST_SECRET", "OUTLOOK_SYNC_SECRET_KEY", "OUTLOOK_SYNC_CLIENT_ID",
                     "OUTLOOK_SYNC_WORKER_CONCURRENCY", "OUTLOOK_SYNC_CLIENT_SECRET"]
    assert all(name in str(error.value) for name in named)


@pytest.mark.parametrize(("value", "kept"), [
    ("'self'", "'self'"),
    ("'self' https://lms.example.com", "'self' https://lms.example.com"),
    ("https://lms.example.com/  http://127.0.0.1:8080", "https://lms.example.com http://127.0.0.1:8080"),
    ("https://*.lms.example.com", "https://*.lms.example.com"),
    ("'none'", "'none'"),
])
def test_frame_ancestors_takes_a_list_of_origins(value: str, kept: str) -> None:
    assert Settings.from_env({**BASE, "OUTLOOK_SYNC_FRAME_ANCESTORS": value}).frame_ancestors == kept


@pytest.mark.parametrize("value", ["https://lms.example.com; script-src *", "*", "lms.example.com",
                                   "https://lms.example.com/path", "'self' 'unsafe-inline'", "'none' 'self'",
                                   "javascript:alert(1)"])
def test_frame_ancestors_refuses_anything_but_origins(value: str) -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_env({**BASE, "OUTLOOK_SYNC_FRAME_ANCESTORS": value})
    assert error.value.name == "OUTLOOK_SYNC_FRAME_ANCESTORS" and "origin" in str(error.value)


def test_a_sqlite_file_in_a_missing_folder_is_refused_and_no_folder_is_made(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such"
    with pytest.raises(ConfigError) as error:
        Settings.from_env({**BASE, "OUTLOOK_SYNC_DATABASE_URL": f"sqlite:///{missing}/x.sqlite3"})
    assert error.value.name == "OUTLOOK_SYNC_DATABASE_URL" and str(missing) in str(error.value)
    with pytest.raises(DatabaseUnreachable, match="does not exist"):
        Database(f"sqlite:///{missing}/x.sqlite3")
    assert not (tmp_path / "no").exists()
