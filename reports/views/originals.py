"""Downloads of untouched originals (evidence files, protocol photos): each one logged
before a byte is sent (chain of custody), as an attachment carrying its SHA-256."""

from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _

from reports.services.incidents import DecisionRefused


def original_response(
    *, relative_path: str, log: Callable[[], object], filename: str, content_type: str, sha256: str
) -> FileResponse:
    """The file at `relative_path` under PRIVATE_MEDIA_ROOT, once `log()` (a service that
    may refuse) has recorded the download."""
    root = Path(settings.PRIVATE_MEDIA_ROOT).resolve()
    original = (root / relative_path).resolve()
    if not original.is_relative_to(root) or not original.is_file():
        raise Http404(_("The original file is missing."))
    try:
        log()
    except DecisionRefused:
        raise PermissionDenied from None
    response = FileResponse(
        original.open("rb"), as_attachment=True, filename=filename, content_type=content_type
    )
    response["X-Content-SHA256"] = sha256
    response["Cache-Control"] = "private, no-store"
    return response
