"""How an account grants access (bridge.lms.grant): the form's choice checked, kept while connected, the
broad Entra grant seen and gone, and the Exchange administrator's block (facts.md, "RBAC for
Applications"). The choice and the broad grant run on SQLite and PostgreSQL."""
from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from bridge.accounts import connection
from bridge.codes import AccessGrant, ConnectionState
from bridge.db import Database
from bridge.lms import grant

NOW = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)
APP = "3f2b9c71-6a4e-4d0b-8c15-2e7d9a6b4f10"


def token(roles: list[str]) -> str:
    """A JWT-shaped token whose claims say ``roles`` (unsigned: only the claims are read)."""
    claims = base64.urlsafe_b64encode(json.dumps({"roles": roles}).encode()).decode().rstrip("=")
    return f"e30.{claims}.sig"


@pytest.mark.parametrize(("way", "group", "kept"), [
    ("organisation", "", (AccessGrant.ORGANISATION, None)),
    ("organisation", "ignored", (AccessGrant.ORGANISATION, None)),
    ("exchange_scope", "  LMS people ", (AccessGrant.EXCHANGE_SCOPE, "LMS people")),
    ("exchange_scope", "x" * 256, (AccessGrant.EXCHANGE_SCOPE, "x" * 256)),
])
def test_a_good_choice(way: str, group: str, kept: tuple[AccessGrant, str | None]) -> None:
    assert grant.parse(way, group) == kept


@pytest.mark.parametrize(("way", "group", "words"), [
    ("", "", "whole organisation or only"),
    ("everyone", "LMS people", "whole organisation or only"),
    ("exchange_scope", " ", "Name the mail-enabled security group"),
    ("exchange_scope", "x" * 257, "at most 256"),
    ("exchange_scope", "LMS\tpeople", "on one line"),
])
def test_a_bad_choice_names_what_is_wrong(way: str, group: str, words: str) -> None:
    with pytest.raises(grant.BadChoice, match=words):
        grant.parse(way, group)


def test_the_choice_is_kept_and_the_way_is_locked_while_connected(database: Database) -> None:
    with database.session() as session:
        assert grant.read(session, "acme") == grant.Grant(AccessGrant.ORGANISATION, None, None)
        grant.choose(session, "acme", AccessGrant.EXCHANGE_SCOPE, "LMS people")
    with database.session() as session:
        connection.connection(session, "acme").state = ConnectionState.CONNECTED
    with database.session() as session:
        grant.choose(session, "acme", AccessGrant.EXCHANGE_SCOPE, "Trainers")  # the group may change
        with pytest.raises(grant.Locked):
            grant.choose(session, "acme", AccessGrant.ORGANISATION, None)
    with database.session() as session:
        assert grant.read(session, "acme") == grant.Grant(AccessGrant.EXCHANGE_SCOPE, "Trainers", None)


def test_the_broad_grant_is_seen_then_gone_and_only_for_a_scope(database: Database) -> None:
    broad, scoped = token(["Calendars.ReadWrite", "User.Read.All"]), token(["User.Read.All"])
    assert grant.broad_grant_in(broad) and not grant.broad_grant_in(scoped)
    assert not grant.broad_grant_in("opaque-token")  # an unreadable token says nothing
    with database.session() as session:
        grant.choose(session, "org", AccessGrant.ORGANISATION, None)
        grant.saw_broad_grant(session, "org", True, NOW)  # the whole organisation: nothing to tell
        grant.choose(session, "lms", AccessGrant.EXCHANGE_SCOPE, "LMS people")
        grant.saw_broad_grant(session, "lms", True, NOW)
    with database.session() as session:
        assert grant.read(session, "org").broad_grant_seen_at is None
        assert grant.read(session, "lms").broad_grant_seen_at == NOW
        grant.saw_broad_grant(session, "lms", False, NOW)
    with database.session() as session:
        assert grant.read(session, "lms").broad_grant_seen_at is None


def test_the_block_has_each_step_for_the_group() -> None:
    block = grant.powershell(APP, "LMS people").splitlines()
    assert f"$sp = Get-MgServicePrincipal -Filter \"appId eq '{APP}'\"" in block
    assert "New-ServicePrincipal -AppId $sp.AppId -ObjectId $sp.Id -DisplayName 'Outlook Calendar for the LMS'" \
        in block
    assert "New-ManagementScope -Name 'Outlook Calendar for the LMS' -RecipientRestrictionFilter " \
           "\"MemberOfGroup -eq '$($group.DistinguishedName)'\"" in block
    assert "New-ManagementRoleAssignment -App $sp.AppId -Role 'Application Calendars.ReadWrite' " \
           "-CustomResourceScope 'Outlook Calendar for the LMS'" in block
    assert block[-1] == "Test-ServicePrincipalAuthorization -Identity $sp.AppId -Resource $member.PrimarySmtpAddress"


def test_the_block_quotes_the_group_for_powershell() -> None:
    block = grant.powershell(APP, "O'Brien’s people")
    assert "Get-DistributionGroup -Identity 'O''Brien’’s people'" in block
    assert block.count("'O''Brien’’s people'") == 3
