"""Schemathesis drives the hooks from their own OpenAPI document: no input makes the server fail.

Bodies are signed as the host would sign them, so generated cases reach validation and storage
rather than stopping at 401 (negative cases that drop the signature headers still check the 401).
Cases are drawn with ``as_strategy`` under ``hypothesis.given``, because schemathesis's pytest
fixture loader does not run on pytest 9.
"""
from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core import NotSet
from schemathesis.generation import GenerationMode

from plugin.host import HostClient

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
@pytest.mark.parametrize("path", ["/hooks", "/hooks/batch"])
def test_no_input_makes_the_server_fail(app: Flask, host: HostClient, path: str, mode: GenerationMode) -> None:
    operation = schemathesis.openapi.from_wsgi("/hooks/openapi.json", app)[path]["POST"]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=50, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def signed_case(case: Any) -> None:
        body = b"" if isinstance(case.body, NotSet) else case.body
        raw = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        response = case.call(data=raw, headers=host.signed_headers(raw))
        case.validate_response(response, checks=CHECKS)

    signed_case()
