"""``outlook-sync host …``: act as the LMS from the shell, on top of `plugin.host`.

``host send`` signs and POSTs one delivery, ``host batch`` several, ``host launch-link`` prints a
settings-page address for an account, user and role, ``host user-state`` asks where one user stands,
``host feed-address`` gets, rotates or revokes a user's calendar-feed address.
The plugin's address is ``--url`` (default ``$OUTLOOK_SYNC_PUBLIC_URL``); the secret is read from
``$OUTLOOK_SYNC_HOST_SECRET`` only, so it never shows in a process list or a shell history: the
secret of the account's own key, whose id is ``$OUTLOOK_SYNC_HOST_KEY_ID``, or the shared secret when
that is not set.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, TextIO

import requests

from plugin.contract.feed_schemas import ACTIONS
from plugin.contract.schemas import ROLES
from plugin.host import HostClient, launch_url

SECRET_VARIABLE = "OUTLOOK_SYNC_HOST_SECRET"
KEY_VARIABLE = "OUTLOOK_SYNC_HOST_KEY_ID"
DEFAULT_URL = "http://127.0.0.1:8000"


class HostCommandError(Exception):
    """Bad input to a host command; the message says what to fix."""


def _secret() -> str:
    secret = os.environ.get(SECRET_VARIABLE, "").strip()
    if not secret:
        raise HostCommandError(f"{SECRET_VARIABLE} is not set: export the secret the plugin was given")
    return secret


def _read_json(source: str, stdin: TextIO) -> Any:
    try:
        if source == "-":
            return json.load(stdin)
        with open(source, encoding="utf-8") as file:
            return json.load(file)
    except OSError as error:
        raise HostCommandError(f"cannot read {source}: {error.strerror}") from None
    except ValueError as error:
        raise HostCommandError(f"{source} is not JSON: {error}") from None


def _envelope(item: Any, where: str) -> dict[str, Any]:
    """A delivery envelope from ``{"topic", "account", "data", "id"?}`` (a fresh id when none is given)."""
    if not isinstance(item, dict) or not {"topic", "account", "data"} <= item.keys():
        raise HostCommandError(f"{where}: expected an object with topic, account and data (and optionally id)")
    return HostClient.delivery(item["topic"], item["account"], item["data"], item.get("id"))


def _answer(response: requests.Response, out: TextIO) -> int:
    print(f"{response.status_code} {response.text.strip()}", file=out)
    return 0 if response.status_code < 300 else 1


def _key_id() -> str | None:
    return os.environ.get(KEY_VARIABLE, "").strip() or None


def _client(args: argparse.Namespace) -> HostClient:
    return HostClient(args.url or os.environ.get("OUTLOOK_SYNC_PUBLIC_URL") or DEFAULT_URL, _secret(),
                      key_id=_key_id())


def cmd_send(args: argparse.Namespace, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    """POST one envelope read from a file or stdin to /hooks; 0 on 200/202, 1 otherwise."""
    envelope = _envelope(_read_json(args.file, stdin), args.file)
    client = _client(args)
    return _answer(client.send(envelope["topic"], envelope["account"], envelope["data"], envelope["id"]), out)


def cmd_batch(args: argparse.Namespace, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    """POST a list of envelopes (or ``{"deliveries": [...]}``) to /hooks/batch as one unit."""
    body = _read_json(args.file, stdin)
    items = body.get("deliveries") if isinstance(body, dict) else body
    if not isinstance(items, list) or not items:
        raise HostCommandError(f"{args.file}: expected a non-empty list of envelopes or {{\"deliveries\": [...]}}")
    deliveries = [_envelope(item, f"{args.file}[{i}]") for i, item in enumerate(items)]
    return _answer(_client(args).send_batch(deliveries), out)


def cmd_launch_link(args: argparse.Namespace, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    """Print a settings-page address for the account, user and role (valid 300 s)."""
    base = args.url or os.environ.get("OUTLOOK_SYNC_PUBLIC_URL") or DEFAULT_URL
    print(launch_url(base, _secret(), args.account, args.user, args.role, key_id=_key_id()), file=out)
    return 0


def cmd_user_state(args: argparse.Namespace, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    """Ask where one user stands (POST /users/state) and print the answer; 0 on 200, 1 otherwise."""
    return _answer(_client(args).user_state(args.account, args.user, args.locale, args.request_id), out)


def cmd_feed_address(args: argparse.Namespace, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    """Get, rotate or revoke a user's feed address (POST /feeds/address) and print the answer; 0 on 200."""
    return _answer(_client(args).feed_address(args.account, args.user, args.action, args.request_id), out)


def run(args: argparse.Namespace) -> int:
    """Run a host subcommand; a bad input or an unreachable plugin is one line on stderr, exit 2."""
    try:
        return int(args.host_run(args))
    except HostCommandError as error:
        print(f"outlook-sync host: {error}", file=sys.stderr)
    except requests.RequestException as error:
        print(f"outlook-sync host: cannot reach the plugin: {type(error).__name__}: {error}", file=sys.stderr)
    return 2


def add_commands(commands: Any) -> None:
    """Add ``host`` and its subcommands to the ``outlook-sync`` subparsers."""
    host = commands.add_parser(
        "host", help="act as the LMS: send signed hooks, make launch links, ask for a user's state",
        description="Act as the LMS from the shell: sign and send hook deliveries, make settings-page launch "
                    f"links, ask where a user stands, get a user's feed address. The secret is read from "
                    f"${SECRET_VARIABLE}: the account's own key's, named by ${KEY_VARIABLE}, or the shared one.")
    actions = host.add_subparsers(dest="host_command", required=True, metavar="action", help="what to send or make")
    url_help = f"the plugin's base URL (default: $OUTLOOK_SYNC_PUBLIC_URL, else {DEFAULT_URL})"

    send = actions.add_parser("send", help="sign and POST one delivery to /hooks",
                              description='Sign and POST one delivery {"topic", "account", "data", "id"?} to '
                                          "/hooks; a fresh delivery id is made when none is given.")
    send.add_argument("file", nargs="?", default="-", help="JSON file with the envelope, - for stdin (default)")
    send.set_defaults(host_run=cmd_send)

    batch = actions.add_parser("batch", help="sign and POST several deliveries to /hooks/batch",
                               description="Sign and POST up to 1,000 deliveries as one unit to /hooks/batch.")
    batch.add_argument("file", nargs="?", default="-",
                       help='JSON file with a list of envelopes or {"deliveries": [...]}, - for stdin (default)')
    batch.set_defaults(host_run=cmd_batch)

    link = actions.add_parser("launch-link", help="print a settings-page launch link (valid 300 s)",
                              description="Print the address the LMS sends a user's browser to: the settings page "
                                          "with a launch token for the account, user and role.")
    link.add_argument("--account", required=True, help="the LMS account id")
    link.add_argument("--user", required=True, help="the LMS user id")
    link.add_argument("--role", required=True, choices=ROLES, help="the user's role in the LMS")
    link.set_defaults(host_run=cmd_launch_link)

    state = actions.add_parser("user-state", help="ask where one user stands (POST /users/state)",
                               description="Ask whether a user's sessions reach Outlook and, if not, why, in plain "
                                           "words in their language, and whether a calendar feed is offered.")
    state.add_argument("--account", required=True, help="the LMS account id")
    state.add_argument("--user", required=True, help="the LMS user id")
    state.add_argument("--locale", default=None, help="the user's language, e.g. ru (default: the account's)")
    state.set_defaults(host_run=cmd_user_state)

    feed = actions.add_parser("feed-address", help="get, rotate or revoke a user's feed address (POST /feeds/address)",
                              description="Get a user's calendar-feed address (made if they have none), rotate it "
                                          "for a new one (the old stops working), or revoke it.")
    feed.add_argument("--account", required=True, help="the LMS account id")
    feed.add_argument("--user", required=True, help="the LMS user id")
    feed.add_argument("--action", default="get", choices=ACTIONS, help="what to do (default: %(default)s)")
    feed.set_defaults(host_run=cmd_feed_address)
    for action in (state, feed):
        action.add_argument("--request-id", default=None,
                            help="the request's id (default: a fresh UUID; the plugin serves an id once)")
    for action in (send, batch, link, state, feed):
        action.add_argument("--url", default=None, help=url_help)
    host.set_defaults(run=run)
