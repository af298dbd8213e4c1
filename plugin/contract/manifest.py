"""``plugin.json``, the manifest the LMS installs the plugin from, checked when the app starts.

A manifest that the LMS would misread (a bad version, an unknown topic or role, a missing page
path) stops start-up with a message naming the field, rather than failing later inside the LMS.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate, validates_schema

from plugin.contract.schemas import ROLES, TOPICS, flatten

# the project's plugin.json (a checkout), else the copy packaged inside ``plugin/`` (an installed wheel)
MANIFEST_PATH = next((p for p in (Path(__file__).resolve().parent.parent / "plugin.json",
                                  Path(__file__).resolve().parent / "plugin.json") if p.is_file()),
                     Path(__file__).resolve().parent / "plugin.json")
MANAGE_CAPABILITY = "outlook_calendar:manage"

_SEMVER = (
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
_SLUG = r"^[a-z][a-z0-9_-]*$"
_ENTRY_POINT = r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$"
_PATH = r"^/[A-Za-z0-9._~/-]*$"
_CAPABILITY = r"^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$"
_REQUIREMENT = r"^(>=|<=|==|~=|>|<)?\d+(\.\d+){0,2}(,(>=|<=|==|~=|>|<)\d+(\.\d+){0,2})*$"


class ManifestError(ValueError):
    """The manifest is missing, unreadable or invalid; the message names each bad field."""

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.fields = fields or {}


@dataclass(frozen=True)
class SettingsPage:
    section: str
    title: str
    path: str


@dataclass(frozen=True)
class Manifest:
    id: str
    name: str
    version: str
    description: str
    entry_point: str
    settings_page: SettingsPage
    capabilities: Mapping[str, tuple[str, ...]]
    hooks: tuple[str, ...]
    hook_url: str
    requires: Mapping[str, str]

    def allows(self, role: str, capability: str = MANAGE_CAPABILITY) -> bool:
        """Whether the LMS role holds ``capability`` (by default, managing the integration)."""
        return role in self.capabilities.get(capability, ())


def _text(pattern: str | None = None, error: str | None = None) -> fields.String:
    checks: list[validate.Validator] = [validate.Length(min=1)]
    if pattern:
        checks.append(validate.Regexp(pattern, error=error or "Does not match {regex}."))
    return fields.String(required=True, validate=checks)


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class SettingsPageSchema(_Strict):
    section = _text(_SLUG, "Must be a lowercase section name such as integrations.")
    title = _text()
    path = _text(_PATH, "Must be an absolute path such as /integrations/outlook.")

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> SettingsPage:
        return SettingsPage(**data)


class RequiresSchema(_Strict):
    lms_contract = _text(_REQUIREMENT, "Must be a version requirement such as >=1.0.")


class ManifestSchema(_Strict):
    id = _text(_SLUG, "Must be lowercase letters, digits, '-' or '_', starting with a letter.")
    name = _text()
    version = _text(_SEMVER, "Must be a semantic version such as 1.2.3.")
    description = _text()
    entry_point = _text(_ENTRY_POINT, "Must name module:callable, such as plugin:create_app.")
    settings_page = fields.Nested(SettingsPageSchema, required=True)
    capabilities = fields.Dict(
        keys=fields.String(validate=validate.Regexp(_CAPABILITY, error="Must be area:action.")),
        values=fields.List(fields.String(validate=validate.OneOf(ROLES)), validate=validate.Length(min=1)),
        required=True,
    )
    hooks = fields.List(
        fields.String(validate=validate.OneOf(TOPICS)), required=True, validate=validate.Length(min=1)
    )
    hook_url = _text(_PATH, "Must be an absolute path such as /hooks.")
    requires = fields.Nested(RequiresSchema, required=True)

    @validates_schema
    def _consistent(self, data: dict[str, Any], **kwargs: Any) -> None:
        if len(set(data["hooks"])) != len(data["hooks"]):
            raise ValidationError("Each topic may be listed once.", "hooks")
        if MANAGE_CAPABILITY not in data["capabilities"]:
            raise ValidationError(f"Must declare {MANAGE_CAPABILITY}.", "capabilities")

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> Manifest:
        capabilities = {name: tuple(roles) for name, roles in data.pop("capabilities").items()}
        return Manifest(capabilities=capabilities, hooks=tuple(data.pop("hooks")), **data)


def load_manifest(path: str | Path | None = None) -> Manifest:
    """Read and check the manifest (by default the packaged ``plugin.json`` beside ``plugin/``)."""
    source = Path(path) if path is not None else MANIFEST_PATH
    try:
        raw = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"{source.name}: not found at {source}") from None
    except (OSError, ValueError) as error:
        raise ManifestError(f"{source.name}: cannot be read as JSON: {error}") from None
    try:
        manifest: Manifest = ManifestSchema().load(raw)
    except ValidationError as error:
        problems = flatten(error.messages)
        details = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in problems.items())
        raise ManifestError(f"{source.name}: {details}", problems) from None
    return manifest
