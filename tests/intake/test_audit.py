"""The audit trail: who looked at a report, who changed what and who acted, appended and
chained so that editing or removing an entry anywhere is found by `audit_verify`."""

from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client

from intake.audit import GENESIS, audit_record, audit_verify, entry_hash
from intake.models import AuditEntry, Report
from routing.models import Agency, RoutingRule
from tests.conftest import require, run_concurrently, signed_in_staff, uses_postgresql

pytestmark = pytest.mark.django_db


def entries(**filters: Any) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(**filters).order_by("pk"))


def test_every_look_at_a_report_page_is_on_the_record(
    client: Client, routed_report: Report
) -> None:
    signed_in_staff(client, "analyst", username="ana")

    first = client.get(f"/admin/intake/report/{routed_report.pk}/change/")
    second = client.get(f"/admin/intake/report/{routed_report.pk}/change/")

    assert first.status_code == second.status_code == 200
    views = entries(action="view")
    assert [(v.username, v.object_type, v.object_id, v.client) for v in views] == [
        ("ana", "intake.report", str(routed_report.pk), "127.0.0.1")
    ] * 2
    # The report's page shows its own trail: the second look shows the first.
    assert '<table class="audit-trail">' in second.content.decode()
    assert "<td>View</td>" in second.content.decode()


def test_a_change_in_the_admin_is_on_the_record(client: Client, reference_data: None) -> None:
    signed_in_staff(client, "supervisor", username="sam")
    rule = RoutingRule.objects.get(country_id="KE", us_state="")
    interpol = Agency.objects.get(code="interpol-af")

    client.post(
        f"/admin/routing/routingrule/{rule.pk}/change/",
        {"country": "KE", "us_state": "", "agency": interpol.pk},
    )

    (change,) = entries(action="change")
    assert (change.username, change.object_type, change.object_id) == (
        "sam",
        "routing.routingrule",
        str(rule.pk),
    )
    assert change.detail["message"] == [{"changed": {"fields": ["Agency"]}}]


def test_referring_a_report_on_is_on_the_report_record_with_its_reason(
    client: Client, routed_report: Report
) -> None:
    signed_in_staff(client, "supervisor", username="sam")
    referral = routed_report.referrals.get()

    client.post(
        "/admin/routing/referral/",
        {
            "action": "refer_on",
            "_selected_action": [referral.pk],
            "apply": "1",
            "agency": Agency.objects.get(code="direct-at").pk,
            "reason": "The account holder lives in Vienna.",
        },
    )

    (action,) = entries(action="action")
    assert (action.username, action.object_type, action.object_id) == (
        "sam",
        "intake.report",
        str(routed_report.pk),
    )
    assert action.detail == {
        "action": "refer_on",
        "referral": referral.pk,
        "agency": "direct-de",
        "to": "direct-at",
        "reason": "The account holder lives in Vienna.",
    }


def test_logins_and_failed_logins_are_on_the_record(client: Client) -> None:
    signed_in_staff(client, "analyst", username="ana")
    client.post("/admin/login/", {"username": "ana", "password": "wrong", "otp_token": "1"})
    client.post("/admin/logout/")

    # (The sign-in here is the test client's, which comes from no address.)
    assert [(e.action, e.username, e.client) for e in entries()] == [
        ("login", "ana", ""),
        ("login_failed", "ana", "127.0.0.1"),
        ("logout", "ana", "127.0.0.1"),
    ]


def test_the_application_cannot_change_or_delete_an_entry() -> None:
    entry = audit_record(action=AuditEntry.Action.EXPORT, username="ana")

    entry.detail = {"rows": 0}
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).update(username="someone else")
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get().username == "ana"


def test_postgresql_refuses_to_change_or_delete_an_entry_whoever_asks() -> None:
    require(uses_postgresql(), "the append-only trigger is PostgreSQL's")
    entry = audit_record(action=AuditEntry.Action.EXPORT, username="ana")

    for sql in (
        "UPDATE intake_auditentry SET username = 'someone else' WHERE id = %s",
        "DELETE FROM intake_auditentry WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [entry.pk])
    assert AuditEntry.objects.get().username == "ana"


def chain_of(count: int) -> list[AuditEntry]:
    return [
        audit_record(action=AuditEntry.Action.VIEW, username=f"user{n}", detail={"n": n})
        for n in range(count)
    ]


def test_each_entry_is_chained_to_the_one_before() -> None:
    first, second, third = chain_of(3)

    assert first.previous_hash == GENESIS
    assert second.previous_hash == first.entry_hash
    assert third.previous_hash == second.entry_hash
    assert all(entry_hash(entry) == entry.entry_hash for entry in (first, second, third))
    assert audit_verify().broken_at is None


def tamper(sql: str, params: list[Any]) -> None:
    """What someone with the database's superuser could do: switch the trigger off."""
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE intake_auditentry DISABLE TRIGGER intake_auditentry_append_only"
        )
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE intake_auditentry ENABLE TRIGGER intake_auditentry_append_only")


def test_audit_verify_says_the_chain_holds(capsys: Any) -> None:
    chain_of(4)

    call_command("audit_verify")

    assert capsys.readouterr().out.strip() == "4 entries; the chain holds."


def test_audit_verify_finds_an_edited_entry() -> None:
    require(uses_postgresql(), "the tampering goes around PostgreSQL's trigger")
    entries_made = chain_of(5)
    edited = entries_made[2]
    tamper("UPDATE intake_auditentry SET username = 'nobody' WHERE id = %s", [edited.pk])

    with pytest.raises(CommandError, match=f"breaks at entry {edited.pk}: its content"):
        call_command("audit_verify")


def test_audit_verify_finds_a_removed_entry() -> None:
    require(uses_postgresql(), "the tampering goes around PostgreSQL's trigger")
    entries_made = chain_of(5)
    tamper("DELETE FROM intake_auditentry WHERE id = %s", [entries_made[1].pk])

    with pytest.raises(CommandError, match=f"breaks at entry {entries_made[2].pk}: an entry"):
        call_command("audit_verify")


@pytest.mark.django_db(transaction=True)
def test_entries_appended_at_once_from_many_threads_keep_one_chain() -> None:
    require(uses_postgresql(), "the chain's lock is PostgreSQL's")

    run_concurrently(
        lambda: [audit_record(action="view", username="threaded") for _ in range(10)], threads=4
    )

    check = audit_verify()
    assert (check.entries, check.broken_at) == (40, None)
