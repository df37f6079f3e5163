"""Generate a Moscow-like demo election: places, observers, staff accounts, reports of the day.

Nothing is read from ../shared: the places have the shape of Moscow 2013 (12 okrugs, 127
TIKs, regular stations 1–3411 and 200 temporary ones within 3601–4008, about 1,097 with
scanners, whole TIKs at a time as in 2013). Running it again creates nothing new: it resets
the demo passwords and reissues the printed observer's link, so the sign-ins can be shown.
"""

import datetime
import logging
import os
import random
import secrets
import uuid
import zoneinfo

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from reports.domain.protocol_checks import template_load
from reports.importers.observers import signin_url
from reports.models import (
    Category,
    Channel,
    Election,
    LegalStatus,
    MobileGroup,
    Observer,
    QuickCountSample,
    Report,
    Tik,
    Trust,
)
from reports.services.accounts import staff_account_ensure
from reports.services.mobile_groups import mobile_group_save
from reports.services.observer_import import IssuedLink, ObserverRow, observers_import
from reports.services.places import StationRow, election_create, stations_import
from reports.services.protocols import (
    election_template_set,
    official_results_generate,
    results_aggregate,
)
from reports.services.quickcount import quickcount_demo_copies, quickcount_sample_draw
from reports.services.roles import role_groups_ensure
from reports.services.submission import ReportInput, report_submit

DEMO_ELECTION = "Выборы мэра Москвы (демо)"
DEMO_TIME_ZONE = "Europe/Moscow"
# Okrugs of Moscow with their number of TIKs in 2013 (127 in all).
OKRUG_TIKS = [
    ("ЦАО", 10),
    ("САО", 16),
    ("СВАО", 17),
    ("ВАО", 16),
    ("ЮВАО", 12),
    ("ЮАО", 16),
    ("ЮЗАО", 12),
    ("ЗАО", 13),
    ("СЗАО", 8),
    ("Зеленоград", 5),
    ("НАО", 1),
    ("ТАО", 1),
]
FULL_SIZE = 3611
TEMPORARY_SHARE = 200 / 3611
SCANNER_SHARE = 1097 / 3611
TEMPORARY_NUMBERS = range(3601, 4009)
PSEUDONYM_WORDS = [
    "Сокол", "Ястреб", "Кречет", "Сова", "Филин", "Стриж", "Ласточка", "Грач", "Чиж",
    "Клёст", "Снегирь", "Зяблик", "Иволга", "Кулик", "Цапля", "Журавль", "Аист", "Дрозд",
]  # fmt: skip
FIRST_NAMES = ["Анна", "Мария", "Елена", "Ольга", "Иван", "Павел", "Сергей", "Дмитрий"]
LAST_NAMES = ["Смирнов", "Иванов", "Кузнецов", "Попов", "Соколов", "Лебедев", "Козлов"]
LEGAL_STATUS_WEIGHTS = {
    LegalStatus.OBSERVER: 70,
    LegalStatus.CONSULTATIVE: 15,
    LegalStatus.DECIDING: 10,
    LegalStatus.JOURNALIST: 5,
}
# Local hours when each phase's incidents happen, and how often each phase is reported.
PHASE_HOURS = {
    "opening": (7.0, 8.5),
    "voting": (8.0, 20.0),
    "home_voting": (9.0, 18.5),
    "counting": (20.0, 23.9),
    "rights": (7.0, 23.9),
    "other": (8.0, 20.0),
}
PHASE_WEIGHT = {
    "opening": 1.0,
    "voting": 3.0,
    "home_voting": 1.2,
    "counting": 1.5,
    "rights": 1.0,
    "other": 0.3,
}
SEVERITY_WEIGHT = {"C": 1.0, "S": 3.0, "P": 5.0}  # critical incidents are the rarest
COUNTS = {"V1": (5, 60), "V2": (3, 30), "V4": (10, 80), "H1": (20, 150), "H3": (5, 40)}
DETAILS = [
    "Сообщил председателю УИК.",
    "Есть фото.",
    "Председатель отказался комментировать.",
    "Записал в акт.",
    "Другие наблюдатели видели то же.",
    "",
]
# username -> role group; passwords come from DEMO_<USERNAME>_PASSWORD or are generated.
DEMO_STAFF = {"admin": "administrator", "moderator": "moderator", "coordinator": "coordinator"}
REPORT_NAMESPACE = uuid.UUID("5d0c3f1e-7f62-4a37-9d5b-2f4f1c1d2013")


def station_rows(total: int, rng: random.Random) -> list[StationRow]:
    """Regular stations numbered from 1 in contiguous runs per TIK, temporary ones scattered."""
    temporary = round(total * TEMPORARY_SHARE)
    regular = total - temporary
    scale = min(1.0, regular / (FULL_SIZE - 200))
    tiks = [
        (okrug, f"ТИК {okrug}-{k}")
        for okrug, count in OKRUG_TIKS
        for k in range(1, max(1, round(count * scale)) + 1)
    ]
    cuts = sorted(rng.sample(range(1, regular), len(tiks) - 1))
    bounds = list(zip([0, *cuts], [*cuts, regular], strict=True))
    numbers = {
        tik: list(range(low + 1, high + 1)) for tik, (low, high) in zip(tiks, bounds, strict=True)
    }
    for number in sorted(rng.sample(TEMPORARY_NUMBERS, temporary)):
        numbers[rng.choice(tiks)].append(number)
    scanner_tiks, scanners = set(), 0
    for tik in rng.sample(tiks, len(tiks)):
        if scanners + len(numbers[tik]) <= round(total * SCANNER_SHARE):
            scanner_tiks.add(tik)
            scanners += len(numbers[tik])
    return [
        StationRow(
            okrug=tik[0],
            tik=tik[1],
            number=number,
            is_temporary=number in TEMPORARY_NUMBERS,
            has_scanner=tik in scanner_tiks,
        )
        for tik in tiks
        for number in numbers[tik]
    ]


def observer_rows(election: Election, total: int, rng: random.Random) -> list[ObserverRow]:
    """The first observer sits at station 1: the demo sign-in printed at the end."""
    stations = list(election.stations.order_by("number"))
    rows = []
    for i in range(1, total + 1):
        assigned = (
            [stations[0]] if i == 1 else rng.sample(stations, 2 if rng.random() < 0.15 else 1)
        )
        rows.append(
            ObserverRow(
                pseudonym=f"{PSEUDONYM_WORDS[i % len(PSEUDONYM_WORDS)]}-{i:03d}",
                legal_status=rng.choices(
                    list(LEGAL_STATUS_WEIGHTS), list(LEGAL_STATUS_WEIGHTS.values())
                )[0],
                trust=rng.choice([Trust.NEW, Trust.TRAINED, Trust.TRAINED, Trust.TRUSTED]),
                stations=tuple(assigned),
                full_name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} (демо)",
                phone=f"+7 900 {rng.randrange(100, 1000)}-{rng.randrange(10, 100)}-{i % 100:02d}",
            )
        )
    return rows


def day_end_hour(election: Election) -> float:
    """Reports reach up to now on the election day; before 09:00 the whole day is shown."""
    now = timezone.now().astimezone(election.tz)
    if now.date() == election.date and now.hour >= 9:
        return now.hour + now.minute / 60
    return PHASE_HOURS["counting"][1]


def report_inputs(election: Election, total: int, rng: random.Random) -> list[tuple]:
    """(input, observer, channel) for `total` reports spread over the day so far."""
    end = day_end_hour(election)
    categories = [
        category
        for category in Category.objects.exclude(system_only=True).exclude(phase="tabulation")
        if PHASE_HOURS[category.phase][0] < end
    ]
    weights = [PHASE_WEIGHT[c.phase] * SEVERITY_WEIGHT[c.severity] for c in categories]
    observers = list(Observer.objects.filter(election=election).prefetch_related("stations"))
    stations = list(election.stations.all())
    midnight = datetime.datetime.combine(election.date, datetime.time(0), tzinfo=election.tz)
    inputs = []
    for i in range(total):
        category = rng.choices(categories, weights)[0]
        start, stop = PHASE_HOURS[category.phase]
        hour = rng.uniform(start, min(stop, end))
        citizen = rng.random() < 0.12
        observer = None if citizen else rng.choice(observers)
        station = rng.choice(stations if citizen else list(observer.stations.all()))
        critical = category.severity == "C"
        count_range = COUNTS.get(category.code)
        data = ReportInput(
            uuid=uuid.uuid5(REPORT_NAMESPACE, f"{election.pk}-{i}"),
            station=station,
            category=category,
            occurred_at=midnight + datetime.timedelta(hours=hour),
            description=f"{category.hint_ru}. {rng.choice(DETAILS)}".strip(),
            count=rng.randint(*count_range) if count_range else None,
            complaint_filed=rng.random() < 0.25,
            police_called=critical and rng.random() < 0.1,
            violation_stopped=rng.random() < 0.3,
            needs_mobile_group=critical and rng.random() < 0.5,
            needs_lawyer=category.severity != "P" and rng.random() < 0.2,
        )
        if citizen:
            channel = Channel.CITIZEN
        else:
            channel = Channel.PHONE if rng.random() < 0.1 else Channel.WEB
        inputs.append((data, observer, channel))
    return inputs


class Command(BaseCommand):
    help = "Create (once) a Moscow-like demo election and print the demo sign-ins."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--stations", type=int, default=FULL_SIZE, help="number of stations")
        parser.add_argument("--observers", type=int, default=300)
        parser.add_argument("--reports", type=int, default=400)
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    def handle(self, *args, **options) -> None:
        if options["stations"] < 100:
            raise CommandError(_("--stations must be at least 100."))
        # Hundreds of in-process aggregation tasks would log a line each and bury the sign-ins.
        logging.disable(logging.INFO)
        try:
            with transaction.atomic():
                election = self.places(options["stations"])
                link = self.observers(election, options["observers"])
                self.reports(election, options["reports"])
                self.official_results(election)
                self.quick_count(election)
                passwords = self.staff()
                self.mobile_groups(election)
        finally:
            logging.disable(logging.NOTSET)
        self.sign_ins_print(election, link, passwords, options["base_url"])

    def places(self, stations: int) -> Election:
        election = Election.objects.filter(name=DEMO_ELECTION).first()
        if election is None:
            today = timezone.localdate(timezone=zoneinfo.ZoneInfo(DEMO_TIME_ZONE))
            election = election_create(name=DEMO_ELECTION, date=today, time_zone=DEMO_TIME_ZONE)
        stations_import(election=election, rows=station_rows(stations, random.Random(2013)))
        return election

    def observers(self, election: Election, total: int) -> IssuedLink:
        rows = observer_rows(election, total, random.Random(908))
        issued = observers_import(election=election, rows=rows).links
        demo = next((link for link in issued if link.pseudonym == rows[0].pseudonym), None)
        if demo is None:
            demo = observers_import(election=election, rows=rows[:1], reissue_links=True).links[0]
        return demo

    def reports(self, election: Election, total: int) -> None:
        if Report.objects.filter(election=election).exists():
            return
        for data, observer, channel in report_inputs(election, total, random.Random(98)):
            report_submit(data=data, observer=observer, channel=channel)

    def official_results(self, election: Election) -> None:
        """The Moscow 2013 protocol form and invented per-station results with its totals."""
        if election.protocol_template:
            return
        template = template_load("moscow-2013")
        election_template_set(election=election, template=template)
        official_results_generate(election=election, totals=template["official_totals"])
        results_aggregate(election=election)

    def mobile_groups(self, election: Election) -> None:
        """Two groups per okrug, so that the groups' board works from the first start."""
        if MobileGroup.objects.filter(okrug__election=election).exists():
            return
        coordinator = get_user_model().objects.get(username="coordinator")
        for okrug in election.okrugs.order_by("name"):
            for number in (1, 2):
                group = MobileGroup(
                    okrug=okrug, name=f"{okrug.name}-{number}", car=f"А{number}0{okrug.pk % 10}ВС"
                )
                mobile_group_save(group=group, actor=coordinator)

    def quick_count(self, election: Election) -> None:
        """A quick-count sample of the demo election (seed 2013) with copies from most of it."""
        if QuickCountSample.objects.filter(election=election).exists():
            return
        sample = quickcount_sample_draw(election=election, actor=None, margin=0.01, seed=2013)
        quickcount_demo_copies(sample=sample)

    def staff(self) -> dict[str, str]:
        role_groups_ensure()
        passwords = {}
        for username, role in DEMO_STAFF.items():
            password = os.environ.get(f"DEMO_{username.upper()}_PASSWORD") or secrets.token_urlsafe(
                9
            )
            staff_account_ensure(
                username=username,
                password=password,
                roles=[role],
                superuser=role == "administrator",
            )
            passwords[username] = password
        return passwords

    def sign_ins_print(self, election, link, passwords, base_url) -> None:
        stations = election.stations
        roles = {"administrator": _("administrator"), "moderator": _("moderator")}
        roles["coordinator"] = _("coordinator")
        self.stdout.write(
            _(
                "Demo election “%(name)s” (id %(id)d): %(okrugs)d okrugs, %(tiks)d TIKs, "
                "%(stations)d stations (%(scanners)d with scanners, %(temporary)d temporary), "
                "%(observers)d observers, %(reports)d reports."
            )
            % {
                "name": election.name,
                "id": election.pk,
                "okrugs": election.okrugs.count(),
                "tiks": Tik.objects.filter(okrug__election=election).count(),
                "stations": stations.count(),
                "scanners": stations.filter(has_scanner=True).count(),
                "temporary": stations.filter(is_temporary=True).count(),
                "observers": election.observers.count(),
                "reports": election.reports.count(),
            }
        )
        self.stdout.write(self.style.SUCCESS(_("Demo sign-ins:")))
        admin_url = f"{base_url.rstrip('/')}/admin/"
        for username, password in passwords.items():
            self.stdout.write(
                _("  %(who)s: %(url)s  user %(user)s, password %(password)s")
                % {
                    "who": roles[DEMO_STAFF[username]],
                    "url": admin_url,
                    "user": username,
                    "password": password,
                }
            )
        self.stdout.write(
            _("  observer %(pseudonym)s: %(url)s  (short code %(code)s)")
            % {
                "pseudonym": link.pseudonym,
                "url": signin_url(base_url, link.token),
                "code": link.short_code,
            }
        )
