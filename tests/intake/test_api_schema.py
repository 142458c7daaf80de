"""The OpenAPI description is complete and true: schemathesis sends requests generated
from it (bounded in number) and every answer must fit it, without a server error."""

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from intake.examples import EXAMPLE_REPORT
from intake.services import ProviderCredentials

pytestmark = pytest.mark.django_db

api_schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@pytest.fixture
def wsgi_keeps_the_test_transaction() -> Iterator[None]:
    """Requests made straight to the WSGI app would close the database connection when
    they finish, ending the test's transaction; Django's own test client avoids it the same
    way."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def test_the_schema_is_openapi_3_with_every_operation(client: Client) -> None:
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {
        "/api/v1/reports",
        "/api/v1/reports/bulk",
        "/api/v1/reports/{report_id}",
        "/api/v1/reports/{report_id}/files",
        "/api/v1/reports/{report_id}/finish",
        "/api/v1/reports/{report_id}/retract",
        "/api/v1/hashes",
        "/api/v1/hashes/{entry_id}/feedback",
        "/api/v1/agency/referrals",
        "/api/v1/agency/referrals/{referral_id}",
        "/api/v1/agency/referrals/{referral_id}/acknowledge",
        "/api/v1/agency/referrals/{referral_id}/status",
        "/api/v1/agency/referrals/{referral_id}/notes",
        "/api/v1/agency/referrals/{referral_id}/refer-on",
        "/api/v1/notices",
        "/api/v1/notices/{notice_id}",
        "/api/v1/notices/{notice_id}/answer",
    }
    example = schema["paths"]["/api/v1/reports"]["post"]["requestBody"]["content"][
        "application/json"
    ]
    assert next(iter(example["examples"].values()))["value"] == EXAMPLE_REPORT
    assert "ApiToken" in schema["components"]["securitySchemes"]


def test_the_docs_page_renders(client: Client) -> None:
    page = client.get("/api/docs/")
    script = client.get("/api/docs/", {"script": ""})

    assert page.status_code == 200
    assert b"<script" in page.content
    assert b"/api/docs/?script=" in page.content
    assert script.status_code == 200
    assert b"/api/schema/" in script.content


@api_schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_generated_request_gets_an_answer_within_the_schema(
    case: Any, provider: ProviderCredentials, wsgi_keeps_the_test_transaction: None
) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Token {provider.token}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
