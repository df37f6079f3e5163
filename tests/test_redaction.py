"""What the public sees of a description: no phone number, no e-mail address, not the
reporter's own name; everything else as written."""

import pytest

from reports.domain.redaction import redact


@pytest.mark.parametrize(
    ("written", "published"),
    [
        ("Звоните +7 900 000-00-01, я у входа", "Звоните [phone], я у входа"),
        ("мой номер 8 (495) 123 45 67.", "мой номер [phone]."),
        ("позвоните 123-45-67", "позвоните [phone]"),
        ("пишите на anna.petrova@example.org!", "пишите на [e-mail]!"),
        ("Вброс 08.09.2013 в 10:15, 12 бюллетеней", "Вброс 08.09.2013 в 10:15, 12 бюллетеней"),
        ("бюллетень № 1234567 в урне", "бюллетень № 1234567 в урне"),
        ("УИК 101, явка 45,5 %", "УИК 101, явка 45,5 %"),
    ],
)
def test_contacts_are_replaced_and_figures_stay(written, published):
    assert redact(written) == published


def test_the_reporters_own_name_is_replaced_in_any_case():
    text = "Я, Иванова Мария, наблюдатель. ИВАНОВА удалена. Иванов пришёл."
    assert redact(text, ["Иванова Мария Петровна"]) == (
        "Я, [name] [name], наблюдатель. [name] удалена. Иванов пришёл."
    )


def test_short_name_parts_and_other_words_are_kept():
    assert redact("Ли сказал: ли-ли", ["Ли Ан"]) == "Ли сказал: ли-ли"


@pytest.mark.django_db
def test_the_public_api_and_export_publish_the_redacted_text_and_partners_the_written_one(
    observer, stations, moderator
):
    from reports.domain import records
    from reports.models import ExportScope, TokenScope

    from .api_helpers import client, report_send, token, verify

    written = "Я Мария Иванова, звоните +7 900 000-00-01 или maria@example.org"
    report = report_send(stations[101], "V3", observer, description=written)
    verify(report, moderator)

    public = client().get(f"/api/v1/reports/{report.pk}/").json()
    full = client(token(TokenScope.FULL_READ)).get(f"/api/v1/reports/{report.pk}/").json()
    exported = b"".join(
        records.records_encode(
            records.PublicReportRecord, records.report_rows(ExportScope.PUBLIC), "json"
        )
    ).decode()

    assert public["description"] == "Я [name] [name], звоните [phone] или [e-mail]"
    assert full["description"] == written
    assert "+7 900" not in exported and "maria@" not in exported and "Иванова" not in exported
    assert "[name] [name], звоните [phone]" in exported
