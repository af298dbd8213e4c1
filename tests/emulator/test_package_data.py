"""What the emulator needs from Microsoft ships inside the package, with its source and licence."""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import pytest

from bridge.sync.zones import graph_iana_zones
from emulator.csdl import PACKAGED_CSDL, find_csdl, load_schema
from emulator.zones import load_iana_zones

NOTICE = PACKAGED_CSDL.with_name("README.md")


def test_the_packaged_csdl_is_the_default_and_matches_its_recorded_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OUTLOOK_EMULATOR_CSDL", raising=False)
    assert find_csdl() == PACKAGED_CSDL
    notice = NOTICE.read_text(encoding="utf-8")
    assert "microsoftgraph/msgraph-metadata" in notice and "schemas/v1.0-Prod.csdl" in notice
    assert "f54f11b60956ea7b185ca0447b2b80805836ec7b" in notice
    recorded = re.search(r"`([0-9a-f]{64})`", notice)
    assert recorded is not None
    assert hashlib.sha256(gzip.decompress(PACKAGED_CSDL.read_bytes())).hexdigest() == recorded.group(1)
    licence = PACKAGED_CSDL.with_name("LICENSE").read_text(encoding="utf-8")
    assert "MIT License" in licence and "Microsoft Graph" in licence


def test_the_packaged_csdl_has_the_types_the_emulator_checks() -> None:
    schema = load_schema()
    for name in ("event", "user", "dateTimeTimeZone", "itemBody", "location", "attendee",
                 "singleValueLegacyExtendedProperty", "outlookItem", "entity"):
        assert f"microsoft.graph.{name}" in schema.types, name
    assert "busy" in schema.enums["microsoft.graph.freeBusyStatus"]


def test_a_plain_csdl_given_by_the_variable_is_read_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = tmp_path / "v1.0-Prod.csdl"
    plain.write_bytes(gzip.decompress(PACKAGED_CSDL.read_bytes()))
    monkeypatch.setenv("OUTLOOK_EMULATOR_CSDL", str(plain))
    assert load_schema().path == plain and "microsoft.graph.event" in load_schema().types


def test_emulator_and_plugin_agree_on_the_iana_zones_graph_accepts() -> None:
    accepted = load_iana_zones()
    assert accepted == graph_iana_zones()
    assert "Europe/Berlin" in accepted and "Europe/Madrid" not in accepted
