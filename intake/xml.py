"""Safe XML in, CyberTipline-style XML out. DTDs, entities and external references are
refused before anything is expanded."""

import re
from xml.etree.ElementTree import Element, ParseError, SubElement, TreeBuilder, tostring
from xml.parsers.expat import errors as expat_errors

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from intake.validators import forbidden_character


class MalformedXml(ValueError):
    """The body is not well-formed XML, or uses a DTD or entities."""


class OpenElements(TreeBuilder):
    """Builds the tree and knows which elements are open, to say where XML breaks."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []

    def start(self, tag: str, attrs: dict[str, str]) -> Element:
        self.open.append(tag)
        return super().start(tag, attrs)

    def end(self, tag: str) -> Element:
        self.open.pop()
        return super().end(tag)


INVALID_TOKEN = expat_errors.codes[expat_errors.XML_ERROR_INVALID_TOKEN]


def broken_character(body: bytes, error: ParseError) -> str:
    """The character XML 1.0 does not allow where parsing stopped, if that is why."""
    if error.code != INVALID_TOKEN:
        return ""
    line, column = error.position
    lines = re.split("\r\n?|\n", body.decode("utf-8", "replace"))  # as expat counts them
    text = lines[line - 1][column : column + 1] if 0 < line <= len(lines) else ""
    character = forbidden_character(text)
    return f" (the character {character} is not allowed in XML)" if character else ""


def parse_xml(body: bytes) -> Element:
    if not body.strip():
        raise MalformedXml("The request body is empty; an XML document was expected.")
    builder = OpenElements()
    parser = DefusedXMLParser(
        target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    try:
        parser.feed(body)
        return parser.close()
    except DefusedXmlException as error:
        raise MalformedXml(f"DTDs and entities are not accepted: {error}.") from None
    except ParseError as error:
        where = f" in <{'/'.join(builder.open)}>" if builder.open else ""
        raise MalformedXml(
            f"The XML is not well formed{where}: {error}{broken_character(body, error)}."
        ) from None
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
