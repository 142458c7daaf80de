from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from intake.forms import PublicReportForm
from intake.services import report_submit_public


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "intake/home.html")


@require_http_methods(["GET", "POST"])
def public_report(request: HttpRequest) -> HttpResponse:
    form = PublicReportForm(request.POST or None)
    if request.method == "POST" and request.FILES:
        # The form has no upload field; a file sent anyway was hashed in transit and dropped.
        form.add_error(
            None,
            "Files cannot be sent here, and none were kept. Please describe what you saw "
            "in words instead.",
        )
    elif request.method == "POST" and form.is_valid():
        report = report_submit_public(document=form.report_document())
        return render(request, "intake/report_received.html", {"report": report})
    status = 400 if request.method == "POST" else 200
    return render(request, "intake/report_form.html", {"form": form}, status=status)
