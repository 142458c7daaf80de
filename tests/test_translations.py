"""Every public page is whole in every language: the catalogues are complete and compiled,
and no English sentence shows through on a page rendered in another language."""

import re
import shutil
import subprocess
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests.catalogues import LOCALE, catalogue
from tests.conftest import require

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
    body = html.split("<body>", 1)[1]
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

    sentences = english_sentences(language)
    for name, page in pages.items():
        html = page.content.decode()
        assert f'<html lang="{language}"' in html, name
        text = visible_text(html)
        shown = [sentence for sentence in sentences if sentence in text]
        assert shown == [], (name, shown)
        # Django's own English (a message this project did not word) shows through too.
        for django_english in ("This field is required", "Enter a valid", "Ensure this value"):
            assert django_english not in text, (name, django_english)
