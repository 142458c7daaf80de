"""The public pages: what can be reported, the report form, its receipt, and the status
page where a reporter with their receipt code sees where the report is and adds to it.
Every page is private (Cache-Control: no-store) and loads nothing from elsewhere."""

from urllib.parse import unquote_to_bytes

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from config.errors import ApplicationError
from intake.forms import UNREADABLE, AdditionForm, PublicReportForm, StatusLookupForm
from intake.ratelimit import client_key, count_and_wait
from intake.receipts import receipt_code_for_people
from intake.selectors import public_report_status
from intake.services import public_report_unlock, report_addition_add, report_submit_public


@never_cache
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "intake/home.html")


def refused_body(request: HttpRequest) -> HttpResponse | None:
    """A page for files, which the public pages never take (they were hashed in transit
    and dropped, never kept; a body too large never gets this far:
    intake.middleware.PublicBodyLimitMiddleware)."""
    if request.FILES:
        return render(request, "intake/refused.html", {"reason": "files"}, status=400)
    return None


def undecodable_fields(request: HttpRequest) -> set[str]:
    """The fields of a urlencoded body whose bytes are not UTF-8. Django would read them
    with replacement characters; browsers never send them, so they are refused instead."""
    if request.content_type != "application/x-www-form-urlencoded":
        return set()
    names = set()
    for pair in request.body.split(b"&"):
        name, _, value = (
            unquote_to_bytes(part.replace(b"+", b" ")) for part in pair.partition(b"=")
        )
        try:
            name.decode("utf-8")
            value.decode("utf-8")
        except UnicodeDecodeError:
            names.add(name.decode("utf-8", "replace"))
    return names


def is_valid_and_readable(form: forms.Form, request: HttpRequest) -> bool:
    """``form.is_valid()``, and each of its fields sent as UTF-8."""
    valid = form.is_valid()
    for name in sorted(undecodable_fields(request) & set(form.fields)):
        form.add_error(name, UNREADABLE)
    return valid and not form.errors


def too_many(request: HttpRequest, retry_after: int) -> HttpResponse:
    response = render(
        request, "intake/too_many.html", {"minutes": -(-retry_after // 60)}, status=429
    )
    response["Retry-After"] = str(retry_after)
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def public_report(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        refused = refused_body(request)
        if refused:
            return refused
    form = PublicReportForm(request.POST or None)
    if request.method == "POST" and is_valid_and_readable(form, request):
        wait = count_and_wait(
            f"public-report:{client_key(request)}",
            limit=settings.PUBLIC_REPORTS_PER_HOUR,
            window=3600,
        )
        if wait:
            return too_many(request, wait)
        submission = report_submit_public(document=form.report_document())
        return render(
            request,
            "intake/report_received.html",
            {
                "report": submission.report,
                "receipt_code": receipt_code_for_people(submission.receipt_code),
                "danger_now": form.cleaned_data["child_in_danger_now"],
            },
        )
    status = 400 if request.method == "POST" else 200
    return render(request, "intake/report_form.html", {"form": form}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def report_status(request: HttpRequest) -> HttpResponse:
    """GET: the lookup form. POST with a number and code: the status and a form to add
    information; POST with text too: the information is added."""
    if request.method == "GET":
        return render(request, "intake/report_status.html", {"lookup": StatusLookupForm()})
    refused = refused_body(request)
    if refused:
        return refused
    lookup = StatusLookupForm(request.POST)
    if not lookup.is_valid():
        return render(request, "intake/report_status.html", {"lookup": lookup}, status=400)
    check = public_report_unlock(
        client=client_key(request),
        report_id=lookup.cleaned_data["report_number"],
        code=lookup.cleaned_data["receipt_code"],
    )
    if check.retry_after:
        return too_many(request, check.retry_after)
    if check.report is None:
        return render(
            request, "intake/report_status.html", {"lookup": lookup, "no_match": True}, status=404
        )
    adding = "text" in request.POST
    addition = AdditionForm(request.POST if adding else None, initial=lookup.cleaned_data)
    added = adding and is_valid_and_readable(addition, request)
    if added:
        try:
            report_addition_add(report=check.report, text=addition.cleaned_data["text"])
        except ApplicationError:
            # Purged since its code was checked: its receipt is gone with its personal data.
            return render(
                request,
                "intake/report_status.html",
                {"lookup": lookup, "no_match": True},
                status=404,
            )
        addition = AdditionForm(initial=lookup.cleaned_data)
    return render(
        request,
        "intake/report_status.html",
        {
            "report": check.report,
            "status": public_report_status(check.report),
            "addition": addition,
            "added": added,
        },
        status=400 if adding and not added else 200,
    )
