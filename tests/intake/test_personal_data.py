"""The reporter's personal data: contact details encrypted at rest (and back in clear
wherever they are shown or delivered), key rotation, and the reporter's address never
written down anywhere."""

import base64
import datetime as dt
import importlib
import io
import json
import pickle
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.core.cache import caches
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, models
from django.db.migrations import RunPython
from django.db.models import Value
from django.test import Client
from gunicorn.config import Config as GunicornConfig  # type: ignore[import-untyped]

from config import gunicorn as gunicorn_settings
from intake.encryption import UndecryptableValue, decrypt
from intake.models import Report, ReportAddition, ReportIdentifier
from intake.services import ProviderCredentials, report_addition_add
from routing.delivery import referral_payload
from routing.models import AgencyMember, Referral
from routing.services import agency_user_create
from tests.conftest import api_client_for, sign_in, signed_in_staff
from tests.factories import IP_BY_COUNTRY
from tests.intake.test_never_stores_media import every_row_as_text
from tests.test_settings import run_python

pytestmark = pytest.mark.django_db

FIRST, LAST = "Quillon", "Marchbanks"
EMAIL = "quillon.marchbanks@example.com"
PHONE = "+44 20 7946 0321"
STREET, CITY = "17 Juniper Row", "Exampleton"
# What must never be stored in clear; the email address by its local part too.
IN_CLEAR = (FIRST, LAST, "quillon.marchbanks", "7946 0321", STREET, CITY)

REPORTING_PERSON = {
    "firstName": FIRST,
    "lastName": LAST,
    "email": [{"value": EMAIL}],
    "phone": [{"value": PHONE}],
    "address": [{"address": STREET, "city": CITY, "country": "GB"}],
}
JSON_REPORT = {
    "incidentSummary": {
        "incidentType": "Child Pornography (possession, manufacture, and distribution)",
        "incidentDateTime": "2026-01-02T03:04:05Z",
    },
    "reporter": {"reportingPerson": REPORTING_PERSON},
    "personOrUserReported": {
        "screenName": "suspect-account-9",
        "ipCaptureEvent": [{"ipAddress": IP_BY_COUNTRY["GB"], "eventName": "Upload"}],
    },
    "additionalInfo": "Synthetic report.",
}
XML_REPORT = f"""<?xml version="1.0" encoding="UTF-8"?>
<report>
  <incidentSummary>
    <incidentType>Child Pornography (possession, manufacture, and distribution)</incidentType>
    <incidentDateTime>2025-10-15T08:00:00Z</incidentDateTime>
  </incidentSummary>
  <reporter>
    <reportingPerson>
      <firstName>{FIRST}</firstName>
      <lastName>{LAST}</lastName>
      <phone>{PHONE}</phone>
      <email>{EMAIL}</email>
      <address><address>{STREET}</address><city>{CITY}</city><country>GB</country></address>
    </reportingPerson>
  </reporter>
  <personOrUserReported>
    <screenName>suspect-account-9</screenName>
    <ipCaptureEvent><ipAddress>{IP_BY_COUNTRY["GB"]}</ipAddress></ipCaptureEvent>
  </personOrUserReported>
</report>
""".encode()
PUBLIC_FORM = {
    "what_happened": "enticement",
    "incident_date": "2026-03-04",
    "description": "An adult asked a child for pictures in a game chat on example.com.",
    "country": "DE",
    "reporter_name": f"{FIRST} {LAST}",
    "reporter_email": EMAIL,
    "reporter_phone": PHONE,
}


# Submitting, as each interface's clients do --------------------------------------------


def basic_auth(provider: ProviderCredentials) -> dict[str, str]:
    token = base64.b64encode(f"{provider.username}:{provider.password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def submitted_by_form(client: Client, provider: ProviderCredentials, **meta: Any) -> int:
    page = client.post("/report/", PUBLIC_FORM, **meta)
    assert page.status_code == 200, page.content.decode()[:2000]
    return int(page.context["report"].pk)


def submitted_by_json_api(client: Client, provider: ProviderCredentials, **meta: Any) -> int:
    api = api_client_for(provider)
    opened = api.post("/api/v1/reports", JSON_REPORT, format="json", **meta)
    assert opened.status_code == 201, opened.json()
    report_id = int(opened.json()["reportId"])
    assert api.post(f"/api/v1/reports/{report_id}/finish", **meta).status_code == 200
    return report_id


def submitted_by_xml(client: Client, provider: ProviderCredentials, **meta: Any) -> int:
    headers = basic_auth(provider)
    reply = client.post(
        "/ispws/submit",
        XML_REPORT,
        content_type="text/xml; charset=utf-8",
        headers=headers,
        **meta,
    )
    assert reply.status_code == 200, reply.content
    report_id = int(reply.content.decode().split("<reportId>")[1].split("<")[0])
    finished = client.post("/ispws/finish", {"id": str(report_id)}, headers=headers, **meta)
    assert finished.status_code == 200, finished.content
    return report_id


SUBMITTERS = {
    "public form": submitted_by_form,
    "JSON API": submitted_by_json_api,
    "XML interface": submitted_by_xml,
}
Submitter = Callable[..., int]


@pytest.fixture(params=list(SUBMITTERS))
def submit(request: pytest.FixtureRequest) -> Submitter:
    return SUBMITTERS[request.param]


def raw_row(report_id: int) -> dict[str, Any]:
    """The report's row as the database holds it, read with SQL."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM intake_report WHERE id = %s", [report_id])
        names = [column[0] for column in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


def raw_document(report_id: int) -> str:
    document = raw_row(report_id)["document"]
    return document if isinstance(document, str) else json.dumps(document)


def assert_nowhere_in_clear(text: str) -> None:
    for detail in IN_CLEAR:
        assert detail.lower() not in text.lower(), detail


# Encrypted at rest, in clear through the ORM -----------------------------------------------


def test_the_contact_details_are_stored_only_encrypted(
    client: Client,
    provider: ProviderCredentials,
    submit: Submitter,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        report_id = submit(client, provider)

    row = raw_row(report_id)
    for column in ("reporter_name", "reporter_email", "reporter_phone"):
        assert row[column], column
    assert_nowhere_in_clear(repr(row))
    document = json.loads(raw_document(report_id))
    assert isinstance(document["reporter"], str)  # the section, encrypted
    assert "incidentType" in document["incidentSummary"]  # the rest, as it was
    # Nor anywhere else: not in the search index, the location evidence, the referrals.
    assert_nowhere_in_clear(every_row_as_text())
    assert not ReportIdentifier.objects.filter(value__contains="quillon").exists()

    report = Report.objects.get(pk=report_id)
    assert report.reporter_email == EMAIL
    assert report.reporter_phone == PHONE
    assert FIRST in report.reporter_name
    person = report.document["reporter"]["reportingPerson"]
    assert person["email"] == [{"value": EMAIL}]
    assert person["phone"] == [{"value": PHONE}]


def test_what_the_reporter_adds_later_is_stored_only_encrypted(
    client: Client, provider: ProviderCredentials
) -> None:
    report = Report.objects.get(pk=submitted_by_form(client, provider))

    addition = report_addition_add(report=report, text=f"You can call me on {PHONE}.")

    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM intake_reportaddition WHERE id = %s", [addition.pk])
        (stored,) = cursor.fetchone()
    assert PHONE not in stored
    assert ReportAddition.objects.get(pk=addition.pk).text == f"You can call me on {PHONE}."


def test_staff_agencies_and_the_provider_get_the_details_back(
    client: Client, provider: ProviderCredentials, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        report_id = submitted_by_json_api(client, provider)
    referral = Referral.objects.select_related("agency").get(report_id=report_id)
    assert referral.agency.code == "direct-gb"

    # The provider reads its report as it sent it.
    shown = api_client_for(provider).get(f"/api/v1/reports/{report_id}").json()
    assert shown["report"]["reporter"]["reportingPerson"] == REPORTING_PERSON

    # Staff see the report's page.
    staff = signed_in_staff(Client(), "analyst", username="ana")
    page = staff.get(f"/admin/intake/report/{report_id}/change/").content.decode()
    assert EMAIL in page
    assert PHONE in page
    assert STREET in page

    # The agency gets them delivered (webhook payload) and on its referral's page.
    payload = referral_payload(referral)
    assert payload["document"]["reporter"]["reportingPerson"] == REPORTING_PERSON
    agency_user_create(agency_code="direct-gb", username="gb-officer")
    AgencyMember.objects.filter(user__username="gb-officer").update(must_change_password=False)
    officer = sign_in(Client(), User.objects.get(username="gb-officer"))
    page = officer.get(f"/agency/referrals/{referral.pk}/").content.decode()
    assert EMAIL in page
    assert CITY in page


def test_an_encrypted_field_can_be_asked_only_whether_it_is_empty(
    client: Client, provider: ProviderCredentials
) -> None:
    report_id = submitted_by_form(client, provider)

    assert Report.objects.filter(pk=report_id).exclude(reporter_email="").exists()
    assert not Report.objects.filter(pk=report_id, reporter_email="").exists()
    with pytest.raises(ValueError, match="encrypted"):
        Report.objects.filter(reporter_email=EMAIL).exists()
    with pytest.raises(FieldError, match="Unsupported lookup"):
        Report.objects.filter(reporter_email__icontains="quillon").exists()


# Keys and rotation ------------------------------------------------------------------------


def command_output(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def raw_tokens() -> list[str]:
    """Every ciphertext in the database, read with SQL."""
    tokens: list[str] = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reporter_name, reporter_email, reporter_phone, document FROM intake_report"
        )
        for *contact, document in cursor.fetchall():
            tokens += [value for value in contact if value]
            document = json.loads(document) if isinstance(document, str) else document
            if isinstance(document.get("reporter"), str):
                tokens.append(document["reporter"])
        cursor.execute("SELECT text FROM intake_reportaddition")
        tokens += [text for (text,) in cursor.fetchall()]
    return tokens


def test_rotating_the_key_reencrypts_every_value_under_the_new_one(
    client: Client, provider: ProviderCredentials, settings: Any
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    report_id = submitted_by_json_api(client, provider)
    public = Report.objects.get(pk=submitted_by_form(client, provider))
    report_addition_add(report=public, text=f"My phone: {PHONE}")
    tokens = raw_tokens()
    assert len(tokens) == 9  # 2 reports x 3 contact details and a document, 1 addition
    for token in tokens:
        Fernet(old).decrypt(token.encode())

    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    first = command_output("rotate_encryption_key", "--batch-size", "1")
    second = command_output("rotate_encryption_key")

    assert "intake.Report: 2 rows; 8 values re-encrypted under the current key, 0 already" in first
    assert "intake.ReportAddition: 1 rows; 1 values re-encrypted" in first
    assert "intake.Report: 2 rows; 0 values re-encrypted under the current key, 8 already" in second
    assert "Nothing was under an older key." in second
    settings.FIELD_ENCRYPTION_KEYS = [new]
    for token in raw_tokens():
        Fernet(new).decrypt(token.encode())
        with pytest.raises(InvalidToken):
            Fernet(old).decrypt(token.encode())
    report = Report.objects.get(pk=report_id)
    assert report.reporter_email == EMAIL
    assert report.document["reporter"]["reportingPerson"] == REPORTING_PERSON
    assert ReportAddition.objects.get().text == f"My phone: {PHONE}"


def test_a_value_under_an_unknown_key_is_refused_with_a_clear_error(
    client: Client, provider: ProviderCredentials, settings: Any
) -> None:
    report_id = submitted_by_form(client, provider)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(UndecryptableValue, match="no longer listed"):
        Report.objects.get(pk=report_id)
    errors = io.StringIO()
    with pytest.raises(
        CommandError, match=r"4 value.* could not be re-encrypted.*no longer listed"
    ):
        call_command("rotate_encryption_key", stdout=io.StringIO(), stderr=errors)
    assert f"intake.Report {report_id}: reporter_name: no key" in errors.getvalue()


def write_raw(report_id: int, column: str, value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE intake_report SET {column} = %s WHERE id = %s", [value, report_id])  # noqa: S608


def test_rotating_reports_each_unreadable_value_and_goes_on_with_the_rest(
    client: Client, provider: ProviderCredentials, settings: Any
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    first = submitted_by_form(client, provider)
    damaged = submitted_by_form(client, provider)
    last = submitted_by_form(client, provider)
    write_raw(damaged, "reporter_phone", Fernet(Fernet.generate_key()).encrypt(b"?").decode())
    settings.FIELD_ENCRYPTION_KEYS = [new, old]

    out, errors = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match=r"1 value.* could not be re-encrypted"):
        call_command("rotate_encryption_key", "--batch-size", "1", stdout=out, stderr=errors)

    assert errors.getvalue().strip() == (
        f"intake.Report {damaged}: reporter_phone: no key of FIELD_ENCRYPTION_KEYS decrypts it."
    )
    assert "intake.Report: 3 rows; 11 values re-encrypted under the current key" in out.getvalue()
    settings.FIELD_ENCRYPTION_KEYS = [new]
    for report_id in (first, last):
        assert Report.objects.get(pk=report_id).reporter_email == EMAIL
    Fernet(new).decrypt(raw_row(damaged)["reporter_email"].encode())


def test_rotating_encrypts_a_contact_detail_found_in_clear(
    client: Client, provider: ProviderCredentials
) -> None:
    report_id = submitted_by_form(client, provider)
    write_raw(report_id, "reporter_email", EMAIL)  # as a bulk load with SQL would

    output = command_output("rotate_encryption_key")

    assert "intake.Report: 1 rows; 1 values re-encrypted under the current key, 3 already" in output
    assert EMAIL not in repr(raw_row(report_id))
    assert Report.objects.get(pk=report_id).reporter_email == EMAIL


@pytest.mark.parametrize("size", ["0", "-1", "many"])
def test_a_batch_of_fewer_than_one_row_is_refused(size: str) -> None:
    with pytest.raises(CommandError, match=r"--batch-size: .* at least 1"):
        call_command("rotate_encryption_key", "--batch-size", size)


def test_the_check_fails_until_every_value_is_under_the_first_key(
    client: Client, provider: ProviderCredentials, settings: Any
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    submitted_by_form(client, provider)
    stored = raw_tokens()
    settings.FIELD_ENCRYPTION_KEYS = [new, old]

    out = io.StringIO()
    with pytest.raises(CommandError, match=r"4 value.* not under the current key"):
        call_command("rotate_encryption_key", "--check", stdout=out)

    assert "intake.Report: 1 rows; 4 values not under the current key" in out.getvalue()
    assert raw_tokens() == stored  # a check changes nothing
    command_output("rotate_encryption_key")
    assert "Every value is under the current key." in command_output(
        "rotate_encryption_key", "--check"
    )


def test_rotating_also_encrypts_a_reporter_section_found_in_clear(
    client: Client, provider: ProviderCredentials
) -> None:
    report_id = submitted_by_json_api(client, provider)
    document = Report.objects.get(pk=report_id).document
    # Written past the field, as a bulk load with SQL would.
    Report.objects.filter(pk=report_id).update(
        document=Value(document, output_field=models.JSONField())
    )
    assert CITY in raw_document(report_id)

    output = command_output("rotate_encryption_key")

    assert "intake.Report: 1 rows; 1 values re-encrypted under the current key, 3 already" in output
    assert CITY not in raw_document(report_id)
    assert Report.objects.get(pk=report_id).document == document


def data_migration() -> Any:
    return importlib.import_module("intake.migrations.0014_encrypt_personal_data")


def test_the_migration_encrypts_existing_rows_and_can_decrypt_them_again(
    client: Client, provider: ProviderCredentials
) -> None:
    migration = data_migration()
    report_id = submitted_by_json_api(client, provider)
    # As the rows stood before the migration: in clear, the reporter's email indexed.
    migration.decrypt_rows(apps, None)
    assert EMAIL in repr(raw_row(report_id))
    assert CITY in raw_document(report_id)
    assert ReportIdentifier.objects.filter(report_id=report_id, value=EMAIL).exists()

    migration.encrypt_existing_rows(apps, None)

    assert_nowhere_in_clear(repr(raw_row(report_id)))
    assert not ReportIdentifier.objects.filter(report_id=report_id, value=EMAIL).exists()
    assert ReportIdentifier.objects.filter(report_id=report_id, value="suspect-account-9").exists()
    report = Report.objects.get(pk=report_id)
    assert (report.reporter_email, report.reporter_phone) == (EMAIL, PHONE)
    assert report.document["reporter"]["reportingPerson"] == REPORTING_PERSON


def test_the_migration_run_again_encrypts_each_value_once_and_leaves_encrypted_ones(
    client: Client, provider: ProviderCredentials, monkeypatch: pytest.MonkeyPatch
) -> None:
    migration = data_migration()
    monkeypatch.setattr(migration, "BATCH_SIZE", 1)
    in_clear = submitted_by_json_api(client, provider)
    report_addition_add(report=Report.objects.get(pk=in_clear), text=f"Call {PHONE}.")
    migration.decrypt_rows(apps, None)
    encrypted = submitted_by_json_api(client, provider)
    report_addition_add(report=Report.objects.get(pk=encrypted), text=f"Call {PHONE}.")
    already = (raw_row(encrypted), raw_document(encrypted), ReportAddition.objects.count())
    addition_before = raw_addition(encrypted)
    assert EMAIL in repr(raw_row(in_clear))
    assert raw_addition(in_clear) == f"Call {PHONE}."

    migration.encrypt_existing_rows(apps, None)
    once = (raw_row(in_clear), raw_document(in_clear), raw_addition(in_clear))
    identifiers = sorted(ReportIdentifier.objects.values_list("report_id", "kind", "value"))
    migration.encrypt_existing_rows(apps, None)

    assert (raw_row(in_clear), raw_document(in_clear), raw_addition(in_clear)) == once
    assert (raw_row(encrypted), raw_document(encrypted), ReportAddition.objects.count()) == already
    assert raw_addition(encrypted) == addition_before
    assert sorted(ReportIdentifier.objects.values_list("report_id", "kind", "value")) == identifiers
    # Encrypted once: each value decrypts to the text, not to another token.
    row = raw_row(in_clear)
    assert decrypt(row["reporter_email"]) == EMAIL
    assert decrypt(row["reporter_phone"]) == PHONE
    assert json.loads(decrypt(json.loads(raw_document(in_clear))["reporter"])) == {
        "reportingPerson": REPORTING_PERSON
    }
    assert decrypt(raw_addition(in_clear)) == f"Call {PHONE}."
    report = Report.objects.get(pk=in_clear)
    assert (report.reporter_email, report.reporter_phone) == (EMAIL, PHONE)


def test_the_schema_migration_rewrites_no_row_and_the_data_one_commits_each_batch() -> None:
    schema = importlib.import_module("intake.migrations.0013_personal_data").Migration
    data = data_migration().Migration

    assert not [op for op in schema.operations if isinstance(op, RunPython)]
    assert data.atomic is False
    assert [op for op in data.operations if isinstance(op, RunPython)]
    assert all(not getattr(op, "atomic", False) for op in data.operations)


def raw_addition(report_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM intake_reportaddition WHERE report_id = %s", [report_id])
        (text,) = cursor.fetchone()
    return str(text)


# Settings --------------------------------------------------------------------------------

PRINT_KEYS = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(len(s.FIELD_ENCRYPTION_KEYS))"
)
PRODUCTION = {
    "DJANGO_SECRET_KEY": "x" * 64,
    "DJANGO_ALLOWED_HOSTS": "tipline.example.com",
}


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ("", "FIELD_ENCRYPTION_KEYS is not set"),
        (django_settings.DEVELOPMENT_FIELD_ENCRYPTION_KEY, "the development key"),
        ("not-a-key", "Key 1 of FIELD_ENCRYPTION_KEYS is not a Fernet key"),
    ],
)
def test_production_refuses_to_start_without_keys_of_its_own(keys: str, message: str) -> None:
    result = run_python(
        PRINT_KEYS, "config.settings.production", FIELD_ENCRYPTION_KEYS=keys, **PRODUCTION
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr
    assert "Fernet.generate_key()" in result.stderr  # how to make one


def test_production_starts_with_two_keys_and_local_settings_with_none() -> None:
    two = f"{Fernet.generate_key().decode()}, {Fernet.generate_key().decode()}"
    production = run_python(
        PRINT_KEYS, "config.settings.production", FIELD_ENCRYPTION_KEYS=two, **PRODUCTION
    )
    local = run_python(PRINT_KEYS, "config.settings.local", FIELD_ENCRYPTION_KEYS="")

    assert (production.returncode, production.stdout.strip()) == (0, "2"), production.stderr
    assert (local.returncode, local.stdout.strip()) == (0, "1"), local.stderr


# The reporter's address is never written down ---------------------------------------------

CLIENT = "198.51.100.77"  # connects directly
BEHIND_PROXY = "203.0.113.45"  # reaches us through our proxy
OUR_PROXY = "192.0.2.10"
ADDRESSES = (CLIENT, BEHIND_PROXY)


@pytest.fixture
def shared_cache(settings: Any) -> Iterator[Callable[[], str]]:
    """The cache the rate limits count in (Redis, as in production, when there is one),
    and a function giving every key and value in it as text."""
    if not settings.REDIS_URL:
        yield lambda: repr(
            {key: pickle.loads(value) for key, value in caches["default"]._cache.items()}  # type: ignore[attr-defined]  # noqa: S301 (our own cache)
        )
        return
    import redis

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": settings.REDIS_URL,
            "KEY_PREFIX": "test-personal-data",
        }
    }
    server = redis.Redis.from_url(settings.REDIS_URL, decode_responses=False)

    def everything() -> str:
        readers: dict[str, Callable[[Any], Any]] = {
            "string": server.get,
            "list": lambda key: server.lrange(key, 0, -1),
            "hash": server.hgetall,
            "set": server.smembers,
            "zset": lambda key: server.zrange(key, 0, -1),
        }
        contents = {}
        for key in server.scan_iter():
            kind = server.type(key)
            kind = kind.decode() if isinstance(kind, bytes) else str(kind)
            contents[key] = readers[kind](key) if kind in readers else kind
        return repr(contents)

    caches["default"].clear()
    yield everything
    caches["default"].clear()


def test_the_reporters_address_is_never_stored(
    client: Client,
    provider: ProviderCredentials,
    settings: Any,
    shared_cache: Callable[[], str],
    django_capture_on_commit_callbacks: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    with django_capture_on_commit_callbacks(execute=True):
        for submit in SUBMITTERS.values():
            submit(client, provider, REMOTE_ADDR=CLIENT)
        settings.TRUSTED_PROXY_COUNT = 1
        for submit in SUBMITTERS.values():
            submit(client, provider, REMOTE_ADDR=OUR_PROXY, HTTP_X_FORWARDED_FOR=BEHIND_PROXY)
        # A reporter checking on their report with a wrong code is counted, by address.
        wrong = {"report_number": "1", "receipt_code": "0000 0000 0000 0000"}
        for meta in ({"REMOTE_ADDR": CLIENT}, {"HTTP_X_FORWARDED_FOR": BEHIND_PROXY}):
            assert client.post("/report/status/", wrong, **meta).status_code == 404  # type: ignore[arg-type]

    assert Report.objects.count() == 6
    stored = every_row_as_text()
    cached = shared_cache()
    # The counts are there, under keyed hashes of the addresses.
    assert "public-report:" in cached
    assert "receipt:client:" in cached
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for address in ADDRESSES:
        assert address not in stored, address
        assert address not in cached, address
        assert address not in logged, address


def test_gunicorns_logs_leave_out_the_clients_address(tmp_path: Path) -> None:
    config = GunicornConfig()
    config.set("accesslog", str(tmp_path / "access.log"))
    config.set("errorlog", str(tmp_path / "error.log"))
    config.set("access_log_format", gunicorn_settings.access_log_format)
    config.set("logger_class", gunicorn_settings.logger_class)
    logger = config.logger_class(config)
    environ = {
        "REMOTE_ADDR": OUR_PROXY,
        "REQUEST_METHOD": "POST",
        "RAW_URI": "/report/",
        "PATH_INFO": "/report/",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_X_FORWARDED_FOR": BEHIND_PROXY,
    }
    request = SimpleNamespace(headers=[("X-FORWARDED-FOR", BEHIND_PROXY)])
    response = SimpleNamespace(status="200 OK", headers=[], sent=512)

    logger.access(response, request, environ, dt.timedelta(milliseconds=12))
    # What gunicorn's worker logs of a malformed request.
    logger.warning(f"Invalid request from ip={CLIENT}: Invalid HTTP method: 'GE T'")
    for handler in [*logger.access_log.handlers, *logger.error_log.handlers]:
        handler.flush()

    access = (tmp_path / "access.log").read_text()
    errors = (tmp_path / "error.log").read_text()
    assert '"POST /report/ HTTP/1.1" 200 512 12ms' in access
    assert "Invalid request: Invalid HTTP method" in errors
    for address in (CLIENT, BEHIND_PROXY, OUR_PROXY):
        assert address not in access
        assert address not in errors
