"""Hostile uploads are refused wherever a file can be sent: the observer's report form (and
its script's endpoint), the citizen form, the protocol copy form and the API.

Each attack is one file: too large, a decompression bomb, an SVG with a script, another type
behind a photo's extension, or a polyglot (a real JPEG that is also a web page or an
archive). Every refusal is checked on the database and on disk: no Evidence row, no
protocol copy, and no byte of the file kept in public or private storage.
"""

import io
import random
import struct
import uuid
import zipfile
import zlib
from dataclasses import dataclass

import pytest
from django.test import Client
from django.utils import timezone
from PIL import Image

from reports.domain.protocol_checks import template_load
from reports.models import Evidence, ProtocolCopy, Report, TokenScope
from reports.services.signin import SEND_KEY_SESSION_KEY

from . import api_helpers
from .test_protocol_copy import KEYS, LINES

pytestmark = pytest.mark.django_db

SIZE_LIMIT = 256 * 1024


@dataclass(frozen=True)
class Attack:
    name: str
    content: bytes
    content_type: str = "image/jpeg"

    def upload(self) -> io.BytesIO:
        buffer = io.BytesIO(self.content)
        buffer.name = self.name
        return buffer


def jpeg(size: tuple[int, int] = (32, 32), noise: bool = False, **options) -> bytes:
    image = Image.new("RGB", size, "gray")
    if noise:
        rng = random.Random(size[0])
        image.putdata([tuple(rng.randrange(256) for _ in range(3)) for _ in range(size[0] ** 2)])
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95, **options)
    return out.getvalue()


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header (SOF0) was rewritten to claim huge dimensions."""
    data = bytearray(jpeg())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def png_bomb() -> bytes:
    """A real, fully decodable 1-bit PNG of 10,000 × 10,000 pixels that packs into a few KB."""
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000), 0).save(out, "PNG", optimize=True)
    return out.getvalue()


def png_gray(width: int, height: int) -> bytes:
    """A real, fully decodable 8-bit grey PNG, written row by row (never whole in memory)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    packer = zlib.compressobj(9)
    row = bytes(1 + width)  # filter byte, then one byte a pixel
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.html", "<script>alert(document.cookie)</script>")
    return out.getvalue()


SCRIPT = b"<script>fetch('/admin/').then(r => r.text()).then(alert)</script>"
SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    + SCRIPT
    + b"</svg>"
)
BIG_PHOTO = jpeg((256, 256), noise=True)

ATTACKS = {
    "oversize": Attack("huge.jpg", b"\xff\xd8\xff\xe0" + bytes(SIZE_LIMIT + 1)),
    "png-bomb": Attack("bomb.png", png_bomb(), "image/png"),
    "jpeg-forged-dimensions": Attack("bomb.jpg", jpeg_claiming(60_000, 60_000)),
    # 88 megapixels, just under Pillow's own limit: seconds and a gigabyte to decode.
    "png-pixel-bomb": Attack("bomb.png", png_gray(9400, 9400), "image/png"),
    # 30 megapixels: under the header's cap, but a PNG can only be decoded whole.
    "png-too-big-to-decode": Attack("wide.png", png_gray(6000, 5000), "image/png"),
    "svg-script": Attack("photo.svg", SVG, "image/svg+xml"),
    "svg-named-jpg": Attack("photo.jpg", SVG),
    "html-named-jpg": Attack("photo.jpg", b"<!doctype html><html><body>" + SCRIPT),
    "pdf-named-jpg": Attack("scan.jpg", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"),
    "exe-named-png": Attack("photo.png", b"MZ\x90\x00" + bytes(60) + b"PE\x00\x00", "image/png"),
    "zip-named-jpg": Attack("photo.jpg", zip_bytes()),
    "png-named-jpg": Attack("photo.jpg", b"\x89PNG\r\n\x1a\n" + bytes(64)),
    "jpeg-with-html-comment": Attack("photo.jpg", jpeg(comment=b"<html><body>" + SCRIPT)),
    "jpeg-then-html": Attack("photo.jpg", BIG_PHOTO + b"<html><body>" + SCRIPT + b"</html>"),
    "jpeg-then-zip": Attack("photo.jpg", BIG_PHOTO + zip_bytes()),
}


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.EVIDENCE_MAX_BYTES = SIZE_LIMIT


@pytest.fixture(params=list(ATTACKS), ids=list(ATTACKS))
def attack(request) -> Attack:
    return ATTACKS[request.param]


def stored_files(settings) -> list:
    roots = (settings.MEDIA_ROOT, settings.PRIVATE_MEDIA_ROOT)
    return [path for root in roots if root.exists() for path in root.rglob("*") if path.is_file()]


def assert_nothing_kept(settings) -> None:
    assert not Evidence.objects.exists()
    assert stored_files(settings) == []


def post_report(client: Client, url: str, data: dict, attack: Attack):
    return client.post(url, {**data, "evidence": [attack.upload()]}, HTTP_ACCEPT="application/json")


def test_the_observer_form_refuses_the_file_and_keeps_the_report(
    observer_client, report_form_data, attack, settings
):
    data = report_form_data()
    response = post_report(observer_client, "/report/", data, attack)
    assert response.status_code == 201
    [outcome] = response.json()["files"]
    assert outcome["accepted"] is False and outcome["message"]
    assert Report.objects.filter(uuid=data["uuid"]).exists()
    assert_nothing_kept(settings)


def test_the_citizen_form_refuses_the_file(report_form_data, remote_addr, attack, settings):
    citizen = Client(REMOTE_ADDR=remote_addr)
    response = post_report(citizen, "/citizen/", report_form_data(), attack)
    assert response.status_code == 201
    assert [f["accepted"] for f in response.json()["files"]] == [False]
    assert_nothing_kept(settings)


def test_the_protocol_copy_form_refuses_the_file_as_its_photo(
    observer_client, election, stations, attack, settings
):
    election.protocol_template = template_load("federal-12", ["Иванов", "Петров"])
    election.save()
    data = {f"line_{key}": str(value) for key, value in zip(KEYS, LINES, strict=True)}
    data |= {"uuid": str(uuid.uuid4()), "station": stations[101].pk, "photo": attack.upload()}
    response = observer_client.post("/protocols/copy/", data, HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    assert "photo" in response.json()["errors"]
    assert not ProtocolCopy.objects.exists()
    assert stored_files(settings) == []


def test_the_api_never_stores_a_file_sent_with_a_report(stations, categories, attack, settings):
    api = api_helpers.client(api_helpers.token(TokenScope.SUBMIT))
    body = {
        "uuid": str(uuid.uuid4()),
        "station_number": "101",
        "category": "V1",
        "occurred_at": timezone.now().isoformat(),
        "evidence": attack.upload(),
    }
    response = api.post("/api/v1/reports/", body, format="multipart")
    assert response.status_code == 201
    assert Report.objects.filter(uuid=body["uuid"]).exists()
    assert_nothing_kept(settings)


def test_the_api_refuses_a_body_over_the_upload_limit(stations, categories, settings):
    api = api_helpers.client(api_helpers.token(TokenScope.SUBMIT))
    body = {
        "uuid": str(uuid.uuid4()),
        "station_number": 101,
        "category": "V1",
        "occurred_at": timezone.now().isoformat(),
        "description": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1),
    }
    response = api.post("/api/v1/reports/", body, format="json")
    assert response.status_code in (400, 413)
    assert not Report.objects.exists()


def test_the_forms_script_with_its_send_key_refuses_the_file_and_keeps_the_report(
    observer_client, report_form_data, attack, settings
):
    key = observer_client.session[SEND_KEY_SESSION_KEY]
    data = {**report_form_data(), "evidence": [attack.upload()]}
    response = Client().post(
        "/report/send/", data, HTTP_ACCEPT="application/json", HTTP_AUTHORIZATION=f"SendKey {key}"
    )
    assert response.status_code == 201
    [outcome] = response.json()["files"]
    assert outcome["accepted"] is False and outcome["message"]
    assert Report.objects.filter(uuid=data["uuid"]).exists()
    assert_nothing_kept(settings)


def test_a_real_photo_still_passes_every_check(observer_client, report_form_data, settings):
    """The control: the same path accepts an honest photo, so the refusals above are real."""
    photo = Attack("photo.jpg", BIG_PHOTO)
    response = post_report(observer_client, "/report/", report_form_data(), photo)
    assert [f["accepted"] for f in response.json()["files"]] == [True]
    assert Evidence.objects.count() == 1


def test_a_pixel_bomb_is_refused_for_its_pixels(
    observer_client, report_form_data, language, settings
):
    bomb = ATTACKS["png-pixel-bomb"]
    client = language(observer_client, "en")
    response = post_report(client, "/report/", report_form_data(), bomb)
    [outcome] = response.json()["files"]
    assert outcome["accepted"] is False
    assert "too many pixels" in outcome["message"]
    assert_nothing_kept(settings)


def test_a_fifty_megapixel_camera_photo_passes(observer_client, report_form_data, settings):
    out = io.BytesIO()
    Image.new("L", (8160, 6120), "gray").save(out, "JPEG", quality=80)
    settings.EVIDENCE_MAX_BYTES = len(out.getvalue()) + 1
    photo = Attack("camera.jpg", out.getvalue())
    response = post_report(observer_client, "/report/", report_form_data(), photo)
    assert [f["accepted"] for f in response.json()["files"]] == [True]
    assert Evidence.objects.count() == 1


def exif_with_thumbnail(thumbnail: bytes) -> bytes:
    """An APP1 Exif segment as cameras write it: IFD0 empty, IFD1 pointing at a thumbnail
    JPEG (with its own end-of-image marker) carried inside the segment."""
    ifd1_at = 8 + 2 + 4  # TIFF header, then IFD0: no entries, the offset of IFD1
    data_at = ifd1_at + 2 + 2 * 12 + 4
    tiff = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<HI", 0, ifd1_at)
    tiff += struct.pack("<H", 2)
    tiff += struct.pack("<HHII", 0x0201, 4, 1, data_at)  # JPEGInterchangeFormat
    tiff += struct.pack("<HHII", 0x0202, 4, 1, len(thumbnail))  # …Length
    tiff += struct.pack("<I", 0) + thumbnail
    body = b"Exif\x00\x00" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


def test_a_camera_photo_with_a_thumbnail_and_a_second_picture_passes(
    observer_client, report_form_data, settings
):
    """A thumbnail's end marker inside the Exif segment is not the photo's end, and a second
    picture after the end (multi-picture and motion photos) carries no markup."""
    thumbnail = jpeg((16, 16))
    camera = BIG_PHOTO[:2] + exif_with_thumbnail(thumbnail) + BIG_PHOTO[2:] + jpeg((64, 64))
    assert thumbnail.endswith(b"\xff\xd9") and thumbnail in camera
    photo = Attack("camera.jpg", camera)
    response = post_report(observer_client, "/report/", report_form_data(), photo)
    assert [f["accepted"] for f in response.json()["files"]] == [True]
    assert Evidence.objects.count() == 1


def test_markup_deep_in_a_photos_metadata_is_refused(observer_client, report_form_data, settings):
    """Past the first bytes the head check reads, in a segment after a long one."""
    padding = b"\xff\xe2" + struct.pack(">H", 20_002) + bytes(20_000)
    comment = b"<html><body>" + SCRIPT
    comment_segment = b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment
    hidden = BIG_PHOTO[:2] + padding + comment_segment + BIG_PHOTO[2:]
    response = post_report(
        observer_client, "/report/", report_form_data(), Attack("deep.jpg", hidden)
    )
    assert [f["accepted"] for f in response.json()["files"]] == [False]
    assert_nothing_kept(settings)
