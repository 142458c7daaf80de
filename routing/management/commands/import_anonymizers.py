from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from routing.services import anonymizers_import


class Command(BaseCommand):
    help = (
        "Import addresses of anonymizing services (e.g. Tor exit nodes): one address or "
        "CIDR a line. IP evidence from them weighs less when a report is located."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: object, file: Path, **options: object) -> None:
        try:
            with file.open(encoding="utf-8") as lines:
                result = anonymizers_import(lines=lines, source=file.name)
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error}") from error
        for number, message in result.errors:
            self.stderr.write(f"line {number}: {message}")
        self.stdout.write(
            f"{result.added} added, {result.already_known} already known, "
            f"{len(result.errors)} lines refused."
        )
