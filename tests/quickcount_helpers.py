"""A Moscow-shaped election of 60 stations in three okrugs for quick-count tests, its
stations' true protocols (the leader near 51 %), and copies sent from them."""

import random
import uuid

from reports.domain.protocol_checks import template_load
from reports.models import Election, OfficialResult, Okrug, Station, Tik
from reports.services.protocols import ProtocolCopyInput, protocol_copy_submit


def quickcount_election(election: Election) -> dict[int, dict]:
    """Stations 1–60 in three okrugs; return each station's true protocol lines."""
    election.protocol_template = template_load("federal-12", ["Собянин", "Навальный"])
    election.save()
    rng = random.Random(2013)
    truth = {}
    for index, name in enumerate(["ЗАО", "СВАО", "ЮАО"]):
        okrug = Okrug.objects.create(election=election, name=name)
        tik = Tik.objects.create(okrug=okrug, name=f"ТИК {name}")
        for number in range(20 * index + 1, 20 * index + 21):
            Station.objects.create(election=election, okrug=okrug, tik=tik, number=number)
            truth[number] = protocol(rng, leader=0.46 + 0.05 * index)
    return truth


def protocol(rng: random.Random, leader: float) -> dict:
    issued = rng.randint(500, 900)
    outside = rng.randint(10, 60)
    invalid = rng.randint(5, 15)
    first = int((issued - invalid) * (leader + rng.uniform(-0.04, 0.04)))
    return {"voters": 2000, "received": 2000, "early": 0, "inside": issued - outside,
            "outside": outside, "cancelled": 2000 - issued, "portable": outside,
            "stationary": issued - outside, "invalid": invalid, "valid": issued - invalid,
            "lost": 0, "unaccounted": 0, "c1": first, "c2": issued - invalid - first}  # fmt: skip


def copy_send(station: Station, lines: dict, observer=None) -> None:
    protocol_copy_submit(
        data=ProtocolCopyInput(uuid=uuid.uuid4(), station=station, lines=lines), observer=observer
    )


def official_import(election: Election, truth: dict[int, dict]) -> None:
    OfficialResult.objects.bulk_create(
        OfficialResult(election=election, region="Москва", tik=station.tik.name, uik=station.number,
                       station=station, lines=truth[station.number])
        for station in Station.objects.filter(election=election).select_related("tik")
    )  # fmt: skip
