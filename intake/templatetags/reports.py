"""Template filters for showing a report."""

from typing import Any

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext

register = template.Library()


@register.filter(name="as_nested_lists")
def document_as_html(value: Any) -> SafeString:
    """A report document as nested lists, each element under its CyberTipline name, in
    the order it came (every value escaped)."""
    if isinstance(value, dict):
        return format_html(
            '<dl class="document">{}</dl>',
            format_html_join(
                "", "<dt>{}</dt><dd>{}</dd>", ((k, document_as_html(v)) for k, v in value.items())
            ),
        )
    if isinstance(value, list):
        return format_html(
            '<ol class="document">{}</ol>',
            format_html_join("", "<li>{}</li>", ((document_as_html(item),) for item in value)),
        )
    return format_html(
        "{}", gettext("yes") if value is True else gettext("no") if value is False else value
    )
