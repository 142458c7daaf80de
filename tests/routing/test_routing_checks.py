"""A routing table that cannot deliver is found by a system check and shown to staff."""

import pytest
from django.core import checks
from django.test import Client

from routing.checks import routing_problems
from routing.models import Agency
from tests.conftest import signed_in_staff

pytestmark = pytest.mark.django_db


def routing_messages(**kwargs: object) -> list[checks.CheckMessage]:
    return [m for m in checks.run_checks(**kwargs) if (m.id or "").startswith("routing.")]  # type: ignore[arg-type]


def test_the_reference_routing_table_has_no_problems(reference_data: None) -> None:
    assert routing_problems() == []
    assert routing_messages(databases=["default"]) == []


def test_a_country_whose_agency_is_inactive_is_found(reference_data: None) -> None:
    Agency.objects.filter(code="direct-ke").update(is_active=False)
    Agency.objects.filter(code=Agency.ANALYST_QUEUE_CODE).update(is_active=False)

    found = routing_messages(databases=["default"])

    assert [m.level for m in found] == [checks.WARNING, checks.WARNING]
    assert "1 country has no active agency: KE." in found[0].msg
    assert "analyst review queue is missing or inactive" in found[1].msg
    # Without a database (as in `check --deploy` at build time) the check stays quiet.
    assert routing_messages() == []


@pytest.mark.parametrize(
    ("role", "warned"), [("supervisor", True), ("analyst", True), ("auditor", False)]
)
def test_staff_who_see_agencies_are_warned_on_the_admin_index(
    client: Client, reference_data: None, role: str, warned: bool
) -> None:
    Agency.objects.filter(code="direct-ke").update(is_active=False)
    signed_in_staff(client, role)

    page = client.get("/admin/")

    assert page.status_code == 200
    assert ("no active agency: KE" in page.content.decode()) is warned
