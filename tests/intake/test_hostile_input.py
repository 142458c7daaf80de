"""Hostile input at every interface that takes it: the JSON API (open a report, add a
file's details, bulk), the XML interface (submit, fileinfo, upload's form fields) and the
public form. Each refusal is a 4xx that names the field or element and says why, and
changes no row anywhere; text that only looks dangerous is kept as sent and shown inert."""

import contextlib
import json
import re
import select
import socket
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils.html import escape
from rest_framework.test import APIClient

from intake import schema
from intake.documents import document_to_xml
from intake.examples import EXAMPLE_FILE, EXAMPLE_REPORT
from intake.models import Report, ReportedFile
from intake.schema import Complex, Simple
from intake.services import ProviderCredentials
from intake.xml import xml_bytes
from routing.models import Referral
from routing.services import report_route
from routing.views import spreadsheet_safe
from tests.conftest import api_client_for, signed_in_staff
from tests.intake import xml_samples
from tests.intake.test_api_reports import REPORTS_URL, report_body
from tests.intake.test_ispws import Ispws, answer
from tests.intake.test_public_form import FORM_URL, STATUS_URL, form_data
from tests.routing.test_agency_workspace import officer

pytestmark = pytest.mark.django_db

BULK_URL = f"{REPORTS_URL}/bulk"
MB = 1024**2


# Counting rows ----------------------------------------------------------------------------


def row_counts() -> dict[str, int]:
    """How many rows every model of intake and routing has."""
    return {
        model._meta.label: model._default_manager.count()
        for app in ("intake", "routing")
        for model in apps.get_app_config(app).get_models()
    }


def test_row_counts_see_a_new_report(reference_data: None) -> None:
    before = row_counts()
    Report.objects.create(
        source="public", incident_type="Child Sex Tourism", incident_datetime="2026-01-01T00:00Z"
    )
    assert row_counts() == {**before, "intake.Report": before["intake.Report"] + 1}


# The three interfaces ---------------------------------------------------------------------


@pytest.fixture
def ispws(client: Client, provider: ProviderCredentials) -> Ispws:
    return Ispws(client, provider.username, provider.password)


@pytest.fixture
def open_report(api_client: APIClient) -> int:
    """A provider's open report, for the endpoints that add to one."""
    response = api_client.post(REPORTS_URL, report_body(), format="json")
    assert response.status_code == 201
    return int(response.json()["reportId"])


@pytest.fixture
def uploaded_file(ispws: Ispws) -> tuple[int, str]:
    """(report id, file id) of a file uploaded through /ispws/upload, with no details yet."""
    report_id = answer(ispws.post_xml("submit", xml_samples.MINIMAL_REPORT))["reportId"]
    reply = answer(ispws.post_form("upload", {"id": report_id, "file": upload_of("a.jpg")}))
    assert reply["responseCode"] == "0", reply
    return int(report_id), str(reply["fileId"])


def upload_of(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"\xff\xd8\xff\xe0synthetic")


def plain_copy(document: dict[str, Any]) -> dict[str, Any]:
    """A copy sharing nothing (the examples reuse one person in several places)."""
    copied: dict[str, Any] = json.loads(json.dumps(document))
    return copied


def with_value(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """``document`` with ``value`` at the dotted ``path`` (list indexes as numbers)."""
    document = plain_copy(document)
    *parents, last = path.split(".")
    node: Any = document
    for step in parents:
        node = node[int(step)] if isinstance(node, list) else node[step]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return document


RAW = "@@raw@@"


def json_with_raw(document: dict[str, Any], path: str, raw: str) -> str:
    """``document`` as JSON text with ``raw`` (any text, JSON or not) at ``path``."""
    return json.dumps(with_value(document, path, RAW)).replace(json.dumps(RAW), raw)


# The JSON API: one way to send a value in a field of each endpoint's document.
JSON_ENDPOINTS = ("open", "files", "bulk")


def json_document_for(endpoint: str) -> dict[str, Any]:
    return plain_copy(EXAMPLE_FILE if endpoint == "files" else EXAMPLE_REPORT)


def post_json(client: APIClient, endpoint: str, report_id: int, body: Any) -> Any:
    """POST ``body`` (a document, or JSON text) to ``endpoint``; a bulk gets it as its one
    report."""
    if endpoint == "bulk" and isinstance(body, bytes):
        body = b'{"reports": [' + body + b"]}"
    elif endpoint == "bulk":
        body = f'{{"reports": [{body}]}}' if isinstance(body, str) else {"reports": [body]}
    url = {"open": REPORTS_URL, "files": f"{REPORTS_URL}/{report_id}/files", "bulk": BULK_URL}
    if isinstance(body, str | bytes):
        return client.post(url[endpoint], body, content_type="application/json")
    return client.post(url[endpoint], body, format="json")


def json_refusal(response: Any, *, field: str, reason: str, code: str | None = None) -> None:
    """A 400 in the API's error shape naming ``field`` and saying ``reason``."""
    error = response.json()
    assert response.status_code == 400, error
    assert set(error) == {"code", "message", "fields"}
    if code is not None:
        assert error["code"] == code, error
    assert field in error["fields"], error
    assert reason.lower() in " ".join(error["fields"][field]).lower(), error


def endpoint_refusal(
    response: Any, endpoint: str, *, field: str, reason: str, whole_body: bool = False
) -> None:
    """The refusal each endpoint gives for a bad ``field``: a 400 naming it, or for an item
    of a bulk, that item's errors (one bad item does not stop the rest) unless the body
    itself was refused (``whole_body``: it is not JSON every element can be checked in)."""
    if endpoint != "bulk":
        json_refusal(response, field=field, reason=reason)
    elif whole_body:
        json_refusal(response, field=f"reports.0.{field}", reason=reason)
    else:
        assert response.status_code == 200, response.json()
        [result] = response.json()["results"]
        assert list(result) == ["errors"], result
        assert field in result["errors"], result
        assert reason.lower() in " ".join(result["errors"][field]).lower(), result


def xml_refusal(response: Any, *, code: str, element: str, reason: str, status: int = 400) -> None:
    """A <reportResponse> with the CyberTipline ``code`` naming ``element``."""
    assert response.status_code == status, response.content
    reply = answer(response)
    assert (reply["root"], reply["responseCode"]) == ("reportResponse", code), reply
    assert element in reply["responseDescription"], reply
    assert reason.lower() in reply["responseDescription"].lower(), reply


def form_refusal(page: Any, *, field: str, reason: str) -> None:
    """The public form again, with an error on ``field``."""
    assert page.status_code == 400
    errors = page.context["form"].errors
    assert field in errors, errors
    assert reason.lower() in " ".join(errors[field]).lower(), errors
    assert f'href="#id_{field}"' in page.content.decode()


XML_ENDPOINTS = ("submit", "fileinfo")


def xml_for(endpoint: str, document: dict[str, Any], uploaded: tuple[int, str]) -> bytes:
    if endpoint == "submit":
        return xml_bytes(document_to_xml("report", document, schema.REPORT))
    report_id, file_id = uploaded
    details = {"reportId": report_id, "fileId": file_id, **document}
    return xml_bytes(document_to_xml("fileDetails", details, schema.FILE_DETAILS))


def xml_root(endpoint: str) -> str:
    return "report" if endpoint == "submit" else "fileDetails"


# Every free-text leaf of the examples, as the API names it (dotted, with list indexes) ----


def free_text_paths(
    document: dict[str, Any], complex_type: Complex, path: str = "", element_path: str = ""
) -> Iterator[tuple[str, Simple, str]]:
    """(dotted path, its type, the element that holds it) for each free-text value."""
    for element in complex_type.children:
        if element.name not in document:
            continue
        value = document[element.name]
        values = value if isinstance(value, list) else [value]
        for index, item in enumerate(values):
            where = f"{path}{element.name}" + (f".{index}" if element.many else "")
            held_by = f"{element_path}{element.name}"
            type_ = element.type
            if isinstance(type_, Complex):
                yield from free_text_paths(item, type_, f"{where}.", f"{held_by}/")
            elif type_.kind in {schema.STRING, schema.TOKEN} and not type_.pattern:
                yield (f"{where}.value" if isinstance(item, dict) else where), type_, held_by


REPORT_TEXT = {
    path: simple for path, simple, _ in free_text_paths(plain_copy(EXAMPLE_REPORT), schema.REPORT)
}
FILE_TEXT = {
    path: simple
    for path, simple, _ in free_text_paths(plain_copy(EXAMPLE_FILE), schema.FILE_METADATA)
}
TEXT_ELEMENTS = {
    "submit": {
        path: element
        for path, _, element in free_text_paths(plain_copy(EXAMPLE_REPORT), schema.REPORT)
    },
    "fileinfo": {
        path: element
        for path, _, element in free_text_paths(plain_copy(EXAMPLE_FILE), schema.FILE_METADATA)
    },
}
# The public form's text fields; what the form makes of them is checked in test_public_form.
FORM_TEXT = (
    "when_details",
    "platform",
    "usernames",
    "child_place",
    "suspect_name",
    "description",
    "reporter_name",
)


def test_the_examples_have_text_everywhere_the_schema_has() -> None:
    assert len(REPORT_TEXT) > 80
    assert {"additionalInfo", "personOrUserReported.0.screenName"} <= set(REPORT_TEXT)
    assert {"fileName", "originalFileName", "details.0.nameValuePair.0.value"} <= set(FILE_TEXT)


# XML bombs, entities and inclusions -------------------------------------------------------

QUADRATIC_BLOWUP = (
    b'<?xml version="1.0"?>\n<!DOCTYPE report [<!ENTITY a "' + b"x" * 50_000 + b'">]>\n'
    b"<report><additionalInfo>" + b"&a;" * 50_000 + b"</additionalInfo></report>"
)
HTTP_ENTITY = (
    b'<?xml version="1.0"?>\n<!DOCTYPE report [<!ENTITY remote SYSTEM '
    b'"http://www.example.com/secret">]>\n<report><additionalInfo>&remote;</additionalInfo></report>'
)
PARAMETER_ENTITY = (
    b'<?xml version="1.0"?>\n<!DOCTYPE report [<!ENTITY % remote SYSTEM '
    b'"http://www.example.com/evil.dtd"> %remote;]>\n<report/>'
)
XINCLUDE = xml_samples.MINIMAL_REPORT.replace(
    b"<screenName>alex42</screenName>",
    b'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" '
    b'parse="text"/>',
)
DANGEROUS_XML = {
    "billion-laughs": xml_samples.BILLION_LAUGHS,
    "quadratic-blowup": QUADRATIC_BLOWUP,
    "file-entity": xml_samples.EXTERNAL_ENTITY,
    "http-entity": HTTP_ENTITY,
    "parameter-entity": PARAMETER_ENTITY,
    "external-dtd": xml_samples.DTD_ONLY,
}


def as_root(body: bytes, root: str) -> bytes:
    return (
        body.replace(b"DOCTYPE report", f"DOCTYPE {root}".encode())
        .replace(b"<report>", f"<{root}>".encode())
        .replace(b"</report>", f"</{root}>".encode())
        .replace(b"<report/>", f"<{root}/>".encode())
    )


@pytest.mark.parametrize("endpoint", XML_ENDPOINTS)
@pytest.mark.parametrize("body", DANGEROUS_XML.values(), ids=DANGEROUS_XML.keys())
def test_dtds_entities_and_external_references_are_4110_before_any_is_expanded(
    ispws: Ispws, endpoint: str, body: bytes
) -> None:
    before = row_counts()

    response = ispws.post_xml(endpoint, as_root(body, xml_root(endpoint)))

    xml_refusal(response, code="4110", element="DTD", reason="not accepted")
    assert b"lollol" not in response.content
    assert b"root:" not in response.content
    assert row_counts() == before


@pytest.mark.parametrize("endpoint", XML_ENDPOINTS)
def test_xinclude_is_an_unknown_element_never_followed(
    ispws: Ispws, endpoint: str, uploaded_file: tuple[int, str]
) -> None:
    report_id, file_id = uploaded_file
    body = (
        XINCLUDE
        if endpoint == "submit"
        else xml_samples.file_details(report_id, file_id).replace(
            b"<originalFileName>holiday.jpg</originalFileName>",
            b'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd"/>',
        )
    )
    before = row_counts()

    response = ispws.post_xml(endpoint, body)

    xml_refusal(response, code="4100", element="XInclude}include", reason="not part of the schema")
    assert b"root:" not in response.content
    assert row_counts() == before


def test_xml_sent_to_the_json_api_is_415(api_client: APIClient, open_report: int) -> None:
    before = row_counts()

    response = api_client.post(
        REPORTS_URL, xml_samples.BILLION_LAUGHS, content_type="application/xml"
    )

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert row_counts() == before


# 100 MB bodies: refused before a byte is read --------------------------------------------


class CountingBody:
    """A request body of ``size`` bytes, made up as it is read, counting what is read."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        left = self.size - self.bytes_read
        size = left if size is None or size < 0 else min(size, left)
        size = min(size, MB)
        self.bytes_read += size
        return b"x" * size

    def readline(self, size: int | None = -1) -> bytes:
        return self.read(size)


def post_counting(
    client: Client, path: str, content_type: str, headers: dict[str, str]
) -> tuple[Any, int]:
    """POST 100 MB to ``path``; the answer, and how many bytes the server read."""
    body = CountingBody(100 * MB)
    environ: dict[str, Any] = {
        "wsgi.input": body,
        "CONTENT_LENGTH": str(body.size),
        "CONTENT_TYPE": content_type,
    }
    response = client.generic("POST", path, headers=headers, **environ)
    return response, body.bytes_read


def api_headers(provider: ProviderCredentials) -> dict[str, str]:
    return {"Authorization": f"Token {provider.token}"}


@pytest.mark.parametrize("endpoint", JSON_ENDPOINTS)
def test_a_100_mb_body_to_the_json_api_is_413_unread(
    client: Client, provider: ProviderCredentials, open_report: int, settings: Any, endpoint: str
) -> None:
    url = {"open": REPORTS_URL, "files": f"{REPORTS_URL}/{open_report}/files", "bulk": BULK_URL}
    before = row_counts()

    response, bytes_read = post_counting(
        client, url[endpoint], "application/json", api_headers(provider)
    )

    assert (response.status_code, bytes_read) == (413, 0)
    assert response.json()["code"] == "body_too_large"
    assert f"the limit is {settings.API_MAX_BODY_BYTES} bytes" in response.json()["message"]
    assert row_counts() == before


def test_the_json_api_takes_a_body_up_to_its_own_limit_not_the_forms(
    api_client: APIClient, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000  # the limit of forms and XML bodies
    body = {"reports": [plain_copy(EXAMPLE_REPORT) for _ in range(5)]}
    assert len(json.dumps(body)) > 2 * settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    response = api_client.post(BULK_URL, body, format="json")

    assert response.status_code == 200, response.content[:500]
    assert len({result["reportId"] for result in response.json()["results"]}) == 5


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("submit", "text/xml"),
        ("fileinfo", "text/xml"),
        ("upload", "multipart/form-data; boundary=hostile"),
        ("finish", "application/x-www-form-urlencoded"),
        ("retract", "multipart/form-data; boundary=hostile"),
    ],
)
def test_a_100_mb_body_to_the_xml_interface_is_413_unread(
    ispws: Ispws, settings: Any, path: str, content_type: str
) -> None:
    settings.UPLOAD_MAX_BYTES = 10 * MB  # an upload may be larger than other bodies
    before = row_counts()

    response, bytes_read = post_counting(
        ispws.client, f"/ispws/{path}", content_type, ispws.headers
    )

    assert (response.status_code, bytes_read) == (413, 0)
    xml_refusal(response, code="4000", element="request body", reason="too large", status=413)
    assert row_counts() == before


@pytest.mark.parametrize("path", [FORM_URL, STATUS_URL])
def test_a_100_mb_body_to_the_public_form_is_413_unread(
    client: Client, reference_data: None, path: str
) -> None:
    before = row_counts()

    response, bytes_read = post_counting(client, path, "application/x-www-form-urlencoded", {})

    assert (response.status_code, bytes_read) == (413, 0)
    assert "too long to be accepted" in response.content.decode()
    assert row_counts() == before


def post_over_a_socket(url: str, path: str, headers: dict[str, str], size: int) -> tuple[int, int]:
    """POST a body of ``size`` bytes over a real connection, sending it only while no
    answer has come; return the status answered and how many bytes of the body had been
    sent by then."""
    address = urllib.parse.urlsplit(url)
    connection = socket.create_connection((address.hostname, address.port), timeout=30)
    head = [f"POST {path} HTTP/1.1", f"Host: {address.netloc}", f"Content-Length: {size}"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    connection.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    connection.setblocking(False)
    chunk = b"x" * 65536
    sent = 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        writing = [connection] if sent < size else []
        readable, writable, _ = select.select([connection], writing, [], 1)
        if readable:
            break
        if writable:
            with contextlib.suppress(BlockingIOError):
                sent += connection.send(chunk[: size - sent])
    connection.settimeout(30)  # an answer that never comes fails the test, never hangs it
    status_line = connection.makefile("rb").readline()
    connection.close()
    return int(status_line.split()[1]), sent


@pytest.mark.django_db(transaction=True)
def test_over_a_real_connection_each_interface_answers_413_before_the_body_is_sent(
    live_server: Any, provider: ProviderCredentials
) -> None:
    size = 100 * MB
    basic = Ispws(Client(), provider.username, provider.password).headers
    interfaces = {
        REPORTS_URL: {"Content-Type": "application/json", **api_headers(provider)},
        "/ispws/submit": {"Content-Type": "text/xml", **basic},
        FORM_URL: {"Content-Type": "application/x-www-form-urlencoded"},
    }
    for path, headers in interfaces.items():
        status, sent = post_over_a_socket(live_server.url, path, headers, size)

        assert status == 413, path
        assert sent < size, path  # the answer came first: the rest was never sent
    assert not Report.objects.exists()


# Deep nesting ----------------------------------------------------------------------------

DEEP_LIST = "[" * 10_000 + "]" * 10_000
DEEP_OBJECT = '{"a":' * 10_000 + "1" + "}" * 10_000


@pytest.mark.parametrize("endpoint", JSON_ENDPOINTS)
@pytest.mark.parametrize(
    "nesting", [DEEP_LIST, DEEP_OBJECT, "[" * 500 + "]" * 500], ids=["list", "object", "parseable"]
)
def test_json_nested_10000_deep_in_a_field_is_400_too_deep(
    api_client: APIClient, open_report: int, endpoint: str, nesting: str
) -> None:
    field = "additionalInfo.0" if endpoint == "files" else "additionalInfo"
    body = json_with_raw(json_document_for(endpoint), field, nesting)
    before = row_counts()

    response = post_json(api_client, endpoint, open_report, body)

    prefix = "reports.0." if endpoint == "bulk" else ""
    error = response.json()
    assert (response.status_code, error["code"]) == (400, "too_deep"), error
    [path] = error["fields"]
    assert path.startswith(f"{prefix}{field}.")
    assert "more than 32 levels deep" in error["fields"][path][0]
    assert row_counts() == before


def test_a_body_that_is_nothing_but_nesting_is_too_deep(api_client: APIClient) -> None:
    response = api_client.post(REPORTS_URL, DEEP_LIST, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "too_deep"
    assert not Report.objects.exists()


@pytest.mark.parametrize("endpoint", XML_ENDPOINTS)
def test_xml_nested_10000_deep_in_an_element_is_4100_naming_it(
    ispws: Ispws, uploaded_file: tuple[int, str], endpoint: str
) -> None:
    field = "additionalInfo.0" if endpoint == "fileinfo" else "additionalInfo"
    document = with_value(
        json_document_for("files" if endpoint == "fileinfo" else "open"), field, "@@"
    )
    body = xml_for(endpoint, document, uploaded_file).replace(
        b"@@", b"<a>" * 10_000 + b"</a>" * 10_000
    )
    before = row_counts()

    response = ispws.post_xml(endpoint, body)

    xml_refusal(
        response,
        code="4100",
        element=f"{xml_root(endpoint)}/additionalInfo/a",
        reason="no child elements",
    )
    assert row_counts() == before


# Bytes that are not the text they claim to be --------------------------------------------

INVALID_UTF8 = {
    "invalid": b"\xff\xfe",
    "overlong-slash": b"\xc0\xaf",
    "overlong-nul": b"\xc0\x80",
    "surrogate": b"\xed\xa0\x80",
    "truncated": b"\xe2\x82",
}


@pytest.mark.parametrize("endpoint", JSON_ENDPOINTS)
@pytest.mark.parametrize("raw", INVALID_UTF8.values(), ids=INVALID_UTF8.keys())
def test_json_with_bytes_that_are_not_utf8_is_a_parse_error_naming_the_field(
    api_client: APIClient, open_report: int, endpoint: str, raw: bytes
) -> None:
    field = "originalFileName" if endpoint == "files" else "additionalInfo"
    text = json_with_raw(json_document_for(endpoint), field, '"@@"')
    body = text.encode().replace(b"@@", b"abc" + raw)
    before = row_counts()

    response = post_json(api_client, endpoint, open_report, body)

    prefix = "reports.0." if endpoint == "bulk" else ""
    json_refusal(response, field=f"{prefix}{field}", reason="not valid UTF-8", code="parse_error")
    assert row_counts() == before


def test_a_utf16_json_body_is_a_parse_error(api_client: APIClient) -> None:
    for body in (
        json.dumps(report_body()).encode("utf-16"),
        json.dumps(report_body()).encode("utf-16-le"),
    ):
        for content_type in ("application/json", "application/json; charset=utf-8"):
            response = api_client.post(REPORTS_URL, body, content_type=content_type)
            assert response.status_code == 400
            assert response.json()["code"] == "parse_error"
    assert not Report.objects.exists()


@pytest.mark.parametrize("endpoint", XML_ENDPOINTS)
@pytest.mark.parametrize("raw", INVALID_UTF8.values(), ids=INVALID_UTF8.keys())
def test_xml_with_bytes_that_are_not_utf8_is_4110_naming_the_element(
    ispws: Ispws, uploaded_file: tuple[int, str], endpoint: str, raw: bytes
) -> None:
    document = with_value(
        json_document_for("files" if endpoint == "fileinfo" else "open"),
        "fileName" if endpoint == "fileinfo" else "additionalInfo",
        "@@",
    )
    body = xml_for(endpoint, document, uploaded_file).replace(b"@@", b"abc" + raw)
    before = row_counts()

    response = ispws.post_xml(endpoint, body)

    element = "fileName" if endpoint == "fileinfo" else "additionalInfo"
    xml_refusal(
        response, code="4110", element=f"<{xml_root(endpoint)}/{element}>", reason="not well formed"
    )
    assert row_counts() == before


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_xml_that_declares_utf8_is_4110(ispws: Ispws, encoding: str) -> None:
    response = ispws.post_xml("submit", xml_samples.MINIMAL_REPORT.decode().encode(encoding))

    xml_refusal(
        response,
        code="4110",
        element="XML",
        reason="encoding specified in XML declaration is incorrect",
    )
    assert not Report.objects.exists()


@pytest.mark.parametrize("raw", INVALID_UTF8.values(), ids=INVALID_UTF8.keys())
def test_the_public_form_with_bytes_that_are_not_utf8_names_the_field(
    client: Client, reference_data: None, raw: bytes
) -> None:
    body = urllib.parse.urlencode(form_data(description="@@")).encode()
    body = body.replace(b"%40%40", b"abc" + urllib.parse.quote_from_bytes(raw).encode())
    before = row_counts()

    page = client.post(FORM_URL, body, content_type="application/x-www-form-urlencoded")

    form_refusal(page, field="description", reason="cannot be read or kept")
    assert row_counts() == before


# NUL and the other characters XML 1.0 forbids, in every text field ------------------------


@pytest.mark.parametrize("endpoint", JSON_ENDPOINTS)
def test_nul_in_any_text_field_of_the_json_api_is_refused_naming_it(
    api_client: APIClient, open_report: int, endpoint: str
) -> None:
    paths = FILE_TEXT if endpoint == "files" else REPORT_TEXT
    before = row_counts()
    for path in paths:
        body = with_value(json_document_for(endpoint), path, "a\u0000b")

        response = post_json(api_client, endpoint, open_report, body)

        prefix = "reports.0." if endpoint == "bulk" else ""
        json_refusal(
            response,
            field=f"{prefix}{path}",
            reason="U+0000 is not allowed",
            code="forbidden_character",
        )
    assert row_counts() == before


@pytest.mark.parametrize("endpoint", XML_ENDPOINTS)
def test_nul_in_any_text_element_of_the_xml_interface_is_4110_naming_it(
    ispws: Ispws, uploaded_file: tuple[int, str], endpoint: str
) -> None:
    paths = FILE_TEXT if endpoint == "fileinfo" else REPORT_TEXT
    before = row_counts()
    for path in paths:
        document = with_value(
            json_document_for("files" if endpoint == "fileinfo" else "open"), path, "a\u0000b"
        )

        response = ispws.post_xml(endpoint, xml_for(endpoint, document, uploaded_file))

        element = f"<{xml_root(endpoint)}/{TEXT_ELEMENTS[endpoint][path]}>"
        xml_refusal(response, code="4110", element=element, reason="U+0000 is not allowed in XML")
    assert row_counts() == before


@pytest.mark.parametrize("reference", ["&#0;", "&#x1;", "&#xFFFE;", "&#xD800;"])
def test_a_character_reference_to_a_forbidden_character_is_4110_naming_the_element(
    ispws: Ispws, reference: str
) -> None:
    body = xml_samples.MINIMAL_REPORT.replace(b"alex42", f"alex{reference}42".encode())

    response = ispws.post_xml("submit", body)

    xml_refusal(
        response,
        code="4110",
        element="<report/personOrUserReported/screenName>",
        reason="invalid character",
    )
    assert not Report.objects.exists()


def test_nul_in_any_text_field_of_the_public_form_is_refused_naming_it(
    client: Client, reference_data: None
) -> None:
    before = row_counts()
    for field in FORM_TEXT:
        page = client.post(FORM_URL, form_data(**{field: "a\x00b"}))

        form_refusal(page, field=field, reason="cannot be read or kept")
    assert row_counts() == before


FORBIDDEN_CHARACTERS = ["\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\ufffe", "\uffff"]


@pytest.mark.parametrize("character", FORBIDDEN_CHARACTERS, ids=lambda c: f"U+{ord(c):04X}")
def test_other_characters_xml_forbids_are_refused_at_every_interface(
    api_client: APIClient, ispws: Ispws, client: Client, open_report: int, character: str
) -> None:
    before = row_counts()
    code_point = f"U+{ord(character):04X}"
    for endpoint in JSON_ENDPOINTS:
        body = with_value(
            json_document_for(endpoint),
            "additionalInfo.0" if endpoint == "files" else "additionalInfo",
            f"a{character}b",
        )
        response = post_json(api_client, endpoint, open_report, body)
        field = {
            "open": "additionalInfo",
            "files": "additionalInfo.0",
            "bulk": "reports.0.additionalInfo",
        }[endpoint]
        json_refusal(
            response, field=field, reason=f"{code_point} is not allowed", code="forbidden_character"
        )
    raw = json.dumps(
        with_value(report_body(), "additionalInfo", f"a{character}b"), ensure_ascii=False
    )
    json_refusal(
        api_client.post(REPORTS_URL, raw.encode(), content_type="application/json"),
        field="additionalInfo",
        reason=f"{code_point} is not allowed",
    )
    xml = xml_samples.MINIMAL_REPORT.replace(b"alex42", f"alex{character}42".encode())
    xml_refusal(
        ispws.post_xml("submit", xml),
        code="4110",
        element="<report/personOrUserReported/screenName>",
        reason="not well-formed",
    )
    form_refusal(
        client.post(FORM_URL, form_data(description=f"a{character}b")),
        field="description",
        reason="cannot be read or kept",
    )
    assert row_counts() == before


@pytest.mark.parametrize("escape_sequence", ["\\ud800", "\\udfff", "\\b", "\\f", "\\u001B"])
def test_json_escapes_for_forbidden_characters_are_refused(
    api_client: APIClient, escape_sequence: str
) -> None:
    body = json_with_raw(
        report_body(),
        "personOrUserReported.ipCaptureEvent.0.eventName",
        f'"Up{escape_sequence}load"',
    )

    response = api_client.post(REPORTS_URL, body, content_type="application/json")

    json_refusal(
        response,
        field="personOrUserReported.ipCaptureEvent.0.eventName",
        reason="is not allowed",
        code="forbidden_character",
    )
    assert not Report.objects.exists()


def test_a_forbidden_character_in_an_element_name_or_the_idempotency_key_is_refused(
    api_client: APIClient,
) -> None:
    named = api_client.post(REPORTS_URL, {**report_body(), "bad\u0000name": 1}, format="json")
    keyed = api_client.post(REPORTS_URL, report_body(), format="json", HTTP_IDEMPOTENCY_KEY="k\x00")

    json_refusal(named, field="bad\u0000name", reason="not allowed", code="forbidden_character")
    assert keyed.status_code == 400
    assert keyed.json()["code"] == "forbidden_character"
    assert "Idempotency-Key" in keyed.json()["fields"]
    assert not Report.objects.exists()


def test_an_item_of_a_bulk_with_nul_refuses_the_bulk_even_with_an_idempotency_key(
    api_client: APIClient,
) -> None:
    body = {"reports": [report_body(), report_body(incidentType="Child Sex Tourism\u0000")]}

    response = api_client.post(BULK_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="bulk-nul")

    json_refusal(
        response,
        field="reports.1.incidentSummary.incidentType",
        reason="U+0000",
        code="forbidden_character",
    )
    assert row_counts()["intake.IdempotencyKey"] == 0
    assert not Report.objects.exists()


# Numbers: huge, not numbers, out of range -------------------------------------------------

# (raw JSON, what the error says, whether the JSON itself is refused before validation)
JSON_NUMBERS = {
    "1e999999": ("out of range", True),
    "-1e999999": ("out of range", True),
    "9" * 5000: ("out of range", True),
    "-" + "9" * 5000: ("out of range", True),
    "NaN": ("out of range", True),
    "Infinity": ("out of range", True),
    "-Infinity": ("out of range", True),
    "0": ("greater than or equal to 1", False),
    "-1": ("greater than or equal to 1", False),
    "65536": ("less than or equal to 65535", False),
    "80.5": ("valid integer", False),
    '"eighty"': ("valid integer", False),
}
PORT = {
    "open": "personOrUserReported.0.ipCaptureEvent.0.port",
    "files": "ipCaptureEvent.port",
    "bulk": "personOrUserReported.0.ipCaptureEvent.0.port",
}


@pytest.mark.parametrize("endpoint", JSON_ENDPOINTS)
@pytest.mark.parametrize("raw", JSON_NUMBERS, ids=[raw[:12] for raw in JSON_NUMBERS])
def test_a_port_that_is_no_port_is_refused_naming_it(
    api_client: APIClient, open_report: int, endpoint: str, raw: str
) -> None:
    reason, whole_body = JSON_NUMBERS[raw]
    body = json_with_raw(json_document_for(endpoint), PORT[endpoint], raw)
    before = row_counts()

    response = post_json(api_client, endpoint, open_report, body)

    endpoint_refusal(response, endpoint, field=PORT[endpoint], reason=reason, whole_body=whole_body)
    assert row_counts() == before


OUT_OF_RANGE = [
    ("personOrUserReported.0.personOrUserReportedPerson.age", "-1", "greater than or equal to 0"),
    ("personOrUserReported.0.personOrUserReportedPerson.age", "151", "less than or equal to 150"),
    (
        "personOrUserReported.0.associatedAccount.0.approximateAge",
        "1000",
        "less than or equal to 150",
    ),
    ("personOrUserReported.0.priorCTReports.0", "0", "greater than or equal to 1"),
    (
        "personOrUserReported.0.priorCTReports.0",
        str(2**63),
        "less than or equal to 9223372036854775807",
    ),
    ("internetDetails.5.cellPhoneIncident.latitude", "90.0001", "less than or equal to 90"),
    ("internetDetails.5.cellPhoneIncident.longitude", "-181", "greater than or equal to -180"),
]


@pytest.mark.parametrize(("path", "raw", "reason"), OUT_OF_RANGE)
def test_counts_ages_ids_and_coordinates_out_of_range_are_refused_by_both_interfaces(
    api_client: APIClient, ispws: Ispws, path: str, raw: str, reason: str
) -> None:
    before = row_counts()

    json_refusal(
        api_client.post(
            REPORTS_URL, json_with_raw(EXAMPLE_REPORT, path, raw), content_type="application/json"
        ),
        field=path,
        reason=reason,
    )
    xml = xml_bytes(document_to_xml("report", with_value(EXAMPLE_REPORT, path, raw), schema.REPORT))
    xml_refusal(
        ispws.post_xml("submit", xml),
        code="4100",
        element=f"report/{path.replace('.', '/')}",
        reason=reason,
    )
    assert row_counts() == before


XML_NUMBERS = {
    "9" * 5000: "string value too large",
    "1e999999": "valid integer",
    "NaN": "valid integer",
    "INF": "valid integer",
    "-1": "greater than or equal to 1",
    "0x50": "valid integer",
}


@pytest.mark.parametrize("endpoint", XML_ENDPOINTS)
@pytest.mark.parametrize("text", XML_NUMBERS, ids=[text[:10] for text in XML_NUMBERS])
def test_xml_numbers_that_are_no_port_are_4100_naming_it(
    ispws: Ispws, uploaded_file: tuple[int, str], endpoint: str, text: str
) -> None:
    path = PORT["files" if endpoint == "fileinfo" else "open"]
    document = with_value(
        json_document_for("files" if endpoint == "fileinfo" else "open"), path, text
    )
    before = row_counts()

    response = ispws.post_xml(endpoint, xml_for(endpoint, document, uploaded_file))

    xml_refusal(
        response,
        code="4100",
        element=f"{xml_root(endpoint)}/{path.replace('.', '/')}",
        reason=XML_NUMBERS[text],
    )
    assert row_counts() == before


@pytest.mark.parametrize("text", ["9" * 5000, "1e999999", "NaN", "-1", "18", str(2**64)])
def test_the_public_form_refuses_an_age_that_is_no_childs(
    client: Client, reference_data: None, text: str
) -> None:
    page = client.post(FORM_URL, form_data(child_age=text))

    form_refusal(page, field="child_age", reason="age")
    assert not Report.objects.exists()


@pytest.mark.parametrize("number", ["9" * 5000, str(2**63), str(2**64), "1e999999", "-5"])
def test_the_status_page_refuses_a_report_number_that_names_no_report(
    client: Client, reference_data: None, number: str
) -> None:
    page = client.post(STATUS_URL, {"report_number": number, "receipt_code": "1" * 16})

    assert page.status_code == 400
    assert page.context["lookup"].errors["report_number"] == [
        "Enter the report number, as a number."
    ]


# Values no enumeration has -----------------------------------------------------------------

JSON_ENUMS = [
    ("incidentSummary.incidentType", "Child Pornography"),
    ("personOrUserReported.0.ipCaptureEvent.0.eventName", "login"),
    ("personOrUserReported.0.associatedAccount.0.type", "Sibling"),
    ("personOrUserReported.0.estimatedLocation.countryCode", "XX"),
    ("personOrUserReported.0.personOrUserReportedPerson.address.0.country", "UK"),
    ("personOrUserReported.0.personOrUserReportedPerson.address.0.state", "ZZ"),
    ("personOrUserReported.0.personOrUserReportedPerson.phone.0.type", "Pager"),
    ("lawEnforcement.servedLegalProcessInternational.fleaCountry", "EU"),
]
FILE_ENUMS = [
    ("fileRelevance", "Very Relevant"),
    ("industryClassification", "C1"),
    ("details.0.type", "XMP"),
    ("ipCaptureEvent.eventName", "Download"),
]


@pytest.mark.parametrize(
    ("path", "value"), JSON_ENUMS + [(f"file:{path}", value) for path, value in FILE_ENUMS]
)
def test_a_value_no_enumeration_has_is_refused_by_the_json_api_and_the_xml_interface(
    api_client: APIClient,
    ispws: Ispws,
    open_report: int,
    uploaded_file: tuple[int, str],
    path: str,
    value: str,
) -> None:
    is_file = path.startswith("file:")
    path = path.removeprefix("file:")
    endpoints = ("files",) if is_file else ("open", "bulk")
    before = row_counts()
    for endpoint in endpoints:
        body = with_value(json_document_for(endpoint), path, value)
        response = post_json(api_client, endpoint, open_report, body)
        endpoint_refusal(response, endpoint, field=path, reason="not a valid choice")
    endpoint = "fileinfo" if is_file else "submit"
    document = with_value(json_document_for("files" if is_file else "open"), path, value)
    response = ispws.post_xml(endpoint, xml_for(endpoint, document, uploaded_file))
    xml_refusal(
        response,
        code="4100",
        element=f"{xml_root(endpoint)}/{path.replace('.', '/')}",
        reason="not a valid choice",
    )
    assert row_counts() == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("what_happened", "Child Sex Tourism"),
        ("what_happened", "images "),
        ("country", "XX"),
        ("child_country", "uk"),
        ("suspect_country", "EU"),
    ],
)
def test_a_choice_the_public_form_does_not_offer_is_refused(
    client: Client, reference_data: None, field: str, value: str
) -> None:
    page = client.post(FORM_URL, form_data(**{field: value}))

    form_refusal(page, field=field, reason="Choose")
    assert not Report.objects.exists()


# Too many: IP capture events, identifiers, persons, files ---------------------------------


def events(count: int) -> list[dict[str, str]]:
    return [{"ipAddress": f"81.2.{n // 256 % 256}.{n % 256}"} for n in range(count)]


def test_10000_ip_capture_events_in_one_list_are_refused_naming_the_list(
    api_client: APIClient,
) -> None:
    body = report_body()
    body["personOrUserReported"]["ipCaptureEvent"] = events(10_000)

    response = api_client.post(REPORTS_URL, body, format="json")

    json_refusal(
        response, field="personOrUserReported.0.ipCaptureEvent", reason="no more than 1000"
    )
    assert not Report.objects.exists()


def test_10000_ip_capture_events_across_a_report_are_refused_naming_where_the_limit_passed(
    api_client: APIClient, ispws: Ispws
) -> None:
    body = report_body()
    body["personOrUserReported"] = [{"ipCaptureEvent": events(1000)} for _ in range(10)]
    before = row_counts()

    response = api_client.post(REPORTS_URL, body, format="json")
    xml = xml_bytes(document_to_xml("report", body, schema.REPORT))
    reply = ispws.post_xml("submit", xml)

    reason = "at most 1000 IP capture events in all; this one carries 10000"
    json_refusal(response, field="personOrUserReported.1.ipCaptureEvent", reason=reason)
    xml_refusal(
        reply, code="4100", element="report/personOrUserReported/1/ipCaptureEvent", reason=reason
    )
    assert row_counts() == before


def test_the_ip_capture_event_limit_counts_every_party_account_incident_and_file(
    api_client: APIClient, settings: Any
) -> None:
    settings.REPORT_MAX_IP_CAPTURE_EVENTS = 6  # as many as the example report carries
    bulk_item = {**plain_copy(EXAMPLE_REPORT), "files": [plain_copy(EXAMPLE_FILE)]}

    at_the_limit = api_client.post(REPORTS_URL, EXAMPLE_REPORT, format="json")
    one_more = api_client.post(BULK_URL, {"reports": [bulk_item]}, format="json")

    assert at_the_limit.status_code == 201, at_the_limit.json()
    [result] = one_more.json()["results"]
    assert result["errors"] == {
        "files.0.ipCaptureEvent": [
            "A report may carry at most 6 IP capture events in all; this one carries 7."
        ]
    }
    assert Report.objects.count() == 1


def test_too_many_identifiers_are_refused_naming_where_the_limit_passed(
    api_client: APIClient, settings: Any
) -> None:
    settings.REPORT_MAX_IDENTIFIERS = 3
    body = report_body()
    body["personOrUserReported"]["screenName"] = "one"
    body["personOrUserReported"]["profileUrl"] = [
        "https://www.example.com/2",
        "https://www.example.com/3",
    ]
    body["victim"] = [{"victimPerson": {"email": [{"value": "four@example.com"}]}}]

    response = api_client.post(REPORTS_URL, body, format="json")

    json_refusal(response, field="victim.0.victimPerson.email", reason="at most 3 identifiers")
    assert not Report.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"personOrUserReported": [{"screenName": "x"}] * 1001}, "personOrUserReported"),
        ({"victim": [{"victimPerson": {}}] * 1001}, "victim"),
        (
            {"personOrUserReported": [{"profileUrl": ["https://www.example.com/"] * 1001}]},
            "personOrUserReported.0.profileUrl",
        ),
        ({"files": [EXAMPLE_FILE] * 1001}, "files"),
    ],
    ids=["persons", "victims", "urls", "files"],
)
def test_a_list_longer_than_1000_is_refused_naming_it(
    api_client: APIClient, body: dict[str, Any], field: str
) -> None:
    response = api_client.post(BULK_URL, {"reports": [{**report_body(), **body}]}, format="json")

    endpoint_refusal(response, "bulk", field=field, reason="no more than 1000")
    assert not Report.objects.exists()


# File names ------------------------------------------------------------------------------

PATH_NAMES = {
    "parent-dirs": "../../etc/passwd",
    "windows-parent-dirs": "..\\..\\boot.ini",
    "absolute": "/etc/shadow",
    "windows-absolute": "C:\\Windows\\System32\\config\\SAM",
    "drive-relative": "C:boot.ini",
    "unc": "\\\\server\\share\\a.jpg",
    "dot-dot": "..",
    "dot": ".",
}
CONTROL_NAMES = {
    "newline": "a\nb.jpg",
    "carriage-return": "a\rb.jpg",
    "tab": "a\tb.jpg",
    "escape": "a\x1b[31mb.jpg",
    "right-to-left-override": "holiday\u202egpj.exe",
}
ODD_NAMES = {**PATH_NAMES, **CONTROL_NAMES, "nul": "a\x00b.jpg", "10-kb": "x" * 10_240 + ".jpg"}
FILE_NAME_REASONS = {
    **dict.fromkeys(PATH_NAMES, "not a path"),
    **dict.fromkeys(CONTROL_NAMES, "control characters"),
    "nul": "U+0000 is not allowed",
    "escape": "U+001B is not allowed",  # no text anywhere may hold it
    "10-kb": "no more than 2056 characters",
}


@pytest.mark.parametrize("field", ["fileName", "originalFileName"])
@pytest.mark.parametrize("kind", ODD_NAMES)
def test_a_file_name_that_is_a_path_or_holds_control_characters_is_refused_by_the_json_api(
    api_client: APIClient, open_report: int, field: str, kind: str
) -> None:
    before = row_counts()
    for endpoint in ("files", "bulk"):
        body = with_value(EXAMPLE_FILE, field, ODD_NAMES[kind])
        if endpoint == "bulk":
            body = {**report_body(), "files": [body]}
        response = post_json(api_client, endpoint, open_report, body)

        where = f"files.0.{field}" if endpoint == "bulk" else field
        endpoint_refusal(
            response,
            endpoint,
            field=where,
            reason=FILE_NAME_REASONS[kind],
            whole_body=kind in {"nul", "escape"},
        )
    assert row_counts() == before


@pytest.mark.parametrize("kind", [kind for kind in ODD_NAMES if kind != "nul"])
def test_a_file_name_that_is_a_path_or_holds_control_characters_is_refused_by_fileinfo(
    ispws: Ispws, uploaded_file: tuple[int, str], kind: str
) -> None:
    document = with_value(EXAMPLE_FILE, "fileName", ODD_NAMES[kind])
    before = row_counts()

    response = ispws.post_xml("fileinfo", xml_for("fileinfo", document, uploaded_file))

    reason = FILE_NAME_REASONS[kind]
    if kind == "escape":  # XML cannot carry U+001B at all
        xml_refusal(response, code="4110", element="<fileDetails/fileName>", reason="U+001B")
    else:
        xml_refusal(response, code="4100", element="fileDetails/fileName", reason=reason)
    assert ReportedFile.objects.get().details is None
    assert row_counts() == before


def multipart_upload(report_id: int, file_name_parameter: str) -> bytes:
    """A multipart body with the form field id and a file whose Content-Disposition ends
    with ``file_name_parameter`` (``filename="..."`` or RFC 5987's ``filename*=...``)."""
    return (
        b"--hostile\r\n"
        b'Content-Disposition: form-data; name="id"\r\n\r\n'
        + str(report_id).encode()
        + b"\r\n--hostile\r\n"
        + f'Content-Disposition: form-data; name="file"; {file_name_parameter}\r\n'.encode()
        + b"Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff\xe0synthetic\r\n--hostile--\r\n"
    )


@pytest.mark.parametrize("kind", ODD_NAMES)
def test_an_uploaded_files_name_is_never_kept_as_a_path_or_with_control_characters(
    ispws: Ispws, uploaded_file: tuple[int, str], kind: str
) -> None:
    """Django's multipart parser keeps only the last component of a file name and drops
    unprintable characters; what is left is checked like fileName."""
    report_id, _file_id = uploaded_file
    name = ODD_NAMES[kind]
    encoded = f"filename*=UTF-8''{urllib.parse.quote(name, safe='')}"

    response = ispws.client.post(
        "/ispws/upload",
        multipart_upload(report_id, encoded),
        content_type="multipart/form-data; boundary=hostile",
        headers=ispws.headers,
    )

    reply = answer(response)
    if reply["responseCode"] == "0":
        kept = ReportedFile.objects.get(file_id=reply["fileId"]).file_name
        assert kept
        assert kept == kept.strip()
        assert not re.search(r"[/\\\x00-\x1f\u202e]", kept), kept
        assert kept not in {".", ".."}
        assert not re.match(r"[A-Za-z]:", kept)
    else:
        assert response.status_code == 400, reply
        assert reply["responseCode"] in {"4000", "4100"}, reply
        assert re.search("file|form cannot be read", reply["responseDescription"]), reply
        assert ReportedFile.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "code", "reason"),
    [
        ("C:boot.ini", "4100", "file name is one name, not a path"),
        ("x" * 2057, "4000", "header size exceeded"),
    ],
    ids=["drive-relative", "2-kb"],
)
def test_an_uploaded_file_name_left_a_path_or_too_long_is_refused(
    ispws: Ispws, uploaded_file: tuple[int, str], name: str, code: str, reason: str
) -> None:
    report_id, _file_id = uploaded_file
    before = row_counts()

    response = ispws.client.post(
        "/ispws/upload",
        multipart_upload(report_id, f'filename="{name}"'),
        content_type="multipart/form-data; boundary=hostile",
        headers=ispws.headers,
    )

    xml_refusal(response, code=code, element="", reason=reason)
    assert row_counts() == before


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"id=1"),
        ("multipart/form-data; boundary=", b"--\r\n"),
        ("application/x-www-form-urlencoded", "&".join(f"f{n}=1" for n in range(1001)).encode()),
    ],
    ids=["no-boundary", "empty-boundary", "too-many-fields"],
)
@pytest.mark.parametrize("path", ["upload", "finish", "retract"])
def test_a_form_body_django_cannot_read_is_4000(
    ispws: Ispws, path: str, content_type: str, body: bytes
) -> None:
    before = row_counts()

    response = ispws.client.post(
        f"/ispws/{path}", body, content_type=content_type, headers=ispws.headers
    )

    xml_refusal(response, code="4000", element="form", reason="cannot be read")
    assert row_counts() == before


# Text that looks like code: kept as sent, shown inert -------------------------------------

PAYLOADS = {
    "sql": "'; DROP TABLE intake_report; --",
    "script": "<script>window.__pwned=1</script>",
    "attribute": '"><img src=x onerror=alert(1)>',
    "javascript-url": "javascript:alert(document.cookie)",
    "django-template": "{{ 7*7 }}",
    "other-template": "${7*7} #{7*7} <%= 7*7 %>",
}


def with_every_text(
    document: dict[str, Any], paths: dict[str, Simple], text: str
) -> dict[str, Any]:
    for path, simple in paths.items():
        document = with_value(document, path, text[: simple.max_length])
    return document


def value_at(document: Any, path: str) -> Any:
    for step in path.split("."):
        document = document[int(step)] if isinstance(document, list) else document[step]
    return document


def assert_shown_inert(html: str, payload: str) -> None:
    assert escape(payload) in html
    if escape(payload) != payload:
        assert payload not in html
    assert not re.search(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", html, re.IGNORECASE)
    assert not re.search(r"<(script|img)[^>]*(__pwned|onerror)", html, re.IGNORECASE)


def pages_showing(report: Report, staff: Client) -> dict[str, str]:
    """The staff admin's page of ``report`` and its agency's page of the referral."""
    referral = report_route(report_id=report.pk)
    assert referral is not None
    Referral.objects.filter(pk=referral.pk).update(status=Referral.Status.DELIVERED)
    agency = officer(Client(), referral.agency.code, f"officer-{report.pk}")
    pages = {
        "admin": staff.get(f"/admin/intake/report/{report.pk}/change/"),
        "agency": agency.get(f"/agency/referrals/{referral.pk}/"),
    }
    assert {name: page.status_code for name, page in pages.items()} == {"admin": 200, "agency": 200}
    return {name: page.content.decode() for name, page in pages.items()}


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_code_in_every_text_field_is_kept_verbatim_and_shown_inert(
    api_client: APIClient, ispws: Ispws, client: Client, reference_data: None, payload: str
) -> None:
    document = with_every_text(plain_copy(EXAMPLE_REPORT), REPORT_TEXT, payload)
    staff = signed_in_staff(Client(), "analyst", username="analyst")

    opened = api_client.post(REPORTS_URL, document, format="json")
    assert opened.status_code == 201, opened.json()
    json_id = opened.json()["reportId"]
    assert api_client.post(f"{REPORTS_URL}/{json_id}/finish").status_code == 200
    submitted = answer(
        ispws.post_xml("submit", xml_bytes(document_to_xml("report", document, schema.REPORT)))
    )
    xml_id = int(submitted["reportId"])
    assert answer(ispws.post_form("finish", {"id": str(xml_id)}))["responseCode"] == "0"
    form_text = {field: payload for field in FORM_TEXT} | {
        "usernames": payload,
        "child_country": "DE",
    }
    page = client.post(FORM_URL, form_data(**form_text))
    assert page.status_code == 200, page.context["form"].errors if page.context else page.content

    shown = api_client.get(f"{REPORTS_URL}/{json_id}").json()["report"]
    public = Report.objects.get(source="public")
    for path, simple in REPORT_TEXT.items():
        assert value_at(shown, path) == payload[: simple.max_length], path
    assert Report.objects.get(pk=xml_id).document == Report.objects.get(pk=json_id).document
    assert public.document["additionalInfo"] == payload
    assert public.document["personOrUserReported"][0]["screenName"] == payload
    for report in Report.objects.all():
        for html in pages_showing(report, staff).values():
            assert_shown_inert(html, payload)


def test_a_javascript_url_in_a_url_element_is_refused_by_both_interfaces(
    api_client: APIClient, ispws: Ispws
) -> None:
    path = "personOrUserReported.0.profileUrl.0"
    document = with_value(EXAMPLE_REPORT, path, "javascript:alert(1)")

    json_refusal(
        api_client.post(REPORTS_URL, document, format="json"), field=path, reason="valid URL"
    )
    reply = ispws.post_xml("submit", xml_bytes(document_to_xml("report", document, schema.REPORT)))
    xml_refusal(
        reply, code="4100", element="report/personOrUserReported/0/profileUrl/0", reason="valid URL"
    )
    assert not Report.objects.exists()


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_a_spreadsheet_cell_never_starts_a_formula(prefix: str) -> None:
    cell = spreadsheet_safe(f'{prefix}HYPERLINK("https://www.example.com")')

    assert cell.startswith("'")
    assert spreadsheet_safe("plain text") == "plain text"


def test_the_agency_export_holds_no_report_text_and_no_formula(api_client: APIClient) -> None:
    document = with_every_text(
        plain_copy(EXAMPLE_REPORT), REPORT_TEXT, '=HYPERLINK("https://www.example.com")'
    )
    report_id = api_client.post(REPORTS_URL, document, format="json").json()["reportId"]
    api_client.post(f"{REPORTS_URL}/{report_id}/finish")
    referral = report_route(report_id=report_id)
    assert referral is not None
    Referral.objects.filter(pk=referral.pk).update(status=Referral.Status.DELIVERED)
    agency = officer(Client(), referral.agency.code, "exporting-officer")

    response = agency.get("/agency/export.csv")

    content = response.getvalue().decode()
    assert response.status_code == 200
    assert str(report_id) in content
    assert "HYPERLINK" not in content
    assert not re.search(r"(^|,)[=+\-@]", content, re.MULTILINE)


# Ids: another provider's, not numbers, past 2**63 -----------------------------------------


def test_another_providers_report_is_not_found_at_every_endpoint(
    api_client: APIClient,
    ispws: Ispws,
    other_provider: ProviderCredentials,
    open_report: int,
    uploaded_file: tuple[int, str],
) -> None:
    stranger = api_client_for(other_provider)
    stranger_xml = Ispws(Client(), other_provider.username, other_provider.password)
    xml_report_id, file_id = uploaded_file
    before = row_counts()

    for method, suffix, body in [
        ("get", "", None),
        ("post", "/files", EXAMPLE_FILE),
        ("post", "/finish", None),
        ("post", "/retract", None),
    ]:
        response = getattr(stranger, method)(
            f"{REPORTS_URL}/{open_report}{suffix}", body, format="json"
        )
        assert (response.status_code, response.json()["code"]) == (404, "not_found"), suffix
    forms: dict[str, dict[str, Any]] = {
        "upload": {"id": xml_report_id, "file": upload_of("b.jpg")},
        "finish": {"id": xml_report_id},
        "retract": {"id": xml_report_id},
    }
    for path, data in forms.items():
        xml_refusal(
            stranger_xml.post_form(path, data),
            code="5001",
            element="Report",
            reason="does not exist",
            status=404,
        )
    described = stranger_xml.post_xml("fileinfo", xml_samples.file_details(xml_report_id, file_id))
    xml_refusal(described, code="5001", element="Report", reason="does not exist", status=404)
    assert row_counts() == before


@pytest.mark.parametrize(
    "report_id", ["abc", "-1", "1.5", "0x10", "%00", str(2**63), str(2**64), "9" * 5000]
)
@pytest.mark.parametrize("suffix", ["", "/files", "/finish", "/retract"])
def test_a_report_id_that_names_no_report_is_a_json_404(
    api_client: APIClient, open_report: int, report_id: str, suffix: str
) -> None:
    before = row_counts()

    response = api_client.post(f"{REPORTS_URL}/{report_id}{suffix}", EXAMPLE_FILE, format="json")

    assert response.status_code in {404, 405}
    assert response.json()["code"] in {"not_found", "method_not_allowed"}
    assert set(response.json()) == {"code", "message", "fields"}
    assert row_counts() == before


FORM_IDS = {
    "letters": "abc",
    "negative": "-1",
    "decimal": "1.5",
    "hexadecimal": "0x10",
    "superscript-digit": "\u00b2",
    "arabic-indic-digits": "\u0661\u0662",
    "5000-digits": "9" * 5000,
    "20-digits": str(2**64),
}


@pytest.mark.parametrize("path", ["upload", "finish", "retract"])
@pytest.mark.parametrize("report_id", FORM_IDS.values(), ids=FORM_IDS.keys())
def test_a_form_id_that_is_no_number_is_4000(ispws: Ispws, path: str, report_id: str) -> None:
    before = row_counts()

    response = ispws.post_form(path, {"id": report_id})

    xml_refusal(response, code="4000", element="form field id", reason="must be a report id")
    assert row_counts() == before


@pytest.mark.parametrize("path", ["upload", "finish", "retract"])
@pytest.mark.parametrize("report_id", ["0", str(2**63 - 1), str(2**63)])
def test_a_form_id_that_is_a_number_but_no_report_is_5001(
    ispws: Ispws, path: str, report_id: str
) -> None:
    before = row_counts()

    response = ispws.post_form(path, {"id": report_id})

    xml_refusal(response, code="5001", element="Report", reason="does not exist", status=404)
    assert row_counts() == before


@pytest.mark.parametrize("report_id", [str(2**63 - 1), str(2**63), "9" * 50])
def test_fileinfo_for_a_report_id_past_a_bigint_is_4100_or_5001(
    ispws: Ispws, uploaded_file: tuple[int, str], report_id: str
) -> None:
    _report_id, file_id = uploaded_file
    body = xml_samples.file_details(1, file_id).replace(
        b"<reportId>1</reportId>", f"<reportId>{report_id}</reportId>".encode()
    )

    response = ispws.post_xml("fileinfo", body)

    if int(report_id) < 2**63:
        xml_refusal(response, code="5001", element="Report", reason="does not exist", status=404)
    else:
        xml_refusal(
            response,
            code="4100",
            element="fileDetails/reportId",
            reason="less than or equal to 9223372036854775807",
        )
    assert ReportedFile.objects.get().details is None
