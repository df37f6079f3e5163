"""The final protocol copy: line by line with a photo; a failing control relation names its
lines before the copy is accepted, soft checks warn, and a copy is stored exactly once."""

import hashlib
import io
import uuid

import pytest
from django.contrib.auth.models import Permission
from PIL import Image

from reports.domain.protocol_checks import template_load
from reports.models import EvidenceAccess, ProtocolCopy

from .test_evidence import photo_with_gps

URL = "/protocols/copy/"
# Lines 1–12 of a correct protocol, then two candidates.
LINES = [1000, 600, 0, 480, 20, 100, 20, 480, 10, 490, 0, 0, 300, 190]
KEYS = ["voters", "received", "early", "inside", "outside", "cancelled", "portable",
        "stationary", "invalid", "valid", "lost", "unaccounted", "c1", "c2"]  # fmt: skip


@pytest.fixture
def protocol_form(election):
    election.protocol_template = template_load("federal-12", ["Иванов", "Петров"])
    election.save()
    return election


def jpeg(name: str = "copy.jpg", colour: str = "white") -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(buffer, "JPEG")
    buffer.seek(0)
    buffer.name = name
    return buffer


def copy_data(station, key: str | None = None, **changes) -> dict:
    values = dict(zip(KEYS, LINES, strict=True)) | changes
    data = {f"line_{name}": str(value) for name, value in values.items()}
    return data | {"uuid": key or str(uuid.uuid4()), "station": station.pk, "photo": jpeg()}


def post(client, data):
    return client.post(URL, data, HTTP_ACCEPT="application/json")


def test_the_form_lists_every_line_of_the_election_form(observer_client, protocol_form):
    page = observer_client.get(URL)
    assert "10. Valid ballots" in page.text or "10. Число действительных бюллетеней" in page.text
    assert "13. Иванов" in page.text
    assert 'id="protocol-template"' in page.text


def test_a_correct_copy_is_stored_with_its_photo(
    observer_client, observer, stations, protocol_form, settings
):
    response = post(observer_client, copy_data(stations[101]))
    assert response.status_code == 201
    copy = ProtocolCopy.objects.get()
    assert copy.observer == observer
    assert copy.lines["valid"] == 490
    assert copy.control_failures == []
    stored = (settings.PRIVATE_MEDIA_ROOT / copy.photo_path).read_bytes()
    assert hashlib.sha256(stored).hexdigest() == copy.photo_sha256


def test_a_typo_is_refused_with_the_lines_named(observer_client, stations, protocol_form):
    response = post(observer_client, copy_data(stations[101], valid=491))
    assert response.status_code == 400
    errors = " ".join(response.json()["errors"]["__all__"])
    assert "7 + 8 = 9 + 10" in errors
    assert "10 =" in errors
    assert not ProtocolCopy.objects.exists()


def test_the_page_without_javascript_names_the_failing_lines(
    observer_client, stations, protocol_form
):
    response = observer_client.post(URL, copy_data(stations[101], voters=100))
    assert response.status_code == 400
    assert "1 ≥ 3 + 4 + 5" in response.text


def test_a_confirmed_failing_copy_is_kept_with_its_failures(
    observer_client, stations, protocol_form
):
    data = copy_data(stations[101], valid=491) | {"confirm_failures": "on"}
    assert post(observer_client, data).status_code == 201
    assert ProtocolCopy.objects.get().control_failures == ["boxes_counted", "valid_is_votes"]


def test_a_soft_check_warns_but_the_copy_is_accepted(observer_client, stations, protocol_form):
    data = copy_data(stations[101], portable=25, stationary=475)
    response = observer_client.post(URL, data, follow=True)
    assert ProtocolCopy.objects.get().soft_warnings == ["portable_within_outside"]
    assert "7 ≤ 5 + 3" in response.text


def test_the_same_copy_sent_twice_is_stored_once(observer_client, stations, protocol_form):
    key = str(uuid.uuid4())
    first = post(observer_client, copy_data(stations[101], key=key))
    again = post(observer_client, copy_data(stations[101], key=key))
    assert (first.status_code, again.status_code) == (201, 200)
    assert ProtocolCopy.objects.count() == 1


def test_other_numbers_under_a_used_uuid_are_refused(observer_client, stations, protocol_form):
    key = str(uuid.uuid4())
    post(observer_client, copy_data(stations[101], key=key))
    changed = copy_data(stations[101], key=key, c1=299, c2=191)
    assert post(observer_client, changed).status_code == 409
    assert ProtocolCopy.objects.get().lines["c1"] == 300


def test_a_file_that_is_not_a_photo_is_refused(observer_client, stations, protocol_form):
    data = copy_data(stations[101])
    data["photo"] = io.BytesIO(b"%PDF-1.4 not a photo")
    data["photo"].name = "copy.jpg"
    response = post(observer_client, data)
    assert response.status_code == 400
    assert "photo" in response.json()["errors"]
    assert not ProtocolCopy.objects.exists()


def test_a_moderator_opens_the_photo_and_an_observer_cannot(
    observer_client, moderator_client, moderator, stations, protocol_form
):
    post(observer_client, copy_data(stations[101]))
    url = f"/protocols/copy/{ProtocolCopy.objects.get().uuid}/photo"
    assert observer_client.get(url).status_code == 302
    moderator.user_permissions.add(Permission.objects.get(codename="view_protocolcopy"))
    response = moderator_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"


def copy_with_gps_photo(observer_client, station) -> ProtocolCopy:
    photo = io.BytesIO(photo_with_gps())
    photo.name = "copy.jpg"
    post(observer_client, copy_data(station) | {"photo": photo})
    return ProtocolCopy.objects.get()


def permit(user, *codenames: str) -> None:
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))


def test_the_photo_moderators_open_carries_no_gps(
    observer_client, moderator_client, moderator, stations, protocol_form
):
    copy = copy_with_gps_photo(observer_client, stations[101])
    permit(moderator, "view_protocolcopy")

    response = moderator_client.get(f"/protocols/copy/{copy.uuid}/photo")

    shown = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    assert response.status_code == 200
    assert not shown.getexif() and "exif" not in shown.info
    assert shown.size == (32, 64)  # upright, as the camera meant it
    assert not EvidenceAccess.objects.exists()


def test_a_copy_stored_before_clean_photos_existed_is_shown_clean_too(
    observer_client, moderator_client, moderator, stations, protocol_form, settings
):
    copy = copy_with_gps_photo(observer_client, stations[101])
    [clean] = (settings.PRIVATE_MEDIA_ROOT / "protocols").glob("*.clean.jpg")
    clean.unlink()
    permit(moderator, "view_protocolcopy")

    response = moderator_client.get(f"/protocols/copy/{copy.uuid}/photo")

    shown = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    assert response.status_code == 200
    assert not shown.getexif() and "exif" not in shown.info


def test_the_original_photo_is_downloaded_only_with_the_right_and_is_logged(
    observer_client, moderator_client, moderator, stations, protocol_form, settings
):
    copy = copy_with_gps_photo(observer_client, stations[101])
    url = f"/protocols/copy/{copy.uuid}/original"
    permit(moderator, "view_protocolcopy")
    assert moderator_client.get(url).status_code == 403
    assert not EvidenceAccess.objects.exists()

    permit(moderator, "download_original")
    response = moderator_client.get(url, REMOTE_ADDR="10.1.2.3")

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-SHA256"] == copy.photo_sha256
    body = b"".join(response.streaming_content)
    assert body == (settings.PRIVATE_MEDIA_ROOT / copy.photo_path).read_bytes()
    access = EvidenceAccess.objects.get()
    assert (access.protocol_copy, access.evidence, access.user) == (copy, None, moderator)
    assert (access.sha256, access.ip_address) == (copy.photo_sha256, "10.1.2.3")


def test_a_photo_over_the_size_limit_is_refused_for_its_size(
    observer_client, stations, protocol_form, settings, language
):
    settings.EVIDENCE_MAX_BYTES = 100
    response = post(language(observer_client, "en"), copy_data(stations[101]))

    assert response.status_code == 400
    [message] = response.json()["errors"]["photo"]
    assert "copy.jpg" in message and "is larger than 100" in message
    assert not ProtocolCopy.objects.exists()
