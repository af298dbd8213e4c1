"""Host keys: the secret each LMS account signs its requests with, chosen by the operator.

A key is an id (sent in ``X-Hook-Key``) and a secret (the HMAC key of docs/HOST-CONTRACT.md §2). The
secret is needed to verify a signature, so it is kept, sealed: encrypted with Fernet (AES-128-CBC +
HMAC-SHA256, ``cryptography``) under a key derived by HKDF-SHA256 from ``OUTLOOK_SYNC_SECRET_KEY``,
which lives in the environment like the Azure client secret and never in the database. A copy of
the database alone opens no account.

Making a key for an account that has working keys is a rotation: those keys keep working for the
overlap given (both valid), then stop, or stop when revoked. An account that has ever had a key of
its own is never again accepted under the shared ``OUTLOOK_SYNC_HOST_SECRET``.
"""
from __future__ import annotations

import base64
import logging
import re
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import cast

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from bridge.models import HostKey

KEY_ID = re.compile(r"hk_[A-Za-z0-9_-]{16}")
_HKDF_INFO = b"outlook-sync host keys v1"
# Opened secrets kept per process, so a signed request does not decrypt its key's secret each time.
_OPENED_SECRETS = 256

# The two reads of every signed request, as Core statements built once (no ORM objects, no identity map).
_TABLE = cast(Table, HostKey.__table__)
_KEY_ROW = select(_TABLE.c.account_id, _TABLE.c.sealed, _TABLE.c.expires_at, _TABLE.c.revoked_at).where(
    _TABLE.c.id == bindparam("id"))
_KEYED_ACCOUNT = select(_TABLE.c.account_id).where(_TABLE.c.account_id == bindparam("account")).limit(1)
_KEYED_ACCOUNTS = select(_TABLE.c.account_id).where(_TABLE.c.account_id.in_(bindparam("accounts", expanding=True)))

log = logging.getLogger(__name__)


class UnknownKey(LookupError):
    """No key with that id belongs to that account."""


@dataclass(frozen=True)
class KeyInfo:
    """What may be shown of a key: never its secret. Instants in UTC."""

    id: str
    account_id: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    def works(self, now: datetime) -> bool:
        """Whether a request signed with this key is accepted at ``now``."""
        return _works(self.expires_at, self.revoked_at, now)


def create(session: Session, sealing_key: str, account_id: str, now: datetime,
           overlap: timedelta) -> tuple[KeyInfo, str]:
    """Make a key for ``account_id`` and return it with its secret (shown once, never again).

    Each other working key of the account without an earlier end now ends at ``now + overlap``
    (a rotation: both keys work meanwhile; ``overlap`` of zero ends them at once).
    """
    for row in session.scalars(select(HostKey).where(HostKey.account_id == account_id)):
        if _info(row).works(now) and (row.expires_at is None or row.expires_at > now + overlap):
            row.expires_at = now + overlap
    secret = secrets.token_urlsafe(32)
    row = HostKey(id="hk_" + secrets.token_urlsafe(12), account_id=account_id,
                  sealed=_fernet(sealing_key).encrypt(secret.encode("utf-8")).decode("ascii"), created_at=now)
    session.add(row)
    return _info(row), secret


def listing(session: Session, account_id: str) -> list[KeyInfo]:
    """The account's keys, oldest first, revoked and ended ones included."""
    rows = session.scalars(select(HostKey).where(HostKey.account_id == account_id).order_by(HostKey.created_at))
    return [_info(row) for row in rows]


def revoke(session: Session, account_id: str, key_id: str, now: datetime) -> KeyInfo:
    """Stop a key of ``account_id`` now (kept, so the account never falls back to the shared secret).

    Raises :class:`UnknownKey` when the account has no key with that id.
    """
    row = session.get(HostKey, key_id)
    if row is None or row.account_id != account_id:
        raise UnknownKey(f"account {account_id!r} has no host key {key_id!r}")
    if row.revoked_at is None:
        row.revoked_at = now
    return _info(row)


def working_secret(session: Session, sealing_key: str, key_id: str, now: datetime) -> tuple[str, str] | None:
    """``(account id, secret)`` of a key that works at ``now``; None for an unknown, malformed, revoked,
    ended or unreadable key (sealed under another ``OUTLOOK_SYNC_SECRET_KEY``: logged, never the secret)."""
    if not KEY_ID.fullmatch(key_id):
        return None
    row = session.execute(_KEY_ROW, {"id": key_id}).first()
    if row is None or not _works(row.expires_at, row.revoked_at, now):
        return None
    try:
        return row.account_id, _unseal(sealing_key, key_id, row.sealed)
    except InvalidToken:
        log.warning("host key %s of account %s cannot be unsealed: OUTLOOK_SYNC_SECRET_KEY changed since it "
                    "was made; make a new key (outlook-sync host-key create)", key_id, row.account_id)
        return None


def unreadable(session: Session, sealing_key: str, key_ids: Collection[str]) -> set[str]:
    """Those of ``key_ids`` whose secret cannot be unsealed with ``sealing_key`` (made under another
    ``OUTLOOK_SYNC_SECRET_KEY``): requests signed with them are refused until the account has a new key."""
    fernet = _fernet(sealing_key)
    found = set()
    for row in session.scalars(select(HostKey).where(HostKey.id.in_(list(key_ids)))):
        try:
            fernet.decrypt(row.sealed.encode("ascii"))
        except InvalidToken:
            found.add(row.id)
    return found


def with_own_keys(session: Session, account_ids: Collection[str]) -> set[str]:
    """Those of ``account_ids`` that have (or had) a key of their own, so refuse the shared secret."""
    wanted = set(account_ids)
    if len(wanted) == 1:  # a hook's one account: no list to expand into the statement
        [account] = wanted
        return {account} if session.execute(_KEYED_ACCOUNT, {"account": account}).first() else set()
    if not wanted:
        return set()
    return {account for (account,) in session.execute(_KEYED_ACCOUNTS, {"accounts": list(wanted)})}


def _works(expires_at: datetime | None, revoked_at: datetime | None, now: datetime) -> bool:
    return revoked_at is None and (expires_at is None or now < expires_at)


def _info(row: HostKey) -> KeyInfo:
    return KeyInfo(row.id, row.account_id, row.created_at, row.expires_at, row.revoked_at)


@lru_cache(maxsize=_OPENED_SECRETS)
def _unseal(sealing_key: str, key_id: str, sealed: str) -> str:
    """The secret of key ``key_id`` sealed as ``sealed``, opened once per process (a new sealed value, as
    after a change of ``OUTLOOK_SYNC_SECRET_KEY``, is opened anew). Raises :class:`InvalidToken`, never
    kept, when ``sealing_key`` does not open it."""
    return _fernet(sealing_key).decrypt(sealed.encode("ascii")).decode("utf-8")


@lru_cache(maxsize=4)
def _fernet(sealing_key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(sealing_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))
