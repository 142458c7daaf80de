"""Where a report resolves. The rules, in order:

1. IP evidence: each captured address that is globally routable is looked up offline
   (iptocc, built from the regional internet registries' delegation files). The country
   seen most often wins; a tie goes to the country seen first.
2. Otherwise the country the report states (the reporter's or provider's word).
3. Otherwise unknown (""), which routes to the analyst review queue.
"""

import ipaddress
from collections import Counter
from collections.abc import Iterable

from iptocc import country_code

from intake.models import Report


def country_for_ip(ip_address: str) -> str:
    """The country an address is allocated to, or "" for private, reserved, loopback,
    documentation and unallocated addresses."""
    try:
        address = ipaddress.ip_address(ip_address)
    except ValueError:
        return ""
    if not address.is_global:
        return ""
    return country_code(str(address)) or ""


def country_from_ips(ip_addresses: Iterable[str]) -> str:
    counts = Counter(code for code in map(country_for_ip, ip_addresses) if code)
    if not counts:
        return ""
    # Counter keeps first-seen order, and most_common is stable, so ties go to the first seen.
    return counts.most_common(1)[0][0]


def country_for_report(report: Report) -> str:
    ips = [event.ip_address for event in report.ip_capture_events.all()]
    return country_from_ips(ips) or report.stated_country
