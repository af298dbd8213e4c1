"""plugin.json: the packaged manifest is valid, and every kind of mistake names its field."""
from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bridge.lms import ingest
from plugin.contract.manifest import MANIFEST_PATH, ManifestError, load_manifest
from plugin.contract.schemas import TOPICS

PACKAGED: dict[str, Any] = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))


def test_packaged_manifest_is_the_host_contract() -> None:
    manifest = load_manifest()
    assert manifest.id == "outlook-calendar"
    assert manifest.name == "Microsoft Outlook Calendar"
    assert manifest.version == "0.1.0"
    assert manifest.entry_point == "plugin:create_app"
    assert (manifest.settings_page.section, manifest.settings_page.title, manifest.settings_page.path) == (
        "integrations", "Microsoft Outlook Calendar", "/integrations/outlook"
    )
    assert manifest.capabilities == {"outlook_calendar:manage": ("owner", "admin")}
    assert manifest.hook_url == "/hooks"
    assert manifest.requires == {"lms_contract": ">=1.0"}


def test_manifest_subscribes_to_every_topic_the_store_applies() -> None:
    assert set(load_manifest().hooks) == set(TOPICS) == set(ingest.TOPICS)


@pytest.mark.parametrize(("role", "allowed"), [("owner", True), ("admin", True), ("instructor", False),
                                                ("learner", False), ("Owner", False)])
def test_only_owner_and_admin_may_manage(role: str, allowed: bool) -> None:
    assert load_manifest().allows(role) is allowed


def _without(*path: str) -> Callable[[dict[str, Any]], None]:
    def change(manifest: dict[str, Any]) -> None:
        target = manifest
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return change


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda manifest: manifest.__setitem__(key, value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_without("settings_page", "path"),
         "plugin.json: settings_page.path: Missing data for required field."),
        (_without("id"), "plugin.json: id: Missing data for required field."),
        (_without("requires", "lms_contract"), "requires.lms_contract: Missing data"),
        (_set("version", "1.0"), "version: Must be a semantic version"),
        (_set("version", "v1.0.0"), "version: Must be a semantic version"),
        (_set("entry_point", "plugin.create_app"), "entry_point: Must name module:callable"),
        (_set("id", "Outlook Calendar"), "id: Must be lowercase"),
        (_set("hook_url", "hooks"), "hook_url: Must be an absolute path"),
        (_set("hooks", ["user.upserted", "course.created"]), "hooks.1: Must be one of:"),
        (_set("hooks", []), "hooks: Shorter than minimum length 1."),
        (_set("hooks", ["user.upserted", "user.upserted"]), "hooks: Each topic may be listed once."),
        (_set("capabilities", {"outlook_calendar:manage": ["owner", "root"]}),
         "capabilities.outlook_calendar:manage.value.1: Must be one of: owner, admin, instructor, learner."),
        (_set("capabilities", {"outlook_calendar:manage": []}),
         "capabilities.outlook_calendar:manage.value:"),
        (_set("capabilities", {"calendar:view": ["owner"]}),
         "capabilities: Must declare outlook_calendar:manage"),
        (_set("requires", {"lms_contract": "latest"}),
         "requires.lms_contract: Must be a version requirement"),
        (_set("settings_page", "integrations"), "settings_page: Invalid input type."),
        (_set("homepage", "https://example.com"), "homepage: Unknown field."),
    ],
)
def test_invalid_manifest_names_the_field(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], message: str
) -> None:
    manifest = copy.deepcopy(PACKAGED)
    change(manifest)
    path = tmp_path / "plugin.json"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ManifestError) as raised:
        load_manifest(path)
    assert message in str(raised.value)
    assert raised.value.fields


def test_missing_or_unreadable_manifest_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"plugin\.json: not found"):
        load_manifest(tmp_path / "plugin.json")
    (tmp_path / "plugin.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ManifestError, match=r"plugin\.json: cannot be read as JSON"):
        load_manifest(tmp_path / "plugin.json")
