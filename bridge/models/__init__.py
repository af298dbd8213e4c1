"""The database tables: the LMS replica, connections, the entries made and the work queue.

Every row belongs to one LMS account (``account_id`` leads every key), so no query can mix two
accounts by accident.

One module per concern; every table is importable from here.
"""
from __future__ import annotations

from bridge.models.accounts import (
    AccessGrantChoice,
    Account,
    Connection,
    ConsentRequest,
    HostKey,
    UsedLaunch,
    UsedRequest,
)
from bridge.models.base import NAMING, Base, UTCDateTime, utcnow
from bridge.models.deadlines import DeadlineSetting, LmsDeadline, LmsLearnerDeadline
from bridge.models.feeds import FeedItem, FeedSetting, FeedToken
from bridge.models.lms import Delivery, LmsEnrollment, LmsEvent, LmsSession, LmsUser
from bridge.models.outlook import OutlookChange, OutlookCheck, OutlookSetting
from bridge.models.sync import DirectoryEntry, DirtyKey, Entry, MailboxPause, RemovalHold, UserState
from bridge.models.trust import AuditRecord, CredentialCheck, LatencySample, PreviewJob, PreviewUser

__all__ = [
    "NAMING",
    "AccessGrantChoice",
    "Account",
    "AuditRecord",
    "Base",
    "Connection",
    "ConsentRequest",
    "CredentialCheck",
    "DeadlineSetting",
    "Delivery",
    "DirectoryEntry",
    "DirtyKey",
    "Entry",
    "FeedItem",
    "FeedSetting",
    "FeedToken",
    "HostKey",
    "LatencySample",
    "LmsDeadline",
    "LmsEnrollment",
    "LmsEvent",
    "LmsLearnerDeadline",
    "LmsSession",
    "LmsUser",
    "MailboxPause",
    "OutlookChange",
    "OutlookCheck",
    "OutlookSetting",
    "PreviewJob",
    "PreviewUser",
    "RemovalHold",
    "UTCDateTime",
    "UsedLaunch",
    "UsedRequest",
    "UserState",
    "utcnow",
]
