"""``outlook-sync host-key create|list|revoke --account A``: the secrets each LMS account signs with.

``create`` makes a key and prints its id and secret once (the plugin keeps the secret sealed,
:mod:`bridge.accounts.host_keys`); for an account that has keys, it is a rotation: the old keys keep
working for ``--overlap-hours`` (default 168, a week), long enough to put the new key in the LMS, then
stop. ``revoke`` stops one key at once. Once an account has a key of its own, the shared
``OUTLOOK_SYNC_HOST_SECRET`` no longer opens it.
"""
from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TextIO

from bridge.accounts import host_keys
from bridge.config import Settings
from bridge.db import Database
from bridge.models import utcnow

DEFAULT_OVERLAP_HOURS = 168
MAX_OVERLAP_HOURS = 24 * 90
ACCOUNT_ID = re.compile(r"[^\x00-\x1f\x7f]{1,128}")
Opener = Callable[[], tuple[Settings, Database]]


def _account(value: str) -> str:
    """An LMS account id as the hooks take it: 1 to 128 characters, none of them a control character."""
    if not ACCOUNT_ID.fullmatch(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not an LMS account id (1 to 128 characters, no control "
                                         "characters)")
    return value


def cmd_create(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """Make a key for the account (ending its other keys after the overlap) and print its secret once."""
    if not 0 <= args.overlap_hours <= MAX_OVERLAP_HOURS:
        print(f"outlook-sync host-key: --overlap-hours must be between 0 and {MAX_OVERLAP_HOURS}, "
              f"got {args.overlap_hours}", file=sys.stderr)
        return 2
    settings, database = args.open_database()
    now = utcnow()
    with database.session() as session:
        key, secret = host_keys.create(session, settings.secret_key, args.account, now,
                                       timedelta(hours=args.overlap_hours))
        others = [k for k in host_keys.listing(session, args.account) if k.id != key.id and k.works(now)]
    print(f"account {args.account}: new host key {key.id}", file=out)
    print(f"secret (shown this once; put it and the key id in the LMS): {secret}", file=out)
    for other in others:
        print(f"key {other.id} keeps working until {_when(other.expires_at)} (revoke it sooner with "
              f"`outlook-sync host-key revoke --account {args.account} --key {other.id}`)", file=out)
    return 0


def cmd_list(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """Print the account's keys and whether each works now (never a secret)."""
    settings, database = args.open_database()
    now = utcnow()
    with database.session() as session:
        keys = host_keys.listing(session, args.account)
        sealed_elsewhere = host_keys.unreadable(session, settings.secret_key, [k.id for k in keys if k.works(now)])
    if not keys:
        print(f"account {args.account}: no host key of its own; it signs with OUTLOOK_SYNC_HOST_SECRET", file=out)
    for key in keys:
        state = ("cannot be unsealed (OUTLOOK_SYNC_SECRET_KEY changed): make a new key" if key.id in sealed_elsewhere
                 else _state(key, now))
        print(f"{key.id}  {state:<32} created {_when(key.created_at)}", file=out)
    return 0


def cmd_revoke(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """Stop one key of the account now; exit 1 naming it when the account has no such key."""
    _, database = args.open_database()
    try:
        with database.session() as session:
            key = host_keys.revoke(session, args.account, args.key, utcnow())
    except host_keys.UnknownKey as error:
        print(f"outlook-sync host-key: {error}", file=sys.stderr)
        return 1
    print(f"account {args.account}: host key {key.id} revoked at {_when(key.revoked_at)}", file=out)
    return 0


def _state(key: host_keys.KeyInfo, now: datetime) -> str:
    if key.revoked_at is not None:
        return f"revoked {_when(key.revoked_at)}"
    if key.expires_at is None:
        return "works"
    return f"works until {_when(key.expires_at)}" if key.works(now) else f"ended {_when(key.expires_at)}"


def _when(instant: datetime | None) -> str:
    return "-" if instant is None else f"{instant:%Y-%m-%d %H:%M} UTC"


def add_commands(commands: Any, open_database: Opener) -> None:
    """Add ``host-key`` and its actions to the ``outlook-sync`` subparsers; ``open_database`` gives the
    settings and the migrated database (or exits naming what is wrong)."""
    parser = commands.add_parser(
        "host-key", help="make, list or revoke an LMS account's own signing key",
        description="Each LMS account may sign with a key of its own (id + secret) instead of the shared "
                    "OUTLOOK_SYNC_HOST_SECRET; a bridge serving several LMSs gives each account its own.")
    actions = parser.add_subparsers(dest="host_key_command", required=True, metavar="action")
    create = actions.add_parser("create", help="make a key (a rotation when the account has one) and print it once",
                                description="Make a key for the account and print its id and secret once. The "
                                            "account's other keys keep working for the overlap, then stop.")
    create.add_argument("--overlap-hours", type=int, default=DEFAULT_OVERLAP_HOURS,
                        help="how long the account's older keys keep working (default: %(default)s; 0: stop now)")
    create.set_defaults(key_run=cmd_create)
    listing = actions.add_parser("list", help="the account's keys and whether each works")
    listing.set_defaults(key_run=cmd_list)
    revoke = actions.add_parser("revoke", help="stop one of the account's keys now")
    revoke.add_argument("--key", required=True, help="the key id (hk_…)")
    revoke.set_defaults(key_run=cmd_revoke)
    for action in (create, listing, revoke):
        action.add_argument("--account", required=True, type=_account, help="the LMS account id")
    parser.set_defaults(run=lambda args: args.key_run(args), open_database=open_database)
