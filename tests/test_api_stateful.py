"""Sequences of API calls, generated from the OpenAPI description and its links: a
provider opens, describes, finishes and retracts reports; an agency lists, reads,
acknowledges, annotates and refers on its referrals. Every answer must fit the schema,
none may be a server error, and neither may reach what belongs to another."""

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis.stateful import initialize, invariant
from schemathesis.generation.stateful.state_machine import APIStateMachine, StepInput, StepOutput
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from intake.examples import EXAMPLE_REPORT
from intake.models import Report
from intake.services import ProviderCredentials
from routing.models import Referral, ReferralEvent, ReferralNote
from routing.services import agency_user_create
from tests.conftest import referral_in

pytestmark = pytest.mark.django_db

api_schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
STATEFUL = settings(
    max_examples=25,
    stateful_step_count=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def wsgi_keeps_the_test_transaction() -> Iterator[None]:
    """Requests made straight to the WSGI app would close the database connection when
    they finish, ending the test's transaction (Django's test client avoids it the same
    way)."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def workflow(
    token: str, untouched: dict[str, Any], *, opens_reports: bool = False
) -> type[APIStateMachine]:
    """The schema's state machine, calling with ``token``, checking after every step that
    what ``untouched`` describes (another party's rows) has not changed; with
    ``opens_reports``, sequences may also start from a report opened with the documented
    example (generated report bodies are rarely valid CyberTipline reports)."""
    machine = api_schema.as_state_machine()

    class Workflow(machine):  # type: ignore[misc,valid-type]
        def before_call(self, case: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Token {token}"}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            # Every built-in check but two. ignored_auth takes the token this machine adds
            # for a generated one (authentication has tests of its own).
            # positive_data_acceptance expects every schema-valid body to be accepted, but
            # some rules span fields (a hash's length by its type, at least one MD5, SHA1
            # or SHA256 a file, the reporting person's email), which the schema does not
            # state and the server refuses with a 400 naming the field.
            case.validate_response(
                response,
                excluded_checks=[ignored_auth, positive_data_acceptance],
                recorder=self.recorder,
            )

        @invariant()
        def others_are_untouched(self) -> None:
            for name, (read, expected) in untouched.items():
                assert read() == expected, name

    if not opens_reports:
        return Workflow

    class ProviderWorkflow(Workflow):
        @initialize(target=machine.bundles["POST /api/v1/reports -> 201"])  # type: ignore[call-overload]
        def open_a_report(self) -> StepOutput:
            case = api_schema["/api/v1/reports"]["POST"].Case(body=EXAMPLE_REPORT)
            self.recorder.record_case(case=case)
            output = self.step(StepInput.initial(case))
            assert output.response.status_code == 201, output.response.text
            return output

    return ProviderWorkflow


def test_provider_call_sequences_fit_the_schema_and_leave_other_providers_alone(
    provider: ProviderCredentials,
    other_provider: ProviderCredentials,
    wsgi_keeps_the_test_transaction: None,
) -> None:
    from tests.factories import ReportFactory

    theirs = ReportFactory.create(source=Report.Source.PROVIDER, provider=other_provider.provider)

    def their_report() -> tuple[str, int]:
        report = Report.objects.get(pk=theirs.pk)
        return report.status, report.files.count()

    workflow(
        provider.token,
        {"the other provider's report": (their_report, their_report())},
        opens_reports=True,
    ).run(settings=STATEFUL)
    assert Report.objects.filter(provider=provider.provider).exists()


def test_agency_call_sequences_fit_the_schema_and_leave_other_agencies_alone(
    reference_data: None, wsgi_keeps_the_test_transaction: None
) -> None:
    for _ in range(3):
        referral_in("GB")
    theirs = referral_in("DE", priority="1")
    credentials = agency_user_create(agency_code="direct-gb", username="gb-officer")

    def their_referral() -> tuple[str, str, int, int]:
        referral = Referral.objects.get(pk=theirs.pk)
        return (
            referral.status,
            referral.case_status,
            ReferralEvent.objects.filter(referral=referral).count(),
            ReferralNote.objects.filter(referral=referral).count(),
        )

    workflow(
        credentials.token, {"the other agency's referral": (their_referral, their_referral())}
    ).run(settings=STATEFUL)
    assert ReferralEvent.objects.filter(
        referral__agency__code="direct-gb", kind=ReferralEvent.Kind.ACKNOWLEDGED
    ).exists()
