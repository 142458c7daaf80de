from django.core.management.base import BaseCommand

from routing.services import reference_data_load


class Command(BaseCommand):
    help = (
        "Load every ISO 3166-1 country, a simulated agency for each, an ICAC task force for "
        "each U.S. state, the routing table and "
        "the analyst review queue. Safe to run again; edits to agencies and rules are kept."
    )

    def handle(self, *args: object, **options: object) -> None:
        counts = reference_data_load()
        self.stdout.write(
            f"{counts.countries} countries; {counts.agencies_created} agencies and "
            f"{counts.rules_created} routing rules created."
        )
