"""ISO 3166-1 alpha-2 codes and U.S. states, read once from the reference data that
ships with the code."""

import csv
from pathlib import Path

REFERENCE_COUNTRIES_CSV = Path(__file__).parent / "reference" / "countries.csv"

with REFERENCE_COUNTRIES_CSV.open(newline="", encoding="utf-8") as _rows:
    ISO_COUNTRY_CODES: frozenset[str] = frozenset(row["code"] for row in csv.DictReader(_rows))

REFERENCE_US_STATES_CSV = Path(__file__).parent / "reference" / "us_states.csv"

with REFERENCE_US_STATES_CSV.open(newline="", encoding="utf-8") as _rows:
    # The 50 states and the District of Columbia, each with its ICAC task force.
    US_STATE_NAMES: dict[str, str] = {row["code"]: row["name"] for row in csv.DictReader(_rows)}
