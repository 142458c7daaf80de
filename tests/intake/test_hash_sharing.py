"""The shared known-hash list: staff confirm a report's files into it, providers under the
hash-sharing agreement sync it page by page from a cursor and send feedback that staff see,
and a match a provider then reports is recognised as known content."""

import random
import re
import threading
import time
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from rest_framework.test import APIClient

from config.errors import ApplicationError
from intake.hashes import SHARING_LOCK, known_hashes_import
from intake.models import AuditEntry, HashFeedback, KnownHash, Report
from intake.services import ProviderCredentials, report_file_add, report_finish, report_open
from intake.sharing import (
    known_hash_save,
    known_hashes_delete_unshared,
    known_hashes_set_active,
    known_hashes_share,
    report_files_confirm_known,
)
from routing.services import report_route
from tests.conftest import (
    api_client_for,
    require,
    run_concurrently,
    signed_in_staff,
    uses_postgresql,
)
from tests.factories import ReportedFileFactory, ReportFactory
from tests.routing.processes import (
    shared_cache_fixture,  # noqa: F401 (a fixture)
    start_worker_fixture,  # noqa: F401 (a fixture)
    wait_for,
)

pytestmark = pytest.mark.django_db

rng = random.Random(20260401)


def hex_hash(length: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(length))


def staff(username: str = "confirmer") -> User:
    return User.objects.get_or_create(username=username, defaults={"is_staff": True})[0]


def confirmed_report(files: int = 1, label: str = "series-x") -> tuple[Report, list[KnownHash]]:
    """A finished report with ``files`` files of generated hashes, confirmed into the list."""
    report = ReportFactory.create(finished=True)
    for _ in range(files):
        ReportedFileFactory.create(report=report, md5=hex_hash(32), sha256=hex_hash(64))
    return report, report_files_confirm_known(report=report, label=label, user=staff()).entries


def agreed(credentials: ProviderCredentials) -> APIClient:
    credentials.provider.hash_sharing_agreement = True
    credentials.provider.save(update_fields=["hash_sharing_agreement"])
    return api_client_for(credentials)


def sync(client: APIClient, since: str | None = None, limit: int = 1000) -> tuple[list[Any], str]:
    """Every page from ``since`` to the end: the entries in order, and the cursor to keep."""
    entries: list[Any] = []
    while True:
        query: dict[str, Any] = {"limit": limit}
        if since:
            query["since"] = since
        answer = client.get("/api/v1/hashes", query)
        assert answer.status_code == 200, answer.content
        page = answer.json()
        entries += page["entries"]
        since = page["nextCursor"]
        if not page["hasMore"]:
            return entries, since


# The provider API ----------------------------------------------------------------------


def test_a_provider_syncs_the_list_in_pages_each_entry_once_and_never_report_data(
    provider: ProviderCredentials,
) -> None:
    _, first = confirmed_report(files=3)  # 6 entries: an MD5 and a SHA-256 each
    client = agreed(provider)

    entries, cursor = sync(client, limit=4)

    assert [entry["id"] for entry in entries] == [entry.pk for entry in first]
    assert {(entry["hashType"], entry["value"]) for entry in entries} == {
        (entry.hash_type, entry.value) for entry in first
    }
    assert set(entries[0]) == {"id", "hashType", "value", "label", "active"}
    assert all(entry["label"] == "series-x" and entry["active"] for entry in entries)
    # Nothing new: an empty page, and the same cursor to keep.
    assert sync(client, cursor) == ([], cursor)

    _, second = confirmed_report(files=1)
    known_hashes_set_active(ids=[first[0].pk], active=False, reason="Disputed: not abuse.")

    newer, _ = sync(client, cursor, limit=1)

    assert [entry["id"] for entry in newer] == [*(entry.pk for entry in second), first[0].pk]
    assert newer[-1]["active"] is False
    assert all(set(entry) == {"id", "hashType", "value", "label", "active"} for entry in newer)


def test_a_provider_without_the_agreement_is_refused(
    provider: ProviderCredentials, other_provider: ProviderCredentials
) -> None:
    _, entries = confirmed_report()
    client = api_client_for(provider)  # never signed

    listing = client.get("/api/v1/hashes")
    feedback = client.post(
        f"/api/v1/hashes/{entries[0].pk}/feedback", {"verdict": "confirmed"}, format="json"
    )

    assert listing.status_code == feedback.status_code == 403
    assert listing.json()["code"] == feedback.json()["code"] == "agreement_required"
    assert agreed(other_provider).get("/api/v1/hashes").status_code == 200


def test_no_parameter_asks_whether_one_hash_is_on_the_list(provider: ProviderCredentials) -> None:
    _, entries = confirmed_report()
    client = agreed(provider)

    by_value = client.get("/api/v1/hashes", {"value": entries[0].value})
    bad_cursor = client.get("/api/v1/hashes", {"since": entries[0].value})

    assert by_value.status_code == 400
    assert by_value.json()["fields"] == {"value": ["This element is not part of the schema."]}
    assert bad_cursor.status_code == 400
    assert bad_cursor.json()["code"] == "invalid_cursor"


def test_only_entries_staff_confirmed_are_shared(provider: ProviderCredentials) -> None:
    KnownHash.objects.create(hash_type="md5", value=hex_hash(32), label="imported")
    _, confirmed = confirmed_report()

    entries, _ = sync(agreed(provider))

    assert [entry["id"] for entry in entries] == [entry.pk for entry in confirmed]


def test_an_import_keeps_the_staff_label_of_a_shared_entry_and_updates_the_others(
    tmp_path: Path,
) -> None:
    _, entries = confirmed_report(files=1, label="staff-label")
    shared = KnownHash.objects.get(
        pk=next(entry.pk for entry in entries if entry.hash_type == "md5")
    )
    unshared = KnownHash.objects.create(
        hash_type="md5", value=hex_hash(32), label="old-label", source="old-source"
    )
    listing = tmp_path / "hashes.csv"
    listing.write_text(
        "hash_type,value,label,source\n"
        f"md5,{shared.value},imported-label,elsewhere\n"
        f"md5,{unshared.value},new-label,new-source\n"
    )

    before = (shared.label, shared.source, shared.shared_seq)

    call_command("import_hashes", str(listing), stdout=StringIO(), stderr=StringIO())

    shared.refresh_from_db()
    unshared.refresh_from_db()
    assert (shared.label, shared.source, shared.shared_seq) == before
    assert shared.label == "staff-label"
    assert shared.shared_seq is not None
    assert (unshared.label, unshared.source) == ("new-label", "new-source")
    assert unshared.shared_seq is None


# The cursor under concurrent writers ---------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_paging_never_skips_an_entry_whose_smaller_id_commits_later(
    provider: ProviderCredentials,
) -> None:
    """Two transactions add entries; the one holding the smaller id commits after the
    other's entry has been read. A cursor on ids would pass the smaller id for good."""
    require(uses_postgresql(), "the interleaving needs PostgreSQL's concurrent transactions")
    client = agreed(provider)
    report = ReportFactory.create(finished=True)
    ReportedFileFactory.create(report=report, md5=hex_hash(32), sha256="")
    inserted, read = threading.Event(), threading.Event()
    late: list[int] = []

    def slow_writer() -> None:
        try:
            with transaction.atomic():
                entry = KnownHash.objects.create(hash_type="md5", value=hex_hash(32), label="late")
                late.append(entry.pk)
                inserted.set()
                assert read.wait(timeout=30)
                # As report_files_confirm_known does: the sequence is the last write.
                known_hashes_share(ids=[entry.pk])
        finally:
            connection.close()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert inserted.wait(timeout=30)
    early = report_files_confirm_known(report=report, label="early", user=staff()).entries
    seen_first, cursor = sync(client)
    read.set()
    thread.join(timeout=30)

    seen_next, _ = sync(client, cursor)

    assert late[0] < early[0].pk  # the interleaving happened: smaller id, later commit
    assert [entry["id"] for entry in seen_first] == [early[0].pk]
    assert [entry["id"] for entry in seen_next] == [late[0]]


@pytest.mark.django_db(transaction=True)
def test_a_writer_waits_for_the_sequence_until_the_one_before_commits(
    provider: ProviderCredentials,
) -> None:
    require(uses_postgresql(), "the lock is PostgreSQL's")
    client = agreed(provider)
    first = KnownHash.objects.create(hash_type="md5", value=hex_hash(32), label="first")
    second = KnownHash.objects.create(hash_type="md5", value=hex_hash(32), label="second")
    sequenced, commit = threading.Event(), threading.Event()

    def holder() -> None:
        try:
            with transaction.atomic():
                known_hashes_share(ids=[first.pk])
                sequenced.set()
                assert commit.wait(timeout=30)
        finally:
            connection.close()

    def follower() -> None:
        try:
            known_hashes_share(ids=[second.pk])
        finally:
            connection.close()

    threads = [threading.Thread(target=holder), threading.Thread(target=follower)]
    threads[0].start()
    assert sequenced.wait(timeout=30)
    threads[1].start()
    with connection.cursor() as cursor:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # until the follower waits on the lock
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                "AND objid = %s",
                [SHARING_LOCK],
            )
            if cursor.fetchone()[0]:
                break
        else:
            pytest.fail("the second writer never waited for the lock")

    assert sync(client)[0] == []  # neither is visible: the follower has no value yet
    commit.set()
    for thread in threads:
        thread.join(timeout=30)

    entries, _ = sync(client)
    assert [entry["id"] for entry in entries] == [first.pk, second.pk]


@pytest.mark.django_db(transaction=True)
def test_a_reader_syncing_while_writers_add_sees_each_entry_exactly_once(
    provider: ProviderCredentials,
) -> None:
    require(uses_postgresql(), "concurrent writers need PostgreSQL")
    agreed(provider)
    writers, per_writer = 4, 5
    reports = []
    for _ in range(writers * per_writer):
        report = ReportFactory.create(finished=True)
        ReportedFileFactory.create(report=report, md5=hex_hash(32), sha256="")
        reports.append(report)
    queue = iter(reports)
    lock = threading.Lock()
    done = threading.Event()
    user = staff()

    def write() -> None:
        for _ in range(per_writer):
            with lock:
                report = next(queue)
            report_files_confirm_known(report=report, label="x", user=user)

    seen: list[int] = []

    def read() -> None:
        try:
            cursor = None
            while True:
                finished = done.is_set()
                entries, cursor = sync(api_client_for(provider), cursor, limit=3)
                seen.extend(entry["id"] for entry in entries)
                if finished:
                    return
        finally:
            connection.close()

    reader = threading.Thread(target=read)
    reader.start()
    run_concurrently(write, threads=writers)
    done.set()
    reader.join(timeout=60)

    assert len(seen) == len(set(seen)) == writers * per_writer
    assert set(seen) == set(KnownHash.objects.values_list("pk", flat=True))


# Staff ---------------------------------------------------------------------------------


@pytest.fixture
def analyst(client: Client, reference_data: None) -> Client:
    return signed_in_staff(client, "analyst", username="ana")


def test_staff_confirm_a_reports_files_from_its_page(analyst: Client) -> None:
    report = ReportFactory.create(finished=True)
    file = ReportedFileFactory.create(
        report=report, md5=hex_hash(32), sha1=hex_hash(40), sha256=hex_hash(64), pdq=hex_hash(64)
    )
    url = f"/admin/intake/report/{report.pk}/triage/confirm_known/"

    page = analyst.get(f"/admin/intake/report/{report.pk}/change/")
    refused = analyst.post(url, {"label": "", "reason": "seen it"})
    assert refused.status_code == 200
    assert not KnownHash.objects.exists()
    done = analyst.post(url, {"label": "series-y", "reason": "reviewed, confirmed"})

    assert url in page.content.decode()
    assert done.status_code == 302
    entries = {entry.hash_type: entry for entry in KnownHash.objects.all()}
    assert {kind: entry.value for kind, entry in entries.items()} == {
        "md5": file.md5,
        "sha1": file.sha1,
        "sha256": file.sha256,
        "pdq": file.pdq,
    }
    for entry in entries.values():
        assert (entry.label, entry.confirmed_by, entry.confirmed_from_report_id) == (
            "series-y",
            "ana",
            report.pk,
        )
        assert entry.confirmed_at is not None
        assert entry.shared_seq is not None
    audit = AuditEntry.objects.filter(object_id=str(report.pk), detail__action="confirm_known")
    assert audit.get().detail["known_hashes"] == sorted(entry.pk for entry in entries.values())


def test_staff_without_the_permission_cannot_confirm(client: Client, reference_data: None) -> None:
    auditor = signed_in_staff(client, "auditor", username="aud")
    report = ReportFactory.create(finished=True)
    ReportedFileFactory.create(report=report)

    answer = auditor.post(
        f"/admin/intake/report/{report.pk}/triage/confirm_known/", {"label": "x", "reason": "y"}
    )

    assert answer.status_code in (302, 403)
    assert not KnownHash.objects.exists()


def test_only_supervisors_record_the_agreement(
    client: Client, reference_data: None, provider: ProviderCredentials
) -> None:
    url = f"/admin/intake/provider/{provider.provider.pk}/change/"
    analyst = signed_in_staff(Client(), "analyst", username="ana")
    supervisor = signed_in_staff(client, "supervisor", username="sam")

    analyst.post(url, {"hash_sharing_agreement": "on"})
    assert not type(provider.provider).objects.get(pk=provider.provider.pk).hash_sharing_agreement
    saved = supervisor.post(url, {"hash_sharing_agreement": "on"})

    assert saved.status_code == 302
    signed = type(provider.provider).objects.get(pk=provider.provider.pk)
    assert signed.hash_sharing_agreement
    assert signed.hash_sharing_agreed_at is not None
    assert signed.name == "Example Chat"
    assert api_client_for(provider).get("/api/v1/hashes").status_code == 200


def test_feedback_from_providers_is_shown_to_staff(
    provider: ProviderCredentials, analyst: Client
) -> None:
    _, entries = confirmed_report()
    disputed, confirmed = entries
    client = agreed(provider)

    unreasoned = client.post(
        f"/api/v1/hashes/{disputed.pk}/feedback", {"verdict": "disputed"}, format="json"
    )
    sent = client.post(
        f"/api/v1/hashes/{disputed.pk}/feedback",
        {"verdict": "disputed", "reason": "a stock photograph of a beach"},
        format="json",
    )
    client.post(f"/api/v1/hashes/{confirmed.pk}/feedback", {"verdict": "confirmed"}, format="json")
    not_shared = KnownHash.objects.create(hash_type="md5", value=hex_hash(32))
    unknown = client.post(
        f"/api/v1/hashes/{not_shared.pk}/feedback", {"verdict": "confirmed"}, format="json"
    )

    assert unreasoned.status_code == 400
    assert unreasoned.json()["code"] == "reason_required"
    assert sent.status_code == 201
    assert unknown.status_code == 404
    assert HashFeedback.objects.count() == 2
    page = analyst.get(f"/admin/intake/knownhash/{disputed.pk}/change/").content.decode()
    assert "a stock photograph of a beach" in page
    assert "Example Chat" in page
    listed = analyst.get("/admin/intake/knownhash/", {"disputed": "yes"}).content.decode()
    assert f"/admin/intake/knownhash/{disputed.pk}/change/" in listed
    assert f"/admin/intake/knownhash/{confirmed.pk}/change/" not in listed


# A match -------------------------------------------------------------------------------


def report_with_md5(provider: ProviderCredentials, md5: str) -> Report:
    """A finished report of ``provider`` with one file, known by its MD5 ``md5``."""
    report = report_open(
        document={
            "incidentSummary": {
                "incidentType": "Child Pornography (possession, manufacture, and distribution)",
                "incidentDateTime": "2026-01-02T03:04:05Z",
            }
        },
        provider=provider.provider,
    )
    report_file_add(
        report=report,
        details={"fileName": "seen.jpg", "originalFileHash": [{"value": md5, "hashType": "MD5"}]},
    )
    report_finish(report_id=report.pk, provider=provider.provider)  # routed after commit
    return report


def test_a_provider_reporting_a_file_it_found_by_the_list_gets_it_recognised(
    provider: ProviderCredentials,
) -> None:
    confirmed_report(files=1, label="series-z")
    entries, _ = sync(agreed(provider))
    md5 = next(entry for entry in entries if entry["hashType"] == "md5")

    report = report_with_md5(provider, md5["value"])
    report_route(report_id=report.pk)

    report.refresh_from_db()
    file = report.files.get()
    assert file.known_hash_id == md5["id"]
    assert report.content_status == Report.ContentStatus.KNOWN_ONLY


# Withdrawing entries ---------------------------------------------------------------------


def test_a_withdrawn_entry_reaches_sync_clients_inactive_and_a_confirmation_leaves_it_so(
    provider: ProviderCredentials,
) -> None:
    report, (md5, sha256) = confirmed_report()
    client = agreed(provider)
    _, cursor = sync(client)

    with pytest.raises(ApplicationError) as unreasoned:
        known_hashes_set_active(ids=[md5.pk], active=False, reason=" ")
    withdrawn = known_hashes_set_active(ids=[md5.pk, sha256.pk], active=False, reason="disputed")
    again = known_hashes_set_active(ids=[md5.pk], active=False, reason="disputed")
    changes, cursor = sync(client, cursor)
    confirmation = report_files_confirm_known(report=report, label="relabelled", user=staff())

    assert unreasoned.value.code == "reason_required"
    assert {entry.pk for entry in withdrawn} == {md5.pk, sha256.pk}
    assert again == []  # already withdrawn: nothing changed, nothing sent again
    assert [(entry["id"], entry["active"]) for entry in changes] == [
        (md5.pk, False),
        (sha256.pk, False),
    ]
    assert confirmation.entries == []
    assert {entry.pk for entry in confirmation.withdrawn} == {md5.pk, sha256.pk}
    assert sync(client, cursor) == ([], cursor)  # the confirmation changed nothing shared
    assert KnownHash.objects.get(pk=md5.pk).label == "series-x"
    assert not KnownHash.objects.get(pk=md5.pk).is_active

    restored = known_hashes_set_active(ids=[md5.pk], active=True, reason="dispute withdrawn")
    assert [entry.pk for entry in restored] == [md5.pk]
    assert [(e["id"], e["active"]) for e in sync(client, cursor)[0]] == [(md5.pk, True)]


def test_supervisors_withdraw_entries_in_the_admin_and_analysts_cannot(
    client: Client, reference_data: None
) -> None:
    _, (disputed, kept) = confirmed_report()
    analyst = signed_in_staff(Client(), "analyst", username="ana")
    supervisor = signed_in_staff(client, "supervisor", username="sam")
    url = "/admin/intake/knownhash/"
    chosen = {"action": "withdraw_entries", "_selected_action": [disputed.pk]}

    listing = analyst.get(url).content.decode()
    analyst.post(url, {**chosen, "apply": "1", "reason": "not abuse"})
    still_active_after_the_analyst = KnownHash.objects.get(pk=disputed.pk).is_active
    asked = supervisor.post(url, chosen)
    unreasoned = supervisor.post(url, {**chosen, "apply": "1", "reason": ""})
    done = supervisor.post(url, {**chosen, "apply": "1", "reason": "disputed: a stock photo"})

    assert "withdraw_entries" not in listing
    assert still_active_after_the_analyst
    assert asked.status_code == unreasoned.status_code == 200
    assert disputed.value in asked.content.decode()
    assert 'name="reason"' in asked.content.decode()
    assert done.status_code == 302
    assert not KnownHash.objects.get(pk=disputed.pk).is_active
    assert KnownHash.objects.get(pk=kept.pk).is_active
    audit = AuditEntry.objects.get(object_id=str(disputed.pk), detail__action="withdraw")
    assert (audit.username, audit.detail["reason"]) == ("sam", "disputed: a stock photo")
    assert not AuditEntry.objects.filter(username="ana", detail__action="withdraw").exists()


def test_a_shared_entry_is_never_deleted_in_the_admin(client: Client, reference_data: None) -> None:
    _, (shared, _) = confirmed_report()
    imported = KnownHash.objects.create(hash_type="md5", value=hex_hash(32), label="imported")
    signed_in_staff(client, "supervisor", username="root", superuser=True)

    delete_page = client.get(f"/admin/intake/knownhash/{shared.pk}/delete/")
    both = client.post(
        "/admin/intake/knownhash/",
        {"action": "delete_selected", "_selected_action": [shared.pk, imported.pk], "post": "yes"},
    )
    assert KnownHash.objects.filter(pk=imported.pk).exists()  # the whole selection refused
    unshared = client.post(
        "/admin/intake/knownhash/",
        {"action": "delete_selected", "_selected_action": [imported.pk], "post": "yes"},
    )

    assert delete_page.status_code == both.status_code == 403
    assert unshared.status_code == 302
    assert KnownHash.objects.filter(pk=shared.pk).exists()
    assert not KnownHash.objects.filter(pk=imported.pk).exists()


def test_analysts_see_the_providers_and_their_agreement(
    analyst: Client, provider: ProviderCredentials
) -> None:
    page = analyst.get("/admin/intake/provider/")
    change = analyst.post(
        f"/admin/intake/provider/{provider.provider.pk}/change/", {"hash_sharing_agreement": "on"}
    )

    assert page.status_code == 200
    assert "Example Chat" in page.content.decode()
    assert change.status_code == 403
    assert not type(provider.provider).objects.get(pk=provider.provider.pk).hash_sharing_agreement


# One lock order ------------------------------------------------------------------------


def wait_until_a_writer_waits_for_the_lock() -> None:
    with connection.cursor() as cursor:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                "AND objid = %s",
                [SHARING_LOCK],
            )
            if cursor.fetchone()[0]:
                return
    pytest.fail("the writer never waited for the lock")


def confirm_writer(entry: KnownHash) -> None:
    report = ReportFactory.create(finished=True)
    ReportedFileFactory.create(report=report, md5=entry.value, sha256="")
    report_files_confirm_known(report=report, label="confirmed", user=staff())


def withdraw_writer(entry: KnownHash) -> None:
    known_hashes_set_active(ids=[entry.pk], active=False, reason="disputed")


def save_writer(entry: KnownHash) -> None:
    entry.label = "relabelled"
    known_hash_save(entry=entry, changed=["label"])


def import_writer(entry: KnownHash) -> None:
    known_hashes_import(rows=[["md5", entry.value, "imported", "list"]])


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("writer", [confirm_writer, withdraw_writer, save_writer, import_writer])
def test_every_writer_of_the_list_takes_the_sharing_lock_before_any_row_lock(writer: Any) -> None:
    """Two writers taking the same locks in different orders deadlock (a bulk edit in the
    admin against a confirmation, say): each takes the sharing lock first."""
    require(uses_postgresql(), "the lock is PostgreSQL's")
    entry = KnownHash.objects.create(hash_type="md5", value=hex_hash(32), label="before")
    staff()
    holding, release = threading.Event(), threading.Event()

    def holder() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SHARING_LOCK])
                holding.set()
                assert release.wait(timeout=30)
        finally:
            connection.close()

    def write() -> None:
        try:
            writer(KnownHash.objects.get(pk=entry.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=holder), threading.Thread(target=write)]
    threads[0].start()
    assert holding.wait(timeout=30)
    threads[1].start()
    try:
        wait_until_a_writer_waits_for_the_lock()
        # While it waits, it holds no lock on the entry's row.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM intake_knownhash WHERE id = %s FOR UPDATE NOWAIT", [entry.pk]
            )
    finally:
        release.set()
        for thread in threads:
            thread.join(timeout=30)

    assert KnownHash.objects.get(pk=entry.pk).label != "before" or writer is withdraw_writer


# Every process matches against a change soon --------------------------------------------


def routed_file(report: Report) -> Any:
    wait_for(
        lambda: Report.objects.filter(pk=report.pk, routed_at__isnull=False).exists(),
        timeout=60,
        what=f"a worker to route report {report.pk}",
    )
    return report.files.get()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_matches_against_an_entry_confirmed_in_another_process(
    provider: ProviderCredentials,
    reference_data: None,
    shared_cache: dict[str, str],
    start_worker: Any,
) -> None:
    # The worker asks at every match whether the list changed (in production every few
    # seconds, reloading at most every 30), so that the test waits for no check to fall due.
    start_worker(
        settings.ROUTING_QUEUE,
        env={**shared_cache, "LIST_VERSION_CHECK_SECONDS": "0", "LIST_RELOAD_MIN_SECONDS": "0"},
    )
    md5 = hex_hash(32)
    before = routed_file(report_with_md5(provider, md5))  # the worker loads the list
    assert before.known_hash_id is None

    (entry,) = report_files_confirm_known(
        report=before.report, label="series-w", user=staff()
    ).entries  # in this process, not the worker's
    after = routed_file(report_with_md5(provider, md5))

    assert after.known_hash_id == entry.pk


def test_each_page_a_provider_takes_and_each_verdict_it_sends_is_on_the_audit_trail(
    provider: ProviderCredentials, other_provider: ProviderCredentials
) -> None:
    _, entries = confirmed_report(files=2)  # 4 entries
    client = agreed(provider)

    first = client.get("/api/v1/hashes", {"limit": 3}).json()
    client.get("/api/v1/hashes", {"since": first["nextCursor"], "limit": 3})
    api_client_for(other_provider).get("/api/v1/hashes")  # refused: no agreement
    client.post(f"/api/v1/hashes/{entries[0].pk}/feedback", {"verdict": "confirmed"}, format="json")

    pages = AuditEntry.objects.filter(action="export").order_by("pk")
    assert [entry.detail["entries"] for entry in pages] == [3, 1]
    assert [entry.detail["since"] for entry in pages] == ["", first["nextCursor"]]
    assert {(entry.username, entry.object_id) for entry in pages} == {
        (provider.username, str(provider.provider.pk))
    }
    verdict = AuditEntry.objects.get(action="add", object_type="intake.hashfeedback")
    assert verdict.username == provider.username


def test_a_supervisor_withdraws_every_entry_matching_a_filter_at_once(
    client: Client, reference_data: None
) -> None:
    _, disputed = confirmed_report(files=2)
    kept = KnownHash.objects.create(hash_type="md5", value=hex_hash(32), label="other")
    supervisor = signed_in_staff(client, "supervisor", username="sam")
    url = "/admin/intake/knownhash/?q=series-x"  # the changelist's search, kept in the URL
    chosen = {"action": "withdraw_entries", "select_across": "1", "index": "0"}
    chosen["_selected_action"] = str(disputed[0].pk)  # one ticked; "all matching" chosen

    asked = supervisor.post(url, chosen).content.decode()
    # The confirmation page's form, as a browser sends it: its hidden fields and the reason.
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', asked))
    done = supervisor.post(url, {**hidden, "apply": "1", "reason": "the whole series disputed"})

    assert hidden["select_across"] == "1"
    assert done.status_code == 302
    assert not KnownHash.objects.filter(pk__in=[e.pk for e in disputed], is_active=True).exists()
    assert KnownHash.objects.get(pk=kept.pk).is_active


def test_the_change_form_keeps_an_entrys_hash_and_activity_and_saves_over_the_row_as_it_is(
    client: Client, reference_data: None
) -> None:
    entry = KnownHash.objects.create(hash_type="md5", value=hex_hash(32), label="imported")
    stale = KnownHash.objects.get(pk=entry.pk)  # as the change form read it
    report = ReportFactory.create(finished=True)
    ReportedFileFactory.create(report=report, md5=entry.value, sha256="")
    report_files_confirm_known(report=report, label="confirmed", user=staff())  # shares it
    shared_seq = KnownHash.objects.get(pk=entry.pk).shared_seq
    root = signed_in_staff(client, "supervisor", username="root", superuser=True)

    page = root.get(f"/admin/intake/knownhash/{entry.pk}/change/").content.decode()
    stale.source = "a partner's list"
    known_hash_save(entry=stale, changed=["source"])

    for field in ("value", "hash_type", "is_active"):
        assert f'name="{field}"' not in page
    assert 'name="label"' in page
    saved = KnownHash.objects.get(pk=entry.pk)
    assert (saved.source, saved.label, saved.shared_seq) == (
        "a partner's list",
        "confirmed",
        shared_seq,
    )
    assert saved.confirmed_by == "confirmer"


def test_a_shared_entry_cannot_be_deleted_even_past_the_admins_check() -> None:
    _, (shared, _) = confirmed_report()
    imported = KnownHash.objects.create(hash_type="md5", value=hex_hash(32))

    with pytest.raises(ApplicationError) as refused:
        known_hashes_delete_unshared(ids=[shared.pk, imported.pk])
    deleted = known_hashes_delete_unshared(ids=[imported.pk])

    assert refused.value.code == "shared_entry"
    assert deleted == 1
    assert list(KnownHash.objects.filter(pk__in=[shared.pk, imported.pk])) == [shared]


def test_a_withdrawal_of_more_entries_than_the_cap_is_refused_whole(
    client: Client, reference_data: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, entries = confirmed_report(files=2)  # 4 entries
    monkeypatch.setattr("intake.admin.WITHDRAW_AT_MOST", 3)
    supervisor = signed_in_staff(client, "supervisor", username="sam")

    answer = supervisor.post(
        "/admin/intake/knownhash/",
        {
            "action": "withdraw_entries",
            "_selected_action": [entry.pk for entry in entries],
            "apply": "1",
            "reason": "disputed",
        },
        follow=True,
    )

    assert "at most 3 entries at a time; 4 are chosen" in answer.content.decode()
    assert KnownHash.objects.filter(is_active=True).count() == 4


def test_a_new_label_saved_in_the_change_form_reaches_sync_clients(
    client: Client, reference_data: None, provider: ProviderCredentials
) -> None:
    _, (entry, _) = confirmed_report()
    sync_client = agreed(provider)
    _, cursor = sync(sync_client)
    root = signed_in_staff(client, "supervisor", username="root", superuser=True)

    saved = root.post(
        f"/admin/intake/knownhash/{entry.pk}/change/",
        {
            "label": "series-x, relabelled",
            "source": "confirmed by staff",
            **{f"feedback-{key}": value for key, value in INLINE_MANAGEMENT.items()},
        },
    )

    assert saved.status_code == 302, saved.content.decode()[:2000]
    changes, _ = sync(sync_client, cursor)
    assert [(change["id"], change["label"]) for change in changes] == [
        (entry.pk, "series-x, relabelled")
    ]
    kept = KnownHash.objects.get(pk=entry.pk)
    assert (kept.value, kept.is_active, kept.confirmed_by) == (entry.value, True, "confirmer")


INLINE_MANAGEMENT = {
    "TOTAL_FORMS": "0",
    "INITIAL_FORMS": "0",
    "MIN_NUM_FORMS": "0",
    "MAX_NUM_FORMS": "0",
}


def test_a_bulk_delete_that_meets_an_entry_shared_since_the_check_is_undone_whole(
    client: Client, reference_data: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, (shared, _) = confirmed_report()
    imported = KnownHash.objects.create(hash_type="md5", value=hex_hash(32))
    root = signed_in_staff(client, "supervisor", username="root", superuser=True)
    # As if both were unshared when the page checked, and one was shared just after.
    monkeypatch.setattr(
        "intake.admin.KnownHashAdmin.has_delete_permission", lambda *args, **kwargs: True
    )

    answer = root.post(
        "/admin/intake/knownhash/",
        {"action": "delete_selected", "_selected_action": [shared.pk, imported.pk], "post": "yes"},
    )

    assert answer.status_code == 403
    assert KnownHash.objects.filter(pk__in=[shared.pk, imported.pk]).count() == 2
    assert not AuditEntry.objects.filter(action="delete").exists()
