"""bulk_update_rows: Django's bulk_update in one statement a thousand rows."""

import datetime as dt

import pytest
from django.db import DataError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.bulk import bulk_update_rows
from intake.models import Report
from tests.conftest import require, uses_postgresql
from tests.factories import ReportFactory

pytestmark = pytest.mark.django_db


def test_each_row_gets_its_own_values_of_every_type() -> None:
    reports = ReportFactory.create_batch(3, finished=True)
    now = timezone.now()
    for number, report in enumerate(reports):
        report.location = {"rule": f"rule {number}", "evidence": [{"n": number}]}
        report.priority_reasons = [f"reason {number}", "ü ' \" ; --"]
        report.resolved_country = ["GB", "", "PK"][number]
        report.routed_at = now + dt.timedelta(seconds=number) if number else None
        report.bundle = None

    with CaptureQueriesContext(connection) as queries:
        bulk_update_rows(reports, ["location", "priority_reasons", "resolved_country", "routed_at"])

    for number, report in enumerate(reports):
        saved = Report.objects.get(pk=report.pk)
        assert saved.location == {"rule": f"rule {number}", "evidence": [{"n": number}]}
        assert saved.priority_reasons == [f"reason {number}", "ü ' \" ; --"]
        assert saved.resolved_country == ["GB", "", "PK"][number]
        assert saved.routed_at == report.routed_at
    if connection.vendor == "postgresql":
        assert len(queries) == 1


def test_a_field_that_is_not_a_column_is_refused() -> None:
    report = ReportFactory.create()
    with pytest.raises(ValueError, match="not_a_field"):
        bulk_update_rows([report], ["priority", "not_a_field"])


def test_a_value_too_long_for_its_column_is_refused_in_any_row() -> None:
    require(uses_postgresql(), "SQLite does not hold text to a column's length")
    first, second = ReportFactory.create_batch(2)
    first.resolved_country = "GBR"

    with pytest.raises(DataError):
        bulk_update_rows([first, second], ["resolved_country"])
