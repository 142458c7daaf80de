import argparse

from django.core.management.base import BaseCommand, CommandError, CommandParser

from intake.encryption import ROTATION_BATCH_SIZE, encryption_rotate


def rows_per_batch(text: str) -> int:
    try:
        size = int(text)
    except ValueError:
        size = 0
    if size < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of rows of at least 1.")
    return size


class Command(BaseCommand):
    help = (
        "Re-encrypt under the first key of FIELD_ENCRYPTION_KEYS every encrypted value "
        "that is under another of its keys (and encrypt any found in clear), in batches. "
        "Safe to run again: values already under the first key are left alone. A value no "
        "key decrypts is named and left; the command then ends with an error. Once "
        "`--check` passes, the old keys can be removed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=rows_per_batch, default=ROTATION_BATCH_SIZE)
        parser.add_argument(
            "--check",
            action="store_true",
            help="Change nothing: count the values not under the first key, and end with an "
            "error if there are any.",
        )

    def handle(self, *args: object, batch_size: int, check: bool, **options: object) -> None:
        counts = encryption_rotate(batch_size=batch_size, check=check)
        for count in counts.values():
            for where in count.unreadable:
                self.stderr.write(f"{where}: no key of FIELD_ENCRYPTION_KEYS decrypts it.")
        unreadable = sum(len(count.unreadable) for count in counts.values())
        if check:
            for label, count in counts.items():
                self.stdout.write(
                    f"{label}: {count.rows:,} rows; {count.stale:,} values not under the "
                    f"current key ({len(count.unreadable):,} of them unreadable), "
                    f"{count.current:,} under it."
                )
            stale = sum(count.stale for count in counts.values())
            if stale:
                raise CommandError(
                    f"{stale:,} value(s) are not under the current key: run "
                    "`manage.py rotate_encryption_key` before removing an old key."
                    + (self.unreadable_advice(unreadable) if unreadable else "")
                )
            self.stdout.write("Every value is under the current key.")
            return
        for label, count in counts.items():
            self.stdout.write(
                f"{label}: {count.rows:,} rows; {count.reencrypted:,} values re-encrypted "
                f"under the current key, {count.current:,} already under it."
            )
        if unreadable:
            raise CommandError(
                f"{unreadable:,} value(s) could not be re-encrypted."
                + self.unreadable_advice(unreadable)
            )
        if not any(count.reencrypted for count in counts.values()):
            self.stdout.write("Nothing was under an older key.")

    @staticmethod
    def unreadable_advice(unreadable: int) -> str:
        return (
            f" {unreadable:,} value(s), named above, cannot be decrypted with any key of "
            "FIELD_ENCRYPTION_KEYS: they were encrypted under a key that is no longer listed "
            "(list it again, after the current one, and run this again) or were damaged."
        )
