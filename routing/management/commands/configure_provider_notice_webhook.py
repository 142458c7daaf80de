import json
from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from intake.models import Provider
from routing.notices import provider_notice_endpoint_configure


class Command(BaseCommand):
    help = (
        "Deliver a provider's notices to a webhook URL, signed with a new secret, which is "
        "printed once (JSON: provider, url, secret). An empty URL removes the endpoint."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("provider_name")
        parser.add_argument("url")

    def handle(self, *args: Any, **options: Any) -> None:
        provider = Provider.objects.filter(name=options["provider_name"]).first()
        if provider is None:
            raise CommandError(f"No provider has the name {options['provider_name']!r}.")
        try:
            endpoint = provider_notice_endpoint_configure(provider=provider, url=options["url"])
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        self.stdout.write(
            json.dumps(
                {
                    "provider": provider.name,
                    "url": endpoint.url if endpoint else None,
                    "secret": endpoint.secret if endpoint else None,
                }
            )
        )
