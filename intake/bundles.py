"""Bundling: reports of one viral or much-reported content item, resolving to one country,
on one day, join one bundle. A report is bundled when it is flagged as viral (batchedReport,
or files annotated potentialMeme or viral) or when every file is known and the item has
been reported at least BUNDLE_AFTER times before."""

from django.db import IntegrityError, transaction
from django.db.models import F

from intake.hashes import strongest_hash
from intake.models import Bundle, Report, ReportedFile

BUNDLE_AFTER = 10
VIRAL_ANNOTATIONS = ("potentialMeme", "viral")


def flagged_viral(report: Report, files: list[ReportedFile]) -> bool:
    if report.document.get("batchedReport"):
        return True
    return bool(files) and all(
        any((file.details or {}).get("fileAnnotations", {}).get(name) for name in VIRAL_ANNOTATIONS)
        for file in files
    )


def content_key(files: list[ReportedFile]) -> str:
    """The content item: the first file's known-hash entry, or its strongest hash."""
    first = files[0]
    if first.known_hash is not None:
        return f"{first.known_hash.hash_type}:{first.known_hash.value}"
    return strongest_hash(first)


def report_bundle(report: Report, files: list[ReportedFile], *, country: str) -> Bundle | None:
    """The bundle the report with ``files`` (matched) joins, if it is bundled (runs in the
    caller's transaction)."""
    if not files:
        return None
    much_reported = all(file.known_hash_id for file in files) and (
        (files[0].times_seen_before or 0) >= BUNDLE_AFTER
    )
    if not (flagged_viral(report, files) or much_reported):
        return None
    key = content_key(files)
    if not key:
        return None
    day = (report.finished_at or report.received_at).date()
    try:
        with transaction.atomic():
            bundle, _ = Bundle.objects.get_or_create(content_key=key, country=country, day=day)
    except IntegrityError:
        bundle = Bundle.objects.get(content_key=key, country=country, day=day)
    Bundle.objects.filter(pk=bundle.pk).update(report_count=F("report_count") + 1)
    return bundle
