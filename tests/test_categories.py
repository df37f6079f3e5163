"""The 24 incident categories of DOMAIN.md §4 are loaded by a data migration."""

import pytest
from django.utils import translation

from reports.models import Category

pytestmark = pytest.mark.django_db


def test_all_twenty_four_codes_are_loaded():
    codes = set(Category.objects.values_list("code", flat=True))
    expected = {"O1", "O2", "O3", "V1", "V2", "V3", "V4", "V5", "V6", "H1", "H2", "H3"}
    expected |= {"C1", "C2", "C3", "C4", "C5", "T1", "T2", "R1", "R2", "R3", "R4", "X1"}
    assert codes == expected


@pytest.mark.parametrize(
    ("code", "phase", "severity", "golos"),
    [
        ("O1", "opening", "C", "1.2"),
        ("V1", "voting", "C", "0.3 / 2.8"),
        ("V4", "voting", "S", "2.6, 2.10"),
        ("H1", "home_voting", "C", "0.5, 2.15"),
        ("C3", "counting", "S", "3.12"),
        ("T2", "tabulation", "C", ""),
        ("R4", "rights", "C", "0.2"),
        ("X1", "other", "P", "0.13"),
    ],
)
def test_phase_severity_and_golos_code(code, phase, severity, golos):
    category = Category.objects.get(code=code)
    assert (category.phase, category.severity, category.golos_code) == (phase, severity, golos)


def test_label_follows_the_active_language():
    category = Category.objects.get(code="V1")
    with translation.override("ru"):
        assert category.name == "Вброс бюллетеней"
    with translation.override("en"):
        assert category.name == "Ballot stuffing"


def test_other_is_discouraged_and_t2_is_raised_by_the_system_only():
    assert list(Category.objects.filter(discouraged=True).values_list("code", flat=True)) == ["X1"]
    assert list(Category.objects.filter(system_only=True).values_list("code", flat=True)) == ["T2"]


def test_every_category_has_a_hint_in_both_languages():
    assert not Category.objects.filter(hint_ru="").exists()
    assert not Category.objects.filter(hint_en="").exists()
