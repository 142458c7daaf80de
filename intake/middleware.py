"""Refuses a body too large for the public pages before anything reads it (CSRF's check
would otherwise parse it first, files and all)."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

PUBLIC_FORM_PATHS = ("/report/",)  # the form and the status page below it


class PublicBodyLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.path_info.startswith(PUBLIC_FORM_PATHS):
            length = request.META.get("CONTENT_LENGTH") or "0"
            if not length.isdigit() or int(length) > settings.PUBLIC_FORM_MAX_BYTES:
                return render(request, "intake/refused.html", {"reason": "too_large"}, status=413)
        return self.get_response(request)
