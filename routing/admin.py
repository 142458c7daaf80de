from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db import models, transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from config.admin import AuditedAdmin
from config.errors import ApplicationError
from intake.admin import YesNoFilter
from intake.audit import audit_record
from intake.models import AuditEntry, Report
from intake.triage import RouteForm as ReferOnForm
from routing.models import (
    Agency,
    AnonymizerNetwork,
    Country,
    Notice,
    NoticeEvent,
    Referral,
    ReferralEvent,
    RoutingRule,
)
from routing.services import referral_redeliver, referral_refer_on


@admin.register(Country)
class CountryAdmin(AuditedAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Agency)
class AgencyAdmin(AuditedAdmin, SimpleHistoryAdmin):
    list_display = ["code", "name", "country", "us_state", "channel", "delivery_mode", "is_active"]
    list_filter = ["channel", "delivery_mode", "is_active"]
    search_fields = ["code", "name", "country__name"]
    autocomplete_fields = ["country"]
    # The signing secret is never shown: `configure_agency_webhook` sets a new one and
    # prints it once.
    exclude = ["webhook_secret"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    history_list_display = ["is_active", "delivery_mode", "webhook_url"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(AuditedAdmin, SimpleHistoryAdmin):
    list_display = ["country", "us_state", "agency"]
    list_filter = ["agency__channel"]
    search_fields = ["country__code", "country__name", "agency__code"]
    autocomplete_fields = ["country", "agency"]
    history_list_display = ["country", "us_state", "agency"]


REFERRAL_EVENT_FIELDS = (
    "at",
    "kind",
    "by_user",
    "by_agency",
    "http_status",
    "duration_ms",
    "detail",
)
REFERRAL_FIELDS = (
    "report",
    "agency",
    "status",
    "referred_from",
    "reason",
    "created_at",
    "delivered_at",
    "acknowledged_at",
    "closed_at",
    "attempts",
    "next_attempt_at",
    "last_error",
    "dead_lettered_at",
)


class ReferralEventInline(admin.TabularInline):
    model = ReferralEvent
    fields = REFERRAL_EVENT_FIELDS
    readonly_fields = REFERRAL_EVENT_FIELDS
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Referral)
class ReferralAdmin(AuditedAdmin):
    list_display = [
        "id",
        "report",
        "agency",
        "status",
        "created_at",
        "delivered_at",
        "attempts",
        "last_error",
    ]
    list_filter = ["status", "agency__channel", "agency__delivery_mode"]
    search_fields = ["=report__id", "agency__code"]
    list_select_related = ["agency"]
    fields = REFERRAL_FIELDS
    readonly_fields = REFERRAL_FIELDS
    inlines = [ReferralEventInline]
    ordering = ["-created_at"]
    show_full_result_count = False
    actions = ["deliver_again", "refer_on"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    @admin.action(description="Deliver again (dead-lettered referrals)", permissions=["change"])
    def deliver_again(self, request: HttpRequest, queryset: QuerySet[Referral]) -> None:
        sent = 0
        for referral in queryset.filter(status=Referral.Status.DEAD_LETTERED).select_related(
            "agency"
        ):
            with transaction.atomic():  # the action and its audit entry, or neither
                referral_redeliver(referral_id=referral.pk, by_user=request.user)  # type: ignore[arg-type]
                audit_action(request, referral, "deliver_again")
            sent += 1
        skipped = queryset.count() - sent
        self.message_user(request, f"{sent} referral(s) sent again.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request, f"{skipped} referral(s) were not dead-lettered.", messages.WARNING
            )

    @admin.action(description="Refer on to another agency", permissions=["change"])
    def refer_on(self, request: HttpRequest, queryset: QuerySet[Referral]) -> HttpResponse | None:
        form = ReferOnForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            done = 0
            for referral in queryset.select_related("agency"):
                try:
                    with transaction.atomic():  # the action and its audit entry, or neither
                        new = referral_refer_on(
                            referral_id=referral.pk,
                            to_agency=form.cleaned_data["agency"],
                            reason=form.cleaned_data["reason"],
                            by_user=request.user,  # type: ignore[arg-type]
                        )
                        audit_action(
                            request,
                            referral,
                            "refer_on",
                            to=new.agency.code,
                            reason=form.cleaned_data["reason"],
                        )
                    done += 1
                except ApplicationError as error:
                    self.message_user(request, f"Referral {referral.pk}: {error}", messages.ERROR)
            if done:
                agency = form.cleaned_data["agency"]
                self.message_user(
                    request, f"{done} referral(s) referred on to {agency.code}.", messages.SUCCESS
                )
            return None
        return TemplateResponse(
            request,
            "admin/routing/referral/refer_on.html",
            {
                **self.admin_site.each_context(request),
                "title": "Refer on to another agency",
                "opts": self.model._meta,
                "referrals": queryset.select_related("agency"),
                "form": form,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )


def audit_action(request: HttpRequest, referral: Referral, name: str, **detail: str) -> None:
    """An action on a referral, on the record of its report."""
    audit_record(
        action=AuditEntry.Action.ACTION,
        request=request,
        obj=Report(pk=referral.report_id),
        detail={"action": name, "referral": referral.pk, "agency": referral.agency.code, **detail},
    )


NOTICE_EVENT_FIELDS = ("at", "kind", "by_user", "by_provider", "detail")
NOTICE_FIELDS = (
    "report_link",
    "provider",
    "notice_type",
    "requested_action",
    "targets",
    "reason",
    "status",
    "answer",
    "answer_reason",
    "sent_at",
    "sent_by",
    "deadline_at",
    "answered_at",
    "reminders_sent",
    "next_reminder_at",
    "escalated_at",
    "closed_at",
    "closed_by",
    "close_reason",
)


class NoticeEventInline(admin.TabularInline):
    model = NoticeEvent
    fields = NOTICE_EVENT_FIELDS
    readonly_fields = NOTICE_EVENT_FIELDS
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class EscalatedFilter(YesNoFilter):
    title = parameter_name = "escalated"
    column = "escalated_at"


@admin.register(Notice)
class NoticeAdmin(AuditedAdmin):
    """Notices to providers, to read: the services in routing/notices.py send, remind,
    record answers to and close them; staff do so from a report's page."""

    audit_views = True  # a notice's page names the reported content
    list_display = [
        "id",
        "report_link",
        "provider",
        "notice_type",
        "status",
        "answer",
        "sent_at",
        "deadline_at",
        "answered_at",
        "reminders_sent",
        "escalated_at",
    ]
    list_filter = ["status", "answer", EscalatedFilter, "provider", "notice_type"]
    search_fields = ["=report__id"]
    list_select_related = ["provider"]
    fields = NOTICE_FIELDS
    readonly_fields = NOTICE_FIELDS
    inlines = [NoticeEventInline]
    ordering = ["-sent_at", "-pk"]
    show_full_result_count = False

    @admin.display(description="Report", ordering="report_id")
    def report_link(self, notice: Notice) -> str:
        url = reverse("admin:intake_report_change", args=[notice.report_id])
        return format_html('<a href="{}">Report {}</a>', url, notice.report_id)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(AnonymizerNetwork)
class AnonymizerNetworkAdmin(AuditedAdmin):
    list_display = ["network", "source", "created_at"]
    search_fields = ["network", "source"]
