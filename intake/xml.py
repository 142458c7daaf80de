"""Safe XML in, CyberTipline-style XML out. DTDs, entities and external references are
refused before anything is expanded."""

from xml.etree.ElementTree import Element, ParseError, SubElement, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring


class MalformedXml(ValueError):
    """The body is not well-formed XML, or uses a DTD or entities."""


def parse_xml(body: bytes) -> Element:
    if not body.strip():
        raise MalformedXml("The request body is empty; an XML document was expected.")
    try:
        return fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise MalformedXml(f"DTDs and entities are not accepted: {type(error).__name__}.") from None
    except ParseError as error:
        raise MalformedXml(f"The XML is not well formed: {error}.") from None
    except (UnicodeDecodeError, ValueError) as error:
        raise MalformedXml(f"The XML cannot be decoded: {error}.") from None


def xml_bytes(root: Element) -> bytes:
    return tostring(root, encoding="utf-8", xml_declaration=True)


def element(tag: str, children: dict[str, object] | None = None) -> Element:
    """``<tag>`` with one text child per key of ``children`` (None values left out)."""
    root = Element(tag)
    for name, value in (children or {}).items():
        if value is None:
            continue
        if isinstance(value, Element):
            root.append(value)
            continue
        SubElement(root, name).text = str(value).lower() if isinstance(value, bool) else str(value)
    return root
