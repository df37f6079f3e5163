"""Attaching photos and videos to a report that is already committed.

Each file is judged on its own (reports.domain.uploads): a bad file is refused with a message for
the sender and never affects the report or the other files. The original is copied, byte for
byte, under settings.PRIVATE_MEDIA_ROOT (never served) while its SHA-256 is computed in the
same pass; the row records that hash and the receipt time. Photos also get a public copy
without metadata under settings.MEDIA_ROOT.
"""

import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from reports.domain.uploads import EvidenceRejected, SkippedUpload, inspect, public_copy_write
from reports.models import Evidence, Report


@dataclass(frozen=True)
class FileOutcome:
    """What became of one file: the stored row, or the message saying why it was refused."""

    name: str
    evidence: Evidence | None = None
    message: str = ""

    @property
    def accepted(self) -> bool:
        return self.evidence is not None


def evidence_attach_all(
    *, report: Report, uploads: list[UploadedFile], skipped: list[SkippedUpload] = ()
) -> list[FileOutcome]:
    """Attach each upload in turn; files the upload handler skipped are reported as refused."""
    outcomes = [FileOutcome(name=item.name, message=item.message) for item in skipped]
    for upload in uploads:
        try:
            evidence = evidence_attach(report=report, upload=upload)
        except EvidenceRejected as rejection:
            outcomes.append(FileOutcome(name=upload.name, message=str(rejection.message)))
        else:
            outcomes.append(FileOutcome(name=upload.name, evidence=evidence))
    return outcomes


def evidence_attach(*, report: Report, upload: UploadedFile) -> Evidence:
    """Check, store and record one file; raise EvidenceRejected if it is not acceptable.

    A file whose SHA-256 the report already has (a retried submission) returns the stored
    row instead of a second copy, also when retries sent at once race to store it: the
    database keeps one row per report and hash, and the losers return the winner's.
    """
    received_at = timezone.now()
    inspection = inspect(upload)
    name = f"{secrets.token_hex(12)}.{inspection.extension}"
    original = Path(settings.PRIVATE_MEDIA_ROOT) / "evidence" / str(report.uuid) / name
    sha256, size = original_store(upload, original)
    existing = report.evidence.filter(sha256=sha256).first()
    if existing is not None:
        files_remove(original)
        return existing
    # The public name is unrelated to the report and to the original's name.
    public = Path(settings.MEDIA_ROOT) / "evidence" / f"{received_at:%Y-%m-%d}"
    public = public / f"{secrets.token_hex(12)}.jpg"
    try:
        if inspection.kind == Evidence.Kind.PHOTO:
            public_copy_write(upload, public)
        with transaction.atomic():
            return Evidence.objects.create(
                report=report,
                kind=inspection.kind,
                content_type=inspection.content_type,
                size=size,
                sha256=sha256,
                original_path=str(original.relative_to(settings.PRIVATE_MEDIA_ROOT)),
                public_path=str(public.relative_to(settings.MEDIA_ROOT)) if public.exists() else "",
                original_name=(upload.name or "")[:255],
                received_at=received_at,
            )
    except IntegrityError:
        files_remove(original, public)
        existing = report.evidence.filter(sha256=sha256).first()
        if existing is None:
            raise
        return existing
    except BaseException:
        files_remove(original, public)
        raise


def files_remove(*paths: Path) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def original_store(upload: UploadedFile, destination: Path) -> tuple[str, int]:
    """Copy the upload chunk by chunk, hashing the same bytes; leave the copy read-only."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    upload.seek(0)
    with destination.open("xb") as out:
        for chunk in upload.chunks():
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
    destination.chmod(0o440)
    upload.seek(0)
    return digest.hexdigest(), size
