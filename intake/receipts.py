"""Receipt codes: 16 random digits a member of the public is shown once, with their report
number, and kept only as a keyed hash (HMAC-SHA256 with the server's secret key), so a
copy of the database does not let anyone guess them offline."""

import secrets

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

CODE_DIGITS = 16
KEY_SALT = "tipline.receipt-code"


def new_receipt_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def receipt_code_hash(code: str, *, secret: str | None = None) -> str:
    return salted_hmac(KEY_SALT, code, secret=secret, algorithm="sha256").hexdigest()


def receipt_code_matches(code: str, code_hash: str) -> bool:
    """Whether ``code`` is the one hashed, under the current secret key or a former one
    (SECRET_KEY_FALLBACKS), so rotating the key does not void receipts."""
    return any(
        constant_time_compare(receipt_code_hash(code, secret=secret), code_hash)
        for secret in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    )


def receipt_code_for_people(code: str) -> str:
    """``code`` in groups of four, as it is shown: 1234 5678 9012 3456."""
    return " ".join(code[start : start + 4] for start in range(0, len(code), 4))
