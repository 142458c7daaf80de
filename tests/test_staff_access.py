"""Staff sign in with a password and a TOTP code, are locked out after repeated
failures, lose idle sessions, and see only what their role allows."""

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from intake.models import AuditEntry, Report
from intake.services import staff_user_create
from routing.models import Agency, RoutingRule
from routing.services import report_route
from tests.conftest import current_totp, ensure_staff_roles, signed_in_staff
from tests.factories import ReportFactory

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"


def log_in(client: Client, username: str, password: str, token: str) -> Any:
    return client.post(LOGIN, {"username": username, "password": password, "otp_token": token})


def test_the_admin_asks_for_the_password_and_the_totp_code(client: Client) -> None:
    ensure_staff_roles()
    staff = staff_user_create(username="ana", role="analyst")

    page = client.get(LOGIN)
    assert 'name="otp_token"' in page.content.decode()
    signed_in = log_in(client, "ana", staff.password, current_totp("ana"))

    assert signed_in.status_code == 302
    assert client.get("/admin/").status_code == 200
    assert staff.totp_uri.startswith("otpauth://totp/")
    login = AuditEntry.objects.get(action="login", username="ana")
    assert login.client == "127.0.0.1"


@pytest.mark.parametrize("code", ["", "000000", "12345"], ids=["none", "wrong", "short"])
def test_the_password_without_the_right_code_is_refused(client: Client, code: str) -> None:
    ensure_staff_roles()
    staff = staff_user_create(username="ana", role="analyst")

    page = log_in(client, "ana", staff.password, code)

    assert page.status_code == 200  # the form again
    assert client.get("/admin/").status_code == 302  # still signed out
    assert not AuditEntry.objects.filter(action="login").exists()


def test_a_password_alone_does_not_open_the_admin(client: Client) -> None:
    ensure_staff_roles()
    staff_user_create(username="ana", role="analyst")
    client.force_login(User.objects.get(username="ana"))  # the first factor only

    assert client.get("/admin/intake/report/").status_code == 302


def test_repeated_failures_lock_the_username_out(client: Client, settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    ensure_staff_roles()
    staff = staff_user_create(username="ana", role="analyst")
    for _attempt in range(3):
        log_in(client, "ana", "wrong-password", "")

    locked = log_in(client, "ana", staff.password, current_totp("ana"))

    assert locked.status_code == 429
    assert client.get("/admin/").status_code == 302
    failures = AuditEntry.objects.filter(action="login_failed", username="ana")
    assert failures.count() >= 3


def test_an_idle_session_ends(client: Client) -> None:
    signed_in_staff(client, "analyst")
    assert client.get("/admin/").status_code == 200
    session = Session.objects.get()
    idle_limit = dt.timedelta(seconds=1800)
    assert abs(session.expire_date - (timezone.now() + idle_limit)) < dt.timedelta(seconds=30)

    Session.objects.update(expire_date=timezone.now() - dt.timedelta(seconds=1))

    assert client.get("/admin/").status_code == 302


# (role, what it tries, method, URL, the answer it gets). Each permission a role lacks
# is refused; a page a role may read but not change opens read-only, and refuses a POST.
ROLE_LIMITS = [
    ("analyst", "reads reports", "get", "/admin/intake/report/", 200),
    ("analyst", "reads a report", "get", "/admin/intake/report/{report}/change/", 200),
    ("analyst", "reads referrals", "get", "/admin/routing/referral/", 200),
    ("analyst", "reads the routing table", "get", "/admin/routing/routingrule/", 200),
    (
        "analyst",
        "edits the routing table",
        "post",
        "/admin/routing/routingrule/{rule}/change/",
        403,
    ),
    ("analyst", "adds an agency", "get", "/admin/routing/agency/add/", 403),
    ("analyst", "reads the audit trail", "get", "/admin/intake/auditentry/", 403),
    ("analyst", "manages users", "get", "/admin/auth/user/add/", 403),
    (
        "supervisor",
        "edits the routing table",
        "get",
        "/admin/routing/routingrule/{rule}/change/",
        200,
    ),
    ("supervisor", "adds an agency", "get", "/admin/routing/agency/add/", 200),
    ("supervisor", "manages users", "get", "/admin/auth/user/add/", 200),
    ("supervisor", "reads the audit trail", "get", "/admin/intake/auditentry/", 403),
    ("auditor", "reads the audit trail", "get", "/admin/intake/auditentry/", 200),
    ("auditor", "reads reports", "get", "/admin/intake/report/", 403),
    ("auditor", "reads a report", "get", "/admin/intake/report/{report}/change/", 403),
    ("auditor", "reads referrals", "get", "/admin/routing/referral/", 403),
    ("auditor", "reads the routing table", "get", "/admin/routing/routingrule/", 403),
    ("auditor", "changes an audit entry", "post", "/admin/intake/auditentry/{entry}/change/", 403),
    ("auditor", "deletes an audit entry", "post", "/admin/intake/auditentry/{entry}/delete/", 403),
]


@pytest.mark.parametrize(
    ("role", "what", "method", "url", "status"),
    ROLE_LIMITS,
    ids=[f"{role}-{what}" for role, what, *_rest in ROLE_LIMITS],
)
def test_each_role_can_do_only_its_work(
    client: Client,
    reference_data: None,
    role: str,
    what: str,
    method: str,
    url: str,
    status: int,
) -> None:
    signed_in_staff(client, role)
    rule = RoutingRule.objects.get(country_id="KE", us_state="")
    report = ReportFactory.create(finished=True)
    entry = AuditEntry.objects.order_by("pk").first()
    assert entry is not None  # the sign-in is the first
    target = url.format(rule=rule.pk, report=report.pk, entry=entry.pk)

    page = client.post(target, {"agency": 1}) if method == "post" else client.get(target)

    assert page.status_code == status, what
    rule.refresh_from_db()
    assert rule.agency.code == "direct-ke"


def test_an_analyst_cannot_refer_a_report_on(client: Client, reference_data: None) -> None:
    signed_in_staff(client, "analyst")
    report = ReportFactory.create(finished=True)
    referral = report_route(report_id=report.pk)
    assert referral is not None
    austria = Agency.objects.get(code="direct-at")

    page = client.post(
        "/admin/routing/referral/",
        {
            "action": "refer_on",
            "_selected_action": [referral.pk],
            "apply": "1",
            "agency": austria.pk,
            "reason": "A valid request in every way but the role.",
        },
    )

    # The action is not offered to the role: the list answers without acting.
    assert page.status_code in (200, 302)
    assert list(
        Report.objects.get(pk=report.pk).referrals.values_list("agency__code", flat=True)
    ) == [referral.agency.code]
    assert not AuditEntry.objects.filter(action="action").exists()


def test_a_supervisor_manages_users_but_cannot_make_anyone_superuser(
    client: Client, reference_data: None
) -> None:
    signed_in_staff(client, "supervisor", username="sam")
    sam = User.objects.get(username="sam")

    page = client.get(f"/admin/auth/user/{sam.pk}/change/")

    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="is_superuser"' not in html
    assert 'name="user_permissions"' not in html
    assert 'name="groups"' in html


def test_a_wrong_authenticator_code_is_on_the_record(client: Client) -> None:
    ensure_staff_roles()
    staff = staff_user_create(username="ana", role="analyst")

    log_in(client, "ana", staff.password, "000000")

    failed = AuditEntry.objects.get(action="login_failed")
    assert (failed.username, failed.client) == ("ana", "127.0.0.1")
    assert failed.detail == {"reason": "the authenticator code did not match"}


def test_the_roles_and_their_permissions_come_from_the_migrations() -> None:
    Group.objects.all().delete()
    ensure_staff_roles()  # runs the migrations' code again

    def permissions(role: str) -> set[str]:
        return set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))

    assert permissions("auditor") == {"view_auditentry"}
    assert {"view_report", "triage_report", "view_referral"} <= permissions("analyst")
    assert not {"route_report", "change_routingrule", "view_auditentry"} & permissions("analyst")
    assert {"route_report", "retract_report", "change_routingrule", "add_user"} <= permissions(
        "supervisor"
    )
    assert "view_auditentry" not in permissions("supervisor")
