"""Forms of the volunteer pages. They turn input into clean values or clear errors; the
services in reports.services do the work."""

import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reports.domain.times import MomentField, report_time_check
from reports.models import Category, Election, Phase, Station
from reports.models.core import REPORT_COUNT_MAX
from reports.services.submission import ReportInput

FLAGS = ("complaint_filed", "police_called", "violation_stopped", "needs_mobile_group")
FLAGS += ("needs_lawyer",)
OTHER_STATION = "other"


# Categories change between elections (a data migration), rarely in the admin: validating a
# report reads them from a copy kept per process for this long instead of a query each time.
# A change made in the admin clears this process's copy at once (apps.py).
CATEGORY_COPY_SECONDS = 60
_category_copy: tuple[float, dict[str, Category]] = (-CATEGORY_COPY_SECONDS, {})


def categories_reportable() -> dict[str, Category]:
    """The categories a person may choose, by code (system-only and retired ones left out)."""
    global _category_copy
    loaded_at, categories = _category_copy
    if time.monotonic() - loaded_at >= CATEGORY_COPY_SECONDS:
        categories = {c.code: c for c in Category.objects.filter(system_only=False, retired=False)}
        _category_copy = (time.monotonic(), categories)
    return categories


def categories_forget(**kwargs) -> None:
    global _category_copy
    _category_copy = (-CATEGORY_COPY_SECONDS, {})


class CategoryField(forms.Field):
    """Chooses a category by code, validated against categories_reportable(): no query, and
    no queryset for every form to copy. The page lists them with ReportForm.category_groups."""

    default_error_messages = {
        "invalid_choice": _(
            "Select a valid choice. That choice is not one of the available choices."
        )
    }

    def to_python(self, value) -> Category | None:
        if value in self.empty_values:
            return None
        category = categories_reportable().get(str(value))
        if category is None:
            raise forms.ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )
        return category


class ReportTimeField(MomentField):
    """When it happened: checked against the election's window in clean_occurred_at."""

    default_validators = []


@dataclass(frozen=True)
class CategoryGroup:
    label: str
    categories: list[Category]
    open: bool = True


def phases_now(election: Election, now: datetime) -> set[str]:
    """The phases of election day whose categories an observer most likely needs now."""
    if now < election.polls_open_at() + timedelta(minutes=30):
        return {Phase.OPENING}
    if now < election.polls_close_at():
        return {Phase.VOTING, Phase.HOME_VOTING}
    return {Phase.COUNTING, Phase.TABULATION}


class ReportForm(forms.Form):
    """An incident report. Station: one of the observer's own (first) or any by number."""

    uuid = forms.UUIDField(widget=forms.HiddenInput)
    station = forms.ChoiceField(
        label=_("Polling station"), required=False, widget=forms.RadioSelect
    )
    station_number = forms.IntegerField(
        label=_("Station number"),
        required=False,
        min_value=1,
        max_value=99999,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    category = CategoryField(
        label=_("What happened"),
        error_messages={"required": _("Choose what happened.")},
    )
    occurred_at = ReportTimeField(
        label=_("When it happened"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    count = forms.IntegerField(
        label=_("How many (people in a line, ballots in a bundle…)"),
        required=False,
        min_value=0,
        max_value=REPORT_COUNT_MAX,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    complaint_filed = forms.BooleanField(label=_("A complaint was filed"), required=False)
    police_called = forms.BooleanField(label=_("Police were called"), required=False)
    violation_stopped = forms.BooleanField(label=_("The violation was stopped"), required=False)
    needs_mobile_group = forms.BooleanField(label=_("A mobile group is needed"), required=False)
    needs_lawyer = forms.BooleanField(label=_("A lawyer is needed"), required=False)

    def __init__(self, *args, election: Election, assigned: list[Station] = (), **kwargs) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("uuid", uuid.uuid4())
        kwargs["initial"].setdefault("occurred_at", timezone.localtime().replace(second=0))
        if len(assigned) == 1:
            kwargs["initial"].setdefault("station", str(assigned[0].number))
        super().__init__(*args, **kwargs)
        self.election = election
        self.assigned = list(assigned)
        self.fields["station"].choices = [
            (str(station.number), station_label(station)) for station in self.assigned
        ] + [(OTHER_STATION, _("Another station: type its number"))]
        if not self.assigned:
            del self.fields["station"]

    def category_groups(self) -> list[CategoryGroup]:
        """Categories grouped by phase in their order; "Other" comes last, on its own. The
        groups of the phase of the day are open, the others folded (a chosen category's group
        stays open)."""
        groups: dict[str, list[Category]] = {}
        for category in categories_reportable().values():
            groups.setdefault(category.phase, []).append(category)
        labels = dict(Phase.choices)
        current = phases_now(self.election, timezone.now())
        chosen = self["category"].value()
        return [
            CategoryGroup(
                labels[phase],
                items,
                open=phase in current or any(c.code == chosen for c in items),
            )
            for phase, items in groups.items()
        ]

    def clean_occurred_at(self):
        return report_time_check(
            self.cleaned_data["occurred_at"],
            election_day=self.election.date,
            zone=self.election.tz,
        )

    def clean(self) -> dict:
        cleaned = super().clean()
        cleaned["station_obj"] = self.station_find(cleaned)
        category = cleaned.get("category")
        if category is not None and category.discouraged and not cleaned.get("description"):
            self.add_error(
                "description", _("Describe what happened: “Other” says nothing by itself.")
            )
        return cleaned

    def station_find(self, cleaned: dict) -> Station | None:
        if "station" in self.errors:
            return None
        chosen = cleaned.get("station") or OTHER_STATION
        if chosen != OTHER_STATION:
            return next(s for s in self.assigned if str(s.number) == chosen)
        number = cleaned.get("station_number")
        if number is None:
            if "station_number" not in self.errors:
                self.add_error("station_number", _("Choose your station or type its number."))
            return None
        station = Station.objects.filter(election=self.election, number=number).first()
        if station is None:
            self.add_error(
                "station_number",
                _("There is no station number %(number)s in this election.") % {"number": number},
            )
        return station

    def report_input(self) -> ReportInput:
        data = self.cleaned_data
        return ReportInput(
            uuid=data["uuid"],
            station=data["station_obj"],
            category=data["category"],
            occurred_at=data["occurred_at"],
            description=data.get("description", ""),
            count=data.get("count"),
            **{flag: data.get(flag, False) for flag in FLAGS},
        )


# The fields report_input_direct cleans, in the form's order; the station is its own.
DIRECT_FIELDS = ("uuid", "category", "occurred_at", "description", "count", *FLAGS)


def report_input_direct(
    data: QueryDict, *, election: Election, assigned: list[Station]
) -> ReportInput | None:
    """What ReportForm(data, election=…, assigned=…).report_input() gives, for a report whose
    every field is valid and whose station is its sender's one station; None when anything
    is invalid or unusual, and the form must decide and say why.

    Each value is read by the form's own widget and cleaned by the form's own field and
    hooks, but no form is built: a form copies every field and widget it has, which cost the
    send endpoint a fifth of its CPU (docs/benchmarks.md, issue 18).
    """
    if len(assigned) != 1 or data.get("station") != str(assigned[0].number):
        return None
    if data.get("station_number", ""):
        return None  # the form would check a number it then ignores
    fields = ReportForm.base_fields
    try:
        cleaned = {
            name: fields[name].clean(fields[name].widget.value_from_datadict(data, {}, name))
            for name in DIRECT_FIELDS
        }
        cleaned["occurred_at"] = report_time_check(
            cleaned["occurred_at"], election_day=election.date, zone=election.tz
        )
    except ValidationError:
        return None
    if cleaned["category"].discouraged and not cleaned["description"]:
        return None
    return ReportInput(station=assigned[0], **cleaned)


class CitizenReportForm(ReportForm):
    """The anonymous form: station by number only, and no request for help."""

    def __init__(self, *args, election: Election, **kwargs) -> None:
        super().__init__(*args, election=election, assigned=[], **kwargs)
        del self.fields["needs_mobile_group"]
        del self.fields["needs_lawyer"]
        self.fields["station_number"].required = True
        self.fields["station_number"].error_messages["required"] = _(
            "Type the number of the polling station."
        )


class SignInCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from your coordinator"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "characters"}
        ),
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Your answer"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


def station_label(station: Station) -> str:
    if station.address:
        return f"{station} — {station.address}"
    return str(station)
