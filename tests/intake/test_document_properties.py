"""Properties of the XML and JSON readers, over documents hypothesis makes up."""

import contextlib
import datetime as dt
from typing import Any
from xml.etree.ElementTree import Element as XmlElement
from xml.etree.ElementTree import tostring

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake import schema
from intake.documents import DocumentError, document_from_xml, document_to_xml, serializer_for
from intake.schema import Attr, Complex, Element, Simple
from intake.xml import MalformedXml, parse_xml, xml_bytes

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
