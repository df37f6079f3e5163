"""The API's filters (django-filter). Bulk exports take the same ones, by the same names.

A value that does not parse (a date, a number, an unknown code) is a 400 naming the field.
"""

import django_filters as filters
from django import forms
from django_filters.fields import IsoDateTimeField

from reports.domain.times import MomentField
from reports.models import (
    Alert,
    Category,
    Incident,
    Phase,
    Report,
    ReporterRole,
    ReviewStatus,
    Severity,
    Station,
    Tally,
)

ID_MAX = 2**63 - 1


class IntegerFilter(filters.NumberFilter):
    """A whole number from 0 to the largest id a database stores (SQLite cannot even compare
    a larger one)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, min_value=0, max_value=ID_MAX, **kwargs)


class MomentIsoField(MomentField, IsoDateTimeField):
    """An ISO 8601 time, checked by moment_check: a real offset, years 2000–2099."""


class MomentFilter(filters.IsoDateTimeFilter):
    field_class = MomentIsoField


class PlaceFilter(filters.FilterSet):
    """Filters shared by incidents and reports: where, what, and which status."""

    election = IntegerFilter(field_name="election_id")
    station = IntegerFilter(field_name="station__number", label="station number")
    okrug = IntegerFilter(field_name="station__okrug_id", label="okrug id")
    tik = IntegerFilter(field_name="station__tik_id", label="TIK id")
    category = filters.ModelChoiceFilter(queryset=Category.objects.all(), to_field_name="code")
    phase = filters.ChoiceFilter(field_name="category__phase", choices=Phase.choices)
    status = filters.ChoiceFilter(choices=ReviewStatus.choices)


class IncidentFilter(PlaceFilter):
    severity = filters.ChoiceFilter(choices=Severity.choices)
    after = MomentFilter(field_name="last_at", lookup_expr="gte")
    before = MomentFilter(field_name="last_at", lookup_expr="lt")
    needs_mobile_group = filters.BooleanFilter()
    needs_lawyer = filters.BooleanFilter()

    class Meta:
        model = Incident
        fields = []


class ReportFilter(PlaceFilter):
    reporter_role = filters.ChoiceFilter(choices=ReporterRole.choices)
    incident = IntegerFilter(field_name="incident_id")
    after = MomentFilter(field_name="received_at", lookup_expr="gte")
    before = MomentFilter(field_name="received_at", lookup_expr="lt")

    class Meta:
        model = Report
        fields = []


class StationFilter(filters.FilterSet):
    election = IntegerFilter(field_name="election_id")
    okrug = IntegerFilter(field_name="okrug_id")
    tik = IntegerFilter(field_name="tik_id")

    class Meta:
        model = Station
        fields = ["number", "is_temporary", "has_scanner"]


class CategoryFilter(filters.FilterSet):
    class Meta:
        model = Category
        fields = ["phase", "severity"]


class TallyFilter(filters.FilterSet):
    election = IntegerFilter(field_name="election_id")
    after = MomentFilter(field_name="hour", lookup_expr="gte")
    before = MomentFilter(field_name="hour", lookup_expr="lt")

    class Meta:
        model = Tally
        fields = ["dimension", "key"]


class AlertFilter(filters.FilterSet):
    election = IntegerFilter(field_name="election_id")
    okrug = IntegerFilter(field_name="okrug_id")
    station = IntegerFilter(field_name="station__number")
    after = MomentFilter(field_name="raised_at", lookup_expr="gte")

    class Meta:
        model = Alert
        fields = ["rule"]
