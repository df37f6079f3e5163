"""`make run` loads a Moscow-like demo election and prints sign-ins that work."""

import io
import os
import re
from unittest import mock

from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.test import TestCase, override_settings
from django.urls import reverse
from django.utils import translation

from reports.models import (
    Election,
    MobileGroup,
    Observer,
    OfficialResult,
    Okrug,
    QuickCountSample,
    Report,
    Severity,
    SignInLink,
    Station,
    Tik,
)
from reports.services.quickcount import quickcount_estimate
from reports.services.signin import token_hash

PASSWORDS = {
    "DEMO_ADMIN_PASSWORD": "demo-admin-pw-1",
    "DEMO_MODERATOR_PASSWORD": "demo-moderator-pw-1",
}
OBSERVER_LINK = re.compile(r"/signin/([\w-]+)/\s+\(short code ([A-Z0-9]{8})\)")


def seed() -> str:
    out = io.StringIO()
    with mock.patch.dict(os.environ, PASSWORDS), translation.override("en"):
        call_command("seed_demo", stdout=out)
    return out.getvalue()


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
class SeedDemoTest(TestCase):
    """Seeds the full-size demo twice: the second run must create nothing new."""

    @classmethod
    def setUpTestData(cls):
        cls.first = seed()
        cls.counts_after_first = cls.counts()
        cls.first_link = SignInLink.objects.get(short_code=OBSERVER_LINK.search(cls.first)[2])
        cls.second = seed()

    @staticmethod
    def counts() -> dict[str, int]:
        return {
            "okrugs": Okrug.objects.count(),
            "tiks": Tik.objects.count(),
            "stations": Station.objects.count(),
            "observers": Observer.objects.count(),
            "reports": Report.objects.count(),
            "staff": User.objects.filter(is_staff=True).count(),
        }

    def test_places_have_the_shape_of_moscow_2013(self):
        counts = self.counts()
        self.assertEqual((counts["okrugs"], counts["tiks"], counts["stations"]), (12, 127, 3611))
        regular = Station.objects.filter(is_temporary=False)
        self.assertEqual(sorted(regular.values_list("number", flat=True)), list(range(1, 3412)))
        temporary = list(Station.objects.filter(is_temporary=True).values_list("number", flat=True))
        self.assertEqual(len(temporary), 200)
        self.assertTrue(all(3601 <= number <= 4008 for number in temporary))

    def test_about_1097_stations_have_scanners(self):
        self.assertAlmostEqual(Station.objects.filter(has_scanner=True).count(), 1097, delta=60)

    def test_observers_are_assigned_to_stations(self):
        self.assertEqual(Observer.objects.count(), 300)
        self.assertFalse(Observer.objects.filter(stations=None).exists())

    def test_a_few_hundred_reports_with_critical_ones_rarer(self):
        reports = Report.objects.all()
        self.assertGreaterEqual(reports.count(), 200)
        critical = reports.filter(category__severity=Severity.CRITICAL).count()
        serious = reports.filter(category__severity=Severity.SERIOUS).count()
        self.assertLess(critical, serious)
        self.assertGreater(critical, 0)
        self.assertGreater(reports.values("category").distinct().count(), 10)

    def test_every_station_has_official_results_on_the_moscow_2013_form(self):
        assert Station.objects.get(number=1).election.protocol_template["key"] == "moscow-2013"
        assert OfficialResult.objects.count() == 3611
        assert OfficialResult.objects.filter(station__isnull=True).count() == 0

    def test_every_okrug_has_mobile_groups_ready_to_send(self):
        election = Election.objects.get()
        okrugs = set(election.okrugs.values_list("pk", flat=True))
        groups = MobileGroup.objects.filter(okrug__election=election, status="available")
        assert set(groups.values_list("okrug_id", flat=True)) == okrugs
        assert groups.count() == 2 * len(okrugs)

    def test_the_quick_count_of_the_demo_puts_the_leader_near_51_percent(self):
        sample = QuickCountSample.objects.get()
        assert sample.seed == 2013 and sample.expected_margin <= 0.01
        result = quickcount_estimate(sample=sample)
        assert result["stations_reported"] == round(0.8 * sample.size)
        leader = max(result["candidates"], key=lambda candidate: candidate["share"])
        assert leader["name"] == result["leader"]
        assert leader["ci95"][0] < 0.5137 < leader["ci95"][1] and leader["official_inside"]
        assert result["p_leader_above_threshold"] > 0.5
        assert result["home_voting"]["home_votes"] == 104694

    def test_staff_accounts_belong_to_their_role_groups(self):
        admin = User.objects.get(username="admin")
        self.assertTrue(admin.is_superuser and admin.check_password("demo-admin-pw-1"))
        moderator = User.objects.get(username="moderator")
        self.assertTrue(moderator.check_password("demo-moderator-pw-1"))
        self.assertEqual(list(moderator.groups.values_list("name", flat=True)), ["moderator"])
        self.assertTrue(User.objects.get(username="coordinator").groups.filter(name="coordinator"))
        roles = {"moderator", "coordinator", "lawyer", "administrator"}
        self.assertEqual(set(Group.objects.values_list("name", flat=True)) & roles, roles)

    def test_sign_ins_are_printed(self):
        self.assertIn("user admin, password demo-admin-pw-1", self.second)
        self.assertIn("user moderator, password demo-moderator-pw-1", self.second)
        self.assertRegex(self.second, r"user coordinator, password \S+")

    def test_printed_observer_link_signs_that_observer_in(self):
        token, code = OBSERVER_LINK.search(self.second).groups()
        link = SignInLink.objects.get(token_hash=token_hash(token))
        self.assertEqual(link.short_code, code)
        self.assertTrue(link.is_active)
        self.assertTrue(link.observer.stations.filter(number=1).exists())

    def test_printed_observer_link_opens_the_report_form(self):
        url = re.search(r"http://127.0.0.1:8000(/signin/\S+/)", self.second)[1]
        response = self.client.get(url)
        self.assertRedirects(response, reverse("reports:report_new"), fetch_redirect_response=False)
        self.assertEqual(self.client.get(reverse("reports:report_new")).status_code, 200)

    def test_second_run_creates_nothing_and_reissues_the_printed_link(self):
        self.assertEqual(self.counts(), self.counts_after_first)
        self.first_link.refresh_from_db()
        self.assertFalse(self.first_link.is_active)
