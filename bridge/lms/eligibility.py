"""Who may be synced at all: an active user with a corporate address in the tenant."""
from __future__ import annotations

from collections.abc import Collection
from functools import cache
from importlib import resources

from bridge.codes import Reason


@cache
def consumer_domains() -> frozenset[str]:
    """The consumer-provider domains shipped as data (``bridge/data/consumer_domains.txt``)."""
    text = resources.files("bridge").joinpath("data/consumer_domains.txt").read_text()
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].strip().lower()


def skip_reason(
    *,
    exists: bool,
    active: bool,
    email: str | None,
    verified_domains: Collection[str] | None,
) -> Reason | None:
    """Why a user is not synced, or ``None`` when they are eligible.

    ``verified_domains`` is the tenant's list when the permission to read it was granted;
    ``None`` means unknown, and then only the consumer list applies.
    """
    if not exists:
        return Reason.DELETED
    if not active:
        return Reason.INACTIVE
    if not email or "@" not in email:
        return Reason.NO_EMAIL
    domain = domain_of(email)
    if domain in consumer_domains():
        return Reason.PERSONAL_EMAIL
    if verified_domains is not None and domain not in {d.lower() for d in verified_domains}:
        return Reason.DOMAIN_NOT_IN_TENANT
    return None
