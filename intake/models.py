"""What comes in: reports (metadata only), their files' hashes and descriptors,
IP capture events, and the providers who send them. No field here can hold media."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from intake.encryption import EncryptedTextField, ReportDocumentField


class IncidentType(models.TextChoices):
    """The CyberTipline's eight incident types, stored and exchanged by their exact names."""

    CHILD_PORNOGRAPHY = (
        "Child Pornography (possession, manufacture, and distribution)",
        _("Child Pornography (possession, manufacture, and distribution)"),
    )
    CHILD_SEX_TRAFFICKING = "Child Sex Trafficking", _("Child Sex Trafficking")
    CHILD_SEX_TOURISM = "Child Sex Tourism", _("Child Sex Tourism")
    CHILD_SEXUAL_MOLESTATION = "Child Sexual Molestation", _("Child Sexual Molestation")
    MISLEADING_DOMAIN_NAME = "Misleading Domain Name", _("Misleading Domain Name")
    MISLEADING_WORDS_OR_IMAGES = (
        "Misleading Words or Digital Images on the Internet",
        _("Misleading Words or Digital Images on the Internet"),
    )
    ONLINE_ENTICEMENT = (
        "Online Enticement of Children for Sexual Acts",
        _("Online Enticement of Children for Sexual Acts"),
    )
    UNSOLICITED_OBSCENE_MATERIAL = (
        "Unsolicited Obscene Material Sent to a Child",
        _("Unsolicited Obscene Material Sent to a Child"),
    )


class Provider(models.Model):
    """An electronic service provider that reports through the API."""

    name = models.CharField(max_length=200, unique=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="provider"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Whether the provider has signed the hash-sharing agreement, and when that was
    # recorded: only then may it fetch the shared known-hash list (intake/sharing.py).
    hash_sharing_agreement = models.BooleanField(default=False)
    hash_sharing_agreed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        permissions = [
            ("manage_hash_sharing", "Can record a provider's hash-sharing agreement"),
        ]

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A bearer token for the API. Only the SHA-256 of the token is kept; the token
    itself is shown once, when it is made."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"token for {self.user} ({self.key_hash[:8]}…)"


class Report(models.Model):
    class Source(models.TextChoices):
        PUBLIC = "public", _("Member of the public")
        PROVIDER = "provider", _("Electronic service provider")

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        FINISHED = "finished", "Finished"
        RETRACTED = "retracted", "Retracted"
        EXPIRED = "expired", "Expired"

    source = models.CharField(max_length=16, choices=Source.choices)
    provider = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.PROTECT, related_name="reports"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)

    incident_type = models.CharField(max_length=64, choices=IncidentType.choices)
    incident_datetime = models.DateTimeField()
    incident_datetime_description = models.CharField(max_length=3000, blank=True)
    # The provider's reason for asking for high priority, when it asks.
    escalate_to_high_priority = models.CharField(max_length=3000, blank=True)
    description = models.TextField(blank=True)
    # The whole report as submitted, validated against intake/schema.py, in the
    # CyberTipline's element names. The columns above and below are copied from it. Its
    # reporter section is kept encrypted, like the reporter's contact details below
    # (intake/encryption.py).
    document = ReportDocumentField(default=dict, blank=True)

    reporter_name = EncryptedTextField(blank=True)
    reporter_email = EncryptedTextField(blank=True)
    reporter_phone = EncryptedTextField(blank=True)

    # ISO 3166-1 alpha-2 the report itself states (reporter's or provider's word), or "".
    stated_country = models.CharField(max_length=2, blank=True)
    # ISO 3166-1 alpha-2 the report resolved to when it was routed, or "" for unknown, with
    # the confidence, U.S. state and evidence (routing/location.py).
    resolved_country = models.CharField(max_length=2, blank=True)
    country_confidence = models.CharField(max_length=6, blank=True)
    us_state = models.CharField(max_length=2, blank=True)
    location = models.JSONField(default=dict, blank=True)

    class ContentStatus(models.TextChoices):
        NO_FILES = "no_files", _("No files")
        KNOWN_ONLY = "known_only", _("Known content only")
        CONTAINS_NEW = "contains_new", _("Contains new content")

    content_status = models.CharField(max_length=12, choices=ContentStatus.choices, blank=True)

    class Priority(models.TextChoices):
        IMMINENT = "1", _("1: a child may be in imminent danger")
        HIGH = "2", _("2: new content, hands-on abuse, enticement or trafficking")
        NORMAL = "3", _("3: known content being distributed")
        INFORMATIONAL = "I", _("I: informational (known viral content, bundles)")

    priority = models.CharField(max_length=1, choices=Priority.choices, blank=True)
    # "1" when the report alone (before its files are matched) already says a child may be
    # in imminent danger: it is then routed through the urgent queue.
    provisional_priority = models.CharField(max_length=1, blank=True)
    priority_reasons = models.JSONField(default=list, blank=True)
    # Every change of priority by staff: who, when, from, to and why.
    priority_overrides = models.JSONField(default=list, blank=True)
    bundle = models.ForeignKey(
        "Bundle", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )

    received_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    retracted_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)
    routed_at = models.DateTimeField(null=True, blank=True)
    # Triage by staff
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.CharField(max_length=150, blank=True)
    # When the personal data of the closed report was purged (intake/retention.py).
    personal_data_purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        permissions = [
            ("triage_report", "Can triage reports: priority, review, bundles"),
            ("route_report", "Can route and re-route reports to agencies"),
            ("retract_report", "Can retract a report at its provider's request"),
            ("confirm_known_hashes", "Can add a report's files to the known-hash list"),
        ]
        constraints = [
            models.CheckConstraint(
                name="report_provider_matches_source",
                condition=(Q(source="provider") & Q(provider__isnull=False))
                | (Q(source="public") & Q(provider__isnull=True)),
            ),
            models.CheckConstraint(
                name="report_finished_has_finished_at",
                condition=~Q(status="finished") | Q(finished_at__isnull=False),
            ),
        ]
        indexes = [
            # The outbox sweep: finished reports that have not been routed yet.
            models.Index(
                fields=["finished_at"],
                name="report_unrouted_idx",
                condition=Q(status="finished", routed_at__isnull=True),
            ),
            # The expiry sweep: reports still open.
            models.Index(
                fields=["received_at"], name="report_open_idx", condition=Q(status="open")
            ),
            # A provider's own reports, newest first.
            models.Index(fields=["provider", "-received_at"], name="report_provider_recent_idx"),
            # The figures: rebuilding one day's rollups reads the reports received that day,
            # and a refresh finds the days to rebuild from the reports changed since the last.
            models.Index(fields=["received_at"], name="report_received_idx"),
            models.Index(fields=["updated_at"], name="report_updated_idx"),
            # The purge of personal data walks the reports not purged yet, by id, past the
            # last batch (intake/retention.py purge_candidates).
            models.Index(
                fields=["id"],
                name="report_not_purged_idx",
                condition=Q(personal_data_purged_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"Report {self.pk}"


class IpCaptureEvent(models.Model):
    """An IP address someone in the report was seen using, and when."""

    class Role(models.TextChoices):
        REPORTED_PERSON = "reported_person", "Person or user reported"
        INTENDED_RECIPIENT = "intended_recipient", "Intended recipient"
        VICTIM = "victim", "Victim"
        PEER_TO_PEER = "peer2peer", "Peer-to-peer incident"
        FILE = "file", "File upload"

    class EventName(models.TextChoices):
        LOGIN = "Login"
        REGISTRATION = "Registration"
        PURCHASE = "Purchase"
        UPLOAD = "Upload"
        OTHER = "Other"
        UNKNOWN = "Unknown"

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="ip_capture_events")
    file = models.ForeignKey(
        "ReportedFile",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="ip_capture_events",
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.REPORTED_PERSON)
    ip_address = models.GenericIPAddressField()
    event_name = models.CharField(max_length=16, choices=EventName.choices, blank=True)
    date_time = models.DateTimeField(null=True, blank=True)
    possible_proxy = models.BooleanField(null=True, blank=True)
    port = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            # Staff search by IP address.
            models.Index(fields=["ip_address"], name="ipcapture_ip_idx"),
        ]

    def __str__(self) -> str:
        return self.ip_address


class KnownHash(models.Model):
    """An entry of the known-hash list: a hash of material already identified, so that it
    is recognised automatically and analysts are not shown it again."""

    class HashType(models.TextChoices):
        MD5 = "md5", "MD5"
        SHA1 = "sha1", "SHA-1"
        SHA256 = "sha256", "SHA-256"
        PDQ = "pdq", "PDQ"

    hash_type = models.CharField(max_length=6, choices=HashType.choices)
    value = models.CharField(max_length=64)  # lowercase hex
    label = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when staff confirmed the entry from a report (intake/sharing.py): who (as text:
    # users come and go), when, and from which report. Never shown to providers.
    confirmed_by = models.CharField(max_length=150, blank=True, default="", db_default="")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_from_report = models.ForeignKey(
        Report, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The entry's place in the shared list's change sequence: set when it is shared and
    # set again, higher, whenever what providers see of it changes (its label, whether it
    # is active). Null for an entry not shared. Assigned under a lock held until commit,
    # so values become visible in increasing order (intake/sharing.py).
    shared_seq = models.BigIntegerField(null=True, blank=True, unique=True)

    class Meta:
        verbose_name_plural = "known hashes"
        permissions = [
            (
                "withdraw_known_hashes",
                "Can withdraw entries from the known-hash list or put them back",
            )
        ]
        constraints = [
            # Also the index of exact matching: (hash_type, value) lookups.
            models.UniqueConstraint(fields=["hash_type", "value"], name="knownhash_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.hash_type}:{self.value}"


class HashFeedback(models.Model):
    """A provider's word on a shared known-hash entry: it confirms it, or disputes it with
    a reason, for staff to look at."""

    class Verdict(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        DISPUTED = "disputed", _("Disputed")

    known_hash = models.ForeignKey(KnownHash, on_delete=models.CASCADE, related_name="feedback")
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="+")
    verdict = models.CharField(max_length=9, choices=Verdict.choices)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "hash feedback"
        constraints = [
            models.CheckConstraint(
                name="hashfeedback_disputed_has_reason",
                condition=~Q(verdict="disputed") | ~Q(reason=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_verdict_display()} by {self.provider}"


class HashSighting(models.Model):
    """How often a file (by its strongest hash) has been reported, for first-seen counts
    and unique-file figures."""

    file_hash = models.CharField(max_length=71, unique=True)  # e.g. "sha256:ab12…"
    times_seen = models.PositiveIntegerField(default=0)
    first_seen_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.file_hash} x{self.times_seen}"


class Bundle(models.Model):
    """Reports of one viral or much-reported content item, resolving to one country, on one
    day: handled once instead of thousands of times."""

    content_key = models.CharField(max_length=71)  # the item's hash, e.g. "md5:…"
    country = models.CharField(max_length=2, blank=True)
    day = models.DateField()
    report_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["content_key", "country", "day"], name="bundle_unique"),
        ]

    def __str__(self) -> str:
        return f"Bundle {self.pk}: {self.content_key} {self.country or '??'} {self.day}"


class ReportedFile(models.Model):
    """One reported file, by its hashes and descriptors. Its bytes are never stored: an
    uploaded file is hashed as it streams in (intake/uploads.py) and dropped."""

    class MediaType(models.TextChoices):
        IMAGE = "image", "Image"
        VIDEO = "video", "Video"
        OTHER = "other", "Other"

    class Source(models.TextChoices):
        UPLOAD = "upload", "Uploaded, hashed in transit"
        METADATA = "metadata", "Hashes given by the provider"

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="files")
    file_id = models.CharField(max_length=32, unique=True)
    source = models.CharField(max_length=8, choices=Source.choices)
    file_name = models.CharField(max_length=2056, blank=True)
    media_type = models.CharField(max_length=8, choices=MediaType.choices, default=MediaType.OTHER)
    mime_type = models.CharField(max_length=100, blank=True)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    md5 = models.CharField(max_length=32, blank=True)
    sha1 = models.CharField(max_length=40, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    pdq = models.CharField(max_length=64, blank=True)
    # Set when the report is categorized: the known-hash entry it matched (and the PDQ
    # distance, for a PDQ match), and how often the file had been reported before.
    known_hash = models.ForeignKey(
        KnownHash, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    match_distance = models.PositiveSmallIntegerField(null=True, blank=True)
    times_seen_before = models.PositiveIntegerField(null=True, blank=True)
    # The fileDetails document (intake/schema.py), once the provider has sent it.
    details = models.JSONField(null=True, blank=True)
    details_received_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # Staff search by file hash.
            models.Index(fields=["md5"], name="reportedfile_md5_idx"),
            models.Index(fields=["sha256"], name="reportedfile_sha256_idx"),
        ]

    def __str__(self) -> str:
        return self.file_name or self.file_id


class IdempotencyKey(models.Model):
    """The first answer to a create request sent with an ``Idempotency-Key`` header, so
    that a retry of the same request gets the same answer instead of a second report."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "key"], name="idempotencykey_unique"),
        ]
        indexes = [
            # The daily purge of old keys.
            models.Index(fields=["created_at"], name="idempotencykey_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.provider_id}:{self.key}"


class PublicReceipt(models.Model):
    """The receipt code a member of the public was shown once for their report, kept only
    as a keyed hash: with the report number, it lets them see the report's status and add
    to it."""

    report = models.OneToOneField(Report, on_delete=models.CASCADE, related_name="receipt")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Receipt for report {self.report_id}"


class ReportAddition(models.Model):
    """Information a member of the public added to their report after sending it. Kept
    encrypted: it is where reporters write how to reach them."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="additions")
    text = EncryptedTextField()
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "pk"]

    def __str__(self) -> str:
        return f"Addition {self.pk} to report {self.report_id}"


class AuditQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: object) -> int:
        raise PermissionError("The audit trail is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("The audit trail is append-only.")


class AuditEntry(models.Model):
    """One line of the audit trail: who did what, to what, when and from where. Entries
    are only ever added (the application refuses to change or delete one, and so does a
    PostgreSQL trigger), and each carries the hash of the one before it, so a changed or
    removed entry breaks the chain (intake/audit.py, `manage.py audit_verify`)."""

    class Action(models.TextChoices):
        VIEW = "view"
        ADD = "add"
        CHANGE = "change"
        DELETE = "delete"
        ACTION = "action"
        EXPORT = "export"
        LOGIN = "login"
        LOGIN_FAILED = "login_failed"
        LOGOUT = "logout"
        PERSONAL_DATA_PURGED = "personal_data_purged"

    at = models.DateTimeField()
    username = models.CharField(max_length=150, blank=True)  # kept as text: users come and go
    action = models.CharField(max_length=32, choices=Action.choices)
    object_type = models.CharField(max_length=100, blank=True)  # e.g. "intake.report"
    object_id = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    client = models.CharField(max_length=45, blank=True)  # the staff member's address
    previous_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-pk"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        what = f"{self.action} {self.object_type} {self.object_id}".strip()
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username or '-'} {what}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise PermissionError("The audit trail is append-only.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise PermissionError("The audit trail is append-only.")


class ReportIdentifier(models.Model):
    """A screen name, email address, phone number or web address a report names, kept
    lowercased in its own indexed table so staff can search millions of reports for it."""

    class Kind(models.TextChoices):
        SCREEN_NAME = "screen_name"
        EMAIL = "email"
        PHONE = "phone"
        URL = "url"

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="identifiers")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = models.CharField(max_length=500, db_index=True)  # identifiers.identifier_key

    def __str__(self) -> str:
        return f"{self.kind}: {self.value}"
