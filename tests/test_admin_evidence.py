"""The evidence viewer: originals with their SHA-256, every download logged."""

import pytest
from django.urls import reverse

from reports.models import EvidenceAccess

from .moderation_fixtures import (
    client_for,
    english_fixture,
    evidence_make,
    incident_make,
    staff_user,
)

USED_FIXTURES = (english_fixture,)  # pytest finds them among the module's names

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

PHOTO = b"\xff\xd8\xff\xe0 the original photo, EXIF and all \xff\xd9"


@pytest.fixture
def evidence(stations, categories, observer):
    incident = incident_make(stations[101], categories["V1"], observer=observer)
    return evidence_make(incident.reports.get(), PHOTO)


def original_url(evidence) -> str:
    return reverse("admin:reports_evidence_original", args=[evidence.pk])


def test_downloading_an_original_streams_it_untouched(evidence):
    lawyer = staff_user("lawyer", "lena")

    response = client_for(lawyer).get(original_url(evidence))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PHOTO
    assert response["X-Content-SHA256"] == evidence.sha256
    assert 'attachment; filename="IMG_0001.jpg"' in response["Content-Disposition"]


def test_every_download_is_logged_with_who_and_the_hash(evidence):
    lawyer = staff_user("lawyer", "lena")
    client = client_for(lawyer)

    client.get(original_url(evidence), REMOTE_ADDR="10.1.2.3")
    client.get(original_url(evidence), REMOTE_ADDR="10.1.2.3")

    accesses = list(EvidenceAccess.objects.filter(evidence=evidence))
    assert len(accesses) == 2
    assert {(a.user, a.sha256, a.ip_address) for a in accesses} == {
        (lawyer, evidence.sha256, "10.1.2.3")
    }


def test_without_the_permission_nothing_is_sent_or_logged(evidence):
    outsider = staff_user(None, "visitor")

    response = client_for(outsider).get(original_url(evidence))

    assert response.status_code == 403
    assert not EvidenceAccess.objects.exists()


def test_a_missing_original_is_not_found_and_not_logged(evidence, settings):
    (settings.PRIVATE_MEDIA_ROOT / evidence.original_path).unlink()

    response = client_for(staff_user("moderator", "anna")).get(original_url(evidence))

    assert response.status_code == 404
    assert not EvidenceAccess.objects.exists()


def test_a_path_outside_the_private_folder_is_refused(evidence, settings):
    outside = settings.PRIVATE_MEDIA_ROOT.parent / "secret.txt"
    outside.write_text("not evidence")
    evidence.original_path = "../secret.txt"
    evidence.save()

    response = client_for(staff_user("moderator", "anna")).get(original_url(evidence))

    assert response.status_code == 404


def test_the_evidence_page_shows_the_hash_and_the_chain_of_custody(evidence):
    lawyer = staff_user("lawyer", "lena")
    client = client_for(lawyer)
    client.get(original_url(evidence))

    page = client.get(reverse("admin:reports_evidence_change", args=[evidence.pk]))

    text = page.content.decode()
    assert evidence.sha256 in text
    assert "Chain of custody" in text
    assert "lena" in text


def test_the_incident_page_lists_the_evidence_with_hashes(evidence):
    page = client_for(staff_user("moderator", "anna")).get(
        reverse("admin:reports_incident_change", args=[evidence.report.incident_id])
    )

    text = page.content.decode()
    assert evidence.sha256 in text
    assert original_url(evidence) in text
