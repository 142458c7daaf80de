"""The audit trail: every look at a report, every change, action and export, and every
staff login, appended with who, when, what and from where. Each entry's hash covers its
content and the previous entry's hash, so editing or removing an entry in the database
breaks the chain from there on, and `audit_verify` says where."""

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Model
from django.http import HttpRequest
from django.utils import timezone

from intake.models import AuditEntry
from intake.ratelimit import client_address

GENESIS = "0" * 64
# Appends take this PostgreSQL advisory lock, so the chain has one order.
CHAIN_LOCK = 0x7A0D17


def entry_hash(entry: AuditEntry) -> str:
    content = {
        "at": entry.at.isoformat(),
        "username": entry.username,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "detail": entry.detail,
        "client": entry.client,
        "previous": entry.previous_hash,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def object_type_of(obj: Model) -> str:
    return obj._meta.label_lower


def audit_record(
    *,
    action: str,
    request: HttpRequest | None = None,
    username: str = "",
    obj: Model | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry: by the request's user (or ``username``), about ``obj``."""
    user = getattr(request, "user", None)
    if not username and user is not None and user.is_authenticated:
        username = user.get_username()
    entry = AuditEntry(
        at=timezone.now(),
        username=username[:150],
        action=action,
        object_type=object_type_of(obj) if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        detail=detail or {},
        client=client_address(request)[:45] if request is not None else "",
    )
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK])
        last = AuditEntry.objects.order_by("-pk").values_list("entry_hash", flat=True).first()
        entry.previous_hash = last or GENESIS
        entry.entry_hash = entry_hash(entry)
        entry.save()
    return entry


@dataclass(frozen=True)
class ChainCheck:
    entries: int
    broken_at: int | None = None  # the first entry that does not hold
    reason: str = ""


def audit_verify() -> ChainCheck:
    """Walk the chain from its first entry; the first entry whose content does not match
    its hash, or whose previous hash is not the entry before it, is where it breaks."""
    previous = GENESIS
    count = 0
    for entry in _in_order():
        count += 1
        if entry.previous_hash != previous:
            return ChainCheck(
                count, entry.pk, "an entry before it was removed, changed or inserted"
            )
        if entry_hash(entry) != entry.entry_hash:
            return ChainCheck(count, entry.pk, "its content does not match its hash")
        previous = entry.entry_hash
    return ChainCheck(count)


def _in_order() -> Iterator[AuditEntry]:
    return AuditEntry.objects.order_by("pk").iterator(chunk_size=2000)


def audit_trail_of(obj: Model, *, limit: int = 200) -> list[AuditEntry]:
    """The newest entries about ``obj``."""
    return list(
        AuditEntry.objects.filter(object_type=object_type_of(obj), object_id=str(obj.pk)).order_by(
            "-pk"
        )[:limit]
    )


def audit_login(sender: object, request: HttpRequest | None, user: Any, **kwargs: object) -> None:
    audit_record(action=AuditEntry.Action.LOGIN, request=request, username=user.get_username())


def audit_logout(sender: object, request: HttpRequest | None, user: Any, **kwargs: object) -> None:
    username = user.get_username() if user is not None else ""
    audit_record(action=AuditEntry.Action.LOGOUT, request=request, username=username)


def audit_login_failed(
    sender: object,
    credentials: dict[str, Any],
    request: HttpRequest | None = None,
    **kwargs: object,
) -> None:
    reason = kwargs.get("reason")
    audit_record(
        action=AuditEntry.Action.LOGIN_FAILED,
        request=request,
        username=str(credentials.get("username", "")),
        detail={"reason": reason} if reason else None,
    )
