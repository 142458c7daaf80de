import json

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest
from django.utils.html import format_html

from intake.models import (
    ApiToken,
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
class ReportAdmin(admin.ModelAdmin):
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
            "submitted_report"
        ]

    @admin.display(description="Priority", ordering="priority")
    def priority_level(self, report: Report) -> str:
        return report.priority

    @admin.display(description="Report as submitted")
    def submitted_report(self, report: Report) -> str:
        return format_html(
            "<pre>{}</pre>", json.dumps(report.document, indent=2, ensure_ascii=False)
        )


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "is_active", "created_at"]
    search_fields = ["name"]
    readonly_fields = ["user", "created_at"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "created_at"]
    readonly_fields = ["user", "key_hash", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(KnownHash)
class KnownHashAdmin(admin.ModelAdmin):
    list_display = ["hash_type", "value", "label", "source", "is_active", "created_at"]
    list_filter = ["hash_type", "is_active"]
    list_editable = ["is_active"]
    search_fields = ["=value", "label"]
    show_full_result_count = False


@admin.register(Bundle)
class BundleAdmin(admin.ModelAdmin):
    list_display = ["id", "content_key", "country", "day", "report_count"]
    list_filter = ["day", "country"]
    search_fields = ["=content_key"]
    readonly_fields = ["content_key", "country", "day", "report_count", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
