from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from config.errors import ApplicationError
from routing.demo import demo_data_generate


class Progress:
    """``Generating reports: 1200/5000 (24%)`` on stderr: rewritten in place on a terminal,
    otherwise a line every 10%."""

    def __init__(self, stream: OutputWrapper) -> None:
        self.stream = stream
        self.in_place = stream.isatty()
        self.next_tenth = 1

    def __call__(self, done: int, total: int) -> None:
        percent = done * 100 // total
        text = f"Generating reports: {done}/{total} ({percent}%)"
        if self.in_place:
            ending = "\n" if done >= total else ""
            self.stream.write(f"\r{text}", style_func=plain, ending=ending)
            self.stream.flush()
        elif percent >= self.next_tenth * 10:
            self.stream.write(text, style_func=plain)
            self.next_tenth = percent // 10 + 1


def plain(text: str) -> str:
    """Progress is not an error: no colour (Django colours stderr on a terminal red)."""
    return text


class Command(BaseCommand):
    help = (
        "Create N synthetic reports received during YEAR (until now, for this year) through "
        "the real intake services, routed at their simulated times, and let the simulated "
        "agencies act on them; prints a one-line summary. The same seed gives the same "
        "reports on an empty database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reports", type=int, required=True, help="How many reports.")
        parser.add_argument("--year", type=int, required=True, help="The year they are received.")
        parser.add_argument("--seed", type=int, default=1, help="Another seed, other reports.")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing if the database already has a report.",
        )

    def handle(self, *args: Any, reports: int, year: int, seed: int, **options: Any) -> None:
        try:
            summary = demo_data_generate(
                reports=reports,
                year=year,
                seed=seed,
                only_if_empty=options["if_empty"],
                progress=Progress(self.stderr),
            )
        except ApplicationError as error:
            if error.code == "not_empty":
                self.stdout.write(error.message)
                return
            raise CommandError(error.message) from error
        self.stdout.write(summary.line())
