import json
from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from routing.models import Agency
from routing.services import agency_webhook_configure


class Command(BaseCommand):
    help = (
        "Deliver an agency's referrals to a webhook URL, signed with a new secret, which is "
        "printed once (JSON: agency, url, secret). An empty URL returns it to its inbox."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("agency_code")
        parser.add_argument("url")

    def handle(self, *args: Any, **options: Any) -> None:
        agency = Agency.objects.filter(code=options["agency_code"]).first()
        if agency is None:
            raise CommandError(f"No agency has the code {options['agency_code']!r}.")
        try:
            agency = agency_webhook_configure(agency=agency, url=options["url"])
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        self.stdout.write(
            json.dumps(
                {
                    "agency": agency.code,
                    "deliveryMode": agency.delivery_mode,
                    "url": agency.webhook_url or None,
                    "secret": agency.webhook_secret,
                }
            )
        )
