"""The agency workspace at /agency/: sign-in with both factors and a first password change,
the queue with its counts, filters and export, a referral's page and every action on it;
and, route by route, that no agency's officer reaches another agency's referral, report,
notes, export or users."""

import csv
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone, translation
from django_otp.plugins.otp_totp.models import TOTPDevice

from intake.models import AuditEntry, Bundle, Report
from routing.models import AgencyMember, Referral, ReferralEvent, ReferralNote
from routing.services import agency_user_create
from tests.conftest import current_totp, referral_in, sign_in, signed_in_staff
from tests.factories import ReportedFileFactory

pytestmark = pytest.mark.django_db

QUEUE = "/agency/"


def officer(client: Client, agency_code: str, username: str) -> Client:
    """``client`` signed in as a new officer of ``agency_code`` who has chosen a password."""
    agency_user_create(agency_code=agency_code, username=username)
    AgencyMember.objects.filter(user__username=username).update(must_change_password=False)
    return sign_in(client, User.objects.get(username=username))


@pytest.fixture
def britain(reference_data: None) -> Client:
    return officer(Client(), "direct-gb", "gb-officer")


@pytest.fixture
def germany(reference_data: None) -> Client:
    return officer(Client(), "direct-de", "de-officer")


def page_text(response: Any) -> str:
    return response.content.decode()


def as_compared(response: Any) -> str:
    """The page without what differs between two renderings of it: the CSRF token and,
    in the language switcher, the address asked for."""
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page_text(response))
    return re.sub(r"referrals/\d+/", "referrals/N/", page)


def queue_ids(client: Client, **filters: Any) -> list[int]:
    response = client.get(QUEUE, filters)
    assert response.status_code == 200, page_text(response)
    return [referral.pk for referral in response.context["page"]]


# Signing in -------------------------------------------------------------------------------


def forget_code_failures(username: str) -> None:
    """django-otp refuses any code for a while after a wrong one (throttling): as if that
    while had passed."""
    TOTPDevice.objects.filter(user__username=username).update(
        throttling_failure_count=0, throttling_failure_timestamp=None
    )


def sign_in_form(client: Client, username: str, password: str, code: str) -> Any:
    return client.post(
        "/agency/sign-in/", {"username": username, "password": password, "otp_token": code}
    )


def test_an_officer_signs_in_with_both_factors_and_first_chooses_a_password(
    reference_data: None,
) -> None:
    credentials = agency_user_create(agency_code="direct-gb", username="new-officer")
    client = Client()

    assert client.get(QUEUE)["Location"].startswith("/agency/sign-in/?next=/agency/")
    wrong_code = sign_in_form(client, "new-officer", credentials.password, "000000")
    forget_code_failures("new-officer")
    signed_in = sign_in_form(
        client, "new-officer", credentials.password, current_totp("new-officer")
    )
    held_back = client.get(QUEUE)
    language = client.post("/agency/language/", {"language": "es", "next": "/agency/password/"})
    weak = client.post(
        "/agency/password/",
        {"old_password": credentials.password, "new_password1": "a", "new_password2": "a"},
    )
    unchanged = client.post(
        "/agency/password/",
        {
            "old_password": credentials.password,
            "new_password1": credentials.password,
            "new_password2": credentials.password,
        },
    )
    client.post("/agency/language/", {"language": "en"})
    changed = client.post(
        "/agency/password/",
        {
            "old_password": credentials.password,
            "new_password1": "a-long-passphrase-for-gb",
            "new_password2": "a-long-passphrase-for-gb",
        },
    )

    assert wrong_code.status_code == 400
    assert "That code is not the one your authenticator app shows now." in page_text(wrong_code)
    assert AuditEntry.objects.filter(
        action="login_failed",
        username="new-officer",
        detail={"reason": "the authenticator code did not match"},
    ).exists()
    assert signed_in["Location"] == "/agency/password/"
    assert held_back["Location"] == "/agency/password/"
    assert language["Location"] == "/agency/password/"
    assert weak.status_code == 400
    assert unchanged.status_code == 400
    assert "new_password1" in unchanged.context["form"].errors
    assert changed["Location"] == QUEUE
    assert client.get(QUEUE).status_code == 200
    assert not AgencyMember.objects.get(user__username="new-officer").must_change_password
    assert User.objects.get(username="new-officer").check_password("a-long-passphrase-for-gb")


def test_staff_and_people_without_an_agency_cannot_use_the_workspace(
    reference_data: None,
) -> None:
    staff = signed_in_staff(Client(), "supervisor", username="sup")
    staff_user = User.objects.get(username="sup")
    staff_user.set_password("staff-password-1")
    staff_user.save()

    refused = sign_in_form(Client(), "sup", "staff-password-1", current_totp("sup"))

    assert staff.get(QUEUE)["Location"].startswith("/agency/sign-in/")
    assert refused.status_code == 400
    # Answered as a wrong password: the right one is not confirmed to a non-officer.
    assert "That username and password do not match." in page_text(refused)
    assert AuditEntry.objects.filter(
        action="login_failed", username="sup", detail={"reason": "not a user of an active agency"}
    ).exists()


def test_an_officer_signed_in_by_password_alone_is_not_let_in(reference_data: None) -> None:
    agency_user_create(agency_code="direct-gb", username="half")
    client = Client()
    client.force_login(User.objects.get(username="half"))  # no second factor verified

    assert client.get(QUEUE)["Location"].startswith("/agency/sign-in/")


def test_repeated_wrong_codes_lock_the_officer_out(reference_data: None, settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    credentials = agency_user_create(agency_code="direct-gb", username="guessed")
    client = Client()
    for _attempt in range(3):
        sign_in_form(client, "guessed", credentials.password, "123456")
    forget_code_failures("guessed")

    locked = sign_in_form(client, "guessed", credentials.password, current_totp("guessed"))

    assert locked.status_code == 429
    assert client.get(QUEUE).status_code == 302


def test_the_language_is_the_officers_own_wherever_they_sign_in(britain: Client) -> None:
    chosen = britain.post("/agency/language/", {"language": "fr", "next": QUEUE})
    unknown = britain.post("/agency/language/", {"language": "xx"})

    assert chosen["Location"] == QUEUE
    assert AgencyMember.objects.get(user__username="gb-officer").language == "fr"
    another_browser = sign_in(
        Client(HTTP_ACCEPT_LANGUAGE="en"), User.objects.get(username="gb-officer")
    )
    page = page_text(another_browser.get(QUEUE))
    assert '<html lang="fr"' in page
    with translation.override("fr"):
        sign_out_in_french = translation.gettext("Sign out")
    assert sign_out_in_french != "Sign out"
    assert sign_out_in_french in page
    assert unknown.status_code == 302
    assert AgencyMember.objects.get(user__username="gb-officer").language == "fr"


# The queue --------------------------------------------------------------------------------


def test_the_queue_is_the_agencys_own_most_urgent_then_oldest(
    britain: Client, germany: Client
) -> None:
    low = referral_in("GB", "3")
    urgent = referral_in("GB", "1")
    informational = referral_in("GB", "I")
    urgent_later = referral_in("GB", "1")
    theirs = referral_in("DE", "1")

    assert queue_ids(britain) == [urgent.pk, urgent_later.pk, low.pk, informational.pk]
    assert queue_ids(germany) == [theirs.pk]


def test_the_counts_show_new_priority_1_and_overdue(britain: Client) -> None:
    fresh_urgent = referral_in("GB", "1")
    late_urgent = referral_in("GB", "1")
    late_normal = referral_in("GB", "3")
    acknowledged = referral_in("GB", "1")
    referral_in("DE", "1")
    two_hours_ago = timezone.now() - timedelta(hours=2)
    Referral.objects.filter(pk__in=[late_urgent.pk, late_normal.pk]).update(
        delivered_at=two_hours_ago
    )
    Referral.objects.filter(pk=acknowledged.pk).update(
        status="acknowledged", acknowledged_at=timezone.now(), delivered_at=two_hours_ago
    )

    response = britain.get(QUEUE)
    counts = response.context["counts"]

    assert (counts.new, counts.priority_1, counts.overdue) == (3, 3, 1)
    assert queue_ids(britain, overdue="on") == [late_urgent.pk]
    flagged = [referral.pk for referral in response.context["page"] if referral.is_overdue]
    assert flagged == [late_urgent.pk]
    assert 'class="overdue-flag"' in page_text(response)
    assert fresh_urgent.pk in queue_ids(britain, state="new")
    assert queue_ids(britain, state="acknowledged") == [acknowledged.pk]


def test_every_filter_narrows_the_queue(britain: Client) -> None:
    urgent = referral_in("GB", "1")
    normal = referral_in("GB", "3")
    Report.objects.filter(pk=normal.report_id).update(incident_type="Child Sex Tourism")
    bundle = Bundle.objects.create(content_key="md5:" + "a" * 32, day=timezone.now().date())
    Report.objects.filter(pk=urgent.report_id).update(bundle=bundle)
    Referral.objects.filter(pk=normal.pk).update(
        case_status="investigating",
        assigned_to=User.objects.get(username="gb-officer"),
        delivered_at=timezone.now() - timedelta(days=3),
    )
    officer_id = User.objects.get(username="gb-officer").pk
    three_days_ago = (timezone.now() - timedelta(days=3)).date().isoformat()

    assert queue_ids(britain, priority="1") == [urgent.pk]
    assert queue_ids(britain, case_status="investigating") == [normal.pk]
    assert queue_ids(britain, incident_type="Child Sex Tourism") == [normal.pk]
    assert queue_ids(britain, bundle=bundle.pk) == [urgent.pk]
    assert queue_ids(britain, assigned_to=officer_id) == [normal.pk]
    assert queue_ids(britain, assigned_to="none") == [urgent.pk]
    assert queue_ids(britain, report=urgent.report_id) == [urgent.pk]
    assert queue_ids(britain, received_to=three_days_ago) == [normal.pk]
    assert queue_ids(britain, received_from=timezone.now().date().isoformat()) == [urgent.pk]


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"priority": "9"}, "priority"),
        ({"report": "abc"}, "report"),
        ({"received_from": "2026-13-40"}, "received_from"),
        ({"received_from": "2026-05-02", "received_to": "2026-05-01"}, "received_to"),
        ({"incident_type": "<script>alert(1)</script>"}, "incident_type"),
    ],
)
def test_a_bad_filter_is_refused_with_its_field(
    britain: Client, filters: dict[str, str], field: str
) -> None:
    referral_in("GB")

    response = britain.get(QUEUE, filters)

    assert response.status_code == 400
    assert field in response.context["filters"].errors
    assert response.context["page"] is None
    assert "<script>alert(1)</script>" not in page_text(response)


def test_the_export_is_the_filtered_list_as_csv_and_is_audited(britain: Client) -> None:
    urgent = referral_in("GB", "1")
    referral_in("GB", "3")
    referral_in("DE", "1")
    User.objects.filter(username="gb-officer").update(username="-2+3")
    Referral.objects.filter(pk=urgent.pk).update(assigned_to=User.objects.get(username="-2+3"))

    response = britain.get("/agency/export.csv", {"priority": "1"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.getvalue().decode())))
    assert [(int(row["referral"]), row["priority"]) for row in rows] == [(urgent.pk, "1")]
    assert rows[0]["assigned_to"] == "'-2+3"  # never a formula in a spreadsheet
    export = AuditEntry.objects.get(action="export")
    assert (export.username, export.detail["rows"], export.detail["filters"]) == (
        "-2+3",
        1,
        {"priority": "1"},
    )


# A referral's page and its actions --------------------------------------------------------


def test_a_referrals_page_shows_the_report_by_section_and_never_media(britain: Client) -> None:
    referral = referral_in("GB", "1")
    ReportedFileFactory.create(report=referral.report, md5="b" * 32)

    response = britain.get(f"/agency/referrals/{referral.pk}/")

    page = page_text(response)
    assert response.status_code == 200
    for heading in (
        "Where it resolves",
        "Why this priority",
        "Content",
        "The report as submitted, by section",
        "History",
        "Notes",
    ):
        assert heading in page
    assert "United Kingdom" in page
    assert "b" * 32 in page
    assert "<img" not in page
    assert "<video" not in page
    assert AuditEntry.objects.filter(
        action="view", object_type="routing.referral", object_id=str(referral.pk)
    ).exists()


def test_acknowledge_assign_status_and_note(britain: Client, reference_data: None) -> None:
    referral = referral_in("GB")
    agency_user_create(agency_code="direct-gb", username="gb-colleague")
    colleague = User.objects.get(username="gb-colleague")
    url = f"/agency/referrals/{referral.pk}"

    acknowledged = britain.post(f"{url}/acknowledge")
    assigned = britain.post(f"{url}/assign", {"assigned_to": colleague.pk})
    status = britain.post(f"{url}/status", {"case_status": "closed_action_taken"})
    noted = britain.post(f"{url}/notes", {"text": "Suspect arrested."})

    assert {r.status_code for r in (acknowledged, assigned, status, noted)} == {302}
    referral.refresh_from_db()
    assert referral.status == "acknowledged"
    assert referral.assigned_to == colleague
    assert referral.case_status == "closed_action_taken"
    assert list(referral.notes.values_list("text", flat=True)) == ["Suspect arrested."]
    kinds = list(referral.events.values_list("kind", flat=True))
    assert kinds[-3:] == ["acknowledged", "assigned", "case_status"]
    audited = AuditEntry.objects.filter(
        action="action", object_type="routing.referral", object_id=str(referral.pk)
    )
    assert [entry.detail["action"] for entry in audited.order_by("pk")] == [
        "acknowledge",
        "assign",
        "status",
        "note",
    ]
    assert all(entry.username == "gb-officer" for entry in audited)
    assert "Suspect arrested." not in str([entry.detail for entry in audited])
    page = page_text(britain.get(f"{url}/"))
    assert "Suspect arrested." in page
    assert "Closed: action taken" in page
    assert "gb-colleague" in page


@pytest.mark.parametrize(
    ("action", "data", "form", "field"),
    [
        ("status", {"case_status": "solved"}, "status_form", "case_status"),
        ("notes", {"text": "   "}, "note_form", "text"),
        ("assign", {"assigned_to": "999999"}, "assign_form", "assigned_to"),
        ("refer-on", {"agency": "direct-fr", "reason": " "}, "refer_on_form", "reason"),
        ("refer-on", {"agency": "direct-gb", "reason": "To me."}, "refer_on_form", "agency"),
        ("refer-on", {"agency": "nowhere", "reason": "Gone."}, "refer_on_form", "agency"),
    ],
)
def test_a_bad_action_is_refused_with_its_field_and_changes_nothing(
    britain: Client, action: str, data: dict[str, str], form: str, field: str
) -> None:
    referral = referral_in("GB")
    events_before = referral.events.count()

    response = britain.post(f"/agency/referrals/{referral.pk}/{action}", data)

    assert response.status_code == 400
    assert response.context[form].errors[field]
    referral.refresh_from_db()
    assert (referral.status, referral.case_status, referral.assigned_to) == (
        "delivered",
        "open",
        None,
    )
    assert referral.events.count() == events_before
    assert not ReferralNote.objects.exists()
    assert Referral.objects.count() == 1


def test_refer_on_sends_the_report_to_the_other_agency_and_keeps_only_our_notes(
    britain: Client, germany: Client
) -> None:
    referral = referral_in("GB")
    britain.post(f"/agency/referrals/{referral.pk}/notes", {"text": "Not in our area."})

    moved = britain.post(
        f"/agency/referrals/{referral.pk}/refer-on",
        {"agency": "direct-de", "reason": "The suspect lives in Munich."},
    )

    assert moved["Location"] == QUEUE
    assert queue_ids(britain) == []
    assert queue_ids(britain, state="referred_on") == [referral.pk]
    kept = page_text(britain.get(f"/agency/referrals/{referral.pk}/"))
    assert "Not in our area." in kept
    assert "direct-de" in kept or "Germany" in kept
    assert f"Report {referral.report_id}" not in kept
    assert "Where it resolves" not in kept
    assert "Synthetic test report." not in kept
    assert britain.post(f"/agency/referrals/{referral.pk}/notes", {"text": "x"}).status_code == 404
    (received,) = queue_ids(germany)
    new = Referral.objects.get(pk=received)
    assert (new.report_id, new.status, new.referred_from_id) == (
        referral.report_id,
        "delivered",
        referral.pk,
    )
    their_page = page_text(germany.get(f"/agency/referrals/{received}/"))
    assert "The suspect lives in Munich." in their_page
    assert "Not in our area." not in their_page
    # Once referred on, the report's details are gone from the first agency's lists too.
    Report.objects.filter(pk=referral.report_id).update(priority="1")
    assert britain.get(QUEUE, {"state": "referred_on", "priority": "1"}).status_code == 400
    exported = britain.get("/agency/export.csv", {"state": "referred_on"}).getvalue().decode()
    (row,) = list(csv.DictReader(io.StringIO(exported)))
    assert (int(row["referral"]), row["referral_status"]) == (referral.pk, "re_referred")
    assert row["report"] == row["priority"] == row["country"] == row["incident_type"] == ""


def test_an_agency_further_on_sees_where_a_report_went_but_not_why_others_got_it(
    britain: Client, germany: Client, reference_data: None
) -> None:
    first = referral_in("GB")
    britain.post(
        f"/agency/referrals/{first.pk}/refer-on",
        {"agency": "direct-de", "reason": "Reason given to Germany."},
    )
    (second,) = queue_ids(germany)
    germany.post(
        f"/agency/referrals/{second}/refer-on",
        {"agency": "direct-fr", "reason": "Reason given to France."},
    )
    france = officer(Client(), "direct-fr", "fr-officer")
    (third,) = queue_ids(france)

    page = page_text(france.get(f"/agency/referrals/{third}/"))

    assert "Reason given to France." in page
    assert "Reason given to Germany." not in page
    assert "Germany national police" in page


# Isolation --------------------------------------------------------------------------------

PAGE_ROUTES = [
    ("get", "/agency/referrals/{id}/", None),
    ("post", "/agency/referrals/{id}/acknowledge", {}),
    ("post", "/agency/referrals/{id}/assign", {"assigned_to": ""}),
    ("post", "/agency/referrals/{id}/status", {"case_status": "closed_no_jurisdiction"}),
    ("post", "/agency/referrals/{id}/notes", {"text": "Reading another agency's case."}),
    ("post", "/agency/referrals/{id}/refer-on", {"agency": "direct-fr", "reason": "Mine now."}),
]


@pytest.mark.parametrize(("method", "path", "data"), PAGE_ROUTES, ids=[r[1] for r in PAGE_ROUTES])
def test_no_officer_reaches_another_agencys_referral(
    britain: Client, germany: Client, method: str, path: str, data: dict[str, str] | None
) -> None:
    theirs = referral_in("GB")
    britain.post(f"/agency/referrals/{theirs.pk}/notes", {"text": "British note."})
    missing = Referral.objects.order_by("-pk").first().pk + 1000  # type: ignore[union-attr]
    events_before = theirs.events.count()

    guessed = getattr(germany, method)(path.format(id=theirs.pk), data)
    nonexistent = getattr(germany, method)(path.format(id=missing), data)

    assert guessed.status_code == nonexistent.status_code == 404
    assert as_compared(guessed) == as_compared(nonexistent)
    assert "British note." not in page_text(guessed)
    theirs.refresh_from_db()
    assert (theirs.status, theirs.case_status, theirs.assigned_to, theirs.agency.code) == (
        "delivered",
        "open",
        None,
        "direct-gb",
    )
    assert theirs.events.count() == events_before
    assert ReferralNote.objects.count() == 1
    assert Referral.objects.count() == 1


def test_no_filter_or_export_reaches_another_agencys_referrals_or_users(
    britain: Client, germany: Client
) -> None:
    theirs = referral_in("GB", "1")
    bundle = Bundle.objects.create(content_key="md5:" + "c" * 32, day=timezone.now().date())
    Report.objects.filter(pk=theirs.report_id).update(bundle=bundle)
    british_officer = User.objects.get(username="gb-officer")
    Referral.objects.filter(pk=theirs.pk).update(assigned_to=british_officer)

    by_report = germany.get(QUEUE, {"report": theirs.report_id})
    by_bundle = germany.get(QUEUE, {"bundle": bundle.pk})
    by_their_officer = germany.get(QUEUE, {"assigned_to": british_officer.pk})
    exported = germany.get("/agency/export.csv", {"bundle": bundle.pk})
    assign_their_officer = None
    mine = referral_in("DE")
    assign_their_officer = germany.post(
        f"/agency/referrals/{mine.pk}/assign", {"assigned_to": british_officer.pk}
    )

    assert list(by_report.context["page"]) == []
    assert list(by_bundle.context["page"]) == []
    assert by_their_officer.status_code == 400
    assert "gb-officer" not in page_text(germany.get(QUEUE))
    lines = exported.getvalue().decode().strip().splitlines()
    assert len(lines) == 1  # the header alone
    assert assign_their_officer.status_code == 400
    mine.refresh_from_db()
    assert mine.assigned_to is None
    assert not ReferralEvent.objects.filter(kind="assigned").exists()
