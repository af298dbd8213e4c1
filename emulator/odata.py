"""The OData query options the product uses, parsed by hand, and nothing more.

``$filter`` grammar: comparisons (``path op literal``), ``any``/``Any`` lambdas over a collection
(``coll/any(x: x eq 'v')``, ``coll/Any(ep: ep/id eq 'v' and ep/value eq 'w')``), ``and``, ``or``
and parentheses. Each route says which fields it can filter on; anything else is refused, as Graph
refuses filters it does not support.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import GraphError

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<dt>\d{4}-\d{2}-\d{2}T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?)"
    r"|(?P<num>-?\d+(?:\.\d+)?)|(?P<punct>[()/:,])|(?P<word>[A-Za-z_$][A-Za-z0-9_.$-]*))"
)
_OPS = {"eq", "ne", "gt", "ge", "lt", "le"}


@dataclass(frozen=True)
class Cmp:
    path: str
    op: str
    value: Any


@dataclass(frozen=True)
class AnyOf:
    collection: str
    var: str
    body: Any  # a tree whose Cmp paths are relative to the lambda variable ("" = the item)


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" | "or"
    parts: tuple[Any, ...]


class FilterError(ValueError):
    pass


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise FilterError(f"Syntax error at position {pos} in '{text}'.")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1].lower() != value):
            raise FilterError(f"Syntax error: expected '{value or 'more'}' in '{self.text}'.")
        self.i += 1
        return tok

    def parse(self) -> Any:
        tree = self.expr()
        if self.peek() is not None:
            raise FilterError(f"Syntax error at '{self.peek()[1]}' in '{self.text}'.")  # type: ignore[index]
        return tree

    def expr(self) -> Any:
        parts = [self.conj()]
        while self._word_is("or"):
            self.i += 1
            parts.append(self.conj())
        return parts[0] if len(parts) == 1 else BoolOp("or", tuple(parts))

    def conj(self) -> Any:
        parts = [self.term()]
        while self._word_is("and"):
            self.i += 1
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else BoolOp("and", tuple(parts))

    def _word_is(self, word: str) -> bool:
        tok = self.peek()
        return tok is not None and tok[0] == "word" and tok[1].lower() == word

    def term(self) -> Any:
        tok = self.peek()
        if tok and tok[1] == "(":
            self.take("(")
            inner = self.expr()
            self.take(")")
            return inner
        path = self.path()
        if path.lower().endswith("/any"):
            collection = path[: -len("/any")]
            self.take("(")
            var = self.take()[1]
            self.take(":")
            body = self.expr()
            self.take(")")
            return AnyOf(collection, var, body)
        op = self.take()[1].lower()
        if op not in _OPS:
            raise FilterError(f"Unsupported operator '{op}' in '{self.text}'.")
        return Cmp(path, op, self.literal())

    def path(self) -> str:
        kind, first = self.take()
        if kind != "word":
            raise FilterError(f"Syntax error at '{first}' in '{self.text}'.")
        parts = [first]
        while self.peek() is not None and self.peek()[1] == "/":  # type: ignore[index]
            self.take("/")
            parts.append(self.take()[1])
        return "/".join(parts)

    def literal(self) -> Any:
        kind, raw = self.take()
        if kind == "str":
            return raw[1:-1].replace("''", "'")
        if kind == "num":
            return float(raw) if "." in raw else int(raw)
        if kind == "dt":
            return raw
        if kind == "word" and raw.lower() in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[raw.lower()]
        raise FilterError(f"Unexpected literal '{raw}' in '{self.text}'.")


def parse_filter(text: str) -> Any:
    return _Parser(text).parse()


Getter = Callable[[str], Any]


def evaluate(tree: Any, get: Getter, compare: Callable[[str, Any, str, Any], bool]) -> bool:
    """Evaluate a filter tree; ``get(path)`` reads a field, ``compare(path, left, op, right)``."""
    if isinstance(tree, BoolOp):
        results = (evaluate(p, get, compare) for p in tree.parts)
        return all(results) if tree.op == "and" else any(results)
    if isinstance(tree, AnyOf):
        for item in get(tree.collection) or []:

            def item_get(path: str, item: Any = item, var: str = tree.var) -> Any:
                if path == var:
                    return item
                rel = path.removeprefix(var + "/")
                return item.get(rel) if isinstance(item, dict) else None

            def item_cmp(path: str, left: Any, op: str, right: Any, node: AnyOf = tree) -> bool:
                rel = "" if path == node.var else path.removeprefix(node.var + "/")
                return compare(f"{node.collection}/{rel}", left, op, right)

            if evaluate(tree.body, item_get, item_cmp):
                return True
        return False
    return compare(tree.path, get(tree.path), tree.op, tree.value)


def check_fields(tree: Any, allowed: set[str], lambdas: dict[str, set[str]]) -> None:
    """Refuse filters on fields the route does not support (lower-cased comparison)."""
    if isinstance(tree, BoolOp):
        for p in tree.parts:
            check_fields(p, allowed, lambdas)
    elif isinstance(tree, AnyOf):
        subs = lambdas.get(tree.collection.lower())
        if subs is None:
            raise FilterError(f"Filtering on '{tree.collection}' is not supported.")
        for cmp in _leaves(tree.body):
            rel = "" if cmp.path == tree.var else cmp.path.removeprefix(tree.var + "/").lower()
            if not cmp.path.startswith(tree.var) or rel not in subs or cmp.op != "eq":
                raise FilterError(f"Unsupported lambda expression on '{tree.collection}'.")
    elif tree.path.lower() not in allowed:
        raise FilterError(f"Filtering on '{tree.path}' is not supported.")


def _leaves(tree: Any) -> list[Cmp]:
    if isinstance(tree, BoolOp):
        return [leaf for p in tree.parts for leaf in _leaves(p)]
    if isinstance(tree, AnyOf):
        raise FilterError("Nested lambda expressions are not supported.")
    return [tree]


def parse_select(raw: str | None, known: set[str], type_name: str) -> list[str] | None:
    """``$select`` list, refusing names the type does not have."""
    if raw is None:
        return None
    names = [n.strip() for n in raw.split(",") if n.strip()]
    for name in names:
        if name not in known:
            raise GraphError(
                400,
                "RequestBroker--ParseUri",
                f"Could not find a property named '{name}' on type '{type_name}'.",
            )
    return names


def parse_int(raw: str | None, name: str, default: int, maximum: int | None = None) -> int:
    if raw is None:
        return default
    if not re.fullmatch(r"\d+", raw.strip()):
        raise GraphError(400, "BadRequest", f"Invalid value '{raw}' for query option '{name}'.")
    value = int(raw)
    if maximum is not None and value > maximum:
        raise GraphError(
            400,
            "BadRequest",
            f"The limit of '{maximum}' for Top query has been exceeded. "
            f"The value from the incoming request is '{value}'.",
        )
    return value


def check_options(query: dict[str, str], allowed: set[str]) -> None:
    """Unknown ``$`` system query options are refused, as Graph does."""
    for key in query:
        if key.startswith("$") and key.lower() not in allowed:
            raise GraphError(400, "BadRequest", f"Query option '{key}' is not allowed.")
