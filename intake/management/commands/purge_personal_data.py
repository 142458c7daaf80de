from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from intake.retention import personal_data_purge


def id_ranges(ids: list[int]) -> str:
    """``[1, 2, 3, 7]`` as ``1-3, 7``."""
    runs: list[list[int]] = []
    for report_id in sorted(ids):
        if runs and report_id == runs[-1][1] + 1:
            runs[-1][1] = report_id
        else:
            runs.append([report_id, report_id])
    return ", ".join(str(first) if first == last else f"{first}-{last}" for first, last in runs)


class Command(BaseCommand):
    help = (
        "Purge the personal data of reports closed for longer than "
        "PERSONAL_DATA_RETENTION_DAYS (what the daily task does), and say which."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Only say which reports would be purged."
        )

    def handle(self, *args: object, dry_run: bool, **options: object) -> None:
        purge = personal_data_purge(dry_run=dry_run)
        if purge.closed_before is None:
            self.stdout.write("Purging is off: PERSONAL_DATA_RETENTION_DAYS is 0.")
            return
        days = settings.PERSONAL_DATA_RETENTION_DAYS
        closed = f"closed before {purge.closed_before:%Y-%m-%d %H:%M} UTC ({days} days ago)"
        count = len(purge.report_ids)
        verb = "Would purge" if dry_run else "Purged"
        listed = f": {id_ranges(purge.report_ids)}" if count else "."
        self.stdout.write(f"{verb} the personal data of {count:,} report(s) {closed}{listed}")
        if not purge.complete:
            self.stdout.write(
                "Stopped after its time budget, with more reports to purge: run it again (or "
                "leave them to the next daily run)."
            )
