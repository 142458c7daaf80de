"""Properties of the XML and JSON readers, over documents hypothesis makes up."""

import contextlib
import datetime as dt
import io
import json
import urllib.parse
from typing import Any
from xml.etree.ElementTree import Element as XmlElement
from xml.etree.ElementTree import tostring

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework import serializers
from rest_framework.test import APIClient

from intake import schema
from intake.api import JsonRefused, LimitedJSONParser, json_document
from intake.documents import (
    BulkReportSerializer,
    DocumentError,
    FileDetailsSerializer,
    FileMetadataSerializer,
    ReportSerializer,
    document_from_xml,
    document_to_xml,
    serializer_for,
    validated_document,
)
from intake.examples import EXAMPLE_FILE, EXAMPLE_REPORT
from intake.forms import PublicReportForm
from intake.schema import Attr, Complex, Element, Simple
from intake.services import ProviderCredentials
from intake.xml import MalformedXml, parse_xml, xml_bytes
from tests.intake.test_ispws import Ispws

PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cn", "Zs", "Zl", "Zp")),
    min_size=1,
    max_size=12,
)
PAST = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def leaf_values(simple: Simple) -> st.SearchStrategy[Any]:
    kind = simple.kind
    if simple.choices:
        return st.sampled_from(simple.choices)
    if kind in {schema.STRING, schema.TOKEN}:
        if simple.pattern == r"^\+[0-9]{1,3}$":
            return st.from_regex(r"\A\+[0-9]{1,3}\Z")
        if simple.pattern:
            return st.from_regex(r"\A[0-9]{1,10}\Z")
        return TEXT
    if kind == schema.BOOLEAN:
        return st.booleans()
    if kind == schema.FLAG:
        return st.just(True)
    if kind in {schema.INT, schema.LONG}:
        return st.integers(simple.min_value or 0, simple.max_value or 10**9)
    if kind == schema.DOUBLE:
        return st.floats(simple.min_value, simple.max_value, allow_nan=False)
    if kind == schema.DATETIME:
        return st.datetimes(max_value=PAST.replace(tzinfo=None), timezones=st.just(dt.UTC)).map(
            lambda value: value.isoformat()
        )
    if kind == schema.DATE:
        return st.dates(max_value=PAST.date()).map(lambda value: value.isoformat())
    if kind == schema.IP:
        return st.ip_addresses().map(str)
    if kind == schema.EMAIL:
        return st.sampled_from(["a@example.com", "first.last@mail.example.org"])
    if kind == schema.URL:
        return st.sampled_from(["https://www.example.com/a", "http://example.org/b?c=d"])
    raise ValueError(kind)


def attribute_values(attrs: tuple[Attr, ...]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {attr.name: leaf_values(attr.type) for attr in attrs if attr.required},
        optional={attr.name: leaf_values(attr.type) for attr in attrs if not attr.required},
    )


def with_value(pair: tuple[dict[str, Any], Any]) -> dict[str, Any]:
    return {**pair[0], "value": pair[1]}


def element_values(element: Element) -> st.SearchStrategy[Any]:
    type_ = element.type
    if isinstance(type_, Complex):
        one = st.deferred(lambda: documents(type_))
    elif type_.attrs or type_.kind == schema.EMPTY:
        one = attribute_values(type_.attrs)
        if type_.kind != schema.EMPTY:
            one = st.tuples(one, leaf_values(type_)).map(with_value)
    else:
        one = leaf_values(type_)
    return st.lists(one, min_size=1, max_size=2) if element.many else one


def documents(complex_type: Complex) -> st.SearchStrategy[dict[str, Any]]:
    if complex_type.choice:
        return st.one_of(
            [
                st.fixed_dictionaries({child.name: element_values(child)})
                for child in complex_type.children
            ]
        )
    children = st.fixed_dictionaries(
        {child.name: element_values(child) for child in complex_type.children if child.required},
        optional={
            child.name: element_values(child)
            for child in complex_type.children
            if not child.required
        },
    )
    return st.tuples(children, attribute_values(complex_type.attrs)).map(
        lambda pair: {**pair[0], **pair[1]}
    )


def validated(complex_type: Complex, document: dict[str, Any]) -> dict[str, Any]:
    serializer = serializer_for(complex_type)(data=document)
    assert serializer.is_valid(), serializer.errors
    return dict(serializer.data)


@pytest.mark.parametrize(
    ("root", "complex_type"), [("report", schema.REPORT), ("fileDetails", schema.FILE_DETAILS)]
)
def test_any_valid_document_survives_json_to_xml_and_back(root: str, complex_type: Complex) -> None:
    @PROPERTY_SETTINGS
    @given(documents(complex_type))
    def round_trip(document: dict[str, Any]) -> None:
        first = validated(complex_type, document)

        xml = xml_bytes(document_to_xml(root, first, complex_type))
        again = validated(complex_type, document_from_xml(parse_xml(xml), complex_type))

        assert again == first

    round_trip()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_parse_or_are_refused_as_malformed(body: bytes) -> None:
    with contextlib.suppress(MalformedXml):
        parse_xml(body)


NAMES = sorted(
    {element.name for element in schema.INCIDENT_SUMMARY.children}
    | {"report", "incidentSummary", "reporter", "x"}
)


@st.composite
def xml_trees(draw: st.DrawFn, depth: int = 0) -> XmlElement:
    node = XmlElement(
        draw(st.sampled_from(NAMES)),
        draw(st.dictionaries(st.sampled_from(["verified", "type", "z"]), TEXT, max_size=2)),
    )
    node.text = draw(st.one_of(st.none(), TEXT))
    if depth < 3:
        for child in draw(st.lists(xml_trees(depth + 1), max_size=3)):
            node.append(child)
    return node


@settings(max_examples=200, deadline=None)
@given(xml_trees())
def test_any_xml_tree_is_read_and_checked_or_refused_with_a_named_element(tree: XmlElement) -> None:
    root = XmlElement("report")
    root.append(tree)
    try:
        document = document_from_xml(parse_xml(tostring(root)), schema.REPORT)
    except DocumentError as error:
        refused_at = error.path
    else:
        serializer_for(schema.REPORT)(data=document).is_valid()
        return
    assert refused_at.startswith("report/")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(TEXT | st.sampled_from(NAMES), children, max_size=3)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([*NAMES, "personOrUserReported", "internetDetails"]), JSON, max_size=4
    )
)
def test_any_json_is_accepted_or_refused_without_an_unexpected_error(
    document: dict[str, Any],
) -> None:
    serializer = serializer_for(schema.REPORT)(data=document)
    if not serializer.is_valid():
        assert serializer.errors


# Hostile input: every reader and validator either accepts or refuses with its own error --

ANY_TEXT = st.text(max_size=20) | st.sampled_from(["\x00", "a\x01b", "\ufffe", "../x", "NaN"])
ANY_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**20, max_value=10**40)
    | st.floats()
    | ANY_TEXT,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(ANY_TEXT | st.sampled_from(NAMES), children, max_size=4)
    ),
    max_leaves=25,
)
HOSTILE_SETTINGS = settings(
    max_examples=75,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def leaf_paths(document: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every value, container or not, in ``document``."""
    paths = [path] if path else []
    if isinstance(document, dict | list):
        children = document.items() if isinstance(document, dict) else enumerate(document)
        for key, value in children:
            paths += leaf_paths(value, (*path, key))
    return paths


def replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A copy of ``document`` with ``value`` at ``path``."""
    copy = json.loads(json.dumps(document))
    node = copy
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return copy


def with_one_value_anywhere(document: dict[str, Any]) -> st.SearchStrategy[Any]:
    """``document`` with any value at any one of its places."""
    return st.tuples(st.sampled_from(leaf_paths(document)), ANY_JSON).map(
        lambda pair: replaced(document, *pair)
    )


JSON_BODIES = (
    st.binary(max_size=300)
    | ANY_JSON.map(lambda value: json.dumps(value).encode())
    | with_one_value_anywhere(EXAMPLE_REPORT).map(lambda value: json.dumps(value).encode())
    | st.integers(1, 2000).map(lambda depth: ("[" * depth + "]" * depth).encode())
)


@HOSTILE_SETTINGS
@given(JSON_BODIES)
def test_any_body_is_json_or_refused_as_json_this_api_cannot_take(body: bytes) -> None:
    with contextlib.suppress(JsonRefused):
        json_document(body)
    with contextlib.suppress(JsonRefused):
        LimitedJSONParser().parse(io.BytesIO(body))


DOCUMENT_SERIALIZERS = [
    ReportSerializer,
    BulkReportSerializer,
    FileMetadataSerializer,
    FileDetailsSerializer,
]


@pytest.mark.parametrize("serializer_class", DOCUMENT_SERIALIZERS, ids=lambda cls: cls.__name__)
def test_any_json_value_is_a_document_or_refused_with_a_validation_error(
    serializer_class: type[serializers.Serializer],
) -> None:
    example = (
        EXAMPLE_FILE
        if serializer_class in {FileMetadataSerializer, FileDetailsSerializer}
        else EXAMPLE_REPORT
    )

    @HOSTILE_SETTINGS
    @given(ANY_JSON | with_one_value_anywhere(example))
    def accepted_or_refused(value: Any) -> None:
        try:
            document = validated_document(serializer_class, value)
        except serializers.ValidationError as error:
            refusal = error.detail
        else:
            json.dumps(document, allow_nan=False)  # what is accepted can be stored
            return
        assert refusal

    accepted_or_refused()


def xml_of(tag: str, value: Any) -> XmlElement:
    """Any JSON value as XML: keys as elements, lists as repeated elements, the rest as
    text (written as it is, characters XML forbids included)."""
    node = XmlElement(tag if tag.isidentifier() else "x")
    if isinstance(value, dict):
        for key, item in value.items():
            for one in item if isinstance(item, list) else [item]:
                node.append(xml_of(str(key), one))
    elif value is not None:
        node.text = str(value)
    return node


@pytest.mark.parametrize(
    ("root", "complex_type", "serializer_class", "example"),
    [
        ("report", schema.REPORT, ReportSerializer, EXAMPLE_REPORT),
        (
            "fileDetails",
            schema.FILE_DETAILS,
            FileDetailsSerializer,
            {"reportId": 1, "fileId": "a" * 32, **EXAMPLE_FILE},
        ),
    ],
    ids=["report", "fileDetails"],
)
def test_any_json_value_as_xml_is_read_or_refused_by_the_xml_readers(
    root: str,
    complex_type: Complex,
    serializer_class: type[serializers.Serializer],
    example: dict[str, Any],
) -> None:
    @HOSTILE_SETTINGS
    @given(ANY_JSON | with_one_value_anywhere(example))
    def read_or_refused(value: Any) -> None:
        try:
            node = parse_xml(
                tostring(xml_of(root, value if isinstance(value, dict) else {"x": value}))
            )
            document = document_from_xml(node, complex_type)
            validated_document(serializer_class, document)
        except (MalformedXml, DocumentError, serializers.ValidationError):
            pass

    read_or_refused()


FORM_FIELDS = sorted(PublicReportForm.base_fields)


@pytest.mark.django_db
def test_any_public_form_data_is_a_report_document_or_a_form_with_errors(
    reference_data: None,
) -> None:
    @HOSTILE_SETTINGS
    @given(st.dictionaries(st.sampled_from(FORM_FIELDS), ANY_TEXT | ANY_JSON.map(str), max_size=12))
    def valid_or_not(data: dict[str, str]) -> None:
        form = PublicReportForm(data)
        if form.is_valid():
            json.dumps(form.report_document(), allow_nan=False)
        else:
            assert form.errors

    valid_or_not()


# ... and through HTTP, no body is a server error.


@pytest.mark.django_db
def test_no_body_is_a_server_error_at_any_interface(
    client: Client, provider: ProviderCredentials
) -> None:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {provider.token}")
    ispws = Ispws(client, provider.username, provider.password)
    report_id = api.post("/api/v1/reports", EXAMPLE_REPORT, format="json").json()["reportId"]
    answers: list[int] = []

    @HOSTILE_SETTINGS
    @given(
        st.sampled_from(
            ["open", "files", "bulk", "submit", "fileinfo", "upload", "finish", "form"]
        ),
        JSON_BODIES | st.binary(max_size=300),
    )
    def answered(interface: str, body: bytes) -> None:
        response: Any
        if interface in {"open", "files", "bulk"}:
            path = {"open": "", "files": f"/{report_id}/files", "bulk": "/bulk"}[interface]
            response = api.post(f"/api/v1/reports{path}", body, content_type="application/json")
        elif interface in {"submit", "fileinfo"}:
            response = ispws.post_xml(interface, body)
        elif interface in {"upload", "finish"}:
            content_type = {
                "upload": "multipart/form-data; boundary=hostile",
                "finish": "application/x-www-form-urlencoded",
            }[interface]
            response = ispws.client.post(
                f"/ispws/{interface}", body, content_type=content_type, headers=ispws.headers
            )
        else:
            response = client.post(
                "/report/", body, content_type="application/x-www-form-urlencoded"
            )
        answers.append(response.status_code)
        assert response.status_code < 500, (interface, body[:200], response.content[:500])

    answered()
    assert any(400 <= status < 500 for status in answers)


@pytest.mark.django_db
def test_no_form_is_a_server_error_on_the_public_pages(
    client: Client, reference_data: None
) -> None:
    @HOSTILE_SETTINGS
    @given(
        st.sampled_from(["/report/", "/report/status/"]),
        st.dictionaries(
            st.sampled_from([*FORM_FIELDS, "report_number", "receipt_code", "text"]),
            ANY_TEXT,
            max_size=10,
        ),
    )
    def answered(path: str, data: dict[str, str]) -> None:
        body = urllib.parse.urlencode(data, encoding="utf-8", errors="surrogatepass")
        response = client.post(path, body, content_type="application/x-www-form-urlencoded")
        assert response.status_code < 500, (path, data, response.content[:500])

    answered()
