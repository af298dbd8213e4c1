"""``outlook-sync demo``: the embedded default end to end, against the local emulator.

It starts the emulator and the plugin (SQLite, real HTTP), loads a sample LMS account through signed
hooks, goes through the admin-consent flow over HTTP as a browser would, syncs, prints what each
user got (in the page's words) and what each emulated mailbox holds, and exits non-zero if that is
not what the rules say. With ``keep_running`` it serves the page until Ctrl-C or SIGTERM and prints
the ``outlook-sync host launch-link`` command that opens it; the emulator child never outlives it.
"""
from __future__ import annotations

import logging
import secrets
import shlex
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import requests
from werkzeug.serving import make_server

from bridge.accounts import status
from bridge.codes import Reason, UserState
from bridge.config import Settings
from bridge.db import Database
from bridge.graph.client import Graph
from bridge.migrate import upgrade
from bridge.worker.loop import Worker
from plugin import words
from plugin.demo import feeds as demo_feeds
from plugin.host import HostClient, launch_url

ACCOUNT = "acme-academy"
CLIENT_ID = "8d6c0a8e-5b1f-4c55-9d0e-6f3f5a1b2c3d"
DOMAIN = "contoso.example"
DEMO_DB = Path("var") / "demo.sqlite3"
DEMO_HOST_SECRET = Path("var") / "demo-host-secret"  # read by the printed launch-link command, never shown

# (LMS id, name, address, role, mailbox kind in the tenant or None when not in it)
PEOPLE = [
    ("u-owner", "Olivia Owner", f"olivia@{DOMAIN}", "owner", "exchange_online"),
    ("u-admin", "Adam Admin", f"adam@{DOMAIN}", "admin", "exchange_online"),
    ("u-ingrid", "Ingrid Instructor", f"ingrid@{DOMAIN}", "instructor", "exchange_online"),
    ("u-lena", "Lena Learner", f"lena@{DOMAIN}", "learner", "exchange_online"),
    ("u-lars", "Lars Learner", f"lars@{DOMAIN}", "learner", "exchange_online"),
    ("u-lucy", "Lucy Learner", f"lucy@{DOMAIN}", "learner", "exchange_online"),
    ("u-gina", "Gina Gmail", "gina.learner@gmail.com", "learner", None),
    ("u-otto", "Otto Onprem", f"otto@{DOMAIN}", "learner", "on_premises"),
]


def sample_events(now: datetime) -> list[dict[str, Any]]:
    """Two events, one with three sessions in Berlin, one with two in New York."""
    day = (now + timedelta(days=7)).replace(hour=0, minute=0, second=0, microsecond=0)

    def at(days: int, hour: int, zone_offset: int) -> str:
        return (day + timedelta(days=days, hours=hour - zone_offset)).astimezone(UTC).isoformat()

    return [
        {"id": "ev-fire", "title": "Fire safety training", "description": "Evacuation routes & extinguishers.",
         "organizer_id": "u-ingrid", "url": "https://lms.example/events/ev-fire", "location": "Room 4.01",
         "online_url": None, "timezone": "Europe/Berlin", "cancelled": False, "version": 1,
         "sessions": [
             {"id": "fire-1", "title": "Morning group", "start": at(0, 9, 1), "end": at(0, 11, 1)},
             {"id": "fire-2", "title": "Afternoon group", "start": at(0, 14, 1), "end": at(0, 16, 1)},
             {"id": "fire-3", "title": "Catch-up", "start": at(2, 9, 1), "end": at(2, 11, 1),
              "location": "Room 2.10"},
         ]},
        {"id": "ev-onboard", "title": "Onboarding", "description": "Welcome to the company.",
         "organizer_id": "u-ingrid", "url": "https://lms.example/events/ev-onboard", "location": None,
         "online_url": "https://meet.example/onboarding", "timezone": "America/New_York", "cancelled": False,
         "version": 1,
         "sessions": [
             {"id": "onb-1", "title": "Day 1", "start": at(1, 10, -5), "end": at(1, 12, -5)},
             {"id": "onb-2", "title": "Day 2", "start": at(3, 10, -5), "end": at(3, 12, -5)},
         ]},
    ]


ENROLLMENTS = [  # (user, event, chosen session or None)
    ("u-lena", "ev-fire", "fire-1"),
    ("u-lars", "ev-fire", "fire-2"),
    ("u-lucy", "ev-fire", None),
    ("u-gina", "ev-fire", "fire-1"),
    ("u-otto", "ev-onboard", "onb-1"),
    ("u-lena", "ev-onboard", "onb-2"),
]

# What the rules say each user ends with: (state, reason, subjects of their entries)
EXPECTED = {
    "u-owner": (UserState.SYNCED, Reason.NO_UPCOMING_SESSIONS, []),
    "u-admin": (UserState.SYNCED, Reason.NO_UPCOMING_SESSIONS, []),
    "u-ingrid": (UserState.SYNCED, None, ["Fire safety training — Morning group",
                                          "Fire safety training — Afternoon group",
                                          "Fire safety training — Catch-up", "Onboarding — Day 1",
                                          "Onboarding — Day 2"]),
    "u-lena": (UserState.SYNCED, None, ["Fire safety training — Morning group", "Onboarding — Day 2"]),
    "u-lars": (UserState.SYNCED, None, ["Fire safety training — Afternoon group"]),
    "u-lucy": (UserState.SKIPPED, Reason.NO_SESSION_CHOSEN, []),
    "u-gina": (UserState.SKIPPED, Reason.PERSONAL_EMAIL, []),
    "u-otto": (UserState.FAILED, Reason.MAILBOX_NOT_IN_EXCHANGE_ONLINE, []),
}


class _Forms(HTMLParser):
    """Collects forms (action, method, inputs) and inputs by id from a page."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self.by_id: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "method": a.get("method", "get"), "fields": {},
                               "buttons": []})
        elif tag in ("input", "button") and self.forms:
            unchosen = a.get("type") in ("radio", "checkbox") and "checked" not in a  # as a browser sends them
            if a.get("name") and tag == "input" and a.get("type") != "submit" and not unchosen and "disabled" not in a:
                self.forms[-1]["fields"][a["name"]] = a.get("value", "")
            if tag == "button" or a.get("type") == "submit":
                self.forms[-1]["buttons"].append((a.get("name"), a.get("value")))
        if tag == "input" and a.get("id"):
            self.by_id[a["id"]] = a.get("value", "")


def _forms(html: str) -> _Forms:
    parser = _Forms()
    parser.feed(html)
    return parser


def _submit(browser: requests.Session, page: requests.Response, action_suffix: str, **extra: str) -> requests.Response:
    """Submit the page's form whose action ends with ``action_suffix``, as a browser would."""
    for form in _forms(page.text).forms:
        if form["action"].split("?")[0].endswith(action_suffix):
            return browser.post(urljoin(page.url, form["action"]), data={**form["fields"], **extra})
    raise RuntimeError(f"no form for {action_suffix} on {page.url}")


@contextmanager
def _serving(app: Any, port: int) -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # request lines would show launch tokens
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


@dataclass
class Demo:
    settings: Settings
    database: Database
    base_url: str
    emulator: Any
    tenant_id: str

    def load_lms(self, now: datetime) -> None:
        host = HostClient(self.base_url, self.settings.host_secret)
        deliveries = [host.delivery("user.upserted", ACCOUNT, {
            "id": uid, "email": mail, "name": name, "active": True, "role": role, "timezone": None, "version": 1})
            for uid, name, mail, role, _ in PEOPLE]
        deliveries += [host.delivery("event.upserted", ACCOUNT, event) for event in sample_events(now)]
        deliveries += [host.delivery("enrollment.upserted", ACCOUNT, {
            "event_id": event, "user_id": user, "session_id": session, "version": 1})
            for user, event, session in ENROLLMENTS]
        answer = host.send_batch(deliveries)
        if answer.status_code != 202:
            raise RuntimeError(f"hooks refused: {answer.status_code} {answer.text}")
        print(f"sent {len(deliveries)} signed hook deliveries: {answer.status_code}")

    def connect(self) -> None:
        """Connect → consent (the Azure AD admin accepts) → Connect integration, over HTTP."""
        owner = requests.Session()
        page = owner.get(launch_url(self.base_url, self.settings.host_secret, ACCOUNT, "u-owner", "owner"))
        page.raise_for_status()
        page = _submit(owner, page, "/connect")
        link = _forms(page.text).by_id.get("consent-link")
        if not link:
            raise RuntimeError("the page shows no consent link after Connect")
        print(f"consent link issued: {link.split('?')[0]}?…")
        admin = requests.Session()
        admin.trust_env = False  # REQUESTS_CA_BUNDLE would replace the emulator's CA
        admin.verify = self.emulator.ca_path
        consent = admin.get(link)
        consent.raise_for_status()
        form = next(f for f in _forms(consent.text).forms)
        fields = {**form["fields"], "admin_account": f"olivia@{DOMAIN}"}
        accept = next((n, v) for n, v in form["buttons"] if v and v.lower() == "accept")
        answer = admin.post(urljoin(consent.url, form["action"]), data={**fields, accept[0]: accept[1]},
                            allow_redirects=False)
        callback = owner.get(answer.headers["Location"])
        print(f"consent callback: {callback.status_code}, Azure AD admin accepted for tenant {self.tenant_id}")
        page = owner.get(f"{self.base_url}/integrations/outlook")
        page = _submit(owner, page, "/activate")
        if page.status_code != 200:
            raise RuntimeError(f"Connect integration failed: {page.status_code}")
        print("Connect integration: access proven, syncing switched on")


def _tenant(emulator: Any, redirect_uri: str) -> str:
    admin = emulator.admin
    admin.register_app(client_id=CLIENT_ID, client_secret=DEMO_SECRET,
                       redirect_uris=[redirect_uri])
    tenant = admin.create_tenant(name="Contoso", domains=[DOMAIN])
    for _uid, name, mail, _role, kind in PEOPLE:
        if kind:
            admin.create_user(tenant["id"], mail, mail=mail, display_name=name, mailbox=kind)
    return str(tenant["id"])


DEMO_SECRET = "demo-" + secrets.token_urlsafe(24)


def check(database: Database, mailboxes: dict[str, Any]) -> list[str]:
    """Compare users' states and mailboxes with what the rules say; the list of differences."""
    problems = []
    by_address = {m["userPrincipalName"].lower(): sorted(e["subject"] for e in m["events"])
                  for m in mailboxes.values()}
    with database.session() as session:
        rows, _ = status.users(session, ACCOUNT, limit=100)
    states = {r.user_id: r for r in rows}
    for uid, _name, mail, _role, _kind in PEOPLE:
        state, reason, subjects = EXPECTED[uid]
        row = states.get(uid)
        if row is None or (row.state, row.reason) != (state, reason):
            problems.append(f"{uid}: expected {state}/{reason}, got {row and (row.state, row.reason)}")
        if by_address.get(mail.lower(), []) != sorted(subjects):
            problems.append(f"{mail}: expected {sorted(subjects)}, got {by_address.get(mail.lower())}")
    return problems


def _free_port(preferred: int) -> int:
    """The preferred port if nobody listens there, else one the system picks."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", preferred))
        except OSError:
            probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def run_demo(keep_running: bool = False, port: int = 8000) -> int:
    """Run the demo; 0 when every user and mailbox is what the rules say, 1 if not, 130 when interrupted.

    SIGTERM is taken as Ctrl-C while it runs, so the emulator subprocess is always stopped.
    """
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        return _run(keep_running, port)
    except KeyboardInterrupt:
        print("\nstopped", flush=True)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(keep_running: bool, port: int) -> int:
    from emulator.testing import running_emulator  # only the demo and emulator commands load it

    port = _free_port(port)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    DEMO_DB.parent.mkdir(exist_ok=True)
    DEMO_DB.unlink(missing_ok=True)
    with running_emulator() as emulator:
        print(f"emulator: {emulator.base_url} (CA {emulator.ca_path})")
        tenant_id = _tenant(emulator, f"http://127.0.0.1:{port}/integrations/outlook/consent")
        settings = Settings(
            host_secret=secrets.token_urlsafe(32), secret_key=secrets.token_urlsafe(32), client_id=CLIENT_ID,
            client_secret=DEMO_SECRET, database_url=f"sqlite:///{DEMO_DB}", public_url=f"http://127.0.0.1:{port}",
            authority_url=emulator.base_url, graph_url=f"{emulator.base_url}/v1.0", ca_bundle=emulator.ca_path,
            worker_concurrency=8,
        )
        database = Database(settings.database_url)
        upgrade(database.engine)
        from plugin.app import create_app

        with _serving(create_app(settings, database), port) as base_url:
            demo = Demo(settings, database, base_url, emulator, tenant_id)
            now = datetime.now(UTC)
            demo.load_lms(now)
            demo.connect()
            graph = Graph.from_settings(settings)
            worked = Worker(database, graph, concurrency=settings.worker_concurrency).drain()
            print(f"worker reconciled {worked} users")
            mailboxes = emulator.admin.mailboxes(tenant_id)
            _print_summary(database, mailboxes)
            problems = check(database, mailboxes)
            problems += demo_feeds.show(base_url, settings.host_secret, ACCOUNT)  # users Outlook cannot reach
            if problems:
                print("\nNOT what the rules say:\n  " + "\n  ".join(problems))
                return 1
            print("\nEvery user and mailbox is what the rules say.")
            if keep_running:
                _keep_running(settings, base_url, lambda: Worker(database, graph,
                                                                 concurrency=settings.worker_concurrency))
    return 0


def _keep_running(settings: Settings, base_url: str, make_worker: Callable[[], Worker]) -> None:
    """Print how to open the page, then sync until Ctrl-C or SIGTERM."""
    DEMO_HOST_SECRET.write_text(settings.host_secret, encoding="utf-8")
    DEMO_HOST_SECRET.chmod(0o600)
    owner_link = launch_url(base_url, settings.host_secret, ACCOUNT, "u-owner", "owner")
    print(f"\nThe page, as the account owner (this link works for 5 minutes):\n  {owner_link}")
    print("A fresh link (as a learner: --user u-lena --role learner), from another shell:\n  "
          + launch_link_command(base_url, DEMO_HOST_SECRET.resolve(), "u-owner", "owner"))
    print("Serving until Ctrl-C …", flush=True)
    worker = make_worker()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: worker.stop())
    try:
        worker.run()
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        DEMO_HOST_SECRET.unlink(missing_ok=True)


def launch_link_command(base_url: str, secret_file: Path, user_id: str, role: str) -> str:
    """The shell command that mints a launch link for the demo's account (the secret read from a file)."""
    beside = Path(sys.executable).parent / "outlook-sync"  # the environment the demo runs in
    program = shlex.quote(str(beside)) if beside.exists() else "outlook-sync"
    return (f"OUTLOOK_SYNC_HOST_SECRET=\"$(cat {shlex.quote(str(secret_file))})\" {program} host launch-link "
            f"--url {base_url} --account {ACCOUNT} --user {user_id} --role {role}")


def _print_summary(database: Database, mailboxes: dict[str, Any]) -> None:
    with database.session() as session:
        rows, _ = status.users(session, ACCOUNT, limit=100)
        counts = status.counts(session, ACCOUNT)
    print("\nPer user:")
    for row in rows:
        reason = f" — {words.user_reason(row.reason, row.detail)}" if row.reason else ""
        entries = "1 entry" if row.entries == 1 else f"{row.entries} entries"
        state = words.USER_STATES.get(row.state, row.state)
        print(f"  {row.name or row.user_id:<20} {row.email or '':<28} {state}{reason} ({entries})")
    print("  " + ", ".join(f"{k}: {v}" for k, v in counts.items()))
    print("\nEmulated mailboxes:")
    for mailbox in sorted(mailboxes.values(), key=lambda m: m["userPrincipalName"]):
        print(f"  {mailbox['userPrincipalName']}")
        for event in sorted(mailbox["events"], key=lambda e: e["start"]["dateTime"]):
            reminder = f"reminder {event.get('reminderMinutesBeforeStart')} min" if event.get("isReminderOn") \
                else "no reminder"
            when = event["start"]["dateTime"][:16].replace("T", " ")
            print(f"    {when} {event['start']['timeZone']:<4} {event['subject']} ({reminder})")
