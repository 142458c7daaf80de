import csv
import io
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from intake.hashes import known_hashes_import


class Command(BaseCommand):
    help = (
        "Import the known-hash list from CSV (hash_type,value,label,source; types md5, sha1, "
        "sha256, pdq). Streams the file; bad rows are reported by line and skipped; safe to "
        "run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: object, file: Path, **options: object) -> None:
        try:
            size = file.stat().st_size or 1
            raw = file.open("rb")
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error}") from error

        def progress(imported: int) -> None:
            done = min(raw.tell() / size, 1.0)
            bar = "#" * int(done * 30)
            sys.stderr.write(f"\r[{bar:<30}] {done:4.0%} {imported:,} rows")
            sys.stderr.flush()

        with raw, io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="") as text:
            result = known_hashes_import(rows=csv.reader(text), progress=progress)
        sys.stderr.write("\n")
        for number, message in result.refused:
            self.stderr.write(f"line {number}: {message}")
        self.stdout.write(f"{result.imported:,} rows imported, {len(result.refused):,} refused.")
