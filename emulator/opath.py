"""The part of Exchange's OPATH filter syntax a management scope needs (``-RecipientRestrictionFilter``).

Grammar (as "Filterable properties for the RecipientFilter parameter" and New-ManagementScope
describe it, https://learn.microsoft.com/powershell/exchange/recipientfilter-properties): comparisons
``Property -eq 'Value'`` / ``-ne``, joined by ``-and`` (binds tighter) and ``-or``, ``-not``,
parentheses; the whole filter may sit in braces. Values are single- or double-quoted; a doubled quote
escapes it. Properties modelled: ``MemberOfGroup`` (the group's distinguished name, matched exactly
but case-insensitively: its name, address or GUID "are accepted by the filter syntax, but don't match
anything"), ``PrimarySmtpAddress``, ``UserPrincipalName`` and ``Alias``. Any other property, operator
or wildcard is refused as not modelled (Exchange knows many more): the emulator never guesses.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

PROPERTIES = ("MemberOfGroup", "PrimarySmtpAddress", "UserPrincipalName", "Alias")
_TOKEN = re.compile(r"\s*(?:(?P<paren>[()])|(?P<op>-(?:eq|ne|and|or|not)\b)|(?P<word>[A-Za-z][A-Za-z0-9]*)"
                    r"|'(?P<single>(?:[^']|'')*)'|\"(?P<double>(?:[^\"]|\"\")*)\")", re.IGNORECASE)

# A recipient as a filter sees it: the value of a property, lower-cased (MemberOfGroup: every DN).
Recipient = Callable[[str], set[str]]


class FilterError(ValueError):
    """A filter the emulator cannot read; the message says what is wrong."""


@dataclass(frozen=True)
class Compare:
    prop: str
    equal: bool
    value: str

    def matches(self, recipient: Recipient) -> bool:
        return (self.value.lower() in recipient(self.prop)) == self.equal


@dataclass(frozen=True)
class Join:
    op: str  # "and" | "or"
    parts: tuple[Node, ...]

    def matches(self, recipient: Recipient) -> bool:
        test = all if self.op == "and" else any
        return test(part.matches(recipient) for part in self.parts)


@dataclass(frozen=True)
class Not:
    part: Node

    def matches(self, recipient: Recipient) -> bool:
        return not self.part.matches(recipient)


Node = Compare | Join | Not


def _tokens(text: str) -> list[tuple[str, str]]:
    out = []
    at = 0
    while at < len(text):
        if text[at:].strip() == "":
            break
        m = _TOKEN.match(text, at)
        if not m:
            raise FilterError(f"cannot read the filter at {text[at:at + 20]!r}")
        kind = next(k for k, v in m.groupdict().items() if v is not None)
        value = m.group(kind)
        if kind == "single":
            kind, value = "value", value.replace("''", "'")
        elif kind == "double":
            kind, value = "value", value.replace('""', '"')
        elif kind == "op":
            value = value.lower()
        out.append((kind, value))
        at = m.end()
    return out


def parse(text: str) -> Node:
    """The filter as a tree; raises :class:`FilterError` naming what is not understood."""
    body = text.strip()
    if body.startswith("{") and body.endswith("}"):
        body = body[1:-1]
    if "*" in body:
        raise FilterError("wildcards are not modelled by the emulator")
    tokens = _tokens(body)
    if not tokens:
        raise FilterError("the filter is empty")
    node, rest = _or(tokens)
    if rest:
        raise FilterError(f"unexpected {rest[0][1]!r} in the filter")
    return node


Tokens = list[tuple[str, str]]


def _or(tokens: Tokens) -> tuple[Node, Tokens]:
    return _joined(tokens, "or", _and)


def _and(tokens: Tokens) -> tuple[Node, Tokens]:
    return _joined(tokens, "and", _unary)


def _joined(tokens: Tokens, op: str, part: Callable[[Tokens], tuple[Node, Tokens]]) -> tuple[Node, Tokens]:
    """``part (-op part)*``: one node, or a :class:`Join` of them."""
    node, tokens = part(tokens)
    parts = [node]
    while tokens and tokens[0] == ("op", f"-{op}"):
        node, tokens = part(tokens[1:])
        parts.append(node)
    return (parts[0] if len(parts) == 1 else Join(op, tuple(parts))), tokens


def _unary(tokens: Tokens) -> tuple[Node, Tokens]:
    if not tokens:
        raise FilterError("the filter ends too early")
    if tokens[0] == ("op", "-not"):
        node, rest = _unary(tokens[1:])
        return Not(node), rest
    if tokens[0] == ("paren", "("):
        node, rest = _or(tokens[1:])
        if not rest or rest[0] != ("paren", ")"):
            raise FilterError("a parenthesis is not closed")
        return node, rest[1:]
    if len(tokens) < 3 or tokens[0][0] != "word" or tokens[1] not in (("op", "-eq"), ("op", "-ne")) \
            or tokens[2][0] != "value":
        raise FilterError("expected Property -eq 'Value' (or -ne)")
    prop = next((p for p in PROPERTIES if p.lower() == tokens[0][1].lower()), None)
    if prop is None:
        raise FilterError(f"property {tokens[0][1]!r} is not modelled (known: {', '.join(PROPERTIES)})")
    return Compare(prop, tokens[1][1] == "-eq", tokens[2][1]), tokens[3:]
