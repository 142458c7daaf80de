"""Every public page is whole in every language: the catalogues are complete and compiled,
and no English sentence shows through on a page rendered in another language."""

import re
import shutil
import subprocess
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from routing.figures import figures_refresh
from routing.models import AgencyMember
from routing.services import agency_member_language_set, agency_user_create, referral_note_add
from tests.catalogues import LOCALE, catalogue
from tests.conftest import referral_in, require, sign_in
from tests.factories import ReportedFileFactory

TRANSLATED = [code for code, _name in settings.LANGUAGES if code != "en"]


def test_the_eight_languages_of_the_public_pages() -> None:
    assert [code for code, _name in settings.LANGUAGES] == [
        "en", "es", "fr", "pt", "ar", "hi", "fil", "id",
    ]  # fmt: skip
    assert sorted(path.name for path in LOCALE.iterdir() if path.is_dir()) == sorted(TRANSLATED)


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_catalogue_has_every_message_translated(language: str) -> None:
    english = {entry.msgid for entry in catalogue("es")}
    entries = catalogue(language)

    assert {entry.msgid for entry in entries} == english
    untranslated = [entry.msgid for entry in entries if not all(entry.msgstrs)]
    assert untranslated == []
    assert [entry.msgid for entry in entries if entry.fuzzy] == []
    for entry in entries:  # placeholders survive translation
        wanted = sorted(re.findall(r"%\(\w+\)[sd]", entry.msgid))
        for text in entry.msgstrs:
            assert sorted(re.findall(r"%\(\w+\)[sd]", text)) == wanted or (
                entry.msgid_plural and set(re.findall(r"%\(\w+\)[sd]", text)) <= set(wanted)
            ), (language, entry.msgid, text)


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_catalogue_is_the_current_one(language: str, tmp_path: Path) -> None:
    require(shutil.which("msgfmt") is not None, "gettext's msgfmt compiles the catalogues")
    messages = LOCALE / language / "LC_MESSAGES"
    compiled = tmp_path / "django.mo"
    subprocess.run(
        ["msgfmt", "--check", "-o", str(compiled), str(messages / "django.po")], check=True
    )

    assert compiled.read_bytes() == (messages / "django.mo").read_bytes(), (
        "run `make messages` and commit the .mo files"
    )


def visible_text(html: str) -> str:
    body = re.split(r"<body[^>]*>", html, maxsplit=1)[1]
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    body = re.sub(r'<select id="language".*?</select>', " ", body, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", body))


def english_sentences(language: str) -> list[str]:
    """The English messages that read differently in ``language`` (a word or two, like
    "Email", may be the same)."""
    return [
        entry.msgid
        for entry in catalogue(language)
        if " " in entry.msgid and "%(" not in entry.msgid and entry.msgid not in entry.msgstrs
    ]


def assert_all_in(language: str, pages: dict[str, Any]) -> None:
    """Each page is in ``language``, with no English sentence of the catalogues and none of
    Django's own English (a message this project did not word) showing through."""
    sentences = english_sentences(language)
    for name, page in pages.items():
        html = page.content.decode()
        assert f'<html lang="{language}"' in html, name
        text = visible_text(html)
        shown = [sentence for sentence in sentences if sentence in text]
        assert shown == [], (name, shown)
        for django_english in (
            "This field is required",
            "Enter a valid",
            "Ensure this value",
            "Select a valid",
        ):
            assert django_english not in text, (name, django_english)


@pytest.mark.django_db
@pytest.mark.parametrize("language", TRANSLATED)
def test_no_english_shows_on_a_public_page_in_another_language(
    language: str, reference_data: None
) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    pages = {
        "home": client.get("/"),
        "form": client.get("/report/"),
        "form with errors": client.post(
            "/report/",
            {"incident_date": "2999-01-01", "urls": "nope", "child_age": "99", "emails": "x"},
        ),
        "status": client.get("/report/status/"),
        "status with errors": client.post("/report/status/", {"receipt_code": "12"}),
    }
    receipt = client.post(
        "/report/",
        {"what_happened": "images", "incident_date": "2026-01-02", "child_in_danger_now": "on"},
    )
    pages["receipt"] = receipt
    number = re.search(r'id="report-number" class="code">(\d+)<', receipt.content.decode())
    code = re.search(r'id="receipt-code" class="code">([0-9 ]+)<', receipt.content.decode())
    assert number
    assert code
    pages["report status"] = client.post(
        "/report/status/",
        {"report_number": number.group(1), "receipt_code": code.group(1), "text": "More."},
    )
    pages["wrong code"] = client.post(
        "/report/status/", {"report_number": number.group(1), "receipt_code": "0" * 16}
    )

    assert_all_in(language, pages)


@pytest.mark.django_db
@pytest.mark.parametrize("language", TRANSLATED)
def test_no_english_shows_on_an_agency_page_in_another_language(
    language: str, reference_data: None
) -> None:
    credentials = agency_user_create(agency_code="direct-gb", username="officer")
    visitor = Client(HTTP_ACCEPT_LANGUAGE=language)
    pages = {
        "sign-in": visitor.get("/agency/sign-in/"),
        "sign-in with errors": visitor.post(
            "/agency/sign-in/", {"username": "officer", "password": "wrong", "otp_token": "1"}
        ),
    }
    member = AgencyMember.objects.get(user__username="officer")
    agency_member_language_set(member=member, language=language)
    client = sign_in(Client(HTTP_ACCEPT_LANGUAGE="en"), member.user)
    pages["password"] = client.get("/agency/password/")
    pages["password with errors"] = client.post(
        "/agency/password/",
        {"old_password": "no", "new_password1": "a-long-pass-1", "new_password2": "other"},
    )
    AgencyMember.objects.filter(pk=member.pk).update(must_change_password=False)
    referral = referral_in("GB", "1")
    ReportedFileFactory.create(report=referral.report)
    referral_note_add(referral_id=referral.pk, text="Note.", by_agency=member.agency)
    pages["queue"] = client.get("/agency/")
    pages["queue with errors"] = client.get("/agency/", {"priority": "9", "report": "x"})
    pages["empty queue"] = client.get("/agency/", {"state": "acknowledged"})
    pages["referral"] = client.get(f"/agency/referrals/{referral.pk}/")
    pages["referral with errors"] = client.post(
        f"/agency/referrals/{referral.pk}/refer-on", {"agency": "direct-fr", "reason": ""}
    )
    client.post(f"/agency/referrals/{referral.pk}/acknowledge")
    pages["acknowledged"] = client.get(f"/agency/referrals/{referral.pk}/")
    client.post(
        f"/agency/referrals/{referral.pk}/refer-on", {"agency": "direct-fr", "reason": "Why."}
    )
    pages["queue after referring on"] = client.get("/agency/", {"state": "referred_on"})
    pages["referred on"] = client.get(f"/agency/referrals/{referral.pk}/")
    assert credentials.username == "officer"

    assert_all_in(language, pages)


@pytest.mark.django_db
@pytest.mark.parametrize("language", TRANSLATED)
def test_no_english_shows_on_the_public_figures_in_another_language(
    language: str, reference_data: None, settings: Any
) -> None:
    settings.PUBLIC_FIGURES_MIN_COUNT = 1
    referral = referral_in("GB", "1")
    ReportedFileFactory.create(report=referral.report)
    figures_refresh()
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    pages = {
        "figures": client.get("/stats/public/"),
        "figures with errors": client.get(
            "/stats/public/", {"date_from": "2021-02-30", "first_year": "x", "country": "XX"}
        ),
    }
    assert pages["figures"].status_code == 200
    assert pages["figures with errors"].status_code == 400

    assert_all_in(language, pages)
