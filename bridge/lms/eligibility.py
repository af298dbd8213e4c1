"""Who may be synced at all: an active user with a corporate address in the tenant."""
from __future__ import annotations

from collections.abc import Collection
from functools import cache
from importlib import resources

PERSONAL_EMAIL = "personal_email"
INACTIVE = "inactive"
DELETED = "deleted"
NO_EMAIL = "no_email"
DOMAIN_NOT_IN_TENANT = "domain_not_in_tenant"


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
) -> str | None:
    """Why a user is not synced, or ``None`` when they are eligible.

    ``verified_domains`` is the tenant's list when the permission to read it was granted;
    ``None`` means unknown, and then only the consumer list applies.
    """
    if not exists:
        return DELETED
    if not active:
        return INACTIVE
    if not email or "@" not in email:
        return NO_EMAIL
    domain = domain_of(email)
    if domain in consumer_domains():
        return PERSONAL_EMAIL
    if verified_domains is not None and domain not in {d.lower() for d in verified_domains}:
        return DOMAIN_NOT_IN_TENANT
    return None
