"""The demo can hold a Moscow 2013 election whose city totals are the official results of
DOMAIN.md §6, with every station's protocol passing the control relations."""

import pytest

from reports.domain.protocol_checks import Figures, ProtocolTemplate, template_load
from reports.models import OfficialResult, Okrug, ResultTotal, Station, Tik
from reports.services.protocols import (
    election_template_set,
    official_results_generate,
    results_aggregate,
)

# Shares as DOMAIN.md §6 gives them: Sobyanin, Navalny, Melnikov, Mitrokhin, Degtyarev,
# Levichev; turnout 32.03 %; 104,694 home voters.
SHARES = {"c6": "51.37", "c5": "27.24", "c3": "10.69", "c4": "3.51", "c1": "2.86", "c2": "2.79"}


@pytest.fixture
def moscow(election):
    election_template_set(election=election, template=template_load("moscow-2013"))
    okrug = Okrug.objects.create(election=election, name="ЦАО")
    tik = Tik.objects.create(okrug=okrug, name="Арбат")
    Station.objects.bulk_create(
        Station(election=election, okrug=okrug, tik=tik, number=number) for number in range(1, 401)
    )
    totals = election.protocol_template["official_totals"]
    official_results_generate(election=election, totals=totals)
    results_aggregate(election=election)
    return election


def city(election) -> Figures:
    template = ProtocolTemplate(election.protocol_template)
    total = ResultTotal.objects.get(election=election, source="official", level="election")
    return Figures.of(template, total.lines)


def test_city_totals_equal_the_official_votes(moscow):
    votes = city(moscow).votes
    assert votes["c6"] == 1_193_178
    assert votes["c5"] == 632_697
    assert sum(votes.values()) == 2_286_972


def test_city_shares_and_turnout_round_to_the_official_figures(moscow):
    figures = city(moscow)
    assert {key: f"{100 * share:.2f}" for key, share in figures.shares.items()} == SHARES
    assert f"{100 * figures.turnout:.2f}" == "32.03"
    assert figures.outside == 104_694


def test_every_generated_protocol_passes_the_control_relations(moscow):
    assert OfficialResult.objects.filter(election=moscow).count() == 400
    assert not OfficialResult.objects.filter(election=moscow).exclude(control_failures=[]).exists()
