"""CyberTipline documents made from the schema in intake/schema.py: DRF serializers that
validate them, a reader that turns XML into the same JSON shape, a writer back to XML in
schema order, and the XSD the XML interface validates against."""

import re
import threading
from functools import cache
from typing import Any
from xml.etree.ElementTree import Element as XmlElement
from xml.etree.ElementTree import SubElement

from django.core.validators import RegexValidator
from django.utils import timezone
from rest_framework import serializers

from intake import schema
from intake.schema import Attr, Complex, Element, Simple
from intake.validators import (
    validate_file_name,
    validate_no_media,
    validate_not_in_future,
    validate_report_size,
    validate_xml_characters,
)
from intake.xml import xml_bytes

MAX_REPEATS = 1000  # a repeatable element occurs at most this many times
# The ranges of xs:int and xs:long, for integers the schema bounds on one side only.
INTEGER_RANGES = {schema.INT: (-(2**31), 2**31 - 1), schema.LONG: (-(2**63), 2**63 - 1)}
XSI = "{http://www.w3.org/2001/XMLSchema-instance}"


class DocumentError(ValueError):
    """XML that does not fit the schema's shape: an unknown, misplaced or repeated element."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


# Serializers ---------------------------------------------------------------------------


def as_list(data: Any) -> Any:
    """A repeatable element given once, without a list, is a list of one."""
    return [data] if isinstance(data, dict | str | int | float | bool) else data


class OneOrManyListSerializer(serializers.ListSerializer):
    """A repeatable element: a list, or a single value read as a list of one."""

    def to_internal_value(self, data: Any) -> Any:
        return super().to_internal_value(as_list(data))


class OneOrManyListField(serializers.ListField):
    def to_internal_value(self, data: Any) -> Any:
        return super().to_internal_value(as_list(data))


class StrictSerializer(serializers.Serializer):
    """Refuses keys the schema does not know, so nothing is silently dropped."""

    class Meta:
        list_serializer_class = OneOrManyListSerializer

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {key: ["This element is not part of the schema."] for key in unknown},
                    code="unknown_element",
                )
        return super().to_internal_value(data)


class ExactlyOneChildSerializer(StrictSerializer):
    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if len(attrs) != 1:
            names = ", ".join(self.fields)
            raise serializers.ValidationError(f"Exactly one of {names} is required.", code="choice")
        return attrs


class ValueWithAttributesSerializer(StrictSerializer):
    """An element with text and attributes: ``{"value": ..., "attribute": ...}``. A bare
    value is accepted as shorthand for ``{"value": ...}``."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict) and "value" in self.fields:
            data = {"value": data}
        return super().to_internal_value(data)


class AwareDateTimeField(serializers.DateTimeField):
    """ISO 8601 with a time zone (``Z`` or ``+hh:mm``), as the CyberTipline requires."""

    default_error_messages = {"naive": "Give the time zone: end with Z or +hh:mm."}

    def to_internal_value(self, value: Any) -> Any:
        parsed = super().to_internal_value(value)
        if isinstance(value, str) and not re.search(r"(Z|[+-]\d\d:?\d\d)$", value.strip()):
            self.fail("naive")
        return parsed


class TrueFlagField(serializers.BooleanField):
    default_error_messages = {"not_true": "Leave this element out rather than set it false."}

    def to_internal_value(self, data: Any) -> bool:
        if not super().to_internal_value(data):
            self.fail("not_true")
        return True


def validate_date_not_in_future(value: Any) -> None:
    if value > timezone.localdate():
        raise serializers.ValidationError("This date cannot be in the future.", code="future")


def leaf_field(simple: Simple, *, required: bool) -> serializers.Field:
    options: dict[str, Any] = {"required": required}
    validators: list[Any] = []
    if simple.pattern:
        validators.append(RegexValidator(simple.pattern))
    kind = simple.kind
    if kind in {schema.STRING, schema.TOKEN}:
        validators += [validate_xml_characters, validate_no_media]
        return serializers.CharField(max_length=simple.max_length, validators=validators, **options)
    if kind == schema.BOOLEAN:
        return serializers.BooleanField(**options)
    if kind == schema.FLAG:
        return TrueFlagField(**options)
    if kind in {schema.INT, schema.LONG}:
        low, high = INTEGER_RANGES[kind]
        return serializers.IntegerField(
            min_value=low if simple.min_value is None else simple.min_value,
            max_value=high if simple.max_value is None else simple.max_value,
            **options,
        )
    if kind == schema.DOUBLE:
        return serializers.FloatField(
            min_value=simple.min_value, max_value=simple.max_value, **options
        )
    if kind == schema.DATETIME:
        if simple.past:
            validators.append(validate_not_in_future)
        return AwareDateTimeField(validators=validators, **options)
    if kind == schema.DATE:
        if simple.past:
            validators.append(validate_date_not_in_future)
        return serializers.DateField(validators=validators, **options)
    if kind == schema.IP:
        return serializers.IPAddressField(**options)
    if kind == schema.EMAIL:
        return serializers.EmailField(max_length=simple.max_length, **options)
    if kind == schema.URL:
        return serializers.URLField(max_length=simple.max_length, **options)
    if kind == schema.ENUM:
        return serializers.ChoiceField(choices=simple.choices, **options)
    raise ValueError(f"no field for kind {kind!r}")


def attribute_fields(attrs: tuple[Attr, ...]) -> dict[str, serializers.Field]:
    return {attr.name: leaf_field(attr.type, required=attr.required) for attr in attrs}


@cache
def simple_with_attributes_serializer(simple: Simple, class_name: str) -> type[StrictSerializer]:
    fields = attribute_fields(simple.attrs)
    if simple.kind != schema.EMPTY:
        fields = {
            "value": leaf_field(Simple(**{**simple.__dict__, "attrs": ()}), required=True),
            **fields,
        }
    return type(f"{class_name}Serializer", (ValueWithAttributesSerializer,), fields)


@cache
def serializer_for(complex_type: Complex) -> type[StrictSerializer]:
    """The serializer class for a complex type: one class per type, shared by every use."""
    fields: dict[str, Any] = {}
    for element in complex_type.children:
        fields[element.name] = element_field(element, parent=complex_type)
    fields.update(attribute_fields(complex_type.attrs))
    base = ExactlyOneChildSerializer if complex_type.choice else StrictSerializer
    return type(f"{complex_type.name}Serializer", (base,), fields)


def element_field(element: Element, *, parent: Complex) -> serializers.Field:
    required = element.required and not element.many
    type_ = element.type
    if isinstance(type_, Complex):
        nested = serializer_for(type_)
        if element.many:
            return nested(many=True, required=element.required, max_length=MAX_REPEATS)  # type: ignore[call-arg]
        return nested(required=required)
    if type_.attrs or type_.kind == schema.EMPTY:
        name = type_.name or f"{parent.name}{element.name[0].upper()}{element.name[1:]}"
        nested = simple_with_attributes_serializer(type_, name)
        if element.many:
            return nested(many=True, required=element.required, max_length=MAX_REPEATS)  # type: ignore[call-arg]
        return nested(required=required)
    if element.many:
        return OneOrManyListField(
            child=leaf_field(type_, required=True),
            required=element.required,
            max_length=MAX_REPEATS,
        )
    return leaf_field(type_, required=required)


# XML -> JSON shape -----------------------------------------------------------------------


def document_from_xml(node: XmlElement, complex_type: Complex, path: str = "") -> dict[str, Any]:
    """Read an element of ``complex_type`` into the JSON shape, checking that each child
    is known, in schema order, and repeated only where the schema allows. Values stay
    text; the serializer checks and converts them."""
    path = path or node.tag
    document: dict[str, Any] = attributes_from_xml(node, complex_type.attrs, path)
    if node.text and node.text.strip():
        raise DocumentError(path, "text is not allowed here, only elements")
    position = -1
    for child in node:
        child_path = f"{path}/{child.tag}"
        element = complex_type.child(str(child.tag))
        if element is None:
            raise DocumentError(child_path, "this element is not part of the schema")
        index = complex_type.children.index(element)
        if index < position:
            raise DocumentError(child_path, "this element is out of schema order")
        if index == position and not element.many:
            raise DocumentError(child_path, "this element may appear only once")
        position = index
        value = value_from_xml(child, element.type, child_path)
        if element.many:
            document.setdefault(element.name, []).append(value)
        else:
            document[element.name] = value
        if child.tail and child.tail.strip():
            raise DocumentError(path, "text is not allowed here, only elements")
    return document


def attributes_from_xml(node: XmlElement, attrs: tuple[Attr, ...], path: str) -> dict[str, Any]:
    known = {attr.name for attr in attrs}
    values = {}
    for name, value in node.attrib.items():
        if name.startswith(XSI):
            continue  # xsi:noNamespaceSchemaLocation and friends
        if name not in known:
            raise DocumentError(f"{path}/@{name}", "this attribute is not part of the schema")
        values[name] = value
    return values


def value_from_xml(node: XmlElement, type_: Simple | Complex, path: str) -> Any:
    if isinstance(type_, Complex):
        return document_from_xml(node, type_, path)
    if len(node):
        raise DocumentError(f"{path}/{node[0].tag}", "this element has no child elements")
    text = node.text or ""
    if type_.kind == schema.FLAG and not text.strip():
        text = "true"  # <sextortion/> means true
    if type_.kind not in {schema.STRING}:
        text = text.strip()
    if not type_.attrs and type_.kind != schema.EMPTY:
        return text
    value = attributes_from_xml(node, type_.attrs, path)
    if type_.kind != schema.EMPTY:
        value["value"] = text
    return value


# JSON shape -> XML -----------------------------------------------------------------------


def xml_text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def document_to_xml(
    name: str, document: dict[str, Any], complex_type: Complex, parent: XmlElement | None = None
) -> XmlElement:
    """The element ``name`` for a validated document, children in schema order."""
    attrib = {a.name: xml_text(document[a.name]) for a in complex_type.attrs if a.name in document}
    node = XmlElement(name, attrib) if parent is None else SubElement(parent, name, attrib)
    for element in complex_type.children:
        if element.name not in document:
            continue
        values = document[element.name] if element.many else [document[element.name]]
        for value in values:
            if isinstance(element.type, Complex):
                document_to_xml(element.name, value, element.type, node)
            elif isinstance(value, dict):
                child = SubElement(
                    node,
                    element.name,
                    {
                        a.name: xml_text(value[a.name])
                        for a in element.type.attrs
                        if a.name in value
                    },
                )
                if "value" in value:
                    child.text = xml_text(value["value"])
            else:
                SubElement(node, element.name).text = xml_text(value)
    return node


# The XSD -------------------------------------------------------------------------------

XS = "http://www.w3.org/2001/XMLSchema"
XS_TYPES = {
    schema.STRING: "xs:string",
    schema.TOKEN: "xs:token",
    schema.BOOLEAN: "xs:boolean",
    schema.FLAG: "xs:boolean",
    schema.INT: "xs:int",
    schema.LONG: "xs:long",
    schema.DOUBLE: "xs:double",
    schema.DATETIME: "xs:dateTime",
    schema.DATE: "xs:date",
    schema.IP: "xs:string",
    schema.EMAIL: "xs:string",
    schema.URL: "xs:anyURI",
    schema.ENUM: "xs:string",
}


def xs(parent: XmlElement, tag: str, **attrib: str) -> XmlElement:
    return SubElement(parent, f"xs:{tag}", attrib)


def xsd_simple_type(parent: XmlElement, simple: Simple) -> None:
    """An inline restriction of the leaf's base type, when it has facets."""
    facets = [
        ("maxLength", simple.max_length),
        ("minInclusive", simple.min_value),
        ("maxInclusive", simple.max_value),
        ("pattern", simple.pattern.strip("^$") if simple.pattern else None),
    ]
    restriction = xs(xs(parent, "simpleType"), "restriction", base=XS_TYPES[simple.kind])
    for choice in simple.choices:
        xs(restriction, "enumeration", value=choice)
    for facet, value in facets:
        if value is not None:
            xs(restriction, facet, value=str(value))


def has_facets(simple: Simple) -> bool:
    return bool(simple.choices or simple.max_length or simple.pattern) or (
        simple.min_value is not None or simple.max_value is not None
    )


def xsd_leaf(node: XmlElement, simple: Simple) -> None:
    """Give ``node`` (an xs:element or xs:attribute) the type of ``simple`` without attributes."""
    if simple.kind == schema.FLAG:
        node.set("type", "xs:boolean")
        node.set("fixed", "true")
    elif has_facets(simple):
        xsd_simple_type(node, simple)
    else:
        node.set("type", XS_TYPES[simple.kind])


def xsd_attributes(parent: XmlElement, attrs: tuple[Attr, ...]) -> None:
    for attr in attrs:
        node = xs(
            parent, "attribute", name=attr.name, use="required" if attr.required else "optional"
        )
        xsd_leaf(node, attr.type)


def xsd_element(parent: XmlElement, element: Element, emitted: set[str], root: XmlElement) -> None:
    node = xs(parent, "element", name=element.name)
    if not element.required:
        node.set("minOccurs", "0")
    if element.many:
        node.set("maxOccurs", "unbounded")
        if element.required:
            node.set("minOccurs", "1")
    type_ = element.type
    if isinstance(type_, Complex):
        node.set("type", type_.name)
        xsd_complex_type(type_, emitted, root)
    elif type_.attrs or type_.kind == schema.EMPTY:
        complex_type = xs(node, "complexType")
        if type_.kind == schema.EMPTY:
            xsd_attributes(complex_type, type_.attrs)
        else:
            extension = xs(
                xs(complex_type, "simpleContent"), "extension", base=XS_TYPES[type_.kind]
            )
            xsd_attributes(extension, type_.attrs)
    else:
        xsd_leaf(node, type_)


def xsd_complex_type(complex_type: Complex, emitted: set[str], root: XmlElement) -> None:
    if complex_type.name in emitted:
        return
    emitted.add(complex_type.name)
    node = xs(root, "complexType", name=complex_type.name)
    group = xs(node, "choice" if complex_type.choice else "sequence")
    for element in complex_type.children:
        xsd_element(group, element, emitted, root)
    xsd_attributes(node, complex_type.attrs)


@cache
def report_xsd() -> bytes:
    """The XSD of <report> and <fileDetails> that /ispws validates against."""
    root = XmlElement("xs:schema", {"xmlns:xs": XS, "elementFormDefault": "qualified"})
    emitted: set[str] = set()
    for name, complex_type in (("report", schema.REPORT), ("fileDetails", schema.FILE_DETAILS)):
        xs(root, "element", name=name, type=complex_type.name)
        xsd_complex_type(complex_type, emitted, root)
    return xml_bytes(root)


# The serializers the interfaces use ------------------------------------------------------

HASH_LENGTHS = {"MD5": 32, "SHA1": 40, "SHA256": 64, "PDQ": 64}


class FileHashesMixin(serializers.Serializer):
    def validate_originalFileHash(self, hashes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for index, entry in enumerate(hashes):
            hash_type = str(entry["hashType"]).upper()
            length = HASH_LENGTHS.get(hash_type)
            value = str(entry["value"])
            if length and not re.fullmatch(rf"[0-9a-fA-F]{{{length}}}", value):
                raise serializers.ValidationError(
                    {str(index): [f"A {hash_type} hash is {length} hexadecimal characters."]},
                    code="invalid_hash",
                )
        return hashes

    def validate_fileName(self, name: str) -> str:
        validate_file_name(name)
        return name

    def validate_originalFileName(self, name: str) -> str:
        validate_file_name(name)
        return name


class ReportSerializer(serializer_for(schema.REPORT)):  # type: ignore[misc]
    """A provider's <report>."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        validate_report_size(attrs)
        return attrs

    def validate_reporter(self, reporter: dict[str, Any]) -> dict[str, Any]:
        if not reporter["reportingPerson"].get("email"):
            raise serializers.ValidationError(
                {"reportingPerson": {"email": ["The reporting person's email is required."]}},
                code="required",
            )
        return reporter


class FileDetailsSerializer(FileHashesMixin, serializer_for(schema.FILE_DETAILS)):  # type: ignore[misc]
    """A <fileDetails> document for a file uploaded through /ispws/upload."""


class FileMetadataSerializer(FileHashesMixin, serializer_for(schema.FILE_METADATA)):  # type: ignore[misc]
    """A file described by its hashes, for the JSON API: at least one MD5, SHA1 or SHA256."""

    def validate_originalFileHash(self, hashes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        hashes = super().validate_originalFileHash(hashes)
        if not any(str(entry["hashType"]).upper() in {"MD5", "SHA1", "SHA256"} for entry in hashes):
            raise serializers.ValidationError(
                "Give at least one MD5, SHA1 or SHA256 hash of the file.", code="required"
            )
        return hashes

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "originalFileHash" not in attrs:
            raise serializers.ValidationError(
                {"originalFileHash": ["Give at least one MD5, SHA1 or SHA256 hash of the file."]},
                code="required",
            )
        return attrs


class BulkReportSerializer(ReportSerializer):
    """One item of a bulk submission: a report and the files it carries."""

    files = FileMetadataSerializer(many=True, required=False, max_length=MAX_REPEATS)  # type: ignore[call-arg]


_serializers = threading.local()


def validated_document(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    """``data`` checked against the schema and returned in its canonical JSON form, or
    ``serializers.ValidationError`` naming each bad field.

    Each thread keeps one instance of each document serializer: building the schema's
    nested fields anew for every document costs more than validating it, and validation
    keeps no state on the instance."""
    cached = _serializers.__dict__.setdefault("instances", {})
    serializer = cached.get(serializer_class)
    if serializer is None:
        serializer = cached[serializer_class] = serializer_class()
    return serializer.to_representation(serializer.run_validation(data))
