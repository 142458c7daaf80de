import json

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from config.admin import AuditedAdmin
from intake.audit import audit_trail_of
from intake.models import (
    ApiToken,
    AuditEntry,
    Bundle,
    IpCaptureEvent,
    KnownHash,
    Provider,
    Report,
    ReportAddition,
    ReportedFile,
)
from routing.models import Referral


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class IpCaptureEventInline(ReadOnlyInline):
    model = IpCaptureEvent
    fields = ["role", "ip_address", "event_name", "date_time", "possible_proxy", "port"]


class ReportedFileInline(ReadOnlyInline):
    model = ReportedFile
    fields = ["file_id", "source", "file_name", "media_type", "size_bytes", "md5", "sha1", "sha256"]


class ReportAdditionInline(ReadOnlyInline):
    """What the reporter added later, from the public status page."""

    model = ReportAddition
    fields = ["added_at", "text"]
    readonly_fields = ["added_at", "text"]
    verbose_name_plural = "Added by the reporter"


REFERRAL_INLINE_FIELDS = (
    "agency",
    "status",
    "created_at",
    "delivered_at",
    "attempts",
    "acknowledged_at",
)


class ReferralInline(ReadOnlyInline):
    model = Referral
    fields = REFERRAL_INLINE_FIELDS
    readonly_fields = REFERRAL_INLINE_FIELDS
    show_change_link = True


@admin.register(Report)
class ReportAdmin(AuditedAdmin):
    audit_views = True  # every look at a report's page is on the record
    list_display = [
        "id",
        "received_at",
        "source",
        "incident_type",
        "resolved_country",
        "country_confidence",
        "priority_level",
        "content_status",
        "bundle",
        "status",
    ]
    list_filter = [
        "priority",
        "status",
        "source",
        "incident_type",
        "content_status",
        "country_confidence",
        "resolved_country",
    ]
    search_fields = ["=id", "ip_capture_events__ip_address", "files__md5", "files__sha256"]
    date_hierarchy = "received_at"
    ordering = ["priority", "-received_at"]  # "1" < "2" < "3" < "I": most urgent first
    list_select_related = ["provider", "bundle"]
    show_full_result_count = False
    exclude = ["document"]  # shown read-only, laid out, as submitted_report
    inlines = [IpCaptureEventInline, ReportedFileInline, ReportAdditionInline, ReferralInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # Reports are evidence: they are retracted or expired, never deleted.
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        return [field.name for field in Report._meta.fields if field.name != "document"] + [
            "submitted_report",
            "audit_trail",
        ]

    @admin.display(description="Priority", ordering="priority")
    def priority_level(self, report: Report) -> str:
        return report.priority

    @admin.display(description="Audit trail (newest first)")
    def audit_trail(self, report: Report) -> str:
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    f"{entry.at:%Y-%m-%d %H:%M:%S}",
                    entry.username or "-",
                    entry.get_action_display(),
                    json.dumps(entry.detail, ensure_ascii=False) if entry.detail else "",
                    entry.client,
                )
                for entry in audit_trail_of(report)
            ),
        )
        return format_html(
            '<table class="audit-trail"><thead><tr><th>When</th><th>Who</th><th>What</th>'
            "<th>Detail</th><th>From</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    @admin.display(description="Report as submitted")
    def submitted_report(self, report: Report) -> str:
        return format_html(
            "<pre>{}</pre>", json.dumps(report.document, indent=2, ensure_ascii=False)
        )


@admin.register(Provider)
class ProviderAdmin(AuditedAdmin):
    list_display = ["name", "user", "is_active", "created_at"]
    search_fields = ["name"]
    readonly_fields = ["user", "created_at"]


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdmin):
    list_display = ["user", "created_at"]
    readonly_fields = ["user", "key_hash", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(KnownHash)
class KnownHashAdmin(AuditedAdmin):
    list_display = ["hash_type", "value", "label", "source", "is_active", "created_at"]
    list_filter = ["hash_type", "is_active"]
    list_editable = ["is_active"]
    search_fields = ["=value", "label"]
    show_full_result_count = False


@admin.register(Bundle)
class BundleAdmin(AuditedAdmin):
    list_display = ["id", "content_key", "country", "day", "report_count"]
    list_filter = ["day", "country"]
    search_fields = ["=content_key"]
    readonly_fields = ["content_key", "country", "day", "report_count", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The audit trail, for auditors: read only, for everyone."""

    list_display = ["at", "username", "action", "object_type", "object_id", "client"]
    list_filter = ["action", "object_type"]
    search_fields = ["=username", "=object_id", "=client"]
    date_hierarchy = "at"
    show_full_result_count = False
    readonly_fields = [field.name for field in AuditEntry._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
