"""Notices to providers through both sides' interfaces: staff send one from a report's
admin page, the provider reads and answers it through its API, unanswered ones are
reminded on schedule and then escalated, and a provider never sees another's."""

import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, override_settings
from rest_framework.test import APIClient

from config.errors import ApplicationError
from intake.models import AuditEntry, Report
from intake.services import ProviderCredentials
from routing.models import Notice, NoticeEvent, ProviderNoticeEndpoint
from routing.notices import (
    CONTENT_IN_THE_REASON,
    NOTICE_HEADER,
    NoticeDeliveryFailed,
    notice_answer,
    notice_close,
    notice_deliver,
    notice_delivery_enqueue,
    notice_figures,
    notice_send,
)
from routing.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_problem
from routing.tasks import deliver_notice, send_notice_reminders
from tests.conftest import api_client_for, signed_in_staff
from tests.factories import ReportFactory

pytestmark = pytest.mark.django_db

START = dt.datetime(2031, 3, 3, 9, 0, tzinfo=dt.UTC)


def provider_report(credentials: ProviderCredentials) -> Report:
    return ReportFactory.create(
        source=Report.Source.PROVIDER, provider=credentials.provider, finished=True
    )


def sent_notice(credentials: ProviderCredentials, **fields: object) -> Notice:
    return notice_send(
        report=provider_report(credentials),
        notice_type=Notice.Type.TAKEDOWN,
        targets=["https://chat.example.com/m/1"],
        reason="Confirmed apparent child sexual abuse material.",
        requested_action=Notice.RequestedAction.REMOVAL,
        by_user=None,
        **fields,  # type: ignore[arg-type]
    )


def test_staff_send_a_notice_and_the_provider_answers_it(
    client: Client, provider: ProviderCredentials
) -> None:
    report = provider_report(provider)
    staff = signed_in_staff(client, "analyst", username="ana")

    page = staff.post(
        f"/admin/intake/report/{report.pk}/triage/send_notice/",
        {
            "notice_type": "takedown",
            "requested_action": "removal",
            "targets": "https://chat.example.com/m/1\nhttps://chat.example.com/m/2\n",
            "reason": "Confirmed apparent child sexual abuse material.",
        },
    )

    assert page.status_code == 302
    notice = Notice.objects.get(report=report)
    assert notice.provider == provider.provider
    assert notice.targets == ["https://chat.example.com/m/1", "https://chat.example.com/m/2"]
    assert notice.deadline_at - notice.sent_at == dt.timedelta(hours=48)
    entry = AuditEntry.objects.filter(object_id=str(report.pk)).latest("pk")
    assert entry.username == "ana"
    assert entry.detail["action"] == "send_notice"
    assert entry.detail["notice"] == notice.pk

    api = api_client_for(provider)
    listed = api.get("/api/v1/notices").json()
    assert [n["noticeId"] for n in listed["notices"]] == [notice.pk]
    assert listed["notices"][0]["status"] == "open"
    assert listed["nextPage"] is None

    answered = api.post(f"/api/v1/notices/{notice.pk}/answer", {"answer": "removed"}, format="json")
    assert answered.status_code == 200, answered.content
    assert answered.json()["status"] == "answered"
    assert answered.json()["answer"] == "removed"

    again = api.post(f"/api/v1/notices/{notice.pk}/answer", {"answer": "removed"}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "notice_not_open"
    kinds = list(NoticeEvent.objects.filter(notice=notice).values_list("kind", "by_provider"))
    assert kinds == [("sent", None), ("answered", provider.provider.pk)]


def test_a_notice_needs_a_reason(client: Client, provider: ProviderCredentials) -> None:
    report = provider_report(provider)
    staff = signed_in_staff(client, "analyst", username="ana")

    page = staff.post(
        f"/admin/intake/report/{report.pk}/triage/send_notice/",
        {"notice_type": "account", "requested_action": "account_action", "reason": ""},
    )

    assert page.status_code == 200
    assert not Notice.objects.exists()


def test_staff_send_notices_in_bulk_from_the_list(
    client: Client, provider: ProviderCredentials
) -> None:
    reports = [provider_report(provider) for _ in range(2)]
    staff = signed_in_staff(client, "analyst", username="ana")

    staff.post(
        "/admin/intake/report/",
        {
            "action": "bulk_send_notice",
            "_selected_action": [r.pk for r in reports],
            "apply": "1",
            "notice_type": "follow_up",
            "requested_action": "removal",
            "targets": "",
            "reason": "Still available.",
        },
    )

    notices = Notice.objects.order_by("report_id")
    assert [n.report_id for n in notices] == [r.pk for r in reports]
    assert notices[0].targets == [f"CyberTipline report {reports[0].pk}"]
    assert {n.notice_type for n in notices} == {"follow_up"}


def test_a_dispute_needs_a_reason_and_keeps_it(provider: ProviderCredentials) -> None:
    notice = sent_notice(provider)
    api = api_client_for(provider)

    bare = api.post(f"/api/v1/notices/{notice.pk}/answer", {"answer": "disputed"}, format="json")
    reasoned = api.post(
        f"/api/v1/notices/{notice.pk}/answer",
        {"answer": "disputed", "reason": "The account belongs to an adult performer."},
        format="json",
    )

    assert bare.status_code == 400
    assert bare.json()["fields"] == {"reason": ["A reason is required."]}
    assert reasoned.status_code == 200
    assert reasoned.json()["answerReason"] == "The account belongs to an adult performer."


def test_a_provider_sees_and_answers_only_its_own_notices(
    provider: ProviderCredentials, other_provider: ProviderCredentials
) -> None:
    mine = sent_notice(provider)
    theirs = sent_notice(other_provider)
    api = api_client_for(provider)

    listed = api.get("/api/v1/notices").json()["notices"]
    read = api.get(f"/api/v1/notices/{theirs.pk}")
    answer = api.post(f"/api/v1/notices/{theirs.pk}/answer", {"answer": "not_found"}, format="json")
    missing = api.get(f"/api/v1/notices/{theirs.pk + 1000}")

    assert [n["noticeId"] for n in listed] == [mine.pk]
    assert read.status_code == answer.status_code == missing.status_code == 404
    assert read.json() == missing.json()
    assert Notice.objects.get(pk=theirs.pk).status == Notice.Status.OPEN


def test_open_notices_are_listed_before_answered_ones(provider: ProviderCredentials) -> None:
    first = sent_notice(provider)
    second = sent_notice(provider)
    api = api_client_for(provider)
    api.post(f"/api/v1/notices/{first.pk}/answer", {"answer": "removed"}, format="json")

    listed = api.get("/api/v1/notices").json()["notices"]

    assert [n["noticeId"] for n in listed] == [second.pk, first.pk]


def test_an_unusable_page_is_refused(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/notices", {"page": "0"})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_page"


@override_settings(NOTICE_REMINDER_HOURS=24, NOTICE_MAX_REMINDERS=2)
def test_unanswered_notices_are_reminded_on_schedule_then_escalated(
    provider: ProviderCredentials,
) -> None:
    with time_machine.travel(START, tick=False) as clock:
        notice = sent_notice(provider)
        answered = sent_notice(provider)
        api_client_for(provider).post(
            f"/api/v1/notices/{answered.pk}/answer", {"answer": "removed"}, format="json"
        )

        clock.move_to(START + dt.timedelta(hours=23))
        assert send_notice_reminders() == 0

        clock.move_to(START + dt.timedelta(hours=24))
        assert send_notice_reminders() == 1
        # Run twice, it reminds once.
        assert send_notice_reminders() == 0

        clock.move_to(START + dt.timedelta(hours=48))
        assert send_notice_reminders() == 1
        clock.move_to(START + dt.timedelta(hours=72))
        assert send_notice_reminders() == 1
        clock.move_to(START + dt.timedelta(hours=200))
        assert send_notice_reminders() == 0

    notice.refresh_from_db()
    assert notice.reminders_sent == 2
    assert notice.escalated_at == START + dt.timedelta(hours=72)
    assert notice.next_reminder_at is None
    events = list(NoticeEvent.objects.filter(notice=notice).values_list("kind", "at"))
    assert events == [
        ("sent", START),
        ("reminded", START + dt.timedelta(hours=24)),
        ("reminded", START + dt.timedelta(hours=48)),
        ("escalated", START + dt.timedelta(hours=72)),
    ]
    assert not NoticeEvent.objects.filter(notice=answered, kind="reminded").exists()


def test_staff_close_a_reports_notices_and_reminders_stop(
    client: Client, provider: ProviderCredentials
) -> None:
    with time_machine.travel(START, tick=False) as clock:
        notice = sent_notice(provider)
        staff = signed_in_staff(client, "analyst", username="ana")

        page = staff.post(
            f"/admin/intake/report/{notice.report_id}/triage/close_notices/",
            {"reason": "Confirmed removed by our own check."},
        )
        clock.move_to(START + dt.timedelta(days=5))
        reminded = send_notice_reminders()

    assert page.status_code == 302
    assert reminded == 0
    notice.refresh_from_db()
    assert notice.status == Notice.Status.CLOSED
    assert notice.closed_by is not None
    assert notice.closed_by.username == "ana"
    answer = api_client_for(provider).post(
        f"/api/v1/notices/{notice.pk}/answer", {"answer": "removed"}, format="json"
    )
    assert answer.status_code == 409


def test_figures_per_provider(
    provider: ProviderCredentials, other_provider: ProviderCredentials
) -> None:
    api = api_client_for(provider)
    with time_machine.travel(START, tick=False) as clock:
        notices = [sent_notice(provider) for _ in range(3)]
        sent_notice(other_provider)
        for hours, notice in zip((2, 10), notices[:2], strict=True):
            clock.move_to(START + dt.timedelta(hours=hours))
            api.post(f"/api/v1/notices/{notice.pk}/answer", {"answer": "removed"}, format="json")

        figures = {f.provider: f for f in notice_figures(now=START + dt.timedelta(hours=49))}

    mine = figures[provider.provider.name]
    assert (mine.sent, mine.answered, mine.open_past_deadline) == (3, 2, 1)
    assert mine.median_hours_to_answer == pytest.approx(6.0)
    assert mine.p90_hours_to_answer == pytest.approx(9.2)
    theirs = figures[other_provider.provider.name]
    assert (theirs.sent, theirs.answered, theirs.median_hours_to_answer) == (1, 0, None)
    assert theirs.open_past_deadline == 1


class Receiver(BaseHTTPRequestHandler):
    """A provider's webhook endpoint: keeps what it was sent, answers 204."""

    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers.items()), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    Receiver.received.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/notices"
    server.shutdown()
    server.server_close()


def test_a_provider_with_an_endpoint_gets_each_notice_signed(
    provider: ProviderCredentials,
    receiver: str,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    endpoint = ProviderNoticeEndpoint.objects.create(provider=provider.provider, url=receiver)

    with django_capture_on_commit_callbacks(execute=True):
        notice = sent_notice(provider)

    [(headers, body)] = Receiver.received
    assert headers[NOTICE_HEADER] == str(notice.pk)
    problem = signature_problem(
        secret=endpoint.secret,
        timestamp=headers[TIMESTAMP_HEADER],
        signature_value=headers[SIGNATURE_HEADER],
        body=body,
    )
    assert problem is None
    payload = json.loads(body)
    assert payload["event"] == "sent"
    assert payload["notice"]["targets"] == ["https://chat.example.com/m/1"]
    assert NoticeEvent.objects.filter(notice=notice, kind="delivered").exists()


def test_a_notice_closed_or_answered_before_its_delivery_runs_is_not_posted(
    provider: ProviderCredentials,
    receiver: str,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    ProviderNoticeEndpoint.objects.create(provider=provider.provider, url=receiver)
    with django_capture_on_commit_callbacks(execute=False) as deliveries:
        closed = sent_notice(provider)
    notice_close(notice=closed, reason="Sent to the wrong provider.", by_user=None)
    answered = sent_notice(provider)
    notice_answer(provider=provider.provider, notice_id=answered.pk, answer="removed")
    events_before = list(NoticeEvent.objects.values_list("pk", flat=True))

    for delivery in deliveries:
        delivery()
    deliver_notice(answered.pk, NoticeEvent.Kind.REMINDED)

    assert len(deliveries) == 1
    assert Receiver.received == []
    assert list(NoticeEvent.objects.values_list("pk", flat=True)) == events_before


def test_a_failed_delivery_is_recorded_and_retried(provider: ProviderCredentials) -> None:
    notice = sent_notice(provider)
    ProviderNoticeEndpoint.objects.create(
        provider=provider.provider, url="http://127.0.0.1:9/notices"
    )

    with pytest.raises(NoticeDeliveryFailed):
        notice_deliver(notice_id=notice.pk, kind="sent")

    failure = NoticeEvent.objects.get(notice=notice, kind="delivery_failed")
    # The exception's type only: its text can quote the endpoint's URL.
    assert failure.detail == "ConnectError"


def test_the_staff_statistics_page_shows_notices_by_provider(
    client: Client, provider: ProviderCredentials
) -> None:
    notice = sent_notice(provider)
    api_client_for(provider).post(
        f"/api/v1/notices/{notice.pk}/answer", {"answer": "not_found"}, format="json"
    )
    staff = signed_in_staff(client, "analyst", username="ana")

    page = staff.get("/stats/")

    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="notices"' in html
    assert "Notices to providers" in html
    assert provider.provider.name in html


def answered_notice(credentials: ProviderCredentials, answer: str) -> Notice:
    notice = sent_notice(credentials)
    reason = "The account belongs to an adult performer." if answer == "disputed" else ""
    return notice_answer(
        provider=credentials.provider, notice_id=notice.pk, answer=answer, reason=reason
    )


def test_an_analyst_reads_the_notices_and_their_events_but_cannot_change_them(
    client: Client, provider: ProviderCredentials
) -> None:
    notice = answered_notice(provider, "disputed")
    staff = signed_in_staff(client, "analyst", username="ana")
    url = f"/admin/routing/notice/{notice.pk}/change/"

    listed = staff.get("/admin/routing/notice/")
    page = staff.get(url)

    assert listed.status_code == 200
    assert f'href="{url}"' in listed.content.decode()
    assert page.status_code == 200
    html = page.content.decode()
    assert "The account belongs to an adult performer." in html
    assert f'href="/admin/intake/report/{notice.report_id}/change/"' in html
    events = list(page.context["inline_admin_formsets"][0].formset.queryset)
    assert [event.kind for event in events] == ["sent", "answered"]
    assert 'name="_save"' not in html
    assert staff.get("/admin/routing/notice/add/").status_code == 403
    assert staff.get(f"/admin/routing/notice/{notice.pk}/delete/").status_code == 403
    changed = staff.post(url, {"status": "closed", "close_reason": "Changed by hand."})
    assert changed.status_code == 403
    notice.refresh_from_db()
    assert notice.status == Notice.Status.ANSWERED
    viewed = AuditEntry.objects.filter(action="view", object_type="routing.notice").get()
    assert (viewed.username, viewed.object_id) == ("ana", str(notice.pk))


def test_the_disputed_filter_lists_only_disputed_notices(
    client: Client, provider: ProviderCredentials, other_provider: ProviderCredentials
) -> None:
    disputed = answered_notice(provider, "disputed")
    answered_notice(provider, "removed")
    sent_notice(other_provider)
    staff = signed_in_staff(client, "analyst", username="ana")

    every = staff.get("/admin/routing/notice/")
    page = staff.get("/admin/routing/notice/", {"answer__exact": "disputed"})

    assert 'href="?answer__exact=disputed"' in every.content.decode()
    assert [notice.pk for notice in page.context["cl"].result_list] == [disputed.pk]


def test_a_provider_takes_its_notices_at_the_webhook_the_command_configures(
    provider: ProviderCredentials,
    receiver: str,
    capsys: pytest.CaptureFixture[str],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    call_command("configure_provider_notice_webhook", "Example Chat", receiver)
    printed = json.loads(capsys.readouterr().out)
    endpoint = ProviderNoticeEndpoint.objects.get(provider=provider.provider)
    assert printed == {"provider": "Example Chat", "url": receiver, "secret": endpoint.secret}

    with django_capture_on_commit_callbacks(execute=True):
        notice = sent_notice(provider)

    [(headers, body)] = Receiver.received
    assert json.loads(body)["notice"]["noticeId"] == notice.pk
    assert (
        signature_problem(
            secret=printed["secret"],
            timestamp=headers[TIMESTAMP_HEADER],
            signature_value=headers[SIGNATURE_HEADER],
            body=body,
        )
        is None
    )

    # Configured again, it is given a new secret, kept in place of the old one.
    call_command("configure_provider_notice_webhook", "Example Chat", receiver)
    again = json.loads(capsys.readouterr().out)
    assert again["secret"] != printed["secret"]
    assert ProviderNoticeEndpoint.objects.get(provider=provider.provider).secret == again["secret"]

    call_command("configure_provider_notice_webhook", "Example Chat", "")
    assert json.loads(capsys.readouterr().out) == {
        "provider": "Example Chat",
        "url": None,
        "secret": None,
    }
    assert not ProviderNoticeEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("name", "url", "message"),
    [
        ("No Such Provider", "https://provider.example.com/notices", "No provider"),
        ("Example Chat", "ftp://provider.example.com/notices", "http:// or https:// URL"),
        ("Example Chat", "not a url", "http:// or https:// URL"),
    ],
)
def test_configure_provider_notice_webhook_refuses_an_unknown_provider_or_a_bad_url(
    provider: ProviderCredentials, name: str, url: str, message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("configure_provider_notice_webhook", name, url)
    assert not ProviderNoticeEndpoint.objects.exists()


def test_a_provider_hosting_content_another_reported_never_learns_that_report_number(
    provider: ProviderCredentials,
    other_provider: ProviderCredentials,
    receiver: str,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    ProviderNoticeEndpoint.objects.create(provider=other_provider.provider, url=receiver)
    report = provider_report(provider)  # reported by "provider"; hosted by the other
    about = {
        "report": report,
        "notice_type": Notice.Type.TAKEDOWN,
        "reason": "Confirmed apparent child sexual abuse material.",
        "requested_action": Notice.RequestedAction.REMOVAL,
        "by_user": None,
    }

    with pytest.raises(ApplicationError) as untargeted:
        notice_send(**about, targets=[" "], provider=other_provider.provider)  # type: ignore[arg-type]
    own = notice_send(**about, targets=[])  # type: ignore[arg-type]
    with django_capture_on_commit_callbacks(execute=True):
        hosted = notice_send(
            **about,  # type: ignore[arg-type]
            targets=["https://files.example.net/f/9"],
            provider=other_provider.provider,
        )

    assert untargeted.value.code == "targets_required"
    assert own.targets == [f"CyberTipline report {report.pk}"]
    mine = api_client_for(provider).get(f"/api/v1/notices/{own.pk}").json()
    assert mine["reportId"] == report.pk
    theirs = api_client_for(other_provider).get("/api/v1/notices").json()["notices"]
    [(_, body)] = Receiver.received
    for seen in (theirs[0], json.loads(body)["notice"]):
        assert seen["noticeId"] == hosted.pk
        assert seen["reportId"] is None
        assert str(report.pk) not in json.dumps(seen["targets"])


@override_settings(NOTICE_WEBHOOK_RESEND_HOURS=4, NOTICE_REMINDER_HOURS=1000)
def test_a_webhook_whose_task_was_lost_is_sent_again_by_the_sweep_and_then_only_once(
    provider: ProviderCredentials,
    receiver: str,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    ProviderNoticeEndpoint.objects.create(provider=provider.provider, url=receiver)
    with time_machine.travel(START, tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=False) as lost:
            notice = sent_notice(provider)  # its delivery task never runs
        with django_capture_on_commit_callbacks(execute=True):
            delivered_at_once = sent_notice(provider)  # delivered at once

        clock.move_to(START + dt.timedelta(hours=3, minutes=59))
        with django_capture_on_commit_callbacks(execute=True):
            too_early = send_notice_reminders()
        clock.move_to(START + dt.timedelta(hours=4))
        with django_capture_on_commit_callbacks(execute=True):
            resent = send_notice_reminders()
        clock.move_to(START + dt.timedelta(hours=12))
        with django_capture_on_commit_callbacks(execute=True):
            after_delivery = send_notice_reminders()

    assert len(lost) == 1
    assert (too_early, resent, after_delivery) == (0, 1, 0)
    received = [headers[NOTICE_HEADER] for headers, _ in Receiver.received]
    assert received == [str(delivered_at_once.pk), str(notice.pk)]
    notice.refresh_from_db()
    assert (notice.webhook_event, notice.webhook_owed_since) == ("", None)


def test_a_reminder_of_a_notice_never_delivered_is_delivered_as_sent_and_settles_it(
    provider: ProviderCredentials,
    receiver: str,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    ProviderNoticeEndpoint.objects.create(provider=provider.provider, url=receiver)
    with django_capture_on_commit_callbacks(execute=False) as lost:
        notice = sent_notice(provider)  # its delivery task lost
    with django_capture_on_commit_callbacks(execute=True):
        notice_delivery_enqueue(notice=notice, kind=NoticeEvent.Kind.REMINDED)

    notice.refresh_from_db()
    events = [json.loads(body)["event"] for _, body in Receiver.received]
    assert len(lost) == 1
    assert events == ["sent"]  # the provider's first event for the notice
    assert (notice.webhook_event, notice.webhook_owed_since) == ("", None)


def test_an_older_notice_naming_another_providers_report_shows_it_to_the_host_without_it(
    provider: ProviderCredentials, other_provider: ProviderCredentials
) -> None:
    report = provider_report(provider)
    notice = notice_send(
        report=report,
        notice_type=Notice.Type.TAKEDOWN,
        targets=["https://files.example.net/f/9"],
        reason="Confirmed apparent child sexual abuse material.",
        requested_action=Notice.RequestedAction.REMOVAL,
        by_user=None,
        provider=other_provider.provider,
    )
    # As a notice sent before the rule was: the report's number as a target.
    Notice.objects.filter(pk=notice.pk).update(
        targets=[f"CyberTipline report {report.pk}", "https://files.example.net/f/9"]
    )

    seen = api_client_for(other_provider).get(f"/api/v1/notices/{notice.pk}").json()

    assert seen["targets"] == ["https://files.example.net/f/9"]
    assert seen["reportId"] is None


def test_an_older_notice_whose_only_target_was_another_providers_report_names_none(
    provider: ProviderCredentials, other_provider: ProviderCredentials
) -> None:
    report = provider_report(provider)
    notice = sent_notice(provider, provider=other_provider.provider)
    Notice.objects.filter(pk=notice.pk).update(targets=[f"CyberTipline report {report.pk}"])
    Notice.objects.filter(pk=notice.pk).update(report=report)

    seen = api_client_for(other_provider).get(f"/api/v1/notices/{notice.pk}").json()

    assert seen["targets"] == [CONTENT_IN_THE_REASON]
    assert seen["reportId"] is None
