import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.errors import ApplicationError
from intake.services import provider_create


class Command(BaseCommand):
    help = (
        "Create an electronic service provider account and print its credentials as one "
        "JSON object. The password and token are shown only this once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="The provider's name, e.g. 'Example Chat'.")

    def handle(self, *args: object, name: str, **options: object) -> None:
        try:
            credentials = provider_create(name=name)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            json.dumps(
                {
                    "provider": credentials.provider.name,
                    "username": credentials.username,
                    "password": credentials.password,
                    "token": credentials.token,
                }
            )
        )
