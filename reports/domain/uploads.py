"""Checking evidence uploads by their content, and making public copies without metadata.

An upload is judged by its bytes, never by its name or the browser's content type:

1. the upload handler skips (without storing) any file over settings.EVIDENCE_MAX_BYTES or
   beyond settings.EVIDENCE_MAX_FILES and notes it, so the page can say which;
2. the first bytes are matched against known signatures (the `filetype` library); only
   JPEG, PNG and WebP photos and MP4, QuickTime, WebM and 3GP videos pass. SVG and other
   text formats have no signature and fail here;
3. a file whose name claims another media type than its content is refused, and so is one
   whose first bytes carry web-page markup (a polyglot meant to be opened as HTML);
3a. the whole file is then read in chunks, never all at once, for what a polyglot hides
   further on: a ZIP archive's end record in the last 64 KB (where archive readers look for
   it), and, in a photo, web-page markup in the metadata segments or after the image's end.
   A JPEG is walked segment by segment, so an EXIF thumbnail (a whole JPEG inside the APP1
   segment) is skipped as part of its segment; bytes after the image's end are allowed (a
   camera's second picture or a motion photo's video) as long as they carry no markup;
4. photos are opened with Pillow, which reads only the header: more than MAX_PIXELS
   (width × height, 50 megapixels: every phone camera's full picture passes) is refused as a
   decompression bomb before a single pixel is decoded; so is a PNG or WebP of more than
   MAX_DECODED_PIXELS, which can only be decoded whole (a JPEG is decoded at a reduced
   scale), so the decoder never holds more than about MAX_DECODED_PIXELS × 4 bytes. Then
   the file is verified and fully decoded, so a truncated or forged image fails before it
   is stored.

The public copy of a photo is decoded pixels only, re-encoded as JPEG into a fresh image: no
EXIF, GPS, XMP or ICC data can survive, and whatever a polyglot hid is gone. The orientation
from EXIF is applied first so the picture stays upright. Videos get no public copy (we have no
way here to strip their metadata); their originals stay private like every original.
"""

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import filetype
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

from reports.models import Evidence

PUBLIC_MAX_EDGE = 2560
PUBLIC_JPEG_QUALITY = 85
HEAD_BYTES = 8192
MARKUP = (b"<script", b"<html", b"<svg", b"<?php", b"<!doctype", b"<body", b"<iframe")
# Beyond the head, a tag must be followed by a space, "/" or ">", so that compressed bytes
# of a long picture or video hardly ever spell one by chance.
MARKUP_TAG = re.compile(rb"<(?:script|html|svg|\?php|!doctype|body|iframe)[\s/>]", re.IGNORECASE)
MARKUP_OVERLAP = 16  # bytes a chunk shares with the next, so no tag is cut in two
CHUNK_BYTES = 64 * 1024
ZIP_END = b"PK\x05\x06"
ZIP_END_SEARCH = 22 + 65535  # the end record and the longest archive comment
TRAILER_SLACK = 32  # padding some encoders leave after a JPEG's end
# A JPEG is checked at 1/8 scale and copied at no more than twice the public size; a PNG or
# WebP decodes whole, at up to 4 bytes a pixel: 25 megapixels take 100 MB, and its public copy
# (shrunk with its transparency) about twice that while it is made.
MAX_PIXELS = 50_000_000
MAX_DECODED_PIXELS = 25_000_000

# content type: (kind, Pillow format or None for videos, file-name extensions)
ACCEPTED = {
    "image/jpeg": (Evidence.Kind.PHOTO, "JPEG", ("jpg", "jpeg", "jfif", "jpe")),
    "image/png": (Evidence.Kind.PHOTO, "PNG", ("png",)),
    "image/webp": (Evidence.Kind.PHOTO, "WEBP", ("webp",)),
    "video/mp4": (Evidence.Kind.VIDEO, None, ("mp4", "m4v")),
    "video/x-m4v": (Evidence.Kind.VIDEO, None, ("m4v", "mp4")),
    "video/quicktime": (Evidence.Kind.VIDEO, None, ("mov", "qt")),
    "video/webm": (Evidence.Kind.VIDEO, None, ("webm",)),
    "video/3gpp": (Evidence.Kind.VIDEO, None, ("3gp", "3gpp")),
}
# Extensions a name may claim: one that disagrees with the content is refused.
KNOWN_EXTENSIONS = {ext for _kind, _format, exts in ACCEPTED.values() for ext in exts} | {
    "gif", "bmp", "tif", "tiff", "svg", "svgz", "html", "htm", "xhtml", "js", "php", "pdf",
    "exe", "zip",
}  # fmt: skip


class EvidenceRejected(Exception):
    """A file that is not accepted; `message` says why, for the person who sent it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Inspection:
    kind: str
    content_type: str
    extension: str


@dataclass(frozen=True)
class SkippedUpload:
    """A file the upload handler did not store, and why."""

    name: str
    message: str


def inspect(upload: UploadedFile) -> Inspection:
    """Decide from the content what an upload is; raise EvidenceRejected if not acceptable."""
    name = upload.name or ""
    if not upload.size:
        raise EvidenceRejected(_("“%(name)s” is empty.") % {"name": name})
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    guess = filetype.guess(head)
    if guess is None or guess.mime not in ACCEPTED:
        found = guess.mime if guess else _("an unknown type")
        raise EvidenceRejected(
            _(
                "“%(name)s” is %(found)s, which is not accepted. Send JPEG, PNG or WebP "
                "photos, or MP4, MOV, WebM or 3GP videos."
            )
            % {"name": name, "found": found}
        )
    kind, image_format, extensions = ACCEPTED[guess.mime]
    claimed = Path(name).suffix.lower().lstrip(".")
    if claimed in KNOWN_EXTENSIONS and claimed not in extensions:
        raise EvidenceRejected(
            _("“%(name)s” is named as a .%(claimed)s file but contains %(found)s.")
            % {"name": name, "claimed": claimed, "found": guess.mime}
        )
    if any(marker in head.lower() for marker in MARKUP):
        raise EvidenceRejected(
            _("“%(name)s” contains web-page code and was not accepted.") % {"name": name}
        )
    polyglot_check(upload, image_format)
    if image_format is not None:
        image_check(upload, image_format)
    return Inspection(kind=kind, content_type=guess.mime, extension=extensions[0])


def polyglot_check(upload: UploadedFile, image_format: str | None) -> None:
    """Refuse a file that is also a ZIP archive, or a photo that carries web-page markup
    beyond its head: in its JPEG metadata segments or after the image's end."""
    name = upload.name or ""
    try:
        if zip_end_found(upload):
            raise EvidenceRejected(
                _("“%(name)s” contains an archive and was not accepted.") % {"name": name}
            )
        if image_format == "JPEG":
            found = jpeg_markup_found(upload)
        elif image_format is not None:
            found = markup_found(upload, HEAD_BYTES)
        else:
            found = False
        if found:
            raise EvidenceRejected(
                _("“%(name)s” contains web-page code and was not accepted.") % {"name": name}
            )
    finally:
        upload.seek(0)


def zip_end_found(upload: UploadedFile) -> bool:
    start = max(0, upload.size - ZIP_END_SEARCH)
    upload.seek(start)
    return ZIP_END in upload.read(ZIP_END_SEARCH)


def markup_found(upload: UploadedFile, start: int, end: int | None = None) -> bool:
    """Whether bytes start..end (to the file's end if None) carry a tag, read in chunks."""
    upload.seek(start)
    position, carried = start, b""
    while end is None or position < end:
        size = CHUNK_BYTES if end is None else min(CHUNK_BYTES, end - position)
        chunk = upload.read(size)
        if not chunk:
            return False
        if MARKUP_TAG.search(carried + chunk):
            return True
        position += len(chunk)
        carried = chunk[-MARKUP_OVERLAP:]
    return False


def jpeg_markup_found(upload: UploadedFile) -> bool:
    """Walk a JPEG's segments: look for markup in each metadata segment and in what follows
    the image's end; skip the compressed picture. Standalone markers carry no data."""
    upload.seek(2)  # after the start-of-image marker
    while True:
        marker = jpeg_marker_read(upload)
        if marker is None:
            return False  # broken: image_check refuses it
        if marker == 0xD9:  # end of image
            end = upload.tell()
            return upload.size - end > TRAILER_SLACK and markup_found(upload, end)
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            continue
        length = int.from_bytes(upload.read(2), "big")
        if length < 2:
            return False
        start = upload.tell()
        if markup_found(upload, start, start + length - 2):
            return True
        upload.seek(start + length - 2)
        if marker == 0xDA and not jpeg_scan_skip(upload):  # start of scan
            return False


def jpeg_marker_read(upload: UploadedFile) -> int | None:
    """The code of the marker at the current position (after any fill bytes), or None."""
    if upload.read(1) != b"\xff":
        return None
    code = upload.read(1)
    while code == b"\xff":
        code = upload.read(1)
    return code[0] if code else None


def jpeg_scan_skip(upload: UploadedFile) -> bool:
    """Move past compressed picture data to the next marker; False if the file ends first.

    In that data 0xFF is followed by 0x00 (a stuffed byte) or a restart marker; anything
    else after 0xFF is the next segment's marker.
    """
    while True:
        start = upload.tell()
        chunk = upload.read(CHUNK_BYTES)
        if len(chunk) < 2:
            return False
        index = chunk.find(b"\xff")
        while index != -1 and index + 1 < len(chunk):
            following = chunk[index + 1]
            if following == 0xFF:
                index += 1
            elif following == 0x00 or 0xD0 <= following <= 0xD7:
                index = chunk.find(b"\xff", index + 2)
            else:
                upload.seek(start + index)
                return True
        upload.seek(start + len(chunk) - 1)  # the last byte again: it may be a 0xFF


def image_check(upload: UploadedFile, image_format: str) -> None:
    """Open, verify and fully decode an image; refuse bombs and broken or forged files."""
    name = upload.name or ""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload, formats=[image_format]) as image:
                pixels_check(image)
                image.verify()
            upload.seek(0)
            with Image.open(upload, formats=[image_format]) as image:
                # A JPEG's every block is still read and checked when decoded at 1/8 scale.
                image.draft("RGB", (1, 1))
                pixels_check(image, limit=MAX_DECODED_PIXELS)
                image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise EvidenceRejected(
            _("“%(name)s” has too many pixels to be a photo; it was not accepted.") % {"name": name}
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise EvidenceRejected(
            _("“%(name)s” is damaged or is not a real image.") % {"name": name}
        ) from None
    finally:
        upload.seek(0)


def pixels_check(image: Image.Image, limit: int = MAX_PIXELS) -> None:
    """Refuse, from the header alone, a picture of more than `limit` pixels."""
    if image.width * image.height > limit:
        raise Image.DecompressionBombError(f"{image.width} × {image.height} pixels")


def public_copy_write(upload: UploadedFile, destination: Path) -> None:
    """Write the photo's pixels, upright and at most PUBLIC_MAX_EDGE wide, as a JPEG that
    carries no metadata at all."""
    upload.seek(0)
    with Image.open(upload) as image:
        scale = min(1.0, PUBLIC_MAX_EDGE / max(image.size))
        # A JPEG decodes at the smallest scale still at least the public size.
        image.draft("RGB", (round(image.width * scale), round(image.height * scale)))
        # Shrink before turning upright, so only the decoded picture is ever full size.
        image.thumbnail((PUBLIC_MAX_EDGE, PUBLIC_MAX_EDGE))
        pixels = ImageOps.exif_transpose(image).convert("RGB")
    clean = Image.new("RGB", pixels.size)
    clean.paste(pixels)
    destination.parent.mkdir(parents=True, exist_ok=True)
    clean.save(destination, "JPEG", quality=PUBLIC_JPEG_QUALITY, optimize=True)
    upload.seek(0)


class EvidenceLimitUploadHandler(FileUploadHandler):
    """Put first in request.upload_handlers: skips files over the size or count limit while
    they stream in (nothing of them is kept) and lists them on request.evidence_skipped."""

    def __init__(self, request: HttpRequest) -> None:
        super().__init__(request)
        request.evidence_skipped = []
        self.file_count = 0

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.file_count += 1

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        # Raising here rather than in new_file: the parser then closes only this file.
        if start == 0 and self.file_count > settings.EVIDENCE_MAX_FILES:
            self.skip(
                _("“%(name)s” was not accepted: at most %(count)d files per report.")
                % {"name": self.file_name, "count": settings.EVIDENCE_MAX_FILES}
            )
        if start + len(raw_data) > settings.EVIDENCE_MAX_BYTES:
            self.skip(
                _("“%(name)s” is larger than %(limit)s and was not accepted.")
                % {"name": self.file_name, "limit": filesizeformat(settings.EVIDENCE_MAX_BYTES)}
            )
        return raw_data

    def skip(self, message: str) -> None:
        self.request.evidence_skipped.append(SkippedUpload(self.file_name, str(message)))
        raise SkipFile

    def file_complete(self, file_size: int) -> None:
        return None
