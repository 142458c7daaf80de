import pytest
from django.test import Client

from intake.models import Report
from tests.conftest import signed_in_staff
from tests.factories import IP_BY_COUNTRY, ReportFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client: Client) -> Client:
    return signed_in_staff(client, "analyst")


def test_admin_lists_reports(staff_client: Client, routed_report: Report) -> None:
    page = staff_client.get("/admin/intake/report/")

    assert page.status_code == 200
    html = page.content.decode()
    assert f"/admin/intake/report/{routed_report.pk}/change/" in html
    assert "Child Pornography (possession, manufacture, and distribution)" in html


def test_admin_lists_referrals(staff_client: Client, routed_report: Report) -> None:
    page = staff_client.get("/admin/routing/referral/")

    assert page.status_code == 200
    assert "Germany national police (simulated)" in page.content.decode()


def test_admin_report_page_shows_ip_evidence_and_referral(
    staff_client: Client, routed_report: Report
) -> None:
    page = staff_client.get(f"/admin/intake/report/{routed_report.pk}/change/")

    assert page.status_code == 200
    html = page.content.decode()
    assert IP_BY_COUNTRY["DE"] in html
    assert "Germany national police (simulated)" in html


def test_admin_search_finds_a_report_by_ip_address(
    staff_client: Client, routed_report: Report
) -> None:
    other = ReportFactory.create()
    page = staff_client.get("/admin/intake/report/", {"q": IP_BY_COUNTRY["DE"]})

    html = page.content.decode()
    assert f"/admin/intake/report/{routed_report.pk}/change/" in html
    assert f"/admin/intake/report/{other.pk}/change/" not in html


def test_admin_requires_a_staff_login(client: Client) -> None:
    page = client.get("/admin/intake/report/")

    assert page.status_code == 302
    assert page["Location"].startswith("/admin/login/")


def test_the_submitted_report_is_shown_but_cannot_be_edited(
    staff_client: Client, routed_report: Report
) -> None:
    Report.objects.filter(pk=routed_report.pk).update(
        document={"additionalInfo": "Synthetic details."}
    )
    page = staff_client.get(f"/admin/intake/report/{routed_report.pk}/change/")

    html = page.content.decode()
    assert "Synthetic details." in html
    assert 'name="document"' not in html
