"""The agency API: an agency's queue, one referral, and what it does with it; and that no
agency ever reaches another's referral, report or notes, by any route or guessed id."""

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from routing.models import CaseStatus, Referral, ReferralEvent, ReferralNote
from routing.services import agency_user_create
from tests.conftest import ProviderCredentials, api_client_for, referral_in

pytestmark = pytest.mark.django_db

API = "/api/v1/agency"


def agency_client(agency_code: str, username: str) -> APIClient:
    credentials = agency_user_create(agency_code=agency_code, username=username)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {credentials.token}")
    return client


@pytest.fixture
def britain(reference_data: None) -> APIClient:
    return agency_client("direct-gb", "gb-officer")


@pytest.fixture
def germany(reference_data: None) -> APIClient:
    return agency_client("direct-de", "de-officer")


def test_create_agency_user_prints_its_credentials_once(reference_data: None) -> None:
    out = StringIO()
    call_command("create_agency_user", "direct-gb", "officer1", stdout=out)

    printed = json.loads(out.getvalue())
    assert set(printed) == {"username", "password", "token", "totp"}
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {printed['token']}")
    assert client.get(f"{API}/referrals").status_code == 200


def test_providers_and_agencies_keep_to_their_own_api(
    britain: APIClient, provider: ProviderCredentials
) -> None:
    assert api_client_for(provider).get(f"{API}/referrals").status_code == 403
    assert britain.post("/api/v1/reports", {}, format="json").status_code == 403
    assert APIClient().get(f"{API}/referrals").status_code == 401


def ids(page: Any) -> list[int]:
    return [item["referralId"] for item in page.json()["referrals"]]


def test_the_queue_is_the_agencys_new_referrals_most_urgent_first(
    britain: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("routing.api.PAGE_SIZE", 2)
    low = referral_in("GB", "3")
    urgent = referral_in("GB", "1")
    middle = referral_in("GB", "2")
    urgent_later = referral_in("GB", "1")
    referral_in("DE", "1")  # another agency's

    first = britain.get(f"{API}/referrals")
    second = britain.get(f"{API}/referrals", {"cursor": first.json()["nextCursor"]})

    assert ids(first) == [urgent.pk, urgent_later.pk]
    assert ids(second) == [middle.pk, low.pk]
    assert second.json()["nextCursor"] is None
    assert first.json()["referrals"][0]["priority"] == "1"


@pytest.mark.parametrize("cursor", ["not-base64!", "W10=", "WyIxIiwgIngiLCAieSJd"])
def test_a_cursor_the_api_did_not_give_is_refused(britain: APIClient, cursor: str) -> None:
    page = britain.get(f"{API}/referrals", {"cursor": cursor})

    assert page.status_code == 400
    assert page.json()["code"] == "invalid_cursor"


def test_acknowledged_referrals_leave_the_new_list(britain: APIClient) -> None:
    referral = referral_in("GB")

    acknowledged = britain.post(f"{API}/referrals/{referral.pk}/acknowledge")

    assert acknowledged.json() == {"referralId": referral.pk, "status": "acknowledged"}
    assert ids(britain.get(f"{API}/referrals")) == []
    assert ids(britain.get(f"{API}/referrals", {"status": "open"})) == [referral.pk]
    assert britain.get(f"{API}/referrals", {"status": "everything"}).status_code == 400


def test_a_referral_shows_the_report_as_delivered_without_the_provider(britain: APIClient) -> None:
    referral = referral_in("GB")

    page = britain.get(f"{API}/referrals/{referral.pk}")

    assert page.status_code == 200
    body = page.json()
    assert body["referralId"] == referral.pk
    assert body["agency"] == "direct-gb"
    assert body["report"]["reportId"] == referral.report_id
    assert body["report"]["country"] == "GB"
    assert "provider" not in body["report"]
    assert (body["caseStatus"], body["notes"]) == ("open", [])


def test_case_status_and_notes(britain: APIClient) -> None:
    referral = referral_in("GB")

    set_status = britain.post(
        f"{API}/referrals/{referral.pk}/status", {"status": "investigating"}, format="json"
    )
    bad_status = britain.post(
        f"{API}/referrals/{referral.pk}/status", {"status": "solved"}, format="json"
    )
    note = britain.post(
        f"{API}/referrals/{referral.pk}/notes",
        {"text": "Account holder identified."},
        format="json",
    )
    empty = britain.post(f"{API}/referrals/{referral.pk}/notes", {"text": "  "}, format="json")

    assert set_status.json()["caseStatus"] == "investigating"
    assert bad_status.status_code == 400
    assert "status" in bad_status.json()["fields"]
    assert note.status_code == 201
    assert note.json()["by"] == "gb-officer"
    assert empty.status_code == 400
    referral.refresh_from_db()
    assert referral.case_status == CaseStatus.INVESTIGATING
    assert ReferralEvent.objects.filter(referral=referral, kind="case_status").count() == 1
    assert [n["text"] for n in britain.get(f"{API}/referrals/{referral.pk}").json()["notes"]] == [
        "Account holder identified."
    ]


def test_referring_on_leaves_the_first_agency_only_its_own_notes(
    britain: APIClient, germany: APIClient
) -> None:
    referral = referral_in("GB")
    britain.post(f"{API}/referrals/{referral.pk}/notes", {"text": "Not ours."}, format="json")

    moved = britain.post(
        f"{API}/referrals/{referral.pk}/refer-on",
        {"agency": "direct-de", "reason": "The suspect lives in Munich."},
        format="json",
    )

    assert moved.status_code == 201
    assert moved.json()["referredTo"] == "direct-de"
    kept = britain.get(f"{API}/referrals/{referral.pk}").json()
    assert set(kept) == {"referralId", "status", "referredOnAt", "referredTo", "notes"}
    assert (kept["status"], kept["referredTo"]) == ("re_referred", "direct-de")
    assert [n["text"] for n in kept["notes"]] == ["Not ours."]
    (new_id,) = ids(germany.get(f"{API}/referrals"))
    received = germany.get(f"{API}/referrals/{new_id}").json()
    assert received["referredFrom"] == "direct-gb"
    assert received["notes"] == []
    assert "Not ours." not in json.dumps(received)
    # Nothing more can be done to the first referral.
    again = britain.post(f"{API}/referrals/{referral.pk}/notes", {"text": "x"}, format="json")
    assert again.status_code == 404


ROUTES = [
    ("get", "{id}", None),
    ("post", "{id}/acknowledge", None),
    ("post", "{id}/status", {"status": "closed_action_taken"}),
    ("post", "{id}/notes", {"text": "Looking at another agency's case."}),
    ("post", "{id}/refer-on", {"agency": "direct-fr", "reason": "Taking it over."}),
]


@pytest.mark.parametrize(("method", "path", "data"), ROUTES, ids=[r[1] for r in ROUTES])
def test_no_agency_reaches_another_agencys_referral(
    britain: APIClient, germany: APIClient, method: str, path: str, data: dict[str, str] | None
) -> None:
    theirs = referral_in("GB")
    nonexistent = Referral.objects.order_by("-pk").first().pk + 1000  # type: ignore[union-attr]

    def call(referral_id: int) -> Any:
        url = f"{API}/referrals/{path.format(id=referral_id)}"
        return getattr(germany, method)(url, data, format="json")

    guessed = call(theirs.pk)
    missing = call(nonexistent)

    assert guessed.status_code == missing.status_code == 404
    assert guessed.json() == missing.json()  # the same answer: nothing to tell them apart
    theirs.refresh_from_db()
    assert (theirs.status, theirs.case_status, theirs.agency.code) == (
        "delivered",
        "open",
        "direct-gb",
    )
    assert not ReferralNote.objects.exists()
    assert Referral.objects.count() == 1
    assert ids(germany.get(f"{API}/referrals", {"status": "open"})) == []


def test_a_referral_not_yet_delivered_is_not_there_for_its_agency(britain: APIClient) -> None:
    referral = referral_in("GB")
    Referral.objects.filter(pk=referral.pk).update(
        status="pending", delivered_at=None, next_attempt_at=timezone.now()
    )

    assert britain.get(f"{API}/referrals/{referral.pk}").status_code == 404
    assert (
        britain.post(
            f"{API}/referrals/{referral.pk}/notes", {"text": "x"}, format="json"
        ).status_code
        == 404
    )
    assert ids(britain.get(f"{API}/referrals", {"status": "open"})) == []
