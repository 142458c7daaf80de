"""The agency workspace (/agency/): an agency's officers sign in with a password and a TOTP
code, work their queue of referrals, and act on each: acknowledge, assign, set the case
status, add notes, refer on, export. Every page shows the signed-in agency's referrals
only; anything else is answered as not found. Pages are private (no-store)."""

import csv
from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import login as otp_login

from config.errors import ApplicationError
from intake.audit import audit_record
from intake.models import AuditEntry
from routing.delivery import referral_payload
from routing.forms import (
    AgencyPasswordForm,
    AgencySignInForm,
    AssignForm,
    CaseStatusForm,
    LanguageForm,
    NoteForm,
    QueueFilterForm,
    ReferOnForm,
)
from routing.models import AgencyMember, Referral
from routing.selectors import (
    agency_queue,
    agency_queue_counts,
    agency_referral,
    referral_trail,
)
from routing.services import (
    agency_member_language_set,
    agency_password_change,
    referral_acknowledge,
    referral_assign,
    referral_case_status_set,
    referral_note_add,
    referral_refer_on,
)

QUEUE_PAGE_SIZE = 50

# The services' refusals, in the officer's language, by code.
REFUSALS = {
    "not_delivered": gettext_lazy("Only a referral delivered to your agency can be acknowledged."),
    "invalid_assignee": gettext_lazy("Choose a colleague at your agency."),
    "invalid_agency": gettext_lazy("Choose another, active agency."),
    "already_referred": gettext_lazy("The report is already referred to that agency."),
    "reason_required": gettext_lazy("A reason is required."),
    "required": gettext_lazy("Write the note."),
    "referral_closed": gettext_lazy("This referral was already referred on."),
    "invalid_choice": gettext_lazy("Choose one of the options given."),
}
AgencyView = Callable[..., HttpResponseBase]


def signed_in_member(request: HttpRequest) -> AgencyMember | None:
    """The agency user behind ``request``, verified by their second factor, at an active
    agency; None for anyone else (staff included)."""
    user = request.user
    is_verified = getattr(user, "is_verified", None)  # set by django-otp's middleware
    if not (user.is_authenticated and is_verified and is_verified()):
        return None
    member = getattr(user, "agency_member", None)
    if member is None or not member.agency.is_active:
        return None
    return member


def agency_page(*, before_password_change: bool = False) -> Callable[[AgencyView], AgencyView]:
    """A workspace page: for a signed-in agency user, in their language; until the
    one-time password is changed, only the page that changes it."""

    def decorate(view: AgencyView) -> AgencyView:
        @wraps(view)
        @never_cache
        def page(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            member = signed_in_member(request)
            if member is None:
                return redirect_to_login(request.get_full_path(), reverse("agency:sign-in"))
            if member.must_change_password and not before_password_change:
                return redirect("agency:password")
            if member.language:
                translation.activate(member.language)
                request.LANGUAGE_CODE = member.language
            return view(request, member, *args, **kwargs)

        return page

    return decorate


def next_url(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def remember_language(response: HttpResponse, language: str) -> HttpResponse:
    if language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    form = AgencySignInForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.get_user()
        login(request, user)
        otp_login(request, user.otp_device)  # type: ignore[attr-defined]
        member = user.agency_member
        target = (
            reverse("agency:password")
            if member.must_change_password
            else next_url(request, reverse("agency:queue"))
        )
        return remember_language(redirect(target), member.language)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "agency/sign_in.html",
        {"form": form, "next": request.GET.get("next", "")},
        status=status,
    )


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("agency:sign-in")


@agency_page(before_password_change=True)
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest, member: AgencyMember) -> HttpResponse:
    form = AgencyPasswordForm(member.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            agency_password_change(member=member, new_password=form.cleaned_data["new_password1"])
            audit_record(
                action=AuditEntry.Action.CHANGE,
                request=request,
                obj=member,
                detail={"what": "password"},
            )
        update_session_auth_hash(request, member.user)
        messages.success(request, _("Your password is changed."))
        return redirect("agency:queue")
    status = 400 if request.method == "POST" else 200
    return render(request, "agency/password.html", {"member": member, "form": form}, status=status)


@agency_page(before_password_change=True)
@require_POST
def language_set(request: HttpRequest, member: AgencyMember) -> HttpResponse:
    form = LanguageForm(request.POST)
    language = form.data.get("language", "")
    try:
        agency_member_language_set(member=member, language=str(language))
    except ApplicationError:
        messages.error(request, _("Choose one of the listed languages."))
        return redirect("agency:queue")
    translation.activate(language)
    return remember_language(redirect(next_url(request, reverse("agency:queue"))), language)


@agency_page()
@require_GET
def queue(request: HttpRequest, member: AgencyMember) -> HttpResponse:
    filters = QueueFilterForm(request.GET, agency=member.agency)
    page = None
    if filters.is_valid():
        referrals = agency_queue(agency=member.agency, filters=filters.filters())
        page = Paginator(referrals, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "agency/queue.html",
        {
            "member": member,
            "filters": filters,
            "page": page,
            "counts": agency_queue_counts(agency=member.agency),
            "export_query": request.GET.urlencode(),
        },
        status=200 if page is not None else 400,
    )


EXPORT_COLUMNS = [
    "referral",
    "report",
    "priority",
    "incident_type",
    "country",
    "received_at",
    "referral_status",
    "case_status",
    "assigned_to",
    "acknowledged_at",
    "bundle",
]


def spreadsheet_safe(value: object) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class Echo:
    def write(self, value: str) -> str:
        return value


@agency_page()
@require_GET
def export(request: HttpRequest, member: AgencyMember) -> HttpResponseBase:
    """The queue as filtered, as CSV; every export is on the audit trail."""
    filters = QueueFilterForm(request.GET, agency=member.agency)
    if not filters.is_valid():
        return queue(request)
    referrals = agency_queue(agency=member.agency, filters=filters.filters())
    audit_record(
        action=AuditEntry.Action.EXPORT,
        request=request,
        obj=member.agency,
        detail={"what": "agency queue", "filters": request.GET.dict(), "rows": referrals.count()},
    )
    writer = csv.writer(Echo())

    def rows() -> Iterator[str]:
        yield writer.writerow(EXPORT_COLUMNS)
        for referral in referrals.iterator(chunk_size=500):
            if referral.status == Referral.Status.RE_REFERRED:
                # Referred on: the agency keeps the fact, not the report.
                yield writer.writerow([referral.pk, "", "", "", "", "", referral.status])
                continue
            report = referral.report
            yield writer.writerow(
                [
                    spreadsheet_safe(value)
                    for value in (
                        referral.pk,
                        report.pk,
                        report.priority,
                        report.incident_type,
                        report.resolved_country,
                        referral.delivered_at.isoformat() if referral.delivered_at else "",
                        referral.status,
                        referral.case_status,
                        referral.assigned_to.get_username() if referral.assigned_to else "",
                        referral.acknowledged_at.isoformat() if referral.acknowledged_at else "",
                        report.bundle_id or "",
                    )
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    filename = f"referrals-{member.agency.code}-{timezone.now():%Y%m%d-%H%M}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def held_referral(member: AgencyMember, referral_id: int) -> Referral:
    referral = agency_referral(agency=member.agency, referral_id=referral_id)
    if referral is None:
        raise Http404
    return referral


@agency_page()
@require_GET
def referral_page(request: HttpRequest, member: AgencyMember, referral_id: int) -> HttpResponse:
    return render_referral(request, member, held_referral(member, referral_id))


def render_referral(
    request: HttpRequest,
    member: AgencyMember,
    referral: Referral,
    forms: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    """A referral's page: the report as delivered to the agency with what it has done;
    or, once referred on, only what the agency wrote and where it went."""
    notes = list(referral.notes.select_related("author"))
    if referral.status == Referral.Status.RE_REFERRED:
        return render(
            request,
            "agency/referred_on.html",
            {"member": member, "referral": referral, "notes": notes},
            status=status,
        )
    audit_record(action=AuditEntry.Action.VIEW, request=request, obj=referral)
    payload = referral_payload(referral)
    record = payload["report"]
    files = record["files"]
    agency = member.agency
    context = {
        "member": member,
        "referral": referral,
        "report": referral.report,
        "record": record,
        "document": payload["document"],
        "referred_from": referral.referred_from.agency if referral.referred_from else None,
        "known_files": sum(1 for file in files if file["knownMatch"]),
        "new_files": sum(1 for file in files if not file["knownMatch"]),
        "trail": referral_trail(referral),
        "notes": notes,
        "assign_form": AssignForm(agency=agency, initial={"assigned_to": referral.assigned_to}),
        "status_form": CaseStatusForm(initial={"case_status": referral.case_status}),
        "note_form": NoteForm(),
        "refer_on_form": ReferOnForm(agency=agency),
        **(forms or {}),
    }
    return render(request, "agency/referral.html", context, status=status)


def act(
    request: HttpRequest,
    member: AgencyMember,
    referral_id: int,
    *,
    form_name: str,
    form: Any,
    action: Callable[[], Any],
    done: str,
    then: str | None = None,
) -> HttpResponse:
    """Run one action on the agency's referral: on success back to its page (or ``then``)
    with ``done`` said; on a bad form or a refused action, the page again with the
    errors, and nothing changed. Only a referral the agency holds is acted on: one it
    referred on is not found."""
    referral = held_referral(member, referral_id)
    if referral.status not in Referral.HELD_STATUSES:
        raise Http404
    if form is None or form.is_valid():
        try:
            with transaction.atomic():
                action()
                audit_record(
                    action=AuditEntry.Action.ACTION,
                    request=request,
                    obj=referral,
                    detail={
                        "action": request.resolver_match.url_name if request.resolver_match else "",
                        # What was chosen; a note's text stays with the agency.
                        **{
                            name: str(value)
                            for name, value in (form.cleaned_data if form else {}).items()
                            if name != "text"
                        },
                    },
                )
        except ApplicationError as error:
            if error.http_status == 404:
                raise Http404 from None
            message = str(REFUSALS.get(error.code, error.message))
            if form is not None:
                field = next((name for name in error.fields if name in form.fields), None)
                form.add_error(field, message)
            else:
                messages.error(request, message)
            referral.refresh_from_db()
            return render_referral(
                request,
                member,
                referral,
                {form_name: form} if form else None,
                status=error.http_status,
            )
        messages.success(request, done)
        return redirect(then or reverse("agency:referral", args=[referral_id]))
    return render_referral(request, member, referral, {form_name: form}, status=400)


@agency_page()
@require_POST
def acknowledge(request: HttpRequest, member: AgencyMember, referral_id: int) -> HttpResponse:
    return act(
        request,
        member,
        referral_id,
        form_name="",
        form=None,
        action=lambda: referral_acknowledge(
            referral_id=referral_id, by_agency=member.agency, by_user=member.user
        ),
        done=_("Acknowledged: the report is in your agency's work."),
    )


@agency_page()
@require_POST
def assign(request: HttpRequest, member: AgencyMember, referral_id: int) -> HttpResponse:
    form = AssignForm(request.POST, agency=member.agency)
    return act(
        request,
        member,
        referral_id,
        form_name="assign_form",
        form=form,
        action=lambda: referral_assign(
            referral_id=referral_id,
            assignee=form.cleaned_data["assigned_to"],
            by_agency=member.agency,
            by_user=member.user,
        ),
        done=_("Assignment saved."),
    )


@agency_page()
@require_POST
def case_status(request: HttpRequest, member: AgencyMember, referral_id: int) -> HttpResponse:
    form = CaseStatusForm(request.POST)
    return act(
        request,
        member,
        referral_id,
        form_name="status_form",
        form=form,
        action=lambda: referral_case_status_set(
            referral_id=referral_id,
            case_status=form.cleaned_data["case_status"],
            by_agency=member.agency,
            by_user=member.user,
        ),
        done=_("Case status saved."),
    )


@agency_page()
@require_POST
def note_add(request: HttpRequest, member: AgencyMember, referral_id: int) -> HttpResponse:
    form = NoteForm(request.POST)
    return act(
        request,
        member,
        referral_id,
        form_name="note_form",
        form=form,
        action=lambda: referral_note_add(
            referral_id=referral_id,
            text=form.cleaned_data["text"],
            by_agency=member.agency,
            by_user=member.user,
        ),
        done=_("Note added."),
    )


@agency_page()
@require_POST
def refer_on(request: HttpRequest, member: AgencyMember, referral_id: int) -> HttpResponse:
    form = ReferOnForm(request.POST, agency=member.agency)
    return act(
        request,
        member,
        referral_id,
        form_name="refer_on_form",
        form=form,
        action=lambda: referral_refer_on(
            referral_id=referral_id,
            to_agency=form.cleaned_data["agency"],
            reason=form.cleaned_data["reason"],
            by_agency=member.agency,
            by_user=member.user,
        ),
        done=_("Referred on: the report has left your queue."),
        then=reverse("agency:queue"),
    )
