"""Microsoft Graph's own metadata (CSDL) as the judge of property names, types and enums.

The emulator refuses a body the way Graph would only if it knows Graph's schema, and the only
trustworthy copy is Microsoft's ``v1.0-Prod.csdl``. The package carries it, gzip-compressed, in
``emulator/data/msgraph-metadata/`` (source commit and licence beside it); ``--csdl`` or
``$OUTLOOK_EMULATOR_CSDL`` may name another copy (plain or ``.gz``). It is parsed once at start-up;
`Schema.check` validates a JSON value against an entity or complex type, recursively.
"""

from __future__ import annotations

import base64
import gzip
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CSDL_ENV = "OUTLOOK_EMULATOR_CSDL"
PACKAGED_CSDL = Path(__file__).resolve().parent / "data" / "msgraph-metadata" / "v1.0-Prod.csdl.gz"
_EDM = "{http://docs.oasis-open.org/odata/ns/edm}"


class CsdlMissing(RuntimeError):
    """The CSDL file cannot be found; the message names the path and the variable."""


@dataclass(frozen=True)
class CsdlIssue(Exception):
    """A value that does not fit the schema, worded as Graph words it."""

    code: str
    message: str
    path: str = ""

    def __str__(self) -> str:
        return f"{self.path or '$'}: {self.message}"


@dataclass(frozen=True)
class Prop:
    """One structural or navigation property."""

    name: str
    type: str
    collection: bool
    nullable: bool
    navigation: bool


@dataclass
class StructType:
    """An entity or complex type; `props` holds own properties only."""

    name: str
    base: str | None
    abstract: bool
    props: dict[str, Prop] = field(default_factory=dict)


def find_csdl(explicit: str | None = None) -> Path:
    """The CSDL to load: ``explicit``, else ``$OUTLOOK_EMULATOR_CSDL``, else the packaged copy.

    Raises CsdlMissing (naming the path and the variable) when the chosen file does not exist.
    """
    chosen = explicit or os.environ.get(CSDL_ENV)
    path = Path(chosen) if chosen else PACKAGED_CSDL
    if not path.is_file():
        source = f"set by {CSDL_ENV} or --csdl" if chosen else "the package's own copy; reinstall the package"
        raise CsdlMissing(f"Graph CSDL not found at {path} ({source})")
    return path


def _split_type(raw: str, aliases: dict[str, str]) -> tuple[str, bool]:
    collection = raw.startswith("Collection(")
    if collection:
        raw = raw[len("Collection(") : -1]
    ns, _, name = raw.rpartition(".")
    return f"{aliases.get(ns, ns)}.{name}", collection


class Schema:
    """Parsed CSDL: structured types, enums, and a validator."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.types: dict[str, StructType] = {}
        self.enums: dict[str, tuple[str, ...]] = {}
        self._all_props: dict[str, dict[str, Prop]] = {}
        self._derived: dict[str, set[str]] = {}
        self._load(path)

    def _load(self, path: Path) -> None:
        with gzip.open(path) if path.suffix == ".gz" else path.open("rb") as source:
            root = ET.parse(source).getroot()
        schemas = list(root.iter(f"{_EDM}Schema"))
        aliases = {s.get("Alias", ""): s.get("Namespace", "") for s in schemas if s.get("Alias")}
        for schema in schemas:
            ns = schema.get("Namespace", "")
            for el in schema:
                tag = el.tag.removeprefix(_EDM)
                qualified = f"{ns}.{el.get('Name')}"
                if tag == "EnumType":
                    self.enums[qualified] = tuple(m.get("Name", "") for m in el.iter(f"{_EDM}Member"))
                elif tag in ("EntityType", "ComplexType"):
                    base = el.get("BaseType")
                    st = StructType(
                        qualified,
                        _split_type(base, aliases)[0] if base else None,
                        el.get("Abstract") == "true",
                    )
                    for p in el:
                        ptag = p.tag.removeprefix(_EDM)
                        if ptag not in ("Property", "NavigationProperty"):
                            continue
                        ptype, coll = _split_type(p.get("Type", ""), aliases)
                        st.props[p.get("Name", "")] = Prop(
                            p.get("Name", ""),
                            ptype,
                            coll,
                            p.get("Nullable") != "false",
                            ptag == "NavigationProperty",
                        )
                    self.types[qualified] = st
        for st in self.types.values():
            base = st.base
            while base:
                self._derived.setdefault(base, set()).add(st.name)
                base = self.types[base].base if base in self.types else None

    def properties(self, type_name: str) -> dict[str, Prop]:
        """All properties of a type, inherited ones included."""
        cached = self._all_props.get(type_name)
        if cached is None:
            st = self.types[type_name]
            cached = dict(self.properties(st.base)) if st.base else {}
            cached.update(st.props)
            self._all_props[type_name] = cached
        return cached

    def is_a(self, candidate: str, base: str) -> bool:
        """True when ``candidate`` is ``base`` or derives from it."""
        return candidate == base or candidate in self._derived.get(base, set())

    def check(self, type_name: str, value: Any, path: str = "") -> None:
        """Raise CsdlIssue if ``value`` (a JSON object) does not fit ``type_name``."""
        self._check_struct(_qualify(type_name), value, path)

    def _check_struct(self, type_name: str, value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise _node_issue(value, "StartObject", path)
        declared = value.get("@odata.type")
        if declared is not None:
            actual = _qualify(str(declared).lstrip("#"))
            if actual not in self.types or not self.is_a(actual, type_name):
                raise CsdlIssue(
                    "RequestBodyRead",
                    f"A type named '{actual}' could not be resolved by the model. When a model is "
                    "available, each type name must resolve to a valid type.",
                    path,
                )
            type_name = actual
        props = self.properties(type_name)
        for key, item in value.items():
            if "@" in key:  # instance annotations (@odata.etag, name@odata.type, ...)
                continue
            prop = props.get(key)
            if prop is None:
                raise CsdlIssue(
                    "RequestBodyRead",
                    f"The property '{key}' does not exist on type '{type_name}'. Make sure to only "
                    "use property names that are defined by the type or mark the type as open type.",
                    f"{path}.{key}" if path else key,
                )
            self._check_value(prop, item, f"{path}.{key}" if path else key)

    def _check_value(self, prop: Prop, value: Any, path: str) -> None:
        if value is None:
            if prop.collection or not prop.nullable:
                kind = f"Collection({prop.type})" if prop.collection else prop.type
                raise CsdlIssue(
                    "RequestBodyRead",
                    f"A null value was found for the property named '{prop.name}', which has the "
                    f"expected type '{kind}[Nullable=False]'. The expected type "
                    f"'{kind}[Nullable=False]' does not allow null values.",
                    path,
                )
            return
        if prop.collection:
            if not isinstance(value, list):
                raise _node_issue(value, "StartArray", path)
            for i, item in enumerate(value):
                if item is None and prop.type in self.types:
                    raise _node_issue(item, "StartObject", f"{path}[{i}]")
                if item is not None:
                    self._check_single(prop.type, item, f"{path}[{i}]")
            return
        self._check_single(prop.type, value, path)

    def _check_single(self, type_name: str, value: Any, path: str) -> None:
        if type_name in self.types:
            self._check_struct(type_name, value, path)
        elif type_name in self.enums:
            members = self.enums[type_name]
            parts = value.split(",") if isinstance(value, str) else [None]
            if not all(isinstance(p, str) and p.strip() in members for p in parts):
                raise _literal_issue(value, type_name, path)
        elif type_name.startswith("Edm."):
            if not _edm_ok(type_name, value):
                raise _literal_issue(value, type_name, path)
        else:
            raise CsdlIssue("RequestBodyRead", f"Unknown type '{type_name}' in the model.", path)


def _qualify(name: str) -> str:
    if name.startswith("graph."):
        return "microsoft." + name
    return name if "." in name else f"microsoft.graph.{name}"


def _node_issue(value: Any, expected: str, path: str) -> CsdlIssue:
    found = "StartObject" if isinstance(value, dict) else "StartArray" if isinstance(value, list) else "PrimitiveValue"
    return CsdlIssue(
        "RequestBodyRead",
        f"An unexpected '{found}' node was found when reading from the JSON reader. A '{expected}' node was expected.",
        path,
    )


def _literal_issue(value: Any, type_name: str, path: str) -> CsdlIssue:
    shown = value if not isinstance(value, (dict, list)) else type(value).__name__
    if isinstance(value, bool):
        shown = str(value).lower()
    return CsdlIssue(
        "RequestBodyRead",
        f"Cannot convert the literal '{shown}' to the expected type '{type_name}'.",
        path,
    )


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DTO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$")
_TOD = re.compile(r"^\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?$")
_DUR = re.compile(r"^-?P(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_INT_RANGES = {
    "Edm.Byte": (0, 255),
    "Edm.SByte": (-128, 127),
    "Edm.Int16": (-(2**15), 2**15 - 1),
    "Edm.Int32": (-(2**31), 2**31 - 1),
    "Edm.Int64": (-(2**63), 2**63 - 1),
}


def _edm_ok(type_name: str, value: Any) -> bool:
    """Does a JSON value fit an Edm primitive type (as Graph's JSON reader takes it)?"""
    if type_name in _INT_RANGES:
        low, high = _INT_RANGES[type_name]
        return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
    if type_name in ("Edm.Double", "Edm.Single", "Edm.Decimal"):
        if isinstance(value, str):
            return value in ("NaN", "INF", "-INF")
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if type_name == "Edm.Boolean":
        return isinstance(value, bool)
    if not isinstance(value, str):
        return False
    if type_name == "Edm.DateTimeOffset":
        return bool(_DTO.match(value))
    if type_name == "Edm.Date":
        return bool(_DATE.match(value))
    if type_name == "Edm.TimeOfDay":
        return bool(_TOD.match(value))
    if type_name == "Edm.Duration":
        return bool(_DUR.match(value)) and value not in ("P", "-P", "PT")
    if type_name == "Edm.Guid":
        return bool(_GUID.match(value))
    if type_name == "Edm.Binary":
        try:
            base64.b64decode(value, validate=True)
        except ValueError:
            return False
        return True
    return True  # Edm.String, Edm.Stream and the rest take any string


def load_schema(explicit: str | None = None) -> Schema:
    """Find and parse the CSDL (raises CsdlMissing with a clear message)."""
    return Schema(find_csdl(explicit))
