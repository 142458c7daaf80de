"""The CyberTipline-compatible XML interface, driven as a CyberTipline client drives it."""

import base64
import hashlib
import re
from typing import Any

import pytest
from defusedxml.ElementTree import fromstring
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from lxml import etree

from intake import schema
from intake.documents import document_to_xml
from intake.examples import EXAMPLE_REPORT
from intake.models import AuditEntry, IpCaptureEvent, Provider, Report, ReportedFile
from intake.services import ProviderCredentials
from intake.xml import xml_bytes
from routing.models import Referral
from tests.intake import xml_samples

pytestmark = pytest.mark.django_db


class Ispws:
    """A CyberTipline client: HTTP Basic, XML bodies, form fields."""

    def __init__(self, client: Client, username: str, password: str) -> None:
        self.client = client
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}"}

    def get(self, path: str) -> Any:
        return self.client.get(f"/ispws/{path}", headers=self.headers)

    def post_xml(self, path: str, body: bytes) -> Any:
        return self.client.post(
            f"/ispws/{path}", body, content_type="text/xml; charset=utf-8", headers=self.headers
        )

    def post_form(self, path: str, data: dict[str, Any]) -> Any:
        return self.client.post(f"/ispws/{path}", data, headers=self.headers)

    def post_urlencoded(self, path: str, body: str) -> Any:
        return self.client.post(
            f"/ispws/{path}",
            body,
            content_type="application/x-www-form-urlencoded",
            headers=self.headers,
        )


def answer(response: Any) -> dict[str, Any]:
    """The response's XML as a flat dict of its children's text."""
    root = fromstring(response.content)
    return {"root": root.tag, **{child.tag: child.text for child in root}}


@pytest.fixture
def ispws(client: Client, provider: ProviderCredentials) -> Ispws:
    return Ispws(client, provider.username, provider.password)


def submit(ispws: Ispws, body: bytes = xml_samples.MINIMAL_REPORT) -> int:
    response = ispws.post_xml("submit", body)
    assert response.status_code == 200, response.content
    reply = answer(response)
    assert (reply["root"], reply["responseCode"]) == ("reportResponse", "0")
    return int(reply["reportId"])


# The lifecycle ------------------------------------------------------------------------


def test_status_names_the_remote_user(ispws: Ispws, provider: ProviderCredentials) -> None:
    reply = answer(ispws.get("status"))

    assert reply["responseCode"] == "0"
    assert reply["responseDescription"].startswith(
        f"Remote User : {provider.username}, Remote Ip : "
    )


def test_a_full_report_submitted_uploaded_described_and_finished(
    ispws: Ispws, django_capture_on_commit_callbacks: Any
) -> None:
    report_id = submit(ispws)
    payload = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40  # a JPEG header and synthetic bytes

    uploaded = answer(
        ispws.post_form(
            "upload", {"id": str(report_id), "file": SimpleUploadedFile("f.jpg", payload)}
        )
    )
    assert uploaded["responseCode"] == "0"
    assert uploaded["reportId"] == str(report_id)
    assert re.fullmatch(r"[0-9a-f]{32}", uploaded["fileId"])
    assert uploaded["hash"] == hashlib.md5(payload).hexdigest()  # noqa: S324 (the API's hash)

    described = answer(
        ispws.post_xml("fileinfo", xml_samples.file_details(report_id, uploaded["fileId"]))
    )
    assert described["responseCode"] == "0"

    with django_capture_on_commit_callbacks(execute=True):
        finished = ispws.post_urlencoded("finish", f"id={report_id}")
    root = fromstring(finished.content)
    assert root.tag == "reportDoneResponse"
    assert root.findtext("responseCode") == "0"
    assert root.findtext("reportId") == str(report_id)
    assert [node.text for node in root.findall("files/fileId")] == [uploaded["fileId"]]

    report = Report.objects.get(pk=report_id)
    assert report.status == Report.Status.FINISHED
    assert report.document["incidentSummary"]["reportAnnotations"] == {"sextortion": True}
    file = ReportedFile.objects.get(file_id=uploaded["fileId"])
    assert (file.size_bytes, file.mime_type, file.media_type) == (
        len(payload),
        "image/jpeg",
        "image",
    )
    assert file.sha256 == hashlib.sha256(payload).hexdigest()
    assert file.details is not None
    assert file.details["fileAnnotations"] == {"viral": True}
    assert IpCaptureEvent.objects.get(file=file).ip_address == "5.9.0.1"
    assert Referral.objects.filter(report=report).count() == 1


def test_finish_and_retract_accept_the_id_as_multipart_too(ispws: Ispws) -> None:
    first, second = submit(ispws), submit(ispws)

    assert answer(ispws.post_form("finish", {"id": str(first)}))["responseCode"] == "0"
    assert answer(ispws.post_form("retract", {"id": str(second)}))["responseCode"] == "0"
    assert Report.objects.get(pk=second).status == Report.Status.RETRACTED


def test_every_element_of_a_full_report_is_accepted_and_round_trips(ispws: Ispws) -> None:
    xml = xml_bytes(document_to_xml("report", EXAMPLE_REPORT, schema.REPORT))

    report = Report.objects.get(pk=submit(ispws, xml))

    assert report.document == EXAMPLE_REPORT
    assert xml_bytes(document_to_xml("report", report.document, schema.REPORT)) == xml
    roles = set(IpCaptureEvent.objects.filter(report=report).values_list("role", flat=True))
    assert roles == {"reported_person", "intended_recipient", "victim", "peer2peer"}


def test_the_served_xsd_validates_the_documents_this_server_accepts(ispws: Ispws) -> None:
    response = ispws.get("xsd")
    xsd = etree.XMLSchema(etree.fromstring(response.content))

    assert xsd.validate(etree.fromstring(xml_samples.MINIMAL_REPORT))
    assert xsd.validate(
        etree.fromstring(xml_bytes(document_to_xml("report", EXAMPLE_REPORT, schema.REPORT)))
    )
    assert xsd.validate(etree.fromstring(xml_samples.file_details(1, "a" * 32)))
    assert not xsd.validate(etree.fromstring(b"<report><nonsense/></report>"))


# Every response code -------------------------------------------------------------------


def test_missing_or_wrong_password_is_401_with_an_empty_body(
    client: Client, provider: ProviderCredentials
) -> None:
    for headers in (
        {},
        Ispws(client, provider.username, "wrong").headers,
        {"Authorization": "Basic !!"},
    ):
        response = client.post(
            "/ispws/submit", xml_samples.MINIMAL_REPORT, content_type="text/xml", headers=headers
        )
        assert response.status_code == 401
        assert response.content == b""
        assert response["WWW-Authenticate"].startswith("Basic")
    assert not Report.objects.exists()


def test_a_scheme_other_than_basic_is_2000_authentication_required(
    client: Client, provider: ProviderCredentials
) -> None:
    response = client.get("/ispws/status", headers={"Authorization": f"Token {provider.token}"})

    assert response.status_code == 401
    assert answer(response)["responseCode"] == "2000"


def test_a_login_that_is_not_an_active_provider_is_3000(
    client: Client, provider: ProviderCredentials
) -> None:
    User.objects.create_user("staff-member", password="a-long-password-1")
    Provider.objects.filter(pk=provider.provider.pk).update(is_active=False)

    for username, password in (
        ("staff-member", "a-long-password-1"),
        (provider.username, provider.password),
    ):
        response = Ispws(client, username, password).post_xml("submit", xml_samples.MINIMAL_REPORT)
        assert response.status_code == 403
        assert answer(response)["responseCode"] == "3000"
    assert not Report.objects.exists()


@pytest.mark.parametrize(
    ("path", "data"),
    [("finish", {}), ("finish", {"id": "abc"}), ("retract", {"id": "-1"}), ("upload", {"id": "x"})],
)
def test_a_missing_or_malformed_id_is_4000(ispws: Ispws, path: str, data: dict[str, str]) -> None:
    response = ispws.post_form(path, data)

    assert response.status_code == 400
    assert answer(response)["responseCode"] == "4000"


def test_an_upload_without_a_file_is_4000(ispws: Ispws) -> None:
    report_id = submit(ispws)

    response = ispws.post_form("upload", {"id": str(report_id)})

    assert answer(response)["responseCode"] == "4000"
    assert "multipart field file" in answer(response)["responseDescription"]
    assert not ReportedFile.objects.exists()


@pytest.mark.parametrize(
    ("body", "element"),
    [
        (
            xml_samples.MINIMAL_REPORT.replace(
                b"<incidentType>Child Pornography (possession, manufacture, and distribution)</incidentType>",
                b"",
            ),
            "report/incidentSummary/incidentType",
        ),
        (
            xml_samples.MINIMAL_REPORT.replace(
                b"Child Pornography (possession, manufacture, and distribution)", b"Something Else"
            ),
            "report/incidentSummary/incidentType",
        ),
        (
            xml_samples.MINIMAL_REPORT.replace(
                b"2025-10-15T08:00:00-07:00", b"2999-01-01T00:00:00Z"
            ),
            "report/incidentSummary/incidentDateTime",
        ),
        (
            xml_samples.MINIMAL_REPORT.replace(
                b"2025-10-15T08:00:00-07:00", b"2025-10-15T08:00:00"
            ),
            "report/incidentSummary/incidentDateTime",
        ),
        (
            xml_samples.MINIMAL_REPORT.replace(b"81.2.69.160", b"81.2.69.999"),
            "report/personOrUserReported/0/ipCaptureEvent/0/ipAddress",
        ),
        (
            xml_samples.MINIMAL_REPORT.replace(
                b"<screenName>", b"<fileData>AAAA</fileData><screenName>"
            ),
            "report/personOrUserReported/fileData",
        ),
        (
            xml_samples.MINIMAL_REPORT.replace(b"<sextortion/>", b"<sextortion>false</sextortion>"),
            "report/incidentSummary/reportAnnotations/sextortion",
        ),
        (
            xml_samples.MINIMAL_REPORT.replace(
                b"<reporter>", b"<additionalInfo>late</additionalInfo><reporter>"
            ),
            "report/reporter",
        ),
    ],
    ids=[
        "missing-type",
        "unknown-type",
        "future-date",
        "no-time-zone",
        "bad-ip",
        "unknown-element",
        "false-flag",
        "out-of-order",
    ],
)
def test_an_invalid_report_is_4100_naming_the_element(
    ispws: Ispws, body: bytes, element: str
) -> None:
    response = ispws.post_xml("submit", body)

    assert response.status_code == 400
    reply = answer(response)
    assert reply["responseCode"] == "4100"
    assert element in reply["responseDescription"]
    assert not Report.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        b"<report><incidentSummary>",
        b"",
        b"not xml at all",
        "<report>\u00e9</report>".encode("latin-1"),
        xml_samples.BILLION_LAUGHS,
        xml_samples.EXTERNAL_ENTITY,
        xml_samples.DTD_ONLY,
        b"<fileDetails/>",
    ],
    ids=[
        "truncated",
        "empty",
        "text",
        "invalid-utf8",
        "billion-laughs",
        "external-entity",
        "dtd",
        "wrong-root",
    ],
)
def test_malformed_or_dangerous_xml_is_4110(ispws: Ispws, body: bytes) -> None:
    response = ispws.post_xml("submit", body)

    assert response.status_code == 400
    assert answer(response)["responseCode"] == "4110"
    assert not Report.objects.exists()


def test_another_providers_report_is_5001_like_one_that_does_not_exist(
    ispws: Ispws, client: Client, other_provider: ProviderCredentials
) -> None:
    report_id = submit(ispws)
    stranger = Ispws(client, other_provider.username, other_provider.password)

    theirs = stranger.post_form("finish", {"id": str(report_id)})
    missing = stranger.post_form("finish", {"id": str(report_id + 1000)})

    assert theirs.status_code == missing.status_code == 404
    assert answer(theirs)["responseCode"] == answer(missing)["responseCode"] == "5001"
    assert Report.objects.get(pk=report_id).status == Report.Status.OPEN


def test_details_for_a_file_that_does_not_exist_are_5002(ispws: Ispws) -> None:
    report_id = submit(ispws)

    response = ispws.post_xml("fileinfo", xml_samples.file_details(report_id, "f" * 32))

    assert response.status_code == 404
    assert answer(response)["responseCode"] == "5002"


def test_a_retracted_report_is_5101_and_a_finished_one_5102(ispws: Ispws) -> None:
    retracted, finished = submit(ispws), submit(ispws)
    ispws.post_form("retract", {"id": str(retracted)})
    ispws.post_form("finish", {"id": str(finished)})

    assert answer(ispws.post_form("finish", {"id": str(retracted)}))["responseCode"] == "5101"
    assert answer(ispws.post_form("retract", {"id": str(retracted)}))["responseCode"] == "5101"
    assert answer(ispws.post_form("finish", {"id": str(finished)}))["responseCode"] == "5102"
    assert answer(ispws.post_form("retract", {"id": str(finished)}))["responseCode"] == "5102"
    late_file = ispws.post_form(
        "upload", {"id": str(finished), "file": SimpleUploadedFile("a.jpg", b"x")}
    )
    assert answer(late_file)["responseCode"] == "5102"
    assert not ReportedFile.objects.exists()


def test_an_unexpected_failure_is_1000_and_changes_nothing(
    ispws: Ispws, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("simulated fault")

    monkeypatch.setattr("intake.ispws.report_open", broken)

    response = ispws.post_xml("submit", xml_samples.MINIMAL_REPORT)

    assert response.status_code == 500
    assert answer(response)["responseCode"] == "1000"
    assert "simulated" not in response.content.decode()
    assert not Report.objects.exists()


def test_a_file_sent_details_twice_is_refused(ispws: Ispws) -> None:
    report_id = submit(ispws)
    file_id = answer(
        ispws.post_form("upload", {"id": str(report_id), "file": SimpleUploadedFile("a.jpg", b"x")})
    )["fileId"]
    assert (
        answer(ispws.post_xml("fileinfo", xml_samples.file_details(report_id, file_id)))[
            "responseCode"
        ]
        == "0"
    )

    again = ispws.post_xml("fileinfo", xml_samples.file_details(report_id, file_id))

    assert answer(again)["responseCode"] == "4000"
    assert "already sent" in answer(again)["responseDescription"]


def test_a_strangers_wrong_passwords_never_lock_a_provider_out(
    client: Client, provider: ProviderCredentials, settings: Any
) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    stranger = Ispws(client, provider.username, "not-the-password")
    for _attempt in range(6):
        assert stranger.get("status").status_code == 401

    assert (
        answer(Ispws(client, provider.username, provider.password).get("status"))["responseCode"]
        == "0"
    )
    # Nor do they fill the staff audit trail.
    assert not AuditEntry.objects.exists()
