import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.errors import ApplicationError
from intake.services import STAFF_ROLES, staff_user_create


class Command(BaseCommand):
    help = (
        "Create a staff member in a role and print, as one JSON object, the one-time "
        "password and the otpauth:// address to add to an authenticator app (or to turn "
        "into a QR code). Both are shown only this once; the admin asks for both."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", choices=STAFF_ROLES, required=True)
        parser.add_argument(
            "--superuser", action="store_true", help="Every permission (for setting up)."
        )

    def handle(
        self, *args: object, username: str, role: str, superuser: bool, **options: object
    ) -> None:
        try:
            credentials = staff_user_create(username=username, role=role, superuser=superuser)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            json.dumps(
                {
                    "username": credentials.username,
                    "role": role,
                    "password": credentials.password,
                    "totp": credentials.totp_uri,
                }
            )
        )
