"""ISO 3166-1 alpha-2 codes, read once from the reference data that ships with the code."""

import csv
from pathlib import Path

REFERENCE_COUNTRIES_CSV = Path(__file__).parent / "reference" / "countries.csv"

with REFERENCE_COUNTRIES_CSV.open(newline="", encoding="utf-8") as _rows:
    ISO_COUNTRY_CODES: frozenset[str] = frozenset(row["code"] for row in csv.DictReader(_rows))
