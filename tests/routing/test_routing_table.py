"""The routing table is data: U.S. states to ICAC task forces, edited by supervisors in
the admin with a history of who changed what."""

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from routing.countries import US_STATE_NAMES
from routing.models import Agency, Channel, RoutingRule
from routing.services import report_route
from tests.conftest import ensure_staff_roles, sign_in
from tests.factories import IP_BY_COUNTRY, IpCaptureEventFactory, ReportFactory

pytestmark = pytest.mark.django_db


def us_report(state: str = "") -> int:
    """A finished report seen at a U.S. address, the reported person estimated in ``state``."""
    location = {"countryCode": "US", **({"region": state} if state else {})}
    report = ReportFactory.create(
        finished=True, document={"personOrUserReported": [{"estimatedLocation": location}]}
    )
    IpCaptureEventFactory.create(report=report, ip_address=IP_BY_COUNTRY["US"])
    return report.pk


def test_every_state_has_an_icac_task_force_on_the_domestic_channel(reference_data: None) -> None:
    rules = RoutingRule.objects.filter(country_id="US").exclude(us_state="")

    assert {rule.us_state for rule in rules} == set(US_STATE_NAMES)
    assert len(US_STATE_NAMES) == 51  # 50 states and the District of Columbia
    for rule in rules.select_related("agency"):
        assert rule.agency.channel == Channel.DOMESTIC
        assert rule.agency.us_state == rule.us_state
        assert rule.agency.code == f"icac-{rule.us_state.lower()}"


@pytest.mark.parametrize(("state", "agency_code"), [("CA", "icac-ca"), ("TX", "icac-tx")])
def test_a_us_report_goes_to_the_task_force_of_its_state(
    reference_data: None, state: str, agency_code: str
) -> None:
    referral = report_route(report_id=us_report(state))

    assert referral is not None
    assert referral.agency.code == agency_code
    assert referral.report.us_state == state


def test_a_us_report_with_no_state_goes_to_the_national_us_queue(reference_data: None) -> None:
    referral = report_route(report_id=us_report())

    assert referral is not None
    assert referral.agency.code == "domestic-us"


def test_a_state_whose_task_force_is_inactive_goes_to_the_national_us_queue(
    reference_data: None,
) -> None:
    Agency.objects.filter(code="icac-ca").update(is_active=False)

    referral = report_route(report_id=us_report("CA"))

    assert referral is not None
    assert referral.agency.code == "domestic-us"


@pytest.fixture
def supervisor(reference_data: None) -> User:
    ensure_staff_roles()
    user = User.objects.create_user("supervisor1", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name="supervisor"))
    return user


def test_a_supervisor_edits_the_routing_table_and_the_history_says_who(
    supervisor: User, client: Client
) -> None:
    sign_in(client, supervisor)
    rule = RoutingRule.objects.get(country_id="KE", us_state="")
    interpol = Agency.objects.get(code="interpol-af")

    response = client.post(
        f"/admin/routing/routingrule/{rule.pk}/change/",
        {"country": "KE", "us_state": "", "agency": interpol.pk},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    rule.refresh_from_db()
    assert rule.agency == interpol
    latest = rule.history.first()
    assert latest.history_user == supervisor
    assert latest.agency_id == interpol.pk
    assert latest.prev_record.agency.code == "direct-ke"
    page = client.get(f"/admin/routing/routingrule/{rule.pk}/history/")
    assert page.status_code == 200
    assert "supervisor1" in page.content.decode()
    # And routing follows the table at once.
    report = ReportFactory.create(finished=True)
    IpCaptureEventFactory.create(report=report, ip_address=IP_BY_COUNTRY["KE"])
    referral = report_route(report_id=report.pk)
    assert referral is not None
    assert referral.agency == interpol


def test_agency_changes_are_kept_in_history_without_the_secret(
    supervisor: User, client: Client
) -> None:
    sign_in(client, supervisor)
    agency = Agency.objects.get(code="direct-gb")

    page = client.get(f"/admin/routing/agency/{agency.pk}/change/")
    assert agency.webhook_secret not in page.content.decode()
    response = client.post(
        f"/admin/routing/agency/{agency.pk}/change/",
        {
            "code": agency.code,
            "name": agency.name,
            "country": "GB",
            "us_state": "",
            "channel": agency.channel,
            "delivery_mode": "inbox",
            "webhook_url": "",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    agency.refresh_from_db()
    assert agency.is_active is False  # the box was left unticked
    latest = agency.history.first()
    assert latest.history_user == supervisor
    assert not hasattr(latest, "webhook_secret")


def test_a_webhook_agency_needs_a_url(supervisor: User, client: Client) -> None:
    sign_in(client, supervisor)
    agency = Agency.objects.get(code="direct-gb")

    response = client.post(
        f"/admin/routing/agency/{agency.pk}/change/",
        {
            "code": agency.code,
            "name": agency.name,
            "country": "GB",
            "channel": agency.channel,
            "delivery_mode": "webhook",
            "webhook_url": "",
            "is_active": "on",
        },
    )

    assert response.status_code == 200  # the form again, with the error
    assert "webhook" in response.content.decode().lower()
    agency.refresh_from_db()
    assert agency.delivery_mode == "inbox"


@pytest.mark.parametrize(
    "url",
    [
        "/admin/routing/routingrule/{rule}/change/",
        "/admin/routing/agency/add/",
    ],
)
def test_staff_without_the_supervisor_role_cannot_change_routing(
    reference_data: None, client: Client, url: str
) -> None:
    staff = User.objects.create_user("analyst1", password="x", is_staff=True)
    sign_in(client, staff)
    rule = RoutingRule.objects.get(country_id="KE", us_state="")
    before = rule.agency_id

    get = client.get(url.format(rule=rule.pk))
    post = client.post(url.format(rule=rule.pk), {"country": "KE", "agency": 1})

    assert get.status_code == 403
    assert post.status_code == 403
    rule.refresh_from_db()
    assert rule.agency_id == before


def test_the_referral_pages_open_for_a_supervisor(supervisor: User, client: Client) -> None:
    sign_in(client, supervisor)
    report = ReportFactory.create(finished=True)
    referral = report_route(report_id=report.pk)
    assert referral is not None

    listing = client.get("/admin/routing/referral/")
    detail = client.get(f"/admin/routing/referral/{referral.pk}/change/")

    assert listing.status_code == 200
    assert detail.status_code == 200
    assert "Created" in detail.content.decode()
