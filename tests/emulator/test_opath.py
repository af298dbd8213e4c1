"""The OPATH subset a management scope's -RecipientRestrictionFilter uses (emulator.opath), pure."""

from __future__ import annotations

import pytest

from emulator import opath

DN = "CN=lms20260101000000,OU=contoso.onmicrosoft.com,OU=Microsoft Exchange Hosted Organizations,DC=x"


def recipient(groups: set[str], mail: str = "ann@contoso.example") -> opath.Recipient:
    values = {"MemberOfGroup": {g.lower() for g in groups}, "PrimarySmtpAddress": {mail}, "UserPrincipalName": {mail},
              "Alias": {mail.split("@")[0]}}
    return lambda prop: values[prop]


@pytest.mark.parametrize(("text", "groups", "expected"), [
    (f"MemberOfGroup -eq '{DN}'", {DN}, True),
    (f"MemberOfGroup -eq '{DN.upper()}'", {DN}, True),  # distinguished names compare case-insensitively
    (f"MemberOfGroup -eq '{DN}'", set(), False),
    (f"{{MemberOfGroup -eq '{DN}'}}", {DN}, True),  # braces allowed
    (f"MemberOfGroup -ne '{DN}'", {DN}, False),
    (f"-not (MemberOfGroup -eq '{DN}')", set(), True),
    (f"MemberOfGroup -eq '{DN}' -or PrimarySmtpAddress -eq 'ann@contoso.example'", set(), True),
    (f"MemberOfGroup -eq '{DN}' -and PrimarySmtpAddress -eq 'bob@contoso.example'", {DN}, False),
    ("Alias -eq 'x' -or Alias -eq 'ann' -and UserPrincipalName -eq 'nobody'", set(), False),  # -and binds tighter
    ("(Alias -eq 'x' -or Alias -eq 'ann') -and UserPrincipalName -eq 'ann@contoso.example'", set(), True),
    ("PrimarySmtpAddress -eq \"ann@contoso.example\"", set(), True),
    ("Alias -eq 'o''neil'", set(), False),
])
def test_filters_match_as_exchange_reads_them(text: str, groups: set[str], expected: bool) -> None:
    assert opath.parse(text).matches(recipient(groups)) is expected


@pytest.mark.parametrize(("text", "words"), [
    ("", "empty"),
    ("Department -eq 'Sales'", "not modelled"),
    ("Alias -like 'a*'", "wildcards"),
    ("Alias -gt 'a'", "cannot read"),
    ("Alias -eq", "expected Property"),
    ("(Alias -eq 'a'", "not closed"),
    ("Alias -eq 'a' Alias", "unexpected"),
])
def test_unreadable_filters_say_why(text: str, words: str) -> None:
    with pytest.raises(opath.FilterError, match=words):
        opath.parse(text)
