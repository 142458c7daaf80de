from django.core.management.base import BaseCommand, CommandError

from intake.audit import audit_verify


class Command(BaseCommand):
    help = (
        "Check the audit trail's hash chain from its first entry; say where it breaks "
        "(and exit with status 1) if an entry was changed, removed or inserted."
    )

    def handle(self, *args: object, **options: object) -> None:
        check = audit_verify()
        if check.broken_at is not None:
            raise CommandError(
                f"The audit trail breaks at entry {check.broken_at}: {check.reason} "
                f"({check.entries - 1} entries before it hold)."
            )
        self.stdout.write(f"{check.entries} entries; the chain holds.")
