"""Where reports go: countries, the agencies that receive them, the routing table
that joins the two, and referrals of a report to an agency."""

from django.db import models
from django.db.models import Q
from django.utils import timezone


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


class Agency(models.Model):
    """A (simulated) law-enforcement agency with a queue of referrals."""

    ANALYST_QUEUE_CODE = "ANALYST"

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    country = models.ForeignKey(
        Country, null=True, blank=True, on_delete=models.PROTECT, related_name="agencies"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name_plural = "agencies"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class RoutingRule(models.Model):
    """Reports resolving to ``country`` (and ``us_state``, when one is known) go to ``agency``."""

    country = models.ForeignKey(Country, on_delete=models.CASCADE, related_name="routing_rules")
    us_state = models.CharField(max_length=2, blank=True)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="routing_rules")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["country", "us_state"], name="routingrule_unique_place"
            ),
        ]

    def __str__(self) -> str:
        place = f"{self.country_id}-{self.us_state}" if self.us_state else self.country_id
        return f"{place} -> {self.agency.code}"


class Referral(models.Model):
    """A report made available to an agency. At most one per report and agency."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending delivery"
        DELIVERED = "delivered", "Delivered"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"

    report = models.ForeignKey("intake.Report", on_delete=models.CASCADE, related_name="referrals")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="referrals")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["report", "agency"], name="referral_once_per_agency"),
            models.CheckConstraint(
                name="referral_delivered_has_delivered_at",
                condition=Q(status="pending") | Q(delivered_at__isnull=False),
            ),
        ]
        indexes = [
            # An agency's queue: its referrals by status, oldest first.
            models.Index(
                fields=["agency", "status", "created_at"], name="referral_agency_queue_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"Report {self.report_id} -> {self.agency.code}"


class AnonymizerNetwork(models.Model):
    """An address or network of an anonymizing service: IP evidence from it weighs little."""

    network = models.CharField(max_length=49, unique=True)  # canonical CIDR, e.g. 192.0.2.7/32
    source = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.network
