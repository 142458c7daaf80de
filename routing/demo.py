"""Demo data: a year of synthetic reports shaped like the CyberTipline's, so that a new
installation has a living system to look at (queues, bundles, figures).

Every report goes through the real services at its simulated time of receipt (time-machine
moves the clock): provider reports through ``reports_submit_bulk`` as the JSON API sends
them, public reports through the public form's own mapping and ``report_submit_public``.
The routing task then runs in this process, as it does when no broker is configured, so
categorization, bundling, priority and routing are exactly production's. Afterwards the
agencies that received referrals act on them at realistic later times through the agency
services: acknowledgements, referrals on with a reason, case statuses.

Everything is made up: hashes are random numbers, addresses are public allocations chosen
only for the country their registry gave them to, web and email addresses are under
example.com and screen names are invented. The same seed, year and count on an empty
database give the same reports.
"""

import datetime as dt
import ipaddress
import logging
import math
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import cache
from heapq import heappop, heappush
from itertools import accumulate
from typing import Any

import time_machine
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django.utils.text import slugify
from iptocc import country_code

from config.errors import ApplicationError
from intake.documents import BulkReportSerializer, validated_document
from intake.forms import PublicReportForm
from intake.hashes import known_hashes_import
from intake.models import Bundle, IncidentType, Provider, Report, ReportedFile
from intake.services import report_submit_public, reports_submit_bulk
from routing.countries import ISO_COUNTRY_CODES, US_STATE_NAMES
from routing.demo_shape import (
    EU_27,
    EU_WEIGHTS,
    OTHER_WEIGHTS,
    PUBLIC_SHARE,
    TAIL_WEIGHT,
    US_STATE_WEIGHTS,
    US_TERRITORIES,
    US_WEIGHT,
)
from routing.models import Agency, CaseStatus, Channel, Country, FiguresRefresh, Referral
from routing.selectors import agency_for_place
from routing.services import (
    referral_acknowledge,
    referral_case_status_set,
    referral_refer_on,
)
from routing.tasks import route_report

DEMO_LABEL = "demo"
DEMO_SOURCE = "generate_demo_data"
DEMO_NOTE = "Synthetic demo report (generate_demo_data): no real person, account or content."

# Synthetic providers with skewed volumes, as in the CyberTipline (one provider sends most).
PROVIDERS: tuple[tuple[str, float, str], ...] = (  # name, share of provider reports, domain
    ("Example Social", 0.72, "social.example.com"),
    ("Example Photos", 0.10, "photos.example.com"),
    ("Example Chat", 0.08, "chat.example.com"),
    ("Example Video", 0.05, "video.example.com"),
    ("Example Cloud", 0.03, "cloud.example.com"),
    ("Example Mail", 0.02, "mail.example.com"),
)
# Providers' reports by incident type, per ten thousand: ~99% apparent child pornography.
INCIDENT_WEIGHTS = {
    IncidentType.CHILD_PORNOGRAPHY: 9900,
    IncidentType.ONLINE_ENTICEMENT: 45,
    IncidentType.UNSOLICITED_OBSCENE_MATERIAL: 15,
    IncidentType.CHILD_SEX_TRAFFICKING: 12,
    IncidentType.CHILD_SEXUAL_MOLESTATION: 10,
    IncidentType.MISLEADING_WORDS_OR_IMAGES: 9,
    IncidentType.MISLEADING_DOMAIN_NAME: 5,
    IncidentType.CHILD_SEX_TOURISM: 4,
}
# The public form's "what happened" answers (intake/forms.py), as members of the public pick them.
PUBLIC_ANSWERS = {
    "images": 45,
    "enticement": 25,
    "offline_abuse": 10,
    "unwanted_material": 7,
    "offered_for_sex": 6,
    "misleading_words": 3,
    "misleading_domain": 2,
    "travel": 2,
}
PUBLIC_DANGER_SHARE = 0.1
ESCALATION_SHARE = 0.006  # providers asking for high priority (at least one a run)
ESCALATIONS = (
    "The uploader appears to be abusing a child in their care: the content is new.",
    "The account appears to be live-streaming abuse of a child.",
    "The user told a child they will meet this week.",
)

# Files: about 2.9 a report (many with one, some with many), 47% images and 53% videos; of
# the images about 42% are seen for the first time, of the videos about 11%.
FILE_COUNTS = (  # (fewest, most, share) for apparent child pornography reports
    (1, 1, 0.55),
    (2, 2, 0.15),
    (3, 3, 0.08),
    (4, 5, 0.085),
    (6, 10, 0.085),
    (11, 25, 0.032),
    (26, 60, 0.006),
)
VIDEO_SHARE = 0.53
FIRST_SEEN_SHARE: dict[str, float] = {
    ReportedFile.MediaType.IMAGE: 0.42,
    ReportedFile.MediaType.VIDEO: 0.11,
}
KNOWN_ONLY_SHARE = 0.62  # reports whose every file is on the known-hash list
EXTENSIONS: dict[str, tuple[str, ...]] = {
    ReportedFile.MediaType.IMAGE: ("jpg", "jpg", "jpg", "png", "gif"),
    ReportedFile.MediaType.VIDEO: ("mp4", "mp4", "mp4", "mov", "webm"),
}
# Viral content: batches of reports of one item, in one country, on one day.
VIRAL_SHARE = 0.03
VIRAL_BATCH = (3, 9)

PROXY_SHARE = 0.01  # reports whose only addresses are flagged as possible proxies
ROAMING_SHARE = 0.03  # reports with one more address in another country
US_REGION_SHARE = 0.7  # U.S. reports whose provider estimates the state

# The agencies: hours from delivery to acknowledgement, drawn log-uniformly, by priority;
# the share never acknowledged; referrals on and case statuses.
ACKNOWLEDGE_HOURS = {"1": (0.05, 2.5), "2": (1.0, 120.0), "3": (4.0, 504.0), "I": (24.0, 1008.0)}
NEVER_ACKNOWLEDGED = {"1": 0.0, "2": 0.06, "3": 0.1, "I": 0.25}
REFER_ON_SHARE = 0.02
INVESTIGATED_SHARE = {"1": 0.7, "2": 0.35, "3": 0.2, "I": 0.05}
CLOSED_SHARE = 0.5
AGENCY_BATCH = 200
CLOSINGS = {
    CaseStatus.CLOSED_ACTION_TAKEN: 3,
    CaseStatus.CLOSED_INSUFFICIENT: 5,
    CaseStatus.CLOSED_NO_JURISDICTION: 2,
}

ADJECTIVES = (
    "amber", "brisk", "cobalt", "dusty", "ember", "foggy", "gentle", "hollow", "ivory", "jolly",
    "keen", "lunar", "mellow", "nimble", "olive", "quiet", "rusty", "silver", "tidy", "velvet",
)  # fmt: skip
NOUNS = (
    "badger", "comet", "delta", "falcon", "glider", "harbor", "island", "jigsaw", "kettle",
    "lantern", "meadow", "nebula", "orchid", "pebble", "quartz", "ripple", "saddle", "tundra",
)  # fmt: skip

ProgressCallback = Callable[[int, int], None]


# The result -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoSummary:
    """What was generated, counted from the database after routing."""

    reports: int
    from_providers: int
    public: int
    routed: int
    referred: int
    countries: int
    outside_us: int
    eu: int
    files: int
    images: int
    videos: int
    unique_images: int
    unique_videos: int
    known_only: int
    contains_new: int
    no_files: int
    bundles: int  # bundles of more than one report
    bundled_reports: int
    priority_1: int
    acknowledged: int
    referred_on: int
    case_statuses: int
    awaiting_delivery: int  # referrals to webhook agencies not delivered yet
    seconds: float

    def line(self) -> str:
        def share(part: int, whole: int) -> str:
            return f"{part / whole:.1%}" if whole else "-"

        waiting = f", {self.awaiting_delivery} awaiting webhook delivery" * bool(
            self.awaiting_delivery
        )
        return (
            f"{self.reports} reports created ({share(self.from_providers, self.reports)} from "
            f"providers, {self.public} public), {self.routed} routed, {self.referred} referred"
            f"{waiting}; {self.countries} countries, {share(self.outside_us, self.routed)} "
            f"outside the U.S., {share(self.eu, self.routed)} EU-27; {self.files} files, "
            f"{self.files / self.reports:.2f} a report, {share(self.images, self.files)} images "
            f"({share(self.unique_images, self.images)} unique), "
            f"{share(self.videos, self.files)} videos ({share(self.unique_videos, self.videos)} "
            f"unique); {self.known_only} known content only, {self.contains_new} with new "
            f"content, {self.no_files} without files; {self.bundles} bundles of several "
            f"reports ({self.bundled_reports} reports bundled); {self.priority_1} priority 1; "
            f"agencies: {self.acknowledged} acknowledged, {self.referred_on} referred on, "
            f"{self.case_statuses} case statuses; {self.seconds:.1f} s "
            f"({self.reports / max(self.seconds, 0.001):.0f} reports/s)."
        )


# Addresses and countries --------------------------------------------------------------


@cache
def addresses_by_country(per_country: int = 8) -> dict[str, tuple[str, ...]]:
    """Up to ``per_country`` public IPv4 /24 prefixes for each country (e.g. "1.6.0"), each
    wholly delegated to that country in iptocc's data (its .1 and .254 both resolve there),
    found by asking iptocc about the start of every /18. Cached for the process."""
    candidates = [
        f"{a}.{b}.{c}" for a in range(1, 224) for b in range(256) for c in (0, 64, 128, 192)
    ]
    firsts = country_code([f"{prefix}.1" for prefix in candidates])
    lasts = country_code([f"{prefix}.254" for prefix in candidates])
    found: dict[str, list[str]] = {}
    for prefix, first, last in zip(candidates, firsts, lasts, strict=True):
        if not first or first != last or first not in ISO_COUNTRY_CODES:
            continue
        kept = found.setdefault(first, [])
        if len(kept) < per_country and ipaddress.ip_address(f"{prefix}.1").is_global:
            kept.append(prefix)
    return {code: tuple(prefixes) for code, prefixes in found.items() if prefixes}


def country_weights(addresses: dict[str, tuple[str, ...]]) -> dict[str, float]:
    """Each country that has an address, with its weight (see US_WEIGHT and the tables)."""
    named = {"US": US_WEIGHT, **EU_WEIGHTS, **OTHER_WEIGHTS}
    tail = sorted(code for code in addresses if code not in named and code not in US_TERRITORIES)
    weights = {code: float(weight) for code, weight in named.items() if code in addresses}
    weights.update((code, TAIL_WEIGHT / len(tail)) for code in tail)
    return weights


# The plan -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ContentItem:
    """One image or video, by its hashes, wherever it is reported."""

    md5: str
    sha256: str
    media_type: str
    known: bool


@dataclass
class PlannedReport:
    at: dt.datetime  # when it is received
    provider: str  # "" for a member of the public
    document: dict[str, Any]  # the provider's report, or the public form's answers
    files: list[dict[str, Any]] = field(default_factory=list)


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def weighted(rng: random.Random, weights: Mapping[Any, float]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def log_uniform(rng: random.Random, low: float, high: float) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high)))


class DemoPlanner:
    """Draws the reports of a run, in the order they are received. Content circulates: a
    file is either seen for the first time (a new hash) or drawn again from the items
    seen so far, popular ones more often; items of the known-hash list and new items
    circulate apart, so a report can hold known content only."""

    def __init__(self, *, rng: random.Random, window: tuple[dt.datetime, dt.datetime]) -> None:
        self.rng = rng
        self.start, self.end = window
        self.addresses = addresses_by_country()
        self.countries = country_weights(self.addresses)
        self.country_codes = list(self.countries)
        self.country_cumulative = list(accumulate(self.countries.values()))
        self.seen: dict[tuple[str, bool], list[ContentItem]] = {}
        self.known: list[ContentItem] = []
        # Files drawn, and of them first seen, by media type.
        self.drawn: dict[str, int] = dict.fromkeys(FIRST_SEEN_SHARE, 0)
        self.first_seen: dict[str, int] = dict.fromkeys(FIRST_SEEN_SHARE, 0)

    # Random pieces

    def country(self, *, other_than: str = "") -> str:
        while True:
            code: str = self.rng.choices(self.country_codes, cum_weights=self.country_cumulative)[0]
            if code != other_than:
                return code

    def address(self, country: str) -> str:
        return f"{self.rng.choice(self.addresses[country])}.{self.rng.randint(2, 253)}"

    def screen_name(self) -> str:
        return f"{self.rng.choice(ADJECTIVES)}_{self.rng.choice(NOUNS)}{self.rng.randint(10, 9999)}"

    def token(self) -> str:
        return f"{self.rng.getrandbits(48):012x}"

    def us_state(self) -> str:
        weights = {state: float(US_STATE_WEIGHTS.get(state, 1)) for state in US_STATE_NAMES}
        state: str = weighted(self.rng, weights)
        return state

    # Content

    def fresh_item(self, media_type: str, *, known: bool) -> ContentItem:
        self.first_seen[media_type] += 1
        item = ContentItem(
            md5=f"{self.rng.getrandbits(128):032x}",
            sha256=f"{self.rng.getrandbits(256):064x}",
            media_type=media_type,
            known=known,
        )
        if known:
            self.known.append(item)
        # How often it will be drawn again: mostly rarely, a few items very often.
        popularity = min(int(self.rng.paretovariate(1.3)), 40)
        self.seen.setdefault((media_type, known), []).extend([item] * popularity)
        return item

    def item(self, media_type: str, *, known: bool, exclude: Sequence[ContentItem]) -> ContentItem:
        """A file's content: new with about FIRST_SEEN_SHARE's odds, else an item seen
        before. The odds lean against the running difference from the share, which items
        new perforce (nothing seen yet, or all of it already in the report) pushed up."""
        self.drawn[media_type] += 1
        share = FIRST_SEEN_SHARE[media_type]
        behind = share * self.drawn[media_type] - self.first_seen[media_type]
        pool = self.seen.get((media_type, known), [])
        if pool and self.rng.random() >= share + 0.25 * behind:
            for _ in range(3):
                item = self.rng.choice(pool)
                if item not in exclude:
                    return item
        return self.fresh_item(media_type, known=known)

    def again(self, item: ContentItem) -> ContentItem:
        """``item`` reported once more (viral content)."""
        self.drawn[item.media_type] += 1
        return item

    def content(self, count: int, *, known_only: bool) -> list[ContentItem]:
        """``count`` files: all known, or (``known_only`` false) the first new and each of
        the others new or known at even odds."""
        items: list[ContentItem] = []
        for index in range(count):
            media_type = (
                ReportedFile.MediaType.VIDEO
                if self.rng.random() < VIDEO_SHARE
                else ReportedFile.MediaType.IMAGE
            )
            known = known_only or (index > 0 and self.rng.random() < 0.5)
            items.append(self.item(media_type, known=known, exclude=items))
        return items

    def file_count(self) -> int:
        fewest, most, _ = self.rng.choices(FILE_COUNTS, weights=[row[2] for row in FILE_COUNTS])[0]
        return self.rng.randint(fewest, most)

    def file_details(
        self,
        item: ContentItem,
        *,
        uploaded: dt.datetime,
        annotations: Sequence[str] = (),
        address: str = "",
    ) -> dict[str, Any]:
        extension = self.rng.choice(EXTENSIONS[item.media_type])
        stem = "IMG" if item.media_type == ReportedFile.MediaType.IMAGE else "VID"
        details: dict[str, Any] = {
            "fileName": f"{stem}_{uploaded:%Y%m%d}_{self.rng.randrange(10**6):06d}.{extension}",
            "uploadedToEspTimestamp": iso(uploaded),
            "fileViewedByEsp": self.rng.random() < 0.8,
            "publiclyAvailable": self.rng.random() < 0.15,
            "originalFileHash": [
                {"value": item.md5, "hashType": "MD5"},
                {"value": item.sha256, "hashType": "SHA256"},
            ],
        }
        if annotations:
            details["fileAnnotations"] = dict.fromkeys(annotations, True)
        if self.rng.random() < 0.3:
            details["industryClassification"] = self.rng.choice(("A1", "A2", "B1", "B2"))
        if address:
            details["ipCaptureEvent"] = {
                "ipAddress": address,
                "eventName": "Upload",
                "dateTime": iso(uploaded),
            }
        return details

    # Reports

    def times(self, count: int) -> list[dt.datetime]:
        span = int((self.end - self.start).total_seconds())
        return sorted(
            self.start + dt.timedelta(seconds=self.rng.randrange(span)) for _ in range(count)
        )

    def provider_report(
        self,
        at: dt.datetime,
        *,
        provider: tuple[str, float, str] | None = None,
        country: str = "",
        viral: ContentItem | None = None,
        escalate: bool = False,
    ) -> PlannedReport:
        rng = self.rng
        name, _, domain = provider or weighted(rng, {row: row[1] for row in PROVIDERS})
        country = country or self.country()
        incident_type = (
            IncidentType.CHILD_PORNOGRAPHY if viral or escalate else weighted(rng, INCIDENT_WEIGHTS)
        )
        csam = incident_type == IncidentType.CHILD_PORNOGRAPHY
        enticement_like = incident_type in {
            IncidentType.ONLINE_ENTICEMENT,
            IncidentType.UNSOLICITED_OBSCENE_MATERIAL,
            IncidentType.CHILD_SEX_TRAFFICKING,
        }
        # Content is reported within hours of its upload, now and then weeks later;
        # enticement within days of the conversation.
        hours = min(rng.expovariate(1 / 18), 480) if csam else rng.uniform(2, 24 * 14)
        incident_at = (at - dt.timedelta(hours=hours)).replace(microsecond=0)
        summary: dict[str, Any] = {
            "incidentType": incident_type.value,
            "platform": name,
            "incidentDateTime": iso(incident_at),
        }
        if escalate:
            summary["escalateToHighPriority"] = rng.choice(ESCALATIONS)
        if incident_type == IncidentType.ONLINE_ENTICEMENT and rng.random() < 0.3:
            summary["reportAnnotations"] = {"sextortion": True}
        screen_name = self.screen_name()
        proxy = rng.random() < PROXY_SHARE
        events: list[dict[str, Any]] = [
            {
                "ipAddress": self.address(country),
                "eventName": rng.choice(("Login", "Upload", "Login")),
                "dateTime": iso(incident_at - dt.timedelta(minutes=rng.randint(0, 600))),
                **({"possibleProxy": True} if proxy else {}),
            }
            for _ in range(rng.choice((1, 1, 2, 3)))
        ]
        if not proxy and len(events) > 1 and rng.random() < ROAMING_SHARE:
            events.append({"ipAddress": self.address(self.country(other_than=country))})
        reported: dict[str, Any] = {
            "espIdentifier": str(rng.randrange(10**9, 10**10)),
            "espService": name,
            "screenName": screen_name,
            "profileUrl": [f"https://{domain}/u/{screen_name}"],
            "ipCaptureEvent": events,
        }
        if country == "US" and rng.random() < US_REGION_SHARE:
            reported["estimatedLocation"] = {"countryCode": "US", "region": self.us_state()}
        document: dict[str, Any] = {
            "incidentSummary": summary,
            "reporter": {
                "reportingPerson": {
                    "firstName": "Trust and Safety",
                    "lastName": name,
                    "email": [{"value": f"cybertip@{domain}"}],
                }
            },
            "personOrUserReported": [reported],
            "additionalInfo": DEMO_NOTE,
        }
        if viral and rng.random() < 0.6:
            document["batchedReport"] = {"reason": "VIRAL_POTENTIAL_MEME"}
        if csam and rng.random() < 0.3:
            document["internetDetails"] = [
                {"webPageIncident": {"url": [f"https://{domain}/p/{self.token()}"]}}
            ]
        elif incident_type in {
            IncidentType.MISLEADING_DOMAIN_NAME,
            IncidentType.MISLEADING_WORDS_OR_IMAGES,
            IncidentType.CHILD_SEX_TRAFFICKING,
        }:
            host = f"{rng.choice(NOUNS)}-{rng.choice(ADJECTIVES)}.example.com"
            document["internetDetails"] = [
                {"webPageIncident": {"url": [f"https://{host}/{self.token()}"]}}
            ]
        elif enticement_like:
            document["internetDetails"] = [
                {
                    "chatImIncident": {
                        "chatClient": name,
                        "content": "Synthetic summary: an adult asked a child for images.",
                    }
                }
            ]
        if enticement_like or incident_type == IncidentType.CHILD_SEXUAL_MOLESTATION:
            child = self.screen_name()
            document["victim"] = [
                {
                    "victimPerson": {"age": rng.randint(11, 16)},
                    "screenName": child,
                    "estimatedLocation": {"countryCode": country},
                }
            ]
        # The files.
        if viral:
            items = [self.again(viral)]
            if rng.random() < 0.2:
                items.append(self.item(viral.media_type, known=True, exclude=items))
            annotations: Sequence[str] = ("viral",) if "batchedReport" not in document else ()
            if annotations and rng.random() < 0.5:
                annotations = ("potentialMeme", "viral")
        else:
            annotations = ()
            if csam:
                count = self.file_count()
            elif incident_type == IncidentType.UNSOLICITED_OBSCENE_MATERIAL:
                count = 1
            elif enticement_like or incident_type == IncidentType.CHILD_SEXUAL_MOLESTATION:
                count = rng.choice((0, 0, 0, 1, 2))
            else:
                count = 0
            known_only = csam and rng.random() < KNOWN_ONLY_SHARE
            items = self.content(count, known_only=known_only)
        upload_address = self.address(country) if not proxy and rng.random() < 0.25 else ""
        files = [
            self.file_details(
                item,
                uploaded=incident_at,
                annotations=annotations,
                address=upload_address if index == 0 else "",
            )
            for index, item in enumerate(items)
        ]
        return PlannedReport(at=at, provider=name, document=document, files=files)

    def public_report(self, at: dt.datetime) -> PlannedReport:
        """The answers a member of the public gives on the public form."""
        rng = self.rng
        country = self.country()
        answer = weighted(rng, PUBLIC_ANSWERS)
        incident_day = (at - dt.timedelta(days=rng.randint(0, 30))).date()
        answers: dict[str, Any] = {
            "what_happened": answer,
            "incident_date": incident_day.isoformat(),
            "description": f"{DEMO_NOTE} A made-up description of what the reporter saw.",
            "homepage": "",
        }
        if rng.random() < PUBLIC_DANGER_SHARE:
            answers["child_in_danger_now"] = "on"
        if rng.random() < 0.5:
            answers["urls"] = f"https://www.example.com/forum/thread-{rng.randint(100, 99999)}"
        if rng.random() < 0.5:
            answers["usernames"] = "\n".join(self.screen_name() for _ in range(rng.randint(1, 2)))
        if rng.random() < 0.4:
            answers["platform"] = rng.choice(("A chat app", "A game", "A social network"))
        if rng.random() < 0.6:
            answers["child_age"] = str(rng.randint(6, 17))
        if rng.random() < 0.4:
            answers["child_country"] = country
        if rng.random() < 0.3:
            answers["suspect_country"] = country
        if rng.random() < 0.9 or not {"child_country", "suspect_country"} & answers.keys():
            answers["country"] = country
        if rng.random() < 0.3:
            answers["reporter_email"] = f"reporter{rng.randint(1, 99999)}@example.com"
        return PlannedReport(at=at, provider="", document=answers)

    def viral_batches(self, count: int) -> list[PlannedReport]:
        """Batches of viral reports: each one item, one country, one day (so they bundle)."""
        days = (self.end - self.start).days
        if days < 1 or count < 1:
            return []
        planned: list[PlannedReport] = []
        items: list[ContentItem] = []
        while len(planned) < count:
            if items and self.rng.random() < 0.3:
                item = self.rng.choice(items)  # the same item spreads to another country
            else:
                media_type = self.rng.choice(
                    (ReportedFile.MediaType.IMAGE, ReportedFile.MediaType.VIDEO)
                )
                item = self.fresh_item(media_type, known=True)
                items.append(item)
            day = self.start + dt.timedelta(days=self.rng.randrange(days))
            country = self.country()
            provider = PROVIDERS[0] if self.rng.random() < 0.7 else self.rng.choice(PROVIDERS)
            size = min(self.rng.randint(*VIRAL_BATCH), count - len(planned))
            moments = sorted(
                day + dt.timedelta(seconds=self.rng.randrange(86400)) for _ in range(size)
            )
            planned += (
                self.provider_report(at, provider=provider, country=country, viral=item)
                for at in moments
            )
        return planned

    def plan(self, count: int) -> list[PlannedReport]:
        """``count`` reports, in the order they are received."""
        public = round(count * PUBLIC_SHARE)
        viral = round(count * VIRAL_SHARE)
        escalated = min(max(1, round(count * ESCALATION_SHARE)), count - public - viral)
        kinds = ["public"] * public + ["escalated"] * escalated
        kinds += ["provider"] * (count - public - viral - escalated)
        self.rng.shuffle(kinds)
        # Drawn in time order, so that content is first seen before it is seen again.
        moments = self.times(len(kinds))
        batches = self.viral_batches(viral)
        planned: list[PlannedReport] = []
        batch_index = 0
        for kind, at in zip(kinds, moments, strict=True):
            while batch_index < len(batches) and batches[batch_index].at <= at:
                planned.append(batches[batch_index])
                batch_index += 1
            if kind == "public":
                planned.append(self.public_report(at))
            else:
                planned.append(self.provider_report(at, escalate=kind == "escalated"))
        planned += batches[batch_index:]
        planned.sort(key=lambda report: report.at)
        return planned


# Sending the plan ---------------------------------------------------------------------


@dataclass
class Submission:
    """What reaches the service at one moment: an hour's reports of one provider in one
    bulk submission (sent when the last is ready), or one public report."""

    at: dt.datetime
    provider: str
    reports: list[PlannedReport]


def submissions_of(planned: Sequence[PlannedReport]) -> list[Submission]:
    hourly: dict[tuple[dt.datetime, str], Submission] = {}
    submissions: list[Submission] = []
    for report in planned:
        if not report.provider:
            submissions.append(Submission(at=report.at, provider="", reports=[report]))
            continue
        key = (report.at.replace(minute=0, second=0, microsecond=0), report.provider)
        submission = hourly.get(key)
        if submission is None:
            submission = hourly[key] = Submission(
                at=report.at, provider=report.provider, reports=[]
            )
            submissions.append(submission)
        submission.reports.append(report)
        submission.at = report.at
    submissions.sort(key=lambda submission: submission.at)
    return submissions


@contextmanager
def tasks_in_process() -> Iterator[None]:
    """Celery tasks run eagerly in this process while the block runs, as they do when no
    broker is configured: each report is routed here, once, at the simulated time, and
    no message reaches a broker for a worker to act on later. The line Celery logs for
    each task, thousands here, is left out."""
    conf = route_report.app.conf
    saved = (conf.task_always_eager, conf.task_eager_propagates)
    loggers = [logging.getLogger(name) for name in ("celery.app.trace", "kombu.connection")]
    levels = [logger.level for logger in loggers]
    conf.task_always_eager = conf.task_eager_propagates = True
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        conf.task_always_eager, conf.task_eager_propagates = saved
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


@contextmanager
def commits_without_waiting() -> Iterator[None]:
    """On PostgreSQL, this session's commits do not wait for the WAL to reach the disk
    while the block runs: a crash may lose the last few transactions (never corrupt
    anything), and thousands of small transactions go much faster."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    try:
        yield
    finally:
        with suppress(DatabaseError), connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def demo_provider(*, name: str) -> Provider:
    """The provider named ``name``, made if missing with an account that cannot sign in
    (no password, no token): no one holds a demo provider's credentials."""
    provider = Provider.objects.filter(name=name).first()
    if provider is not None:
        return provider
    user, created = get_user_model().objects.get_or_create(username=slugify(name)[:150])
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return Provider.objects.create(name=name, user=user)


def submission_send(submission: Submission, *, providers: dict[str, Provider]) -> list[int]:
    """Submit as the interfaces do: a provider's reports validated as the JSON API's bulk
    endpoint validates them, a public report through the public form. Returns the ids."""
    if not submission.provider:
        form = PublicReportForm(data=submission.reports[0].document)
        if not form.is_valid():
            raise ApplicationError(
                f"A planned public report is not valid: {form.errors.as_json()}", code="invalid"
            )
        return [report_submit_public(document=form.report_document()).report.pk]
    items = []
    for planned in submission.reports:
        document = validated_document(
            BulkReportSerializer, {**planned.document, "files": planned.files}
        )
        items.append((document, document.pop("files", [])))
    reports = reports_submit_bulk(provider=providers[submission.provider], items=items)
    return [report.pk for report in reports]


# The agencies -------------------------------------------------------------------------


@dataclass(order=True)
class AgencyAction:
    at: dt.datetime
    order: int
    kind: str = field(compare=False)  # "acknowledge", "refer_on" or "status"
    referral_id: int = field(compare=False)
    agency_id: int = field(compare=False)
    priority: str = field(compare=False)
    detail: str = field(compare=False, default="")
    may_refer_on: bool = field(compare=False, default=True)


@dataclass
class AgencyCounts:
    acknowledged: int = 0
    referred_on: int = 0
    case_statuses: int = 0


class AgencySimulation:
    """The agencies that received referrals act on them later, in time order, through the
    agency services; nothing is done after ``until`` (the real now)."""

    def __init__(
        self, *, planner: DemoPlanner, traveller: time_machine.Traveller, until: dt.datetime
    ) -> None:
        self.planner = planner
        self.rng = planner.rng
        self.traveller = traveller
        self.until = until
        self.queue: list[AgencyAction] = []
        self.order = 0
        self.counts = AgencyCounts()
        self.agencies: dict[int, Agency] = {}
        self.country_names = dict(Country.objects.values_list("code", "name"))

    def push(self, at: dt.datetime, kind: str, **values: Any) -> None:
        at = at.replace(microsecond=0)
        if at <= self.until:
            self.order += 1
            heappush(self.queue, AgencyAction(at=at, order=self.order, kind=kind, **values))

    def schedule_acknowledgement(
        self,
        *,
        referral_id: int,
        agency_id: int,
        priority: str,
        delivered_at: dt.datetime,
        may_refer_on: bool = True,
    ) -> None:
        if self.rng.random() < NEVER_ACKNOWLEDGED.get(priority, 0.1):
            return
        hours = log_uniform(self.rng, *ACKNOWLEDGE_HOURS.get(priority, ACKNOWLEDGE_HOURS["3"]))
        self.push(
            delivered_at + dt.timedelta(hours=hours),
            "acknowledge",
            referral_id=referral_id,
            agency_id=agency_id,
            priority=priority,
            may_refer_on=may_refer_on,
        )

    def schedule(self, report_ids: Sequence[int]) -> None:
        """The acknowledgement of every referral delivered to an agency (not the analyst
        queue's, which staff work, nor a webhook's still pending)."""
        for start in range(0, len(report_ids), 500):
            rows = (
                Referral.objects.filter(
                    report_id__in=report_ids[start : start + 500],
                    status=Referral.Status.DELIVERED,
                )
                .exclude(agency__channel=Channel.ANALYST)
                .order_by("pk")
                .values_list("pk", "agency_id", "report__priority", "delivered_at")
            )
            for referral_id, agency_id, priority, delivered_at in rows:
                if delivered_at is None:  # never, for a delivered referral
                    continue
                self.schedule_acknowledgement(
                    referral_id=referral_id,
                    agency_id=agency_id,
                    priority=priority,
                    delivered_at=delivered_at,
                )

    def agency(self, agency_id: int) -> Agency:
        if agency_id not in self.agencies:
            self.agencies[agency_id] = Agency.objects.get(pk=agency_id)
        return self.agencies[agency_id]

    def run(self) -> AgencyCounts:
        """Every action, in time order; AGENCY_BATCH to a transaction, each action in its
        own savepoint (the services' own atomic blocks), so that a thousand actions do
        not wait for a thousand commits."""
        while self.queue:
            with transaction.atomic():
                for _ in range(AGENCY_BATCH):
                    if not self.queue:
                        break
                    action = heappop(self.queue)
                    self.traveller.move_to(action.at)
                    try:
                        getattr(self, f"do_{action.kind}")(action)
                    except ApplicationError:
                        continue  # the referral moved on meanwhile: nothing to do
        return self.counts

    def do_acknowledge(self, action: AgencyAction) -> None:
        referral_acknowledge(
            referral_id=action.referral_id, by_agency=self.agency(action.agency_id)
        )
        self.counts.acknowledged += 1
        hours = log_uniform(self.rng, 1, 240)
        if action.may_refer_on and self.rng.random() < REFER_ON_SHARE:
            self.push(action.at + dt.timedelta(hours=hours), "refer_on", **self.values(action))
        elif self.rng.random() < INVESTIGATED_SHARE.get(action.priority, 0.2):
            self.push(
                action.at + dt.timedelta(hours=hours),
                "status",
                **self.values(action, detail=CaseStatus.INVESTIGATING),
            )

    def do_status(self, action: AgencyAction) -> None:
        referral_case_status_set(
            referral_id=action.referral_id,
            case_status=action.detail,
            by_agency=self.agency(action.agency_id),
        )
        self.counts.case_statuses += 1
        if action.detail == CaseStatus.INVESTIGATING and self.rng.random() < CLOSED_SHARE:
            self.push(
                action.at + dt.timedelta(hours=log_uniform(self.rng, 72, 1440)),
                "status",
                **self.values(action, detail=weighted(self.rng, CLOSINGS)),
            )

    def do_refer_on(self, action: AgencyAction) -> None:
        agency = self.agency(action.agency_id)
        if agency.country_id == "US" and not agency.us_state:
            state = self.planner.us_state()
            to_agency = agency_for_place(country_code="US", us_state=state)
            reason = f"Subscriber records place the suspect in {US_STATE_NAMES[state]}."
        else:
            country = self.planner.country(other_than=agency.country_id or "")
            to_agency = agency_for_place(country_code=country)
            name = self.country_names.get(country, country)
            reason = f"The suspect's account details point to {name}: referred to the agency there."
        if to_agency.channel == Channel.ANALYST:
            return
        referral = referral_refer_on(
            referral_id=action.referral_id, to_agency=to_agency, reason=reason, by_agency=agency
        )
        self.counts.referred_on += 1
        if referral.status == Referral.Status.DELIVERED and referral.delivered_at:
            self.schedule_acknowledgement(
                referral_id=referral.pk,
                agency_id=to_agency.pk,
                priority=action.priority,
                delivered_at=referral.delivered_at,
                may_refer_on=False,
            )

    @staticmethod
    def values(action: AgencyAction, **changes: Any) -> dict[str, Any]:
        values = {
            "referral_id": action.referral_id,
            "agency_id": action.agency_id,
            "priority": action.priority,
            "may_refer_on": False,
        }
        return {**values, **changes}


# Counting -----------------------------------------------------------------------------


def demo_summary(
    *, report_ids: Sequence[int], agencies: AgencyCounts, seconds: float
) -> DemoSummary:
    counts: dict[str, int] = dict.fromkeys(
        (
            "from_providers",
            "public",
            "routed",
            "referred",
            "outside_us",
            "eu",
            "files",
            "images",
            "videos",
            "unique_images",
            "unique_videos",
            "known_only",
            "contains_new",
            "no_files",
            "bundled_reports",
            "priority_1",
            "awaiting_delivery",
        ),
        0,
    )
    countries: set[str] = set()
    bundle_ids: set[int] = set()
    for start in range(0, len(report_ids), 500):
        chunk = report_ids[start : start + 500]
        rows = Report.objects.filter(pk__in=chunk).values_list(
            "source", "routed_at", "resolved_country", "content_status", "priority", "bundle_id"
        )
        for source, routed_at, country, content_status, priority, bundle_id in rows:
            counts["from_providers" if source == Report.Source.PROVIDER else "public"] += 1
            counts["routed"] += routed_at is not None
            countries.add(country)
            counts["outside_us"] += routed_at is not None and country != "US"
            counts["eu"] += country in EU_27
            counts["known_only"] += content_status == Report.ContentStatus.KNOWN_ONLY
            counts["contains_new"] += content_status == Report.ContentStatus.CONTAINS_NEW
            counts["no_files"] += content_status == Report.ContentStatus.NO_FILES
            counts["priority_1"] += priority == Report.Priority.IMMINENT
            if bundle_id is not None:
                counts["bundled_reports"] += 1
                bundle_ids.add(bundle_id)
        files = ReportedFile.objects.filter(report_id__in=chunk).values_list(
            "media_type", "times_seen_before"
        )
        for media_type, seen_before in files:
            counts["files"] += 1
            kind: dict[str, str] = {
                ReportedFile.MediaType.IMAGE: "images",
                ReportedFile.MediaType.VIDEO: "videos",
            }
            if media_type in kind:
                counts[kind[media_type]] += 1
                counts[f"unique_{kind[media_type]}"] += seen_before == 0
        referrals = Referral.objects.filter(report_id__in=chunk)
        counts["referred"] += referrals.values("report_id").distinct().count()
        counts["awaiting_delivery"] += referrals.filter(status=Referral.Status.PENDING).count()
    return DemoSummary(
        reports=len(report_ids),
        countries=len(countries - {""}),
        bundles=Bundle.objects.filter(pk__in=bundle_ids, report_count__gt=1).count(),
        acknowledged=agencies.acknowledged,
        referred_on=agencies.referred_on,
        case_statuses=agencies.case_statuses,
        seconds=seconds,
        **counts,
    )


def figures_follow(*, since: dt.datetime) -> None:
    """Make the next refresh of the figures (routing/figures.py) look at every change
    since ``since``: it finds the days to rebuild by the times of changes, and these were
    made in the simulated past, before its mark. (The update waits for a refresh under
    way to commit, then moves the mark it set.)"""
    FiguresRefresh.objects.filter(changes_seen_until__gt=since).update(changes_seen_until=since)


# The service --------------------------------------------------------------------------


def demo_window(*, year: int, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """When the demo reports of ``year`` are received: the year, or its part until a few
    minutes ago (so that routing, a few seconds after receipt, is past too)."""
    if year < 2000 or year > now.year:
        raise ApplicationError(
            f"Choose a year from 2000 to {now.year}, not {year}.",
            code="invalid",
            fields={"year": [f"From 2000 to {now.year}."]},
        )
    start = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
    end = min(dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC), now - dt.timedelta(minutes=10))
    if end <= start:
        raise ApplicationError(
            f"{year} has only just begun: choose an earlier year.", code="invalid"
        )
    return start, end


def demo_data_generate(
    *,
    reports: int,
    year: int,
    seed: int = 1,
    only_if_empty: bool = False,
    progress: ProgressCallback | None = None,
) -> DemoSummary:
    """Create ``reports`` synthetic reports received during ``year`` (until now, for the
    current year), through the real intake services, each routed once by the routing
    task at its simulated time; then let the agencies act on their referrals at realistic
    later times (never after now). Adds the demo known-hash entries (label "demo", source
    "generate_demo_data") and the demo providers if missing, and has the next refresh of
    the figures count the year. The same ``seed``, ``year`` and ``reports`` on an empty database
    give the same reports. ``progress(done, total)`` is called as reports are created.

    Refused (ApplicationError) inside a transaction, for a year not begun, and, with
    ``only_if_empty``, when the database has any report (code "not_empty")."""
    started = time.monotonic()
    now = timezone.now()
    window = demo_window(year=year, now=now)
    if reports < 1:
        raise ApplicationError("Ask for at least one report.", code="invalid")
    if only_if_empty:
        existing = Report.objects.count()
        if existing:
            raise ApplicationError(
                f"The database already has {existing} report(s): no demo data generated.",
                code="not_empty",
            )
    if connection.in_atomic_block:
        raise ApplicationError(
            "Demo data is generated outside a transaction: each report is routed once it "
            "commits, as in production.",
            code="in_transaction",
        )
    # The year is part of the seed, so that two years made with one seed differ.
    rng = random.Random(seed * 10_000 + year)  # noqa: S311 (made-up data, not a secret)
    planner = DemoPlanner(rng=rng, window=window)
    submissions = submissions_of(planner.plan(reports))
    providers = {name: demo_provider(name=name) for name, _, _ in PROVIDERS}
    report_ids: list[int] = []
    with (
        tasks_in_process(),
        commits_without_waiting(),
        time_machine.travel(window[0], tick=False) as traveller,
    ):
        known_hashes_import(
            rows=[("md5", item.md5, DEMO_LABEL, DEMO_SOURCE) for item in planner.known]
        )
        for submission in submissions:
            traveller.move_to(submission.at)
            with transaction.atomic():
                report_ids += submission_send(submission, providers=providers)
                # Routing starts once the submission commits, a few seconds later.
                traveller.move_to(submission.at + dt.timedelta(seconds=rng.randint(1, 30)))
            if progress:
                progress(len(report_ids), reports)
        agencies = AgencySimulation(planner=planner, traveller=traveller, until=now)
        agencies.schedule(report_ids)
        counts = agencies.run()
    figures_follow(since=window[0])
    return demo_summary(report_ids=report_ids, agencies=counts, seconds=time.monotonic() - started)
