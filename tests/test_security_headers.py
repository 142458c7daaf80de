"""The security headers and cookies as production sends them. A fresh interpreter with
config.settings.production (its own SQLite database, static files collected as the image
collects them, WhiteNoise serving them) makes a representative set of requests through the
whole middleware stack, over HTTPS as the proxy forwards it, and hands back each response's
status, headers, cookies and page."""

import base64
import json
import os
import re
import secrets
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from config.security import content_security_policy_extended
from tests.test_settings import PROJECT_ROOT, clean_environment

HOST = "tipline.example.com"
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), browsing-topics=(), camera=(), display-capture=(), "
    "encrypted-media=(), fullscreen=(), gamepad=(), geolocation=(), gyroscope=(), hid=(), "
    "idle-detection=(), local-fonts=(), magnetometer=(), microphone=(), midi=(), payment=(), "
    "picture-in-picture=(), publickey-credentials-create=(), publickey-credentials-get=(), "
    "screen-wake-lock=(), serial=(), usb=(), window-management=(), xr-spatial-tracking=()"
)
ONE_YEAR = 365 * 24 * 3600

# Each response asked for over HTTPS: its status and the start of its Content-Type.
OVER_HTTPS = {
    "home": (200, "text/html"),
    "report form": (200, "text/html"),
    "report received": (200, "text/html"),
    "report status": (200, "text/html"),
    "language chosen": (302, "text/html"),
    "public statistics": (200, "text/html"),
    "agency sign-in": (200, "text/html"),
    "agency signed in": (302, "text/html"),
    "agency queue": (200, "text/html"),
    "admin login": (200, "text/html"),
    "admin signed in": (302, "text/html"),
    "admin report list": (200, "text/html"),
    "admin report page": (200, "text/html"),
    "staff statistics": (200, "text/html"),
    "api docs": (200, "text/html"),
    "api docs script": (200, "application/javascript"),
    "api report opened": (201, "application/json"),
    "api without a token": (401, "application/json"),
    "api not found": (404, "application/json"),
    "ispws status": (200, "application/xml"),
    "ispws without a login": (401, ""),  # an empty body, as the CyberTipline answers
    "ispws with another scheme": (401, "application/xml"),
    "healthz": (200, "application/json"),
    "page not found": (404, "text/html"),
    "static file": (200, "text/css"),
}
PAGES = [name for name, (_status, kind) in OVER_HTTPS.items() if kind == "text/html"]


def record_production_responses(static_root: str, out: str) -> None:
    """Runs in the fresh interpreter: requests each response named in OVER_HTTPS (and two
    over plain HTTP) and writes what came back to ``out``, as JSON."""
    import io

    import django

    django.setup()
    from django.core.management import call_command
    from django.http import HttpResponse, HttpResponseBase
    from django.test import Client, override_settings

    from intake.examples import EXAMPLE_REPORT
    from intake.services import provider_create, staff_user_create
    from routing.models import AgencyMember
    from routing.services import agency_user_create
    from tests.conftest import current_totp

    override_settings(STATIC_ROOT=static_root).enable()
    call_command("migrate", verbosity=0)
    call_command("load_reference_data", stdout=io.StringIO())
    call_command("collectstatic", interactive=False, verbosity=0)
    provider = provider_create(name="Example Chat")
    staff = staff_user_create(username="chief", role="supervisor", superuser=True)
    officer = agency_user_create(agency_code="direct-gb", username="gb-officer")
    AgencyMember.objects.filter(user__username="gb-officer").update(language="fr")

    https = {"Host": HOST, "X-Forwarded-Proto": "https"}
    person, officer_browser, staff_browser = (Client(headers=https) for _ in range(3))
    seen: dict[str, dict[str, Any]] = {}

    def keep(name: str, response: HttpResponseBase) -> None:
        page = ""
        if isinstance(response, HttpResponse) and response["Content-Type"].startswith("text/html"):
            page = response.content.decode()
        seen[name] = {
            "status": response.status_code,
            "headers": dict(response.headers),
            "cookies": {
                cookie: {
                    "secure": bool(morsel["secure"]),
                    "httponly": bool(morsel["httponly"]),
                    "samesite": morsel["samesite"],
                }
                for cookie, morsel in response.cookies.items()
            },
            "page": page,
        }

    keep("home", person.get("/"))
    keep("report form", person.get("/report/"))
    keep(
        "report received",
        person.post(
            "/report/",
            {"what_happened": "images", "incident_date": "2026-02-03", "country": "DE"},
        ),
    )
    keep("report status", person.get("/report/status/"))
    keep("language chosen", person.post("/i18n/setlang/", {"language": "fr", "next": "/"}))
    keep("public statistics", person.get("/stats/public/"))
    keep("agency sign-in", officer_browser.get("/agency/sign-in/"))
    keep(
        "agency signed in",
        officer_browser.post(
            "/agency/sign-in/",
            {
                "username": "gb-officer",
                "password": officer.password,
                "otp_token": current_totp("gb-officer"),
            },
        ),
    )
    AgencyMember.objects.filter(user__username="gb-officer").update(must_change_password=False)
    keep("agency queue", officer_browser.get("/agency/"))
    keep("admin login", staff_browser.get("/admin/login/"))
    keep(
        "admin signed in",
        staff_browser.post(
            "/admin/login/?next=/admin/",
            {
                "username": "chief",
                "password": staff.password,
                "otp_token": current_totp("chief"),
                "next": "/admin/",
            },
        ),
    )
    keep("admin report list", staff_browser.get("/admin/intake/report/"))
    keep("admin report page", staff_browser.get("/admin/intake/report/1/change/"))
    keep("staff statistics", staff_browser.get("/stats/"))
    keep("api docs", person.get("/api/docs/"))
    keep("api docs script", person.get("/api/docs/?script="))
    keep(
        "api report opened",
        person.post(
            "/api/v1/reports",
            json.dumps(EXAMPLE_REPORT),
            content_type="application/json",
            headers={"Authorization": f"Token {provider.token}"},
        ),
    )
    keep("api without a token", person.get("/api/v1/reports/1"))
    keep(
        "api not found",
        person.get("/api/v1/nothing", headers={"Authorization": f"Token {provider.token}"}),
    )
    login = base64.b64encode(f"{provider.username}:{provider.password}".encode()).decode()
    keep("ispws status", person.get("/ispws/status", headers={"Authorization": f"Basic {login}"}))
    keep("ispws without a login", person.get("/ispws/status"))
    keep(
        "ispws with another scheme",
        person.get("/ispws/status", headers={"Authorization": f"Token {provider.token}"}),
    )
    keep("healthz", person.get("/healthz"))
    keep("page not found", person.get("/no-such-page/"))
    keep("static file", person.get("/static/intake/public.css"))

    plain_http = Client(headers={"Host": HOST})
    keep("home over http", plain_http.get("/"))
    keep("healthz over http", plain_http.get("/healthz"))
    Path(out).write_text(json.dumps(seen))


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    directory = tmp_path_factory.mktemp("production")
    out = directory / "responses.json"
    env = clean_environment(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS=HOST,
        DATABASE_URL=f"sqlite:///{directory / 'db.sqlite3'}",
        FIELD_ENCRYPTION_KEYS=base64.urlsafe_b64encode(os.urandom(32)).decode(),
    )
    arguments = [str(directory / "static"), str(out)]
    code = (
        "import sys; from tests.test_security_headers import record_production_responses; "
        "record_production_responses(*sys.argv[1:])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, *arguments],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    responses: dict[str, dict[str, Any]] = json.loads(out.read_text())
    return responses


@pytest.mark.parametrize("name", OVER_HTTPS)
def test_each_response_is_the_one_it_stands_for(
    production: dict[str, dict[str, Any]], name: str
) -> None:
    status, content_type = OVER_HTTPS[name]
    response = production[name]

    assert response["status"] == status, response["headers"]
    assert response["headers"]["Content-Type"].startswith(content_type)


@pytest.mark.parametrize("name", OVER_HTTPS)
def test_every_response_carries_every_security_header(
    production: dict[str, dict[str, Any]], name: str
) -> None:
    headers = production[name]["headers"]
    policy = CONTENT_SECURITY_POLICY
    if name.startswith("api docs"):  # Swagger UI draws its icons as data: images
        policy = policy.replace("img-src 'self'", "img-src 'self' data:")

    assert headers["Content-Security-Policy"] == policy
    assert headers["Permissions-Policy"] == PERMISSIONS_POLICY
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["X-Content-Type-Options"] == "nosniff"
    if name != "static file":
        assert headers["X-Frame-Options"] == "DENY"
    # (WhiteNoise answers for a static file before the clickjacking middleware runs; a
    # stylesheet is no page to frame, and frame-ancestors 'none' refuses it anyway.)


def test_hsts_holds_for_a_year_with_subdomains_and_asks_to_be_preloaded(
    production: dict[str, dict[str, Any]],
) -> None:
    directives = [
        part.strip()
        for part in production["home"]["headers"]["Strict-Transport-Security"].split(";")
    ]
    max_age = int(directives[0].removeprefix("max-age="))

    assert max_age >= ONE_YEAR
    assert "includeSubDomains" in directives
    assert "preload" in directives


def test_plain_http_is_sent_to_https_except_the_health_check_and_gets_no_hsts(
    production: dict[str, dict[str, Any]],
) -> None:
    home, healthz = production["home over http"], production["healthz over http"]

    assert home["status"] == 301
    assert home["headers"]["Location"] == f"https://{HOST}/"
    assert healthz["status"] == 200  # the load balancer's check, inside the network
    assert "Strict-Transport-Security" not in home["headers"]
    assert "Strict-Transport-Security" not in healthz["headers"]
    assert healthz["headers"]["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_every_cookie_is_secure_http_only_and_same_site_lax(
    production: dict[str, dict[str, Any]],
) -> None:
    cookies = [
        (name, cookie, flags)
        for name, response in production.items()
        for cookie, flags in response["cookies"].items()
    ]

    assert {cookie for _name, cookie, _flags in cookies} == {
        "csrftoken",
        "sessionid",
        "django_language",
    }
    for name, cookie, flags in cookies:
        assert flags == {"secure": True, "httponly": True, "samesite": "Lax"}, (name, cookie)


def test_signing_in_sets_the_session_cookie(production: dict[str, dict[str, Any]]) -> None:
    assert "sessionid" in production["admin signed in"]["cookies"]
    assert "sessionid" in production["agency signed in"]["cookies"]
    assert production["admin signed in"]["headers"]["Location"] == "/admin/"


@pytest.mark.parametrize("directive", ["script-src", "script-src-elem", "default-src"])
def test_no_page_may_add_a_source_of_scripts(directive: str) -> None:
    with pytest.raises(ValueError, match="script sources"):
        content_security_policy_extended({directive: ["'unsafe-inline'"]})


class InlineCode(HTMLParser):
    """What the Content-Security-Policy would refuse in a page: inline scripts, style
    elements and attributes, event-handler attributes, javascript: links."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _value in attrs}
        if tag == "script" and "src" not in names:
            types = [value for name, value in attrs if name == "type"]
            if not types or types[0] not in {"application/json", "application/ld+json"}:
                self.found.append(f"<script> without src: {attrs}")
        if tag == "style":
            self.found.append("<style>")
        self.found += [f"<{tag} {name}=...>" for name in names if name == "style"]
        self.found += [f"<{tag} {name}=...>" for name in names if re.fullmatch(r"on\w+", name)]
        self.found += [
            f"<{tag} {name}={value}>"
            for name, value in attrs
            if name in {"href", "src", "action"} and (value or "").startswith("javascript:")
        ]


@pytest.mark.parametrize("name", PAGES)
def test_no_page_has_inline_script_or_style(
    production: dict[str, dict[str, Any]], name: str
) -> None:
    parser = InlineCode()
    parser.feed(production[name]["page"])

    assert parser.found == []
