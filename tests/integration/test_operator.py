"""An operator's path: errors that name the fix, `status` about accounts, `serve` on a busy port,
the seeded emulator and `outlook-sync host …` against a running plugin, and `--help` everywhere."""
from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from bridge.codes import AccessGrant
from bridge.config import Settings
from bridge.db import Database
from bridge.graph.client import Graph
from bridge.models import LmsUser
from emulator.client import EmulatorAdmin
from emulator.seed import DOMAINS, USERS
from plugin import create_app
from plugin.cli.main import parser
from tests.integration.test_cli import ENV, outlook_sync

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = ("OUTLOOK_SYNC_HOST_SECRET", "OUTLOOK_SYNC_SECRET_KEY", "OUTLOOK_SYNC_CLIENT_ID",
            "OUTLOOK_SYNC_CLIENT_SECRET")


def test_every_missing_variable_is_named_at_once() -> None:
    done = outlook_sync("migrate", env={})
    assert done.returncode == 1 and "Traceback" not in done.stderr
    for name in REQUIRED:
        assert name in done.stderr


def test_an_unreachable_database_is_one_line_naming_the_variable() -> None:
    done = outlook_sync("migrate", env={**ENV, "OUTLOOK_SYNC_DATABASE_URL": "postgresql://postgres:pw@127.0.0.1:1/x"})
    assert done.returncode == 1 and "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("outlook-sync: OUTLOOK_SYNC_DATABASE_URL: cannot open") and "pw" not in line


def test_a_missing_postgresql_database_is_one_line_naming_the_variable(postgresql_url: str) -> None:
    missing = make_url(postgresql_url).set(database=f"nowhere_{secrets.token_hex(4)}").render_as_string(False)
    done = outlook_sync("status", env={**ENV, "OUTLOOK_SYNC_DATABASE_URL": missing})
    assert done.returncode == 1 and "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert "OUTLOOK_SYNC_DATABASE_URL" in line and "does not exist" in line


@pytest.mark.parametrize("folder", ["tmp", "root"])
def test_a_sqlite_folder_that_does_not_exist_is_refused_and_not_made(folder: str, tmp_path: Path) -> None:
    base = tmp_path if folder == "tmp" else Path("/")
    missing = base / f"outlook-sync-nowhere-{secrets.token_hex(4)}"
    done = outlook_sync("migrate", env={**ENV, "OUTLOOK_SYNC_DATABASE_URL": f"sqlite:///{missing}/x.sqlite3"})
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "OUTLOOK_SYNC_DATABASE_URL" in done.stderr and "does not exist" in done.stderr
    assert not missing.exists()


def test_the_default_database_goes_in_var_under_the_current_folder(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "plugin.cli", "migrate"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env={**_clean_env(), **ENV, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "var" / "outlook-sync.sqlite3").is_file()
    assert "Running upgrade" not in done.stderr  # no migration chatter


def test_status_says_when_there_is_no_account_or_an_unknown_one(tmp_path: Path) -> None:
    env = {**ENV, "OUTLOOK_SYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"}
    empty = outlook_sync("status", env=env)
    assert empty.returncode == 0 and "no LMS account yet" in empty.stdout
    _send_user(env, tmp_path)  # makes account "acme" through a hook
    unknown = outlook_sync("status", "--account", "nope", env=env)
    assert unknown.returncode == 1 and "no account 'nope'" in unknown.stderr and "acme" in unknown.stderr


def _send_user(env: dict[str, str], tmp_path: Path) -> None:
    """Store account acme through the app itself (no server needed)."""
    settings = Settings.from_env(env)
    app = create_app(settings)
    from plugin.host import HostClient, dumps

    body = dumps(HostClient.delivery("user.upserted", "acme", USER))
    answer = app.test_client().post("/hooks", data=body,
                                    headers=HostClient("http://x", settings.host_secret).signed_headers(body))
    assert answer.status_code == 202, answer.get_json()


USER = {"id": "u-1", "email": "ada@contoso.example", "name": "Ada", "active": True, "role": "owner",
        "timezone": None, "version": 1}


def test_serve_on_a_busy_port_stops_before_starting_anything(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        env = {**ENV, "OUTLOOK_SYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"}
        done = outlook_sync("serve", "--port", str(port), env=env)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr and "--port" in done.stderr
    assert "worker" not in done.stderr and not (tmp_path / "x.sqlite3").exists()


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("OUTLOOK_SYNC_")}


@pytest.fixture
def plugin_url(database: Database) -> Iterator[tuple[str, Database]]:
    """The plugin served over HTTP on a free port, with the test's database."""
    settings = Settings.from_env({**ENV, "OUTLOOK_SYNC_DATABASE_URL": database.url})
    server = make_server("127.0.0.1", 0, create_app(settings, database), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", database
    finally:
        server.shutdown()


def _host(*args: str, url: str, stdin: str = "", secret: str | None = ENV["OUTLOOK_SYNC_HOST_SECRET"]
          ) -> subprocess.CompletedProcess[str]:
    env = {**_clean_env(), "PYTHONPATH": str(ROOT)}
    if secret:
        env["OUTLOOK_SYNC_HOST_SECRET"] = secret
    return subprocess.run([sys.executable, "-m", "plugin.cli", "host", *args, "--url", url], input=stdin,
                          env=env, capture_output=True, text=True, timeout=120)


def test_host_commands_act_as_the_lms(plugin_url: tuple[str, Database], tmp_path: Path) -> None:
    url, database = plugin_url
    one = _host("send", url=url, stdin=json.dumps({"topic": "user.upserted", "account": "acme", "data": USER}))
    assert one.returncode == 0 and one.stdout.startswith("202 "), one.stdout + one.stderr
    batch_file = tmp_path / "batch.json"
    batch_file.write_text(json.dumps({"deliveries": [
        {"topic": "user.upserted", "account": "acme", "data": {**USER, "id": f"u-{n}", "email": f"u{n}@x.example"}}
        for n in (2, 3)]}))
    many = _host("batch", str(batch_file), url=url)
    assert many.returncode == 0 and many.stdout.startswith("202 "), many.stdout + many.stderr
    with database.session() as session:
        assert sorted(session.scalars(select(LmsUser.id))) == ["u-1", "u-2", "u-3"]
    refused = _host("send", url=url, stdin=json.dumps({"topic": "user.upserted", "account": "acme",
                                                       "data": {"id": "u-9"}}))
    assert refused.returncode == 1 and refused.stdout.startswith("400 ")
    link = _host("launch-link", "--account", "acme", "--user", "u-1", "--role", "owner", url=url)
    assert link.returncode == 0 and re.fullmatch(rf"{url}/integrations/outlook\?launch=\S+", link.stdout.strip())
    import requests

    assert requests.get(link.stdout.strip(), timeout=30).status_code == 200
    state = _host("user-state", "--account", "acme", "--user", "u-2", "--locale", "ru", url=url)
    assert state.returncode == 0 and state.stdout.startswith("200 "), state.stdout + state.stderr
    assert json.loads(state.stdout[4:])["locale"] == "ru"
    unknown = _host("user-state", "--account", "other", "--user", "u-2", url=url)
    assert unknown.returncode == 1 and unknown.stdout.startswith("404 ")


def test_host_commands_name_what_is_wrong(tmp_path: Path) -> None:
    url = "http://127.0.0.1:9"
    no_secret = _host("launch-link", "--account", "a", "--user", "u", "--role", "owner", url=url, secret=None)
    assert no_secret.returncode == 2 and "OUTLOOK_SYNC_HOST_SECRET is not set" in no_secret.stderr
    not_json = _host("send", url=url, stdin="{nope")
    assert not_json.returncode == 2 and "- is not JSON" in not_json.stderr
    no_topic = _host("batch", url=url, stdin=json.dumps([{"account": "a", "data": {}}]))
    assert no_topic.returncode == 2 and "topic, account and data" in no_topic.stderr
    down = _host("send", url=url, stdin=json.dumps({"topic": "user.deleted", "account": "a", "data": {}}))
    assert down.returncode == 2 and "cannot reach the plugin" in down.stderr and "Traceback" not in down.stderr


def test_the_seeded_emulator_prints_settings_that_work(tmp_path: Path) -> None:
    public = "https://plugin.example.com"
    emulator = subprocess.Popen(
        [sys.executable, "-m", "plugin.cli", "emulator", "--port", "0", "--seed", "demo", "--public-url", public,
         "--cert-dir", "certs"],  # relative, as the default is: the printed path must work from anywhere
        cwd=tmp_path, env={**_clean_env(), "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    try:
        assert emulator.stdout is not None
        exports: dict[str, str] = {}
        printed_dn = ""
        for line in emulator.stdout:
            printed_dn = line.partition("distinguished name: ")[2].strip() or printed_dn
            if line.startswith("export "):
                name, _, value = line.removeprefix("export ").strip().partition("=")
                exports[name] = value
                if name == "OUTLOOK_SYNC_SECRET_KEY":
                    break
        settings = Settings.from_env({**exports, "OUTLOOK_SYNC_DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3"})
        assert settings.public_url == public and settings.ca_bundle == exports["OUTLOOK_SYNC_CA_BUNDLE"]
        assert Path(settings.ca_bundle).is_absolute() and Path(settings.ca_bundle).is_file()
        admin = EmulatorAdmin(settings.authority_url, settings.ca_bundle)
        apps = {a["client_id"]: a for a in admin._call("GET", "/apps")["apps"]}
        assert set(apps) == {settings.client_id, settings.scoped_client_id}
        app, scoped = apps[settings.client_id], apps[str(settings.scoped_client_id)]
        assert app["redirect_uris"] == scoped["redirect_uris"] == [f"{public}/integrations/outlook/consent"]
        assert sorted(app["required_roles"]) == ["Calendars.ReadWrite", "Domain.Read.All", "User.Read.All"]
        assert sorted(scoped["required_roles"]) == ["Domain.Read.All", "User.Read.All"]  # only the LMS's people
        [tenant] = admin.tenants()
        admin.grant_consent(tenant["id"], settings.client_id)  # what the consent page does on Accept
        admin.grant_consent(tenant["id"], str(settings.scoped_client_id))
        groups = {g["displayName"]: g for g in admin.groups(tenant["id"])}
        assert groups["LMS people"]["distinguishedName"] == printed_dn != ""
        assert groups["Instructors"]["id"] in groups["LMS people"]["members"]  # a nested group, for the trap
        graph = Graph.from_settings(settings)  # real MSAL with the printed client secret
        assert set(graph.directory.verified_domains(tenant["id"]) or []) == {*DOMAINS, "contoso.onmicrosoft.com"}
        assert graph.directory.find_user(tenant["id"], USERS[2][0]) is not None
        scoped_graph = graph.under(AccessGrant.EXCHANGE_SCOPE)  # the second registration's printed secret
        assert scoped_graph is not graph and scoped_graph.directory.find_user(tenant["id"], USERS[2][0]) is not None
        graph.close()
        admin.close()
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)


@pytest.mark.parametrize("command", [[], ["serve"], ["worker"], ["migrate"], ["status"], ["demo"], ["emulator"],
                                     ["host"], ["host", "send"], ["host", "batch"], ["host", "launch-link"],
                                     ["host", "user-state"]])
def test_every_option_has_help(command: list[str]) -> None:
    def find(root: object, names: list[str]) -> object:
        for name in names:
            actions = [a for a in root._actions if a.__class__.__name__ == "_SubParsersAction"]  # type: ignore[attr-defined]
            root = actions[0].choices[name]
        return root

    found = find(parser(), command)
    for action in found._actions:  # type: ignore[attr-defined]
        assert action.help, f"outlook-sync {' '.join(command)} {action.option_strings or action.dest} has no help"
