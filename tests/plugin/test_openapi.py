"""GET /hooks/openapi.json: a valid OpenAPI document generated from the validating schemas."""
from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from plugin.contract.openapi import document
from plugin.contract.schemas import MAX_BATCH, ROLES, TOPICS


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return document("0.1.0")


def test_document_is_valid_openapi(spec: dict[str, Any]) -> None:
    validator = pytest.importorskip("openapi_spec_validator", reason="openapi-spec-validator is not installed")
    validator.validate(spec)


def test_both_hook_paths_are_signed_and_answer_every_documented_status(spec: dict[str, Any]) -> None:
    for path in ("/hooks", "/hooks/batch"):
        operation = spec["paths"][path]["post"]
        assert operation["security"] == [{"HookKey": [], "HookSignature": [], "HookTimestamp": []},
                                         {"HookSignature": [], "HookTimestamp": []}]
        assert set(operation["responses"]) == {"200", "202", "400", "401", "403", "413", "503"}
        assert "Retry-After" in operation["responses"]["503"]["headers"]
    schemes = spec["components"]["securitySchemes"]
    assert {s["name"] for s in schemes.values()} == {"X-Hook-Key", "X-Hook-Signature", "X-Hook-Timestamp"}


def test_request_schemas_come_from_the_marshmallow_schemas(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    body = spec["paths"]["/hooks"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert set(body["discriminator"]["mapping"]) == set(TOPICS)
    assert schemas["UserUpsertedDelivery"]["additionalProperties"] is False
    assert schemas["UserUpsertedDelivery"]["properties"]["topic"]["enum"] == ["user.upserted"]
    assert schemas["UserUpserted"]["properties"]["role"]["enum"] == list(ROLES)
    assert schemas["EventSession"]["properties"]["start"]["format"] == "date-time"
    assert schemas["EventUpserted"]["properties"]["sessions"]["items"] == {"$ref": "#/components/schemas/EventSession"}
    deliveries = schemas["Batch"]["properties"]["deliveries"]
    assert deliveries["maxItems"] == MAX_BATCH
    assert deliveries["items"]["oneOf"] == body["oneOf"]


def test_document_is_served_with_the_manifest_version(client: FlaskClient) -> None:
    response = client.get("/hooks/openapi.json")
    assert response.status_code == 200
    assert response.json == document("0.1.0")


def test_the_committed_document_is_the_generated_one() -> None:
    """docs/hooks-openapi.json (beside docs/HOST-CONTRACT.md) is what GET /hooks/openapi.json serves."""
    import json
    from pathlib import Path

    from plugin.contract.manifest import load_manifest

    committed = json.loads((Path(__file__).resolve().parents[2] / "docs" / "hooks-openapi.json").read_text())
    assert committed == document(load_manifest().version), \
        "regenerate it: python -m plugin.contract.openapi > docs/hooks-openapi.json"


def test_the_contract_says_descriptions_are_html_and_sanitized(spec: dict[str, Any]) -> None:
    text = spec["components"]["schemas"]["EventUpserted"]["properties"]["description"]["description"]
    assert text.startswith("HTML") and "allow-list" in text


def test_the_deadline_topics_are_described(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    assert schemas["DeadlineUpserted"]["required"] == ["due", "id", "timezone", "title", "version"]
    learner = schemas["LearnerDeadlineUpserted"]["properties"]
    assert learner["due"]["nullable"] is True and learner["due"]["format"] == "date-time"
    assert learner["done"]["type"] == "boolean"
    assert set(schemas["LearnerDeadlineDeleted"]["required"]) == {"deadline_id", "user_id", "version"}
