"""Bring the statistics pages' daily figures up to date now, however long it takes."""

from typing import Any

from django.core.management.base import BaseCommand

from routing.figures import figures_refresh


class Command(BaseCommand):
    help = (
        "Rebuild the daily figures of every day whose reports changed since the last "
        "refresh (every day, the first time). The beat's refresh_figures task does the same "
        "each minute within a 15-minute limit; run this once to build the figures of a large "
        "existing database."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        days = figures_refresh()
        if days is None:
            self.stdout.write("Another refresh is running: nothing done.")
            return
        self.stdout.write(f"{len(days)} day(s) rebuilt.")
