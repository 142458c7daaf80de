import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.actions import delete_selected
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.html import format_html, format_html_join

from config.admin import AuditedAdmin
from config.errors import ApplicationError
from intake.audit import audit_record, audit_trail_of
from intake.identifiers import identifier_key
from intake.models import (
    ApiToken,
    AuditEntry,
    Bundle,
    HashFeedback,
    IpCaptureEvent,
    KnownHash,
    Provider,
    Report,
    ReportAddition,
    ReportedFile,
    ReportIdentifier,
)
from intake.selectors import referral_history, report_with_details
from intake.sharing import (
    known_hash_save,
    known_hashes_delete_unshared,
    known_hashes_set_active,
    provider_hash_sharing_set,
)
from intake.templatetags.reports import document_as_html
from intake.triage import TRIAGE_ACTIONS, ReasonForm, TriageAction
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
    """Each file's metadata and what the known-hash list made of it (never its bytes:
    the system has none)."""

    model = ReportedFile
    readonly_fields = (
        "file_id",
        "source",
        "file_name",
        "media_type",
        "size_bytes",
        "md5",
        "sha1",
        "sha256",
        "pdq",
        "known_hash",
        "match_distance",
        "times_seen_before",
    )
    fields = readonly_fields


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


class WaitingForStaffFilter(admin.SimpleListFilter):
    """The triage view: finished reports that wait for a person."""

    title = "waiting for staff"
    parameter_name = "waiting"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("location", "Country unknown or low confidence"),
            ("dead_lettered", "Referral dead-lettered"),
            ("p1_unacknowledged", "Priority 1, not yet acknowledged"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Report]) -> QuerySet[Report]:
        finished = queryset.filter(status=Report.Status.FINISHED)
        if self.value() == "location":
            return finished.filter(Q(resolved_country="") | Q(country_confidence="low"))
        if self.value() == "dead_lettered":
            return finished.filter(
                Exists(
                    Referral.objects.filter(
                        report=OuterRef("pk"), status=Referral.Status.DEAD_LETTERED
                    )
                )
            )
        if self.value() == "p1_unacknowledged":
            return finished.filter(priority=Report.Priority.IMMINENT).exclude(
                Exists(
                    Referral.objects.filter(report=OuterRef("pk"), acknowledged_at__isnull=False)
                )
            )
        return queryset


class YesNoFilter(admin.SimpleListFilter):
    """Whether a column is set."""

    column = ""

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Report]) -> QuerySet[Report]:
        if self.value() in ("yes", "no"):
            return queryset.filter(**{f"{self.column}__isnull": self.value() == "no"})
        return queryset


class BundledFilter(YesNoFilter):
    title = parameter_name = "bundled"
    column = "bundle"


class ReviewedFilter(YesNoFilter):
    title = parameter_name = "reviewed"
    column = "reviewed_at"


SECTIONS = [
    (
        "Report",
        [
            "id",
            "source",
            "provider",
            "status",
            "incident_type",
            "incident_datetime",
            "incident_datetime_description",
            "escalate_to_high_priority",
            "description",
        ],
    ),
    (
        "Times",
        [
            "received_at",
            "finished_at",
            "routed_at",
            "reviewed_at",
            "reviewed_by",
            "retracted_at",
            "expired_at",
            "personal_data_purged_at",
        ],
    ),
    ("Reporter", ["reporter_name", "reporter_email", "reporter_phone", "stated_country"]),
    (
        "Where it resolves",
        ["resolved_country", "country_confidence", "us_state", "location_evidence"],
    ),
    ("Priority", ["priority", "priority_reasons_list", "priority_overrides_list"]),
    ("Content", ["content_status", "bundle"]),
    ("Referrals and every delivery attempt", ["referrals_and_attempts"]),
    ("The report as submitted, by section", ["submitted_report"]),
    ("Audit trail", ["audit_trail"]),
]


@admin.register(Report)
class ReportAdmin(AuditedAdmin):
    audit_views = True  # every look at a report's page is on the record
    list_display = [
        "id",
        "received_at",
        "source",
        "incident_type",
        "country",
        "priority_level",
        "content_status",
        "bundle",
        "status",
        "reviewed",
    ]
    list_filter = [
        WaitingForStaffFilter,
        "priority",
        "status",
        "source",
        "incident_type",
        "content_status",
        "country_confidence",
        "resolved_country",
        BundledFilter,
        ReviewedFilter,
    ]
    # Exact matches on indexed columns; screen names, emails, phones and web addresses
    # through ReportIdentifier (get_search_results).
    search_fields = [
        "=id",
        "=ip_capture_events__ip_address",
        "=files__md5",
        "=files__sha1",
        "=files__sha256",
    ]
    search_help_text = (
        "A report number, IP address, file hash (MD5, SHA-1, SHA-256), screen name, email "
        "address, phone number or web address, exactly."
    )
    date_hierarchy = "received_at"
    ordering = ["priority", "-received_at"]  # "1" < "2" < "3" < "I": most urgent first
    list_select_related = ["provider", "bundle"]
    show_full_result_count = False
    fieldsets = [(title, {"fields": tuple(fields)}) for title, fields in SECTIONS]
    readonly_fields = [field for _title, fields in SECTIONS for field in fields]
    inlines = [IpCaptureEventInline, ReportedFileInline, ReportAdditionInline, ReferralInline]
    actions = ["bulk_set_priority", "bulk_mark_reviewed", "bulk_route", "bulk_send_notice"]
    change_form_template = "admin/intake/report/change_form.html"

    class Media:
        css = {"all": ["intake/admin.css"]}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # What was submitted is evidence and stays as it came; staff act through the
        # triage actions, each with a reason.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # Reports are evidence: they are retracted or expired, never deleted.
        return False

    def has_triage_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("intake.triage_report")

    def has_route_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("intake.route_report")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Report], search_term: str
    ) -> tuple[QuerySet[Report], bool]:
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if search_term.strip():
            named = ReportIdentifier.objects.filter(value=identifier_key(search_term)).values(
                "report_id"
            )
            results = results | queryset.filter(pk__in=named)
        return results, may_have_duplicates

    @admin.display(description="Country", ordering="resolved_country")
    def country(self, report: Report) -> str:
        if not report.resolved_country:
            return "unknown"
        return f"{report.resolved_country} ({report.country_confidence})"

    @admin.display(description="Priority", ordering="priority")
    def priority_level(self, report: Report) -> str:
        return report.priority

    @admin.display(description="Reviewed", boolean=True)
    def reviewed(self, report: Report) -> bool:
        return report.reviewed_at is not None

    @admin.display(description="Location evidence")
    def location_evidence(self, report: Report) -> str:
        location = report.location or {}
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    item.get("source", ""),
                    item.get("value", ""),
                    item.get("country", "") or "-",
                    item.get("weight", ""),
                )
                for item in location.get("evidence", [])
            ),
        )
        return format_html(
            "<p>{}</p><table><thead><tr><th>Source</th><th>Value</th><th>Country</th>"
            "<th>Weight</th></tr></thead><tbody>{}</tbody></table>",
            location.get("rule", "Not located yet."),
            rows,
        )

    @admin.display(description="Referrals")
    def referrals_and_attempts(self, report: Report) -> str:
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    f"{referral['agency']} ({referral['status']})",
                    step["event"],
                    step["at"][:19].replace("T", " "),
                    step["by"] or "",
                    step["httpStatus"] or "",
                    step["detail"] or "",
                )
                for referral in referral_history(report_with_details(report_id=report.pk))
                for step in referral["history"]
            ),
        )
        return format_html(
            '<table class="referral-history"><thead><tr><th>Referral</th><th>Step</th>'
            "<th>When</th><th>By</th><th>HTTP</th><th>Detail</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            rows,
        )

    @admin.display(description="Priority reasons")
    def priority_reasons_list(self, report: Report) -> str:
        return format_html(
            "<ul>{}</ul>",
            format_html_join("", "<li>{}</li>", ((reason,) for reason in report.priority_reasons)),
        )

    @admin.display(description="Set by staff")
    def priority_overrides_list(self, report: Report) -> str:
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{} by {}: {} to {}, because {}</li>",
                (
                    (item["at"][:19], item["by"], item["from"] or "-", item["to"], item["reason"])
                    for item in report.priority_overrides
                ),
            ),
        )

    # Triage ----------------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        triage = path(
            "<path:object_id>/triage/<str:action>/",
            self.admin_site.admin_view(self.triage_view),
            name="intake_report_triage",
        )
        return [triage, *super().get_urls()]

    def allowed_triage(self, request: HttpRequest) -> list[TriageAction]:
        return [
            action
            for action in TRIAGE_ACTIONS.values()
            if request.user.has_perm(f"intake.{action.permission}")
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra = {**(extra_context or {}), "triage_actions": self.allowed_triage(request)}
        return super().change_view(request, object_id, form_url, extra)

    def triage_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        """One triage action on one report: its form, then the action, then the report."""
        triage = TRIAGE_ACTIONS.get(action)
        report = self.get_object(request, object_id)
        if triage is None or report is None:
            raise Http404("No such report or action.")
        if not request.user.has_perm(f"intake.{triage.permission}"):
            raise PermissionDenied
        form = triage.form(request.POST or None)
        if request.method == "POST" and form.is_valid():
            done = self.apply_triage(request, triage, [report], form)
            if done:
                return redirect("admin:intake_report_change", report.pk)
        return self.triage_page(request, triage, [report], form)

    def apply_triage(
        self,
        request: HttpRequest,
        triage: TriageAction,
        reports: list[Report],
        form: forms.Form,
    ) -> int:
        """Applies ``triage`` to each report, each with its audit entry in the same
        transaction (no action without its record); a report the action cannot apply to
        is named in an error message. Returns how many it did."""
        done = 0
        for report in reports:
            try:
                with transaction.atomic():
                    extra = triage.apply(report, form.cleaned_data, request.user)  # type: ignore[arg-type]
                    audit_record(
                        action=AuditEntry.Action.ACTION,
                        request=request,
                        obj=report,
                        detail={
                            "action": triage.name,
                            "reason": form.cleaned_data["reason"],
                            **extra,
                        },
                    )
            except ApplicationError as error:
                self.message_user(request, f"Report {report.pk}: {error.message}", messages.ERROR)
                continue
            done += 1
        if done:
            self.message_user(
                request, f"{triage.label}: done for {done} report(s).", messages.SUCCESS
            )
        return done

    def triage_page(
        self,
        request: HttpRequest,
        triage: TriageAction,
        reports: list[Report] | QuerySet[Report],
        form: forms.Form,
        *,
        bulk: bool = False,
    ) -> HttpResponse:
        return TemplateResponse(
            request,
            "admin/intake/report/triage.html",
            {
                **self.admin_site.each_context(request),
                "title": triage.label,
                "opts": self.model._meta,
                "triage": triage,
                "reports": reports,
                "form": form,
                "bulk": bulk,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )

    def bulk_triage(
        self, request: HttpRequest, queryset: QuerySet[Report], name: str
    ) -> HttpResponse | None:
        triage = TRIAGE_ACTIONS[name]
        form = triage.form(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            self.apply_triage(request, triage, list(queryset), form)
            return None
        return self.triage_page(request, triage, queryset, form, bulk=True)

    @admin.action(description="Change priority", permissions=["triage"])
    def bulk_set_priority(
        self, request: HttpRequest, queryset: QuerySet[Report]
    ) -> HttpResponse | None:
        return self.bulk_triage(request, queryset, "set_priority")

    @admin.action(description="Mark reviewed", permissions=["triage"])
    def bulk_mark_reviewed(
        self, request: HttpRequest, queryset: QuerySet[Report]
    ) -> HttpResponse | None:
        return self.bulk_triage(request, queryset, "mark_reviewed")

    @admin.action(description="Route or re-route to an agency", permissions=["route"])
    def bulk_route(self, request: HttpRequest, queryset: QuerySet[Report]) -> HttpResponse | None:
        return self.bulk_triage(request, queryset, "route")

    @admin.action(description="Send a notice to the provider", permissions=["triage"])
    def bulk_send_notice(
        self, request: HttpRequest, queryset: QuerySet[Report]
    ) -> HttpResponse | None:
        return self.bulk_triage(request, queryset, "send_notice")

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
        return document_as_html(report.document)


@admin.register(Provider)
class ProviderAdmin(AuditedAdmin):
    list_display = ["name", "user", "is_active", "hash_sharing_agreement", "created_at"]
    list_filter = ["hash_sharing_agreement"]
    search_fields = ["name"]
    readonly_fields = ["user", "created_at", "hash_sharing_agreed_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.has_perm("intake.manage_hash_sharing"):
            readonly.append("hash_sharing_agreement")
        if not request.user.is_superuser:
            # Supervisors change a provider for its agreement only.
            readonly += ["name", "is_active"]
        return readonly

    def save_model(self, request: HttpRequest, obj: Provider, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if "hash_sharing_agreement" in form.changed_data:
            provider_hash_sharing_set(provider=obj, agreed=obj.hash_sharing_agreement)


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdmin):
    list_display = ["user", "created_at"]
    readonly_fields = ["user", "key_hash", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class HashFeedbackInline(ReadOnlyInline):
    """Providers' verdicts on a shared entry, newest first."""

    model = HashFeedback
    fields = ["created_at", "provider", "verdict", "reason"]
    readonly_fields = ["created_at", "provider", "verdict", "reason"]
    ordering = ["-created_at"]


class SharedFilter(YesNoFilter):
    title = parameter_name = "shared"
    column = "shared_seq"


class DisputedFilter(admin.SimpleListFilter):
    """Entries a provider disputed: for staff to look at again."""

    title = parameter_name = "disputed"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Disputed by a provider")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(
                Exists(
                    HashFeedback.objects.filter(
                        known_hash=OuterRef("pk"), verdict=HashFeedback.Verdict.DISPUTED
                    )
                )
            )
        return queryset


def delete_selected_in_one_transaction(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Any]
) -> HttpResponse | None:
    """Django's bulk delete, its audit entries and the deletion committed together or not
    at all."""
    with transaction.atomic():
        return delete_selected(modeladmin, request, queryset)


# Entries withdrawn or put back by one action, at most: a selection larger than this is a
# mistake, or a job for a command.
WITHDRAW_AT_MOST = 10_000


@admin.register(KnownHash)
class KnownHashAdmin(AuditedAdmin):
    list_display = [
        "hash_type",
        "value",
        "label",
        "source",
        "is_active",
        "shared",
        "confirmed_by",
        "created_at",
    ]
    list_filter = ["hash_type", "is_active", SharedFilter, DisputedFilter]
    search_fields = ["=value", "label"]
    show_full_result_count = False
    readonly_fields = ["confirmed_by", "confirmed_at", "confirmed_from_report", "shared_seq"]
    inlines = [HashFeedbackInline]
    actions = ["withdraw_entries", "restore_entries"]

    @admin.display(description="Shared", boolean=True)
    def shared(self, entry: KnownHash) -> bool:
        return entry.shared_seq is not None

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            # An entry keeps its hash; it is withdrawn or put back by the actions, with a
            # reason, so that providers syncing it learn of each change.
            readonly += ["hash_type", "value", "is_active"]
        return readonly

    def save_model(self, request: HttpRequest, obj: KnownHash, form: Any, change: bool) -> None:
        known_hash_save(entry=obj, changed=form.changed_data)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # A shared entry is withdrawn, never deleted: providers that synced it learn of a
        # withdrawal (active: false), not of a deletion.
        if isinstance(obj, KnownHash) and obj.shared_seq is not None:
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request: HttpRequest, obj: KnownHash) -> None:
        self.delete_queryset(request, KnownHash.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[KnownHash]) -> None:
        # Refused (403) when an entry was shared since the page checked: the delete view
        # rolls back, and so does the bulk delete, audit entries with it (get_actions).
        try:
            known_hashes_delete_unshared(ids=list(queryset.values_list("pk", flat=True)))
        except ApplicationError as error:
            raise PermissionDenied(error.message) from error

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        if (bulk_delete := actions.get("delete_selected")) is not None:
            _, name, description = bulk_delete
            actions["delete_selected"] = (delete_selected_in_one_transaction, name, description)  # type: ignore[assignment]
        return actions

    def has_withdraw_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("intake.withdraw_known_hashes")

    @admin.action(
        description="Withdraw from the list (no longer matched or shared)", permissions=["withdraw"]
    )
    def withdraw_entries(
        self, request: HttpRequest, queryset: QuerySet[KnownHash]
    ) -> HttpResponse | None:
        return self.set_active(request, queryset, active=False)

    @admin.action(description="Put back on the list", permissions=["withdraw"])
    def restore_entries(
        self, request: HttpRequest, queryset: QuerySet[KnownHash]
    ) -> HttpResponse | None:
        return self.set_active(request, queryset, active=True)

    def set_active(
        self, request: HttpRequest, queryset: QuerySet[KnownHash], *, active: bool
    ) -> HttpResponse | None:
        """Ask for a reason, then withdraw or restore the entries, each change audited."""
        label = "Put back on the list" if active else "Withdraw from the list"
        count = queryset.count()
        if count > WITHDRAW_AT_MOST:
            self.message_user(
                request,
                f"{label}: at most {WITHDRAW_AT_MOST} entries at a time; {count} are chosen.",
                messages.ERROR,
            )
            return None
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        form.fields["reason"].help_text = "Required. Kept on each entry's audit trail."
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            with transaction.atomic():
                changed = known_hashes_set_active(
                    ids=list(queryset.values_list("pk", flat=True)), active=active, reason=reason
                )
                for entry in changed:
                    audit_record(
                        action=AuditEntry.Action.ACTION,
                        request=request,
                        obj=entry,
                        detail={"action": "restore" if active else "withdraw", "reason": reason},
                    )
            self.message_user(request, f"{label}: {len(changed)} entries.", messages.SUCCESS)
            return None
        return TemplateResponse(
            request,
            "admin/intake/knownhash/set_active.html",
            {
                **self.admin_site.each_context(request),
                "title": label,
                "restoring": active,
                "opts": self.model._meta,
                "entries": queryset.order_by("pk")[:100],
                "count": count,
                "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
                "form": form,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )


@admin.register(HashFeedback)
class HashFeedbackAdmin(AuditedAdmin):
    """What providers under the hash-sharing agreement said about shared entries."""

    list_display = ["created_at", "known_hash", "provider", "verdict", "reason"]
    list_filter = ["verdict", "provider"]
    list_select_related = ["known_hash", "provider"]
    readonly_fields = ["known_hash", "provider", "verdict", "reason", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


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


admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(AuditedAdmin, UserAdmin):
    """Users, for supervisors: they set roles (groups) and activity, and every change is
    on the audit trail; who is a superuser, and single permissions, only a superuser sets."""

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += ["is_superuser", "user_permissions"]
        return readonly
