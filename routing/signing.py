"""Webhook signatures: HMAC-SHA256 over the timestamp and the body, with the agency's
secret. The receiver recomputes it and refuses a stale timestamp, so a captured
delivery cannot be replayed later.

    X-Tipline-Timestamp: 1795000000
    X-Tipline-Signature: v1=<hex of HMAC-SHA256(secret, b"1795000000." + body)>
"""

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-Tipline-Timestamp"
SIGNATURE_HEADER = "X-Tipline-Signature"
# Identifies the delivery: the same referral always carries the same id, so a receiver
# that saw it already can answer 2xx and drop the copy.
REFERRAL_HEADER = "X-Tipline-Referral"
AGENCY_HEADER = "X-Tipline-Agency"
TOLERANCE_SECONDS = 300


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def signed_headers(*, secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    timestamp = int(time.time() if now is None else now)
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret=secret, timestamp=timestamp, body=body),
    }


def signature_problem(
    *, secret: str, timestamp: str | None, signature_value: str | None, body: bytes
) -> str | None:
    """Why a delivery's signature is not acceptable, or None when it is."""
    if not timestamp or not signature_value:
        return f"{TIMESTAMP_HEADER} and {SIGNATURE_HEADER} are required"
    try:
        stamped = int(timestamp)
    except ValueError:
        return f"{TIMESTAMP_HEADER} is not a Unix time"
    if abs(time.time() - stamped) > TOLERANCE_SECONDS:
        return f"{TIMESTAMP_HEADER} is more than {TOLERANCE_SECONDS} s from now"
    expected = signature(secret=secret, timestamp=stamped, body=body)
    if not hmac.compare_digest(expected, signature_value):
        return "the signature does not match the body"
    return None
