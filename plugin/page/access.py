"""The access card's value: how the account's tenant grants calendar access, and what the Exchange
administrator runs for *only the LMS's people* (:mod:`bridge.lms.grant`; Microsoft's facts in facts.md,
"RBAC for Applications")."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bridge.codes import AccessGrant
from bridge.config import Settings
from bridge.lms import grant


@dataclass(frozen=True)
class AccessView:
    """``grant`` the account's way; ``scope_group`` the group it named (None: not yet); ``offered``
    whether this installation has the second registration *only the LMS's people* needs; ``app_id``
    that registration's client id (None without it); ``powershell`` the Exchange administrator's block
    (None until a group is named, or without the registration); ``broad_grant_seen_at`` when the
    tenant-wide Entra grant was last seen beside the scope (UTC; None: not seen)."""

    grant: AccessGrant
    scope_group: str | None
    offered: bool
    app_id: str | None
    powershell: str | None
    broad_grant_seen_at: datetime | None

    @property
    def scoped(self) -> bool:
        return self.grant is AccessGrant.EXCHANGE_SCOPE


def load(db: Session, settings: Settings, account_id: str) -> AccessView:
    """The account's access choice, with the block written for its group."""
    chosen = grant.read(db, account_id)
    app_id = settings.scoped_client_id
    block = grant.powershell(app_id, chosen.scope_group) if app_id and chosen.scope_group else None
    return AccessView(chosen.grant, chosen.scope_group, app_id is not None, app_id, block,
                      chosen.broad_grant_seen_at if chosen.scoped else None)
