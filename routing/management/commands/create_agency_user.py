import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.errors import ApplicationError
from routing.services import agency_user_create


class Command(BaseCommand):
    help = (
        "Create a user of an agency's workspace and API and print, as one JSON object, the "
        "one-time password (to be changed at first sign-in), the API token and the "
        "authenticator (TOTP) address. Each is shown only this once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("agency_code", help="e.g. direct-gb")
        parser.add_argument("username")

    def handle(self, *args: object, agency_code: str, username: str, **options: object) -> None:
        try:
            credentials = agency_user_create(agency_code=agency_code, username=username)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            json.dumps(
                {
                    "username": credentials.username,
                    "password": credentials.password,
                    "token": credentials.token,
                    "totp": credentials.totp_uri,
                }
            )
        )
