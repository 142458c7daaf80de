import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from intake.models import Report
from intake.selectors import report_triage_record


class Command(BaseCommand):
    help = "Print a report's triage record as one JSON object."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("report_id", type=int)

    def handle(self, *args: object, report_id: int, **options: object) -> None:
        try:
            record = report_triage_record(report_id=report_id)
        except Report.DoesNotExist:
            raise CommandError(f"Report {report_id} does not exist.") from None
        self.stdout.write(json.dumps(record, indent=2))
