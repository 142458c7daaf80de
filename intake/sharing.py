"""The shared known-hash list: what staff confirm from reports, handed to providers that
have signed the hash-sharing agreement, so they can find and remove the material
themselves; and what those providers say back about an entry.

Only entries staff confirmed here are shared (an entry imported from elsewhere is matched
against, but not passed on unless staff confirm it). Providers see an entry's hash, type,
label and whether it is active: never the report it came from, nor who confirmed it.

The change sequence
-------------------
Providers sync incrementally: "everything after cursor c". A cursor on the entry id would
skip entries: ids are handed out when a row is inserted, not when it is committed, so a
transaction holding id 7 can commit after a reader has already seen id 8 and moved its
cursor past 7 for good. Instead each shared entry carries ``shared_seq``, assigned by
``known_hashes_share`` as the last write of the transaction, under a transaction-level
advisory lock that every assigner takes and that is held until commit. So the values are
handed out one writer at a time, each writer's one after the previous writer committed:
a reader whose snapshot shows value n already shows every value below n, and "after c"
never skips one. An entry whose label or activity changes gets a new, higher value, so a
withdrawal reaches every client as a row with ``active: false``. (On SQLite, the
embedded mode, the database's single write lock, held from the first write to commit,
gives the same order.) That lock (intake.hashes.SHARING_LOCK) is taken first, before any
row lock, by every transaction that writes entries: so no two of them deadlock.

A shared entry is never deleted (providers would not learn of it): it is withdrawn, by a
supervisor, and a later confirmation of the same hash leaves it withdrawn."""

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from rest_framework import status

from config.errors import ApplicationError, reason_required
from intake.hashes import known_hash_list_changed, known_hash_list_lock
from intake.models import HashFeedback, KnownHash, Provider, Report

SHARED_TYPES = ("md5", "sha1", "sha256", "pdq")
SHARED_FIELDS = {"hash_type", "value", "label", "is_active"}  # what providers see of an entry
CURSOR_PREFIX = "seq:"


def known_hashes_share(*, ids: Sequence[int]) -> None:
    """Give the entries ``ids`` the next values of the change sequence, in id order, so
    sync clients see them (again) after everything they have seen. Call it as the last
    write of the transaction: the lock it takes is held until commit, and other writers
    of the list wait for it."""
    if not ids:
        return
    with transaction.atomic():
        known_hash_list_lock()
        # A statement after the lock: under READ COMMITTED it sees the last holder's values.
        last = KnownHash.objects.aggregate(last=Max("shared_seq"))["last"] or 0
        for offset, entry_id in enumerate(sorted(set(ids)), start=1):
            KnownHash.objects.filter(pk=entry_id).update(shared_seq=last + offset)


@dataclass(frozen=True)
class Confirmation:
    entries: list[KnownHash]  # confirmed and shared
    withdrawn: list[KnownHash] = field(default_factory=list)  # left withdrawn, untouched


@transaction.atomic
def report_files_confirm_known(*, report: Report, label: str, user: User) -> Confirmation:
    """Put each MD5, SHA-1, SHA-256 and PDQ hash of the report's files on the known-hash
    list with ``label``, confirmed by ``user`` from ``report``, active, and shared with
    providers under the agreement. An entry already on the list is confirmed and shared
    as it is (keeping its id); one withdrawn from the list (inactive) is left so: only a
    supervisor puts it back (``known_hashes_set_active``). Refused when the label is
    empty or the report has no hashes. Reports matched from now on recognise the files as
    known content."""
    label = label.strip()
    if not label:
        raise ApplicationError(
            "A label is required.", code="label_required", fields={"label": ["Required."]}
        )
    wanted = sorted(
        {
            (hash_type, value)
            for file in report.files.all()
            for hash_type in SHARED_TYPES
            if (value := getattr(file, hash_type))
        }
    )
    if not wanted:
        raise ApplicationError("The report has no file hashes to add.", code="no_hashes")
    known_hash_list_lock()  # before any row lock
    now = timezone.now()
    entries, withdrawn = [], []
    for hash_type, value in wanted:
        entry, _ = KnownHash.objects.select_for_update().get_or_create(
            hash_type=hash_type, value=value, defaults={"source": "confirmed by staff"}
        )
        if not entry.is_active:
            withdrawn.append(entry)
            continue
        entry.label = label[:200]
        entry.confirmed_by = user.get_username()
        entry.confirmed_at = now
        entry.confirmed_from_report = report
        entry.save(update_fields=["label", "confirmed_by", "confirmed_at", "confirmed_from_report"])
        entries.append(entry)
    known_hashes_share(ids=[entry.pk for entry in entries])
    transaction.on_commit(known_hash_list_changed)
    return Confirmation(entries, withdrawn)


@transaction.atomic
def known_hash_save(*, entry: KnownHash, changed: Sequence[str]) -> KnownHash:
    """Save staff's new entry, or the ``changed`` fields of an entry (over the row as it is
    now, not as it was read: a confirmation may have shared it since). A shared entry
    whose label, hash or activity changed goes to the end of the change sequence, so sync
    clients learn of it."""
    known_hash_list_lock()
    if entry.pk is None:
        entry.save()
    elif changed:
        current = KnownHash.objects.select_for_update().get(pk=entry.pk)
        for name in changed:
            setattr(current, name, getattr(entry, name))
        current.save(update_fields=list(changed))
        entry = current
        if entry.shared_seq is not None and SHARED_FIELDS & set(changed):
            known_hashes_share(ids=[entry.pk])
    transaction.on_commit(known_hash_list_changed)
    return entry


@transaction.atomic
def known_hashes_delete_unshared(*, ids: Sequence[int]) -> int:
    """Delete the entries ``ids`` that are not shared; refused, deleting none, when one
    is: a shared entry is withdrawn instead, so that providers learn of it."""
    known_hash_list_lock()  # no entry is shared between this check and the delete
    entries = KnownHash.objects.filter(pk__in=ids)
    if entries.filter(shared_seq__isnull=False).exists():
        raise ApplicationError(
            "A shared entry is never deleted: withdraw it from the list instead.",
            code="shared_entry",
        )
    deleted, _ = entries.delete()
    transaction.on_commit(known_hash_list_changed)
    return deleted


@transaction.atomic
def known_hashes_set_active(*, ids: Sequence[int], active: bool, reason: str) -> list[KnownHash]:
    """Withdraw the entries ``ids`` from the list (``active`` false: no longer matched,
    and shared ones reach sync clients as inactive) or put them back; a reason is
    required. Returns the entries that changed; the others already were so."""
    reason_required(reason, to="withdraw or restore an entry")
    known_hash_list_lock()  # before any row lock
    changed = list(
        KnownHash.objects.select_for_update()
        .filter(pk__in=ids)
        .exclude(is_active=active)
        .order_by("pk")
    )
    KnownHash.objects.filter(pk__in=[entry.pk for entry in changed]).update(is_active=active)
    known_hashes_share(ids=[entry.pk for entry in changed if entry.shared_seq is not None])
    for entry in changed:
        entry.is_active = active
    transaction.on_commit(known_hash_list_changed)
    return changed


def provider_hash_sharing_set(*, provider: Provider, agreed: bool) -> Provider:
    """Record whether the provider has signed the hash-sharing agreement, and since when."""
    provider.hash_sharing_agreement = agreed
    provider.hash_sharing_agreed_at = timezone.now() if agreed else None
    provider.save(update_fields=["hash_sharing_agreement", "hash_sharing_agreed_at"])
    return provider


# Reads ------------------------------------------------------------------------------


def cursor_encode(seq: int) -> str:
    return base64.urlsafe_b64encode(f"{CURSOR_PREFIX}{seq}".encode()).decode().rstrip("=")


def cursor_decode(cursor: str) -> int:
    """The change sequence value a cursor stands for; refused when it is not one of ours."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if text.startswith(CURSOR_PREFIX) and text[len(CURSOR_PREFIX) :].isdigit():
            return int(text[len(CURSOR_PREFIX) :])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise ApplicationError(
        "The cursor is not one this API gave out: start without one, or use nextCursor.",
        code="invalid_cursor",
        fields={"since": ["Not a cursor this API gave out."]},
    )


@dataclass(frozen=True)
class SharedPage:
    entries: list[KnownHash]
    next_cursor: str
    has_more: bool


def shared_hashes_since(*, cursor: str | None, limit: int) -> SharedPage:
    """The shared entries changed after ``cursor`` (all of them without one), oldest
    change first, at most ``limit``; with the cursor to ask from next."""
    after = cursor_decode(cursor) if cursor else 0
    rows = list(
        KnownHash.objects.filter(shared_seq__gt=after)
        .order_by("shared_seq")
        .only("pk", "hash_type", "value", "label", "is_active", "shared_seq")[: limit + 1]
    )
    entries = rows[:limit]
    last = entries[-1].shared_seq if entries else after
    return SharedPage(entries, cursor_encode(last or 0), has_more=len(rows) > limit)


def hash_feedback_add(
    *, provider: Provider, entry_id: int, verdict: str, reason: str
) -> HashFeedback:
    """The provider's verdict on a shared entry; a dispute needs a reason. An entry that is
    not shared is answered like one that does not exist."""
    entry = KnownHash.objects.filter(pk=entry_id, shared_seq__isnull=False).first()
    if entry is None:
        raise ApplicationError(
            "Shared entry does not exist.", code="not_found", http_status=status.HTTP_404_NOT_FOUND
        )
    reason = reason.strip()
    if verdict == HashFeedback.Verdict.DISPUTED:
        reason = reason_required(reason, to="dispute an entry")
    return HashFeedback.objects.create(
        known_hash=entry, provider=provider, verdict=verdict, reason=reason
    )
