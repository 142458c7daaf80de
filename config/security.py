"""The headers that tell browsers what a page may load and run (Content-Security-Policy)
and which of the device's features it may use (Permissions-Policy), on every response.
Django's SecurityMiddleware sets the others (HSTS, Referrer-Policy, Cross-Origin-Opener-Policy,
X-Content-Type-Options)."""

from collections.abc import Callable, Mapping, Sequence
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

Directives = Mapping[str, Sequence[str]]


def content_security_policy(directives: Directives) -> str:
    """``{"img-src": ["'self'", "data:"]}`` as ``img-src 'self' data:``."""
    return "; ".join(" ".join([name, *sources]) for name, sources in directives.items())


def permissions_policy(features: Directives) -> str:
    """``{"camera": []}`` as ``camera=()``: an empty list denies the feature to every page."""
    return ", ".join(f"{feature}=({' '.join(origins)})" for feature, origins in features.items())


def content_security_policy_extended(
    extra: Directives,
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """A view decorator: the policy with ``extra`` sources added to its directives, for a
    third-party page that needs them (never for a script source)."""
    if any(name.startswith(("script-src", "default-src")) for name in extra):
        raise ValueError("A page's policy may not add script sources.")

    def decorate(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def with_policy(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            response = view(request, *args, **kwargs)
            policy = settings.CONTENT_SECURITY_POLICY
            directives = {
                name: [*policy.get(name, []), *extra.get(name, [])] for name in {**policy, **extra}
            }
            response.headers["Content-Security-Policy"] = content_security_policy(directives)
            return response

        return with_policy

    return decorate


class SecurityHeadersMiddleware:
    """Adds the two headers from settings.CONTENT_SECURITY_POLICY and
    settings.PERMISSIONS_POLICY, unless the view set its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.headers = {
            "Content-Security-Policy": content_security_policy(settings.CONTENT_SECURITY_POLICY),
            "Permissions-Policy": permissions_policy(settings.PERMISSIONS_POLICY),
        }

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        for name, value in self.headers.items():
            response.headers.setdefault(name, value)
        return response
