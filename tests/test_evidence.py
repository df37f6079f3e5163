"""Photos and videos: checked by content, original kept byte for byte and private, public
copy without EXIF/GPS; a bad file is refused with a message and the report is still saved."""

import hashlib
import struct
import zlib
from io import BytesIO
from pathlib import Path
from unittest.mock import patch

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from PIL import Image, ImageDraw

from reports.models import Evidence, Report
from reports.services import evidence as evidence_service
from reports.services.signin import SEND_KEY_SESSION_KEY

from .test_moderation_claims import run_at_once

pytestmark = pytest.mark.django_db

GPS_IFD = 0x8825


def upload(name: str, content: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def gps_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to view
    exif.get_ifd(GPS_IFD).update(
        {1: "N", 2: (55.0, 45.0, 21.0), 3: "E", 4: (37.0, 37.0, 4.0)}  # Moscow
    )
    return exif


def photo_with_gps() -> bytes:
    image = Image.new("RGB", (64, 32), "white")
    ImageDraw.Draw(image).rectangle((0, 0, 31, 31), fill="black")
    out = BytesIO()
    image.save(out, "JPEG", exif=gps_exif(), quality=95)
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that claims huge dimensions: a decompression bomb for whoever decodes it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def mp4_bytes() -> bytes:
    ftyp = struct.pack(">I", 24) + b"ftypmp42" + b"\x00\x00\x00\x00" + b"mp42isom"
    mdat = struct.pack(">I", 1032) + b"mdat" + bytes(1024)
    return ftyp + mdat


def send(client, data, *files, **extra):
    return client.post("/report/", {**data, "evidence": list(files)}, follow=True, **extra)


def test_original_is_kept_byte_for_byte_with_its_hash_and_receipt_time(
    observer_client, report_form_data, settings
):
    sent = photo_with_gps()
    send(observer_client, report_form_data(), upload("IMG_0001.JPG", sent))

    evidence = Evidence.objects.get()
    original = Path(settings.PRIVATE_MEDIA_ROOT) / evidence.original_path
    assert evidence.sha256 == hashlib.sha256(sent).hexdigest()
    assert hashlib.sha256(original.read_bytes()).hexdigest() == evidence.sha256
    assert original.read_bytes() == sent
    assert (evidence.kind, evidence.content_type, evidence.size) == (
        "photo",
        "image/jpeg",
        len(sent),
    )
    assert evidence.original_name == "IMG_0001.JPG"
    assert evidence.received_at >= evidence.report.received_at
    assert not str(original).startswith(str(settings.MEDIA_ROOT))


def test_public_copy_has_no_exif_or_gps_and_stays_upright(
    observer_client, report_form_data, settings
):
    send(observer_client, report_form_data(), upload("gps.jpg", photo_with_gps()))

    evidence = Evidence.objects.get()
    public = Path(settings.MEDIA_ROOT) / evidence.public_path
    with Image.open(public) as copy:
        assert copy.format == "JPEG"
        assert len(copy.getexif()) == 0
        assert not {"exif", "xmp", "icc_profile"} & set(copy.info)
        assert copy.size == (32, 64)  # the EXIF orientation was applied before it was dropped
    raw = public.read_bytes()
    assert b"Exif" not in raw and b"PhoneMaker" not in raw


def test_video_is_kept_private_without_a_public_copy(observer_client, report_form_data):
    send(observer_client, report_form_data(), upload("clip.mp4", mp4_bytes(), "video/mp4"))
    evidence = Evidence.objects.get()
    assert (evidence.kind, evidence.content_type, evidence.public_path) == (
        "video",
        "video/mp4",
        "",
    )


def test_several_files_are_attached_to_one_report(observer_client, report_form_data, jpeg_bytes):
    response = send(
        observer_client,
        report_form_data(),
        upload("a.jpg", jpeg_bytes((10, 10))),
        upload("b.jpg", jpeg_bytes((20, 10))),
        upload("c.mp4", mp4_bytes(), "video/mp4"),
    )
    assert Report.objects.get().evidence.count() == 3
    assert "Прикреплено файлов: 3" in response.content.decode()


def test_a_large_photo_streams_through_a_temporary_file(
    observer_client, report_form_data, settings
):
    noise = Image.effect_noise((900, 900), 80).convert("RGB")
    out = BytesIO()
    noise.save(out, "JPEG", quality=98)
    sent = out.getvalue()
    assert len(sent) > settings.FILE_UPLOAD_MAX_MEMORY_SIZE
    send(observer_client, report_form_data(), upload("big.jpg", sent))
    assert Evidence.objects.get().sha256 == hashlib.sha256(sent).hexdigest()


FORGED = [
    ("page.jpg", b"<html><script>alert(1)</script></html>", "не принимается"),
    ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', "не принимается"),
    ("photo.jpg", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "application/pdf"),
    ("photo.jpg", b"MZ\x90\x00\x03" + bytes(200), "не принимается"),
    ("empty.jpg", b"", "пустой"),
]


@pytest.mark.parametrize(("name", "content", "message"), FORGED)
def test_files_that_are_not_photos_or_videos_are_refused_but_the_report_is_saved(
    observer_client, report_form_data, name, content, message
):
    data = report_form_data()
    response = send(observer_client, data, upload(name, content))

    page = response.content.decode()
    assert f"«{name}»" in page and message in page
    assert "Само сообщение сохранено" in page
    assert Report.objects.filter(uuid=data["uuid"]).exists()
    assert not Evidence.objects.exists()


def test_a_png_named_jpg_is_refused(observer_client, report_form_data):
    out = BytesIO()
    Image.new("RGB", (4, 4)).save(out, "PNG")
    response = send(observer_client, report_form_data(), upload("photo.jpg", out.getvalue()))
    assert "названный как файл .jpg, содержит image/png" in response.content.decode()
    assert not Evidence.objects.exists()


def test_an_image_with_markup_inside_is_refused(observer_client, report_form_data, jpeg_bytes):
    content = jpeg_bytes()
    polyglot = content[:2] + b"\xff\xfe\x00\x20<script>alert(1)</script>....." + content[2:]
    response = send(observer_client, report_form_data(), upload("poly.jpg", polyglot))
    assert "код веб-страницы" in response.content.decode()
    assert not Evidence.objects.exists()


def test_a_truncated_photo_is_refused(observer_client, report_form_data):
    noise = Image.effect_noise((200, 200), 80).convert("RGB")
    out = BytesIO()
    noise.save(out, "JPEG")
    cut = out.getvalue()[: len(out.getvalue()) // 2]
    response = send(observer_client, report_form_data(), upload("cut.jpg", cut))
    assert "повреждён" in response.content.decode()
    assert not Evidence.objects.exists()


def test_a_decompression_bomb_is_refused(observer_client, report_form_data):
    bomb = png_header_only(30_000, 30_000)
    assert len(bomb) < 200
    response = send(observer_client, report_form_data(), upload("bomb.png", bomb, "image/png"))
    assert "слишком много пикселей" in response.content.decode()
    assert not Evidence.objects.exists()


@pytest.mark.parametrize(
    ("code", "message"),
    [("ru", "больше 1,0\xa0КБ"), ("en", "is larger than 1.0\xa0KB")],
)
def test_a_file_over_the_size_limit_is_refused_in_the_observers_language(
    observer_client, report_form_data, settings, language, jpeg_bytes, code, message
):
    settings.EVIDENCE_MAX_BYTES = 1024
    big = jpeg_bytes((300, 300))
    assert len(big) > 1024
    data = report_form_data()
    response = send(
        language(observer_client, code),
        data,
        upload("big.jpg", big),
        upload("ok.jpg", jpeg_bytes()),
    )
    assert message in response.content.decode()
    assert Report.objects.get(uuid=data["uuid"]).evidence.get().original_name == "ok.jpg"


def test_files_beyond_the_count_limit_are_refused(
    observer_client, report_form_data, settings, jpeg_bytes
):
    settings.EVIDENCE_MAX_FILES = 2
    files = [upload(f"{n}.jpg", jpeg_bytes((n + 1, n + 1))) for n in range(3)]
    response = send(observer_client, report_form_data(), *files)
    assert "не более 2 файлов" in response.content.decode()
    assert sorted(Evidence.objects.values_list("original_name", flat=True)) == ["0.jpg", "1.jpg"]


def test_a_retried_submission_does_not_attach_the_same_file_twice(
    observer_client, report_form_data, jpeg_bytes
):
    data = report_form_data()
    photo = jpeg_bytes()
    send(observer_client, data, upload("a.jpg", photo))
    send(observer_client, data, upload("a.jpg", photo))
    assert Evidence.objects.count() == 1


def test_the_script_learns_which_files_were_refused(observer_client, report_form_data, jpeg_bytes):
    response = observer_client.post(
        "/report/",
        {
            **report_form_data(),
            "evidence": [upload("ok.jpg", jpeg_bytes()), upload("x.jpg", b"GIF")],
        },
        HTTP_ACCEPT="application/json",
    )
    files = response.json()["files"]
    assert [(f["name"], f["accepted"]) for f in files] == [("ok.jpg", True), ("x.jpg", False)]
    assert files[1]["message"]


def test_public_copies_are_under_media_and_originals_are_not(
    observer_client, report_form_data, settings
):
    send(observer_client, report_form_data(), upload("gps.jpg", photo_with_gps()))
    evidence = Evidence.objects.get()
    assert (Path(settings.MEDIA_ROOT) / evidence.public_path).is_file()
    assert not (Path(settings.MEDIA_ROOT) / evidence.original_path).exists()
    assert (Path(settings.PRIVATE_MEDIA_ROOT) / evidence.original_path).stat().st_mode & 0o222 == 0


def test_a_file_a_concurrent_retry_stored_first_is_not_stored_again(
    observer_client, report_form_data, jpeg_bytes, settings
):
    """The retry checked for the file before the other stored it: it returns that row."""
    data, photo = report_form_data(), jpeg_bytes()
    write_public_copy = evidence_service.public_copy_write

    def other_retry_stores_it_meanwhile(upload, destination):
        report = Report.objects.get(uuid=data["uuid"])
        Evidence.objects.create(
            report=report,
            kind=Evidence.Kind.PHOTO,
            content_type="image/jpeg",
            size=len(photo),
            sha256=hashlib.sha256(photo).hexdigest(),
            original_path="evidence/first.jpg",
        )
        write_public_copy(upload, destination)

    with patch.object(evidence_service, "public_copy_write", other_retry_stores_it_meanwhile):
        response = observer_client.post(
            "/report/",
            {**data, "evidence": [upload("a.jpg", photo)]},
            HTTP_ACCEPT="application/json",
        )

    assert response.status_code == 201
    assert [f["accepted"] for f in response.json()["files"]] == [True]
    assert list(Evidence.objects.values_list("original_path", flat=True)) == ["evidence/first.jpg"]
    kept = [
        path
        for root in (settings.MEDIA_ROOT, settings.PRIVATE_MEDIA_ROOT)
        for path in root.rglob("*")
    ]
    assert [path for path in kept if path.is_file()] == []


@pytest.mark.django_db(transaction=True)
def test_twenty_retries_sent_at_once_store_the_report_and_its_photo_once(
    observer_client, report_form_data, jpeg_bytes, settings
):
    if connection.vendor != "postgresql":
        pytest.skip("the race needs concurrent connections (DATABASE_URL=postgres://…)")
    key = observer_client.session[SEND_KEY_SESSION_KEY]
    data, photo = report_form_data(), jpeg_bytes()

    def retry():
        return Client().post(
            "/report/send/",
            {**data, "evidence": [upload("a.jpg", photo)]},
            HTTP_ACCEPT="application/json",
            HTTP_AUTHORIZATION=f"SendKey {key}",
        )

    responses = run_at_once(*[retry] * 20)

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * 19 + [201], responses  # one stored it, the others found it
    assert all(response.json()["files"][0]["accepted"] for response in responses)
    assert Report.objects.filter(uuid=data["uuid"]).count() == 1
    assert Evidence.objects.count() == 1
    originals = list((settings.PRIVATE_MEDIA_ROOT / "evidence").rglob("*.jpg"))
    assert len(originals) == 1
