"""Where reports go: countries, the agencies that receive them, the routing table
that joins the two, and referrals of a report to an agency."""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Channel(models.TextChoices):
    """How a country's law enforcement receives reports, as in the CMT referral flow."""

    DIRECT = "direct", "National police with direct access"
    ATTACHE = "attache", "U.S. federal law-enforcement attaché"
    INTERPOL = "interpol", "INTERPOL"
    DOMESTIC = "domestic", "U.S. domestic (ICAC task forces)"
    ANALYST = "analyst", "Analyst review queue"


class Country(models.Model):
    code = models.CharField(max_length=2, primary_key=True)  # ISO 3166-1 alpha-2
    name = models.CharField(max_length=100)

    class Meta:
        verbose_name_plural = "countries"
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class DeliveryMode(models.TextChoices):
    """How referrals reach an agency."""

    INBOX = "inbox", "Inbox (the agency pulls from its queue)"
    WEBHOOK = "webhook", "Webhook (signed JSON POSTed to the agency)"


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


def validate_webhook_url(url: str) -> None:
    """A webhook is POSTed to over HTTP: an http:// or https:// URL, nothing else."""
    URLValidator(schemes=["http", "https"], message="Enter a valid http:// or https:// URL.")(url)


class Agency(models.Model):
    """A (simulated) law-enforcement agency with a queue of referrals."""

    ANALYST_QUEUE_CODE = "ANALYST"

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    country = models.ForeignKey(
        Country, null=True, blank=True, on_delete=models.PROTECT, related_name="agencies"
    )
    # The U.S. state an ICAC task force serves.
    us_state = models.CharField(max_length=2, blank=True)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    is_active = models.BooleanField(default=True)
    delivery_mode = models.CharField(
        max_length=16, choices=DeliveryMode.choices, default=DeliveryMode.INBOX
    )
    webhook_url = models.URLField(max_length=500, blank=True)
    # Signs each webhook delivery (HMAC-SHA256). Needed in clear to sign, so it is kept
    # out of every page and export; the agency is given it once (`configure_agency_webhook`).
    webhook_secret = models.CharField(max_length=100, blank=True, default=new_webhook_secret)
    history = HistoricalRecords(excluded_fields=["webhook_secret"])

    class Meta:
        verbose_name_plural = "agencies"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                name="agency_webhook_has_url_and_secret",
                condition=Q(delivery_mode="inbox") | (~Q(webhook_url="") & ~Q(webhook_secret="")),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.delivery_mode == DeliveryMode.WEBHOOK and not self.webhook_url:
            raise ValidationError({"webhook_url": "A webhook agency needs the URL to POST to."})


class RoutingRule(models.Model):
    """Reports resolving to ``country`` (and ``us_state``, when one is known) go to ``agency``."""

    country = models.ForeignKey(Country, on_delete=models.CASCADE, related_name="routing_rules")
    us_state = models.CharField(max_length=2, blank=True)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="routing_rules")
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["country", "us_state"], name="routingrule_unique_place"
            ),
        ]

    def __str__(self) -> str:
        place = f"{self.country_id}-{self.us_state}" if self.us_state else self.country_id
        return f"{place} -> {self.agency.code}"


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    INVESTIGATING = "investigating", _("Investigating")
    CLOSED_NO_JURISDICTION = "closed_no_jurisdiction", _("Closed: no jurisdiction")
    CLOSED_INSUFFICIENT = "closed_insufficient_information", _("Closed: insufficient information")
    CLOSED_ACTION_TAKEN = "closed_action_taken", _("Closed: action taken")


class Referral(models.Model):
    """A report made available to an agency: the system of record for delivery. At most
    one open referral per report and agency; a referral closed by re-referral stays as
    history."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending delivery")
        DELIVERED = "delivered", _("Delivered")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        RE_REFERRED = "re_referred", _("Re-referred")
        DEAD_LETTERED = "dead_lettered", _("Dead-lettered (delivery failed)")

    report = models.ForeignKey("intake.Report", on_delete=models.CASCADE, related_name="referrals")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="referrals")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # The referral this one continues, and why (re-referral); empty for the first.
    referred_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="referred_to"
    )
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The receiving agency's own handling of the case.
    case_status = models.CharField(
        max_length=32, choices=CaseStatus.choices, default=CaseStatus.OPEN
    )
    # The officer of the receiving agency working the case.
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_referrals",
    )
    # Webhook delivery: attempts made, when the next is due, until when a worker holds it.
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    dead_lettered_at = models.DateTimeField(null=True, blank=True)

    OPEN_STATUSES = (Status.PENDING, Status.DELIVERED, Status.ACKNOWLEDGED, Status.DEAD_LETTERED)
    # What the receiving agency has: delivered to it, or acknowledged by it.
    HELD_STATUSES = (Status.DELIVERED, Status.ACKNOWLEDGED)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["report", "agency"],
                condition=~Q(status="re_referred"),
                name="referral_open_once_per_agency",
            ),
            models.CheckConstraint(
                name="referral_delivered_has_delivered_at",
                condition=~Q(status__in=["delivered", "acknowledged"])
                | Q(delivered_at__isnull=False),
            ),
            models.CheckConstraint(
                name="referral_pending_has_next_attempt",
                condition=~Q(status="pending") | Q(next_attempt_at__isnull=False),
            ),
        ]
        indexes = [
            # An agency's queue: its referrals by status, oldest first.
            models.Index(
                fields=["agency", "status", "created_at"], name="referral_agency_queue_idx"
            ),
            # The delivery sweep: pending referrals by when their next attempt is due.
            models.Index(
                fields=["next_attempt_at"],
                name="referral_due_idx",
                condition=Q(status="pending"),
            ),
            models.Index(
                fields=["-dead_lettered_at"],
                name="referral_dead_letter_idx",
                condition=Q(status="dead_lettered"),
            ),
        ]

    def __str__(self) -> str:
        return f"Report {self.report_id} -> {self.agency.code}"


class ReferralEvent(models.Model):
    """One step in a referral's life: created, each delivery attempt, delivered,
    dead-lettered, redelivery asked, acknowledged, re-referred."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        ATTEMPT_FAILED = "attempt_failed", _("Delivery attempt failed")
        DELIVERED = "delivered", _("Delivered")
        DEAD_LETTERED = "dead_lettered", _("Dead-lettered")
        REDELIVERY = "redelivery", _("Redelivery requested")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        RE_REFERRED = "re_referred", _("Re-referred")
        CASE_STATUS = "case_status", _("Case status set")
        ASSIGNED = "assigned", _("Assigned")

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    # Who did it: a staff user, an agency, or nobody (the system).
    by_user = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    by_agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # A delivery attempt's HTTP status and time taken, an error, a reason.
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [
            models.Index(fields=["referral", "at"], name="referralevent_referral_idx"),
            # The figures' refresh: the referrals changed since the last one.
            models.Index(fields=["at"], name="referralevent_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M:%S}"


class AnonymizerNetwork(models.Model):
    """An address or network of an anonymizing service: IP evidence from it weighs little."""

    network = models.CharField(max_length=49, unique=True)  # canonical CIDR, e.g. 192.0.2.7/32
    source = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.network


class AgencyMember(models.Model):
    """A law-enforcement user: sees and acts on their agency's referrals only."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agency_member"
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="members")
    must_change_password = models.BooleanField(default=True)
    # The workspace's language for this user (one of LANGUAGES); empty: the browser's.
    language = models.CharField(max_length=8, blank=True)

    def __str__(self) -> str:
        return f"{self.user} at {self.agency.code}"


class ReferralNote(models.Model):
    """A note an agency writes on its referral; it stays with that referral (and that
    agency) when the report is referred on."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Note {self.pk} on referral {self.referral_id}"


# The figures. The statistics pages read these daily rollups instead of the reports: a year
# at the CyberTipline's 2021 volume is tens of millions of reports and files but only tens
# of thousands of rollup rows. routing/figures.py rebuilds the days whose reports changed.


class DailyReportFigures(models.Model):
    """The finished reports received on one day (UTC) that resolve to ``country`` ("" for
    unknown), from one source, of one incident type: how many, how urgent, what content
    they hold, and their files."""

    day = models.DateField()
    country = models.CharField(max_length=2, blank=True)
    source = models.CharField(max_length=16)
    incident_type = models.CharField(max_length=64)

    reports = models.PositiveIntegerField(default=0)
    priority_1 = models.PositiveIntegerField(default=0)
    priority_2 = models.PositiveIntegerField(default=0)
    priority_3 = models.PositiveIntegerField(default=0)
    priority_informational = models.PositiveIntegerField(default=0)
    known_content_only = models.PositiveIntegerField(default=0)
    new_content = models.PositiveIntegerField(default=0)
    no_files = models.PositiveIntegerField(default=0)
    bundled = models.PositiveIntegerField(default=0)

    files = models.PositiveIntegerField(default=0)
    # A unique file is one whose hash had never been reported before.
    unique_files = models.PositiveIntegerField(default=0)
    images = models.PositiveIntegerField(default=0)
    unique_images = models.PositiveIntegerField(default=0)
    videos = models.PositiveIntegerField(default=0)
    unique_videos = models.PositiveIntegerField(default=0)
    # Files that matched the known-hash list.
    known_files = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "daily report figures"
        permissions = [("view_figures", "Can see the statistics pages")]
        constraints = [
            # Also the index of every figure's query: a range of days.
            models.UniqueConstraint(
                fields=["day", "country", "source", "incident_type"],
                name="dailyreportfigures_unique_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.country or '??'} {self.source} {self.incident_type}"


class DailyReferralFigures(models.Model):
    """The referrals of the reports received on one day that resolve to ``country``, to one
    agency: made, acknowledged, referred on, dead-lettered."""

    day = models.DateField()
    country = models.CharField(max_length=2, blank=True)
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=16, choices=Channel.choices)

    referrals = models.PositiveIntegerField(default=0)
    acknowledged = models.PositiveIntegerField(default=0)
    referred_on = models.PositiveIntegerField(default=0)
    dead_lettered = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "daily referral figures"
        constraints = [
            # Also the index of the referral figures' queries: a range of days.
            models.UniqueConstraint(
                fields=["day", "country", "agency"], name="dailyreferralfigures_unique_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.country or '??'} to agency {self.agency_id}"


class DailyDurations(models.Model):
    """How long the reports received on one day that resolve to ``country`` waited, as a
    histogram: ``count`` waits fell in duration bucket ``bucket`` (routing/figures.py's
    DURATION_BUCKETS). Percentiles of any range of days are read from the summed buckets."""

    class Measure(models.TextChoices):
        TO_REFERRAL = "to_referral", "From receipt to referral"
        TO_ACKNOWLEDGEMENT = "to_acknowledgement", "From referral to acknowledgement"

    day = models.DateField()
    country = models.CharField(max_length=2, blank=True)
    measure = models.CharField(max_length=20, choices=Measure.choices)
    priority_1 = models.BooleanField()
    bucket = models.PositiveSmallIntegerField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "daily durations"
        constraints = [
            # Also the index of the handling-time queries: a range of days.
            models.UniqueConstraint(
                fields=["day", "country", "measure", "priority_1", "bucket"],
                name="dailydurations_unique_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.country or '??'} {self.measure} bucket {self.bucket}"


class FiguresRefresh(models.Model):
    """The one row saying how far the daily figures have followed the reports: every
    change before ``changes_seen_until`` is in them."""

    changes_seen_until = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"figures refreshed at {self.refreshed_at}"


# Notices to providers: after staff confirm a report, the provider hosting the content is
# told what to take down or act on, and reminded until it answers (routing/notices.py).


class Notice(models.Model):
    """What staff ask a provider to do about content it hosts, and its answer. Open until
    the provider answers or staff close it; reminded on a schedule while open, then
    escalated to staff."""

    class Type(models.TextChoices):
        TAKEDOWN = "takedown", _("Content takedown")
        ACCOUNT = "account", _("Account")
        FOLLOW_UP = "follow_up", _("Follow-up")

    class RequestedAction(models.TextChoices):
        REMOVAL = "removal", _("Remove the content")
        ACCOUNT_ACTION = "account_action", _("Act on the account")
        REMOVAL_AND_ACCOUNT_ACTION = "removal_and_account_action", _("Both")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ANSWERED = "answered", _("Answered")
        CLOSED = "closed", _("Closed")

    class Answer(models.TextChoices):
        REMOVED = "removed", _("Content removed")
        ACCOUNT_ACTIONED = "account_actioned", _("Account actioned")
        NOT_FOUND = "not_found", _("Not found")
        DISPUTED = "disputed", _("Disputed")

    report = models.ForeignKey("intake.Report", on_delete=models.PROTECT, related_name="notices")
    provider = models.ForeignKey(
        "intake.Provider", on_delete=models.PROTECT, related_name="notices"
    )
    notice_type = models.CharField(max_length=16, choices=Type.choices)
    # The URLs or identifiers of the content or accounts concerned.
    targets = models.JSONField(default=list)
    reason = models.TextField()
    requested_action = models.CharField(max_length=32, choices=RequestedAction.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    answer = models.CharField(max_length=16, choices=Answer.choices, blank=True)
    answer_reason = models.TextField(blank=True)
    sent_at = models.DateTimeField(default=timezone.now)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    deadline_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    # When the next reminder is due; empty once answered, closed or escalated.
    next_reminder_at = models.DateTimeField(null=True, blank=True)
    # Every reminder went unanswered: staff should follow it up.
    escalated_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    close_reason = models.TextField(blank=True)
    # A webhook delivery owed to the provider (the event: sent or reminded), and since
    # when; cleared once delivered. The reminder sweep sends again one owed for
    # NOTICE_WEBHOOK_RESEND_HOURS, in case its task was lost (routing/notices.py).
    webhook_event = models.CharField(max_length=16, blank=True)
    webhook_owed_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="notice_answered_has_answer",
                condition=Q(answer="", answered_at__isnull=True)
                | (~Q(answer="") & Q(answered_at__isnull=False)),
            ),
            models.CheckConstraint(
                name="notice_dispute_has_reason",
                condition=~Q(answer="disputed") | ~Q(answer_reason=""),
            ),
            models.CheckConstraint(
                name="notice_closed_has_closed_at",
                condition=~Q(status="closed") | Q(closed_at__isnull=False),
            ),
            models.CheckConstraint(
                name="notice_only_open_is_reminded",
                condition=Q(status="open") | Q(next_reminder_at__isnull=True),
            ),
        ]
        indexes = [
            # A provider's notices (GET /api/v1/notices), open first, oldest first.
            models.Index(fields=["provider", "status", "sent_at"], name="notice_provider_idx"),
            # The reminder sweep: open notices by when their next reminder is due.
            models.Index(
                fields=["next_reminder_at"],
                name="notice_reminder_due_idx",
                condition=Q(status="open"),
            ),
            # The same sweep: webhooks owed, by since when.
            models.Index(
                fields=["webhook_owed_since"],
                name="notice_webhook_owed_idx",
                condition=Q(webhook_owed_since__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"Notice {self.pk} to {self.provider} about report {self.report_id}"


class NoticeEvent(models.Model):
    """One step in a notice's life, timed and attributed: sent, reminded, escalated,
    answered, closed, and each webhook delivery."""

    class Kind(models.TextChoices):
        SENT = "sent", _("Sent")
        REMINDED = "reminded", _("Reminded")
        ESCALATED = "escalated", _("Escalated to staff")
        ANSWERED = "answered", _("Answered")
        CLOSED = "closed", _("Closed")
        DELIVERED = "delivered", _("Webhook delivered")
        DELIVERY_FAILED = "delivery_failed", _("Webhook delivery failed")

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    # Who did it: a staff user, the provider, or nobody (the system).
    by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    by_provider = models.ForeignKey(
        "intake.Provider", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["notice", "at"], name="noticeevent_notice_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M:%S}"


class ProviderNoticeEndpoint(models.Model):
    """Where a provider takes its notices by webhook: signed JSON POSTed to ``url``
    (routing/signing.py) when a notice is sent or a reminder is due."""

    provider = models.OneToOneField(
        "intake.Provider", on_delete=models.CASCADE, related_name="notice_endpoint"
    )
    url = models.URLField(max_length=500)
    # Signs each delivery; needed in clear to sign, so shown on no page.
    secret = models.CharField(max_length=100, default=new_webhook_secret)

    def __str__(self) -> str:
        return f"notice webhook of {self.provider}"
