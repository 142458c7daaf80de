"""Known versus new content, first-seen counts, bundles and priority with reasons."""

import datetime as dt
import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from config.errors import ApplicationError
from intake.models import IncidentType, KnownHash, Report, ReportedFile
from intake.priority import PUBLIC_DANGER_NOW
from intake.services import (
    ProviderCredentials,
    report_file_add,
    report_finish,
    report_open,
    report_priority_override,
)
from routing.services import report_route
from tests.factories import IP_BY_COUNTRY

pytestmark = pytest.mark.django_db

KNOWN_MD5 = "1" * 32
KNOWN_SHA256 = "2" * 64
NEW_MD5 = "3" * 32


def document(**summary: Any) -> dict[str, Any]:
    return {
        "incidentSummary": {
            "incidentType": IncidentType.CHILD_PORNOGRAPHY.value,
            "incidentDateTime": (timezone.now() - dt.timedelta(days=30)).isoformat(),
            **summary,
        },
        "personOrUserReported": [{"ipCaptureEvent": [{"ipAddress": IP_BY_COUNTRY["GB"]}]}],
    }


def file(md5: str, **details: Any) -> dict[str, Any]:
    return {"fileName": "f.jpg", "originalFileHash": [{"value": md5, "hashType": "MD5"}], **details}


def categorized(
    provider: ProviderCredentials, doc: dict[str, Any], *files: dict[str, Any]
) -> Report:
    report = report_open(document=doc, provider=provider.provider)
    for details in files:
        report_file_add(report=report, details=details)
    report_finish(report_id=report.pk, provider=provider.provider)
    report_route(report_id=report.pk)
    report.refresh_from_db()
    return report


@pytest.fixture
def known_list(tmp_path: Path) -> Path:
    listing = tmp_path / "hashes.csv"
    listing.write_text(
        "hash_type,value,label,source\n"
        f"md5,{KNOWN_MD5},series-a,synthetic\n"
        f"SHA256,{KNOWN_SHA256.upper()},series-b,synthetic\n"
        "md5,abc,short,synthetic\n"
        f"crc32,{'0' * 8},odd,synthetic\n"
        f"sha1,{'g' * 40},not-hex,synthetic\n"
        f"pdq,{'a' * 64},pdq-item,synthetic,extra-column\n"
        f"pdq,{'a' * 64},pdq-item,synthetic\n"
    )
    call_command("import_hashes", str(listing), stdout=StringIO(), stderr=StringIO())
    return listing


def test_import_takes_the_good_rows_names_each_bad_line_and_is_safe_to_repeat(
    known_list: Path,
) -> None:
    out, err = StringIO(), StringIO()
    known_list.write_text(known_list.read_text().replace("series-a", "series-a-renamed"))

    call_command("import_hashes", str(known_list), stdout=out, stderr=err)

    assert "3 rows imported, 4 refused." in out.getvalue()
    assert [
        line.split(":")[0] for line in err.getvalue().splitlines() if line.startswith("line")
    ] == [
        "line 4",
        "line 5",
        "line 6",
        "line 7",
    ]
    assert "a md5 hash is 32 hexadecimal characters" in err.getvalue()
    assert "unknown hash type 'crc32'" in err.getvalue()
    assert KnownHash.objects.count() == 3
    assert KnownHash.objects.get(hash_type="md5").label == "series-a-renamed"
    assert KnownHash.objects.get(hash_type="sha256").value == KNOWN_SHA256


def test_a_report_of_known_files_only_is_known_content(
    provider: ProviderCredentials, known_list: Path
) -> None:
    report = categorized(provider, document(), file(KNOWN_MD5))

    assert report.content_status == Report.ContentStatus.KNOWN_ONLY
    matched = ReportedFile.objects.get(report=report)
    assert matched.known_hash is not None
    assert (matched.known_hash.label, matched.match_distance) == ("series-a", 0)
    assert (report.priority, report.priority_reasons) == ("3", ["Known content being distributed."])


def test_one_new_file_makes_the_report_new_content(
    provider: ProviderCredentials, known_list: Path
) -> None:
    report = categorized(provider, document(), file(KNOWN_MD5), file(NEW_MD5))

    assert report.content_status == Report.ContentStatus.CONTAINS_NEW
    assert report.priority == "2"
    assert "New (unknown) content." in report.priority_reasons


def test_a_disabled_entry_matches_nothing(provider: ProviderCredentials, known_list: Path) -> None:
    KnownHash.objects.filter(hash_type="md5").update(is_active=False)

    report = categorized(provider, document(), file(KNOWN_MD5))

    assert report.content_status == Report.ContentStatus.CONTAINS_NEW


def test_a_report_without_files_has_no_files(provider: ProviderCredentials) -> None:
    report = categorized(provider, document(incidentType=IncidentType.MISLEADING_DOMAIN_NAME.value))

    assert report.content_status == Report.ContentStatus.NO_FILES
    assert report.priority == "3"


def test_each_file_counts_how_often_it_was_reported_before(provider: ProviderCredentials) -> None:
    reports = [categorized(provider, document(), file(NEW_MD5)) for _ in range(3)]

    counts = [ReportedFile.objects.get(report=report).times_seen_before for report in reports]

    assert counts == [0, 1, 2]


@pytest.mark.parametrize(
    ("summary", "extra", "level", "reason"),
    [
        (
            {"escalateToHighPriority": "Ongoing abuse suspected."},
            {},
            "1",
            "The provider asked for high priority: Ongoing abuse suspected.",
        ),
        (
            {"incidentType": IncidentType.ONLINE_ENTICEMENT.value, "incidentDateTime": "RECENT"},
            {"victim": [{"victimPerson": {"age": 13}}]},
            "1",
            "Enticement, sextortion or trafficking with an identified minor, in the last 7 days.",
        ),
        (
            {"incidentType": IncidentType.ONLINE_ENTICEMENT.value},
            {"victim": [{"victimPerson": {"age": 13}}]},
            "2",
            "Hands-on abuse, enticement or trafficking report.",
        ),
        (
            {"incidentType": IncidentType.CHILD_SEXUAL_MOLESTATION.value},
            {},
            "2",
            "Hands-on abuse, enticement or trafficking report.",
        ),
        (
            {"incidentType": IncidentType.MISLEADING_DOMAIN_NAME.value},
            {},
            "3",
            "No rule for a higher or lower priority applies.",
        ),
    ],
    ids=["escalated", "enticement-minor-recent", "enticement-minor-old", "hands-on", "nothing"],
)
def test_priority_rules(
    provider: ProviderCredentials,
    summary: dict[str, Any],
    extra: dict[str, Any],
    level: str,
    reason: str,
) -> None:
    if summary.get("incidentDateTime") == "RECENT":
        summary["incidentDateTime"] = (timezone.now() - dt.timedelta(days=1)).isoformat()

    report = categorized(provider, {**document(**summary), **extra})

    assert report.priority == level
    assert reason in report.priority_reasons


def test_a_public_report_of_a_child_in_danger_now_is_priority_1(
    client: Any, reference_data: None, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/report/",
            {
                "what_happened": "offline_abuse",
                "incident_date": "2026-01-01",
                "child_in_danger_now": "on",
            },
        )

    report = Report.objects.get()
    assert (report.priority, report.priority_reasons) == ("1", [PUBLIC_DANGER_NOW])


def test_viral_known_content_is_bundled_per_item_country_and_day(
    provider: ProviderCredentials, known_list: Path
) -> None:
    viral = {"fileAnnotations": {"viral": True}}
    first = categorized(provider, document(), file(KNOWN_MD5, **viral))
    second = categorized(provider, document(), file(KNOWN_MD5, **viral))
    elsewhere_doc = document()
    elsewhere_doc["personOrUserReported"][0]["ipCaptureEvent"][0]["ipAddress"] = IP_BY_COUNTRY["DE"]
    elsewhere = categorized(provider, elsewhere_doc, file(KNOWN_MD5, **viral))

    assert first.bundle_id == second.bundle_id is not None
    assert elsewhere.bundle_id not in {None, first.bundle_id}
    bundle = first.bundle
    assert bundle is not None
    bundle.refresh_from_db()
    assert (bundle.content_key, bundle.country, bundle.report_count) == (
        f"md5:{KNOWN_MD5}",
        "GB",
        2,
    )
    assert (first.priority, first.priority_reasons) == (
        "I",
        ["Known viral content only.", "Part of a bundle of the same content."],
    )


def test_report_show_has_the_categorization_and_providers_never_see_it(
    provider: ProviderCredentials, known_list: Path, api_client: APIClient
) -> None:
    report = categorized(provider, document(), file(KNOWN_MD5), file(NEW_MD5))
    out = StringIO()

    call_command("report_show", str(report.pk), stdout=out)

    record = json.loads(out.getvalue())
    assert (record["priority"], record["contentStatus"], record["countryConfidence"]) == (
        "2",
        "contains_new",
        "high",
    )
    assert [f["knownMatch"]["label"] if f["knownMatch"] else None for f in record["files"]] == [
        "series-a",
        None,
    ]
    assert [f["timesSeenBefore"] for f in record["files"]] == [0, 0]
    shown = json.dumps(api_client.get(f"/api/v1/reports/{report.pk}").json())
    for secret in (
        "priority",
        "knownMatch",
        "contentStatus",
        "series-a",
        "timesSeenBefore",
        "resolved",
    ):
        assert secret not in shown


def test_staff_override_the_priority_with_a_reason_that_is_kept(
    provider: ProviderCredentials,
) -> None:
    report = categorized(provider, document(incidentType=IncidentType.MISLEADING_DOMAIN_NAME.value))
    analyst = User.objects.create_user("analyst-1")

    with pytest.raises(ApplicationError, match="A reason is required"):
        report_priority_override(report=report, priority="1", reason="  ", user=analyst)
    with pytest.raises(ApplicationError, match="not a priority"):
        report_priority_override(report=report, priority="0", reason="why", user=analyst)
    changed = report_priority_override(
        report=report, priority="1", reason="Victim identified.", user=analyst
    )

    changed.refresh_from_db()
    assert changed.priority == "1"
    assert changed.priority_reasons == ["Set by staff (analyst-1): Victim identified."]
    assert [(o["by"], o["from"], o["to"], o["reason"]) for o in changed.priority_overrides] == [
        ("analyst-1", "3", "1", "Victim identified.")
    ]
