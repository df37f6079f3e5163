"""Forms of the coverage pages: the observer's check-in, the coordinators' filters, dispatches.
They validate only; `reports.services.coverage` acts."""

from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext_lazy as _

from reports.domain.coverage_rules import groups_for
from reports.models import (
    Assignment,
    Dispatch,
    Election,
    Incident,
    MobileGroup,
    Observer,
    Station,
    StationCoverage,
    Tik,
)
from reports.selectors import incidents_for, okrugs_for

SILENT = "silent"


class CheckInForm(forms.Form):
    station_number = forms.IntegerField(label=_("station number"), min_value=1, max_value=99999)

    def __init__(self, *args, election: Election, **kwargs):
        super().__init__(*args, **kwargs)
        self.election = election

    def clean_station_number(self) -> Station:
        number = self.cleaned_data["station_number"]
        station = Station.objects.filter(election=self.election, number=number).first()
        if station is None:
            raise forms.ValidationError(
                _("There is no station %(number)s in this election."), params={"number": number}
            )
        return station


class LeaveForm(forms.Form):
    assignment = forms.ModelChoiceField(queryset=Assignment.objects.none())

    def __init__(self, *args, observer: Observer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignment"].queryset = observer.assignments.filter(
            status=Assignment.Status.ARRIVED
        )


class CoverageFilterForm(forms.Form):
    okrug = forms.ModelChoiceField(label=_("okrug"), queryset=None, required=False)
    tik = forms.ModelChoiceField(
        label=_("territorial commission"), queryset=Tik.objects.none(), required=False
    )
    state = forms.ChoiceField(
        label=_("stations"),
        required=False,
        choices=[("", _("all")), *StationCoverage.State.choices, (SILENT, _("silent"))],
    )

    def __init__(self, *args, user: AbstractBaseUser, election: Election, **kwargs):
        super().__init__(*args, **kwargs)
        okrugs = okrugs_for(user).filter(election=election)
        self.fields["okrug"].queryset = okrugs
        self.fields["tik"].queryset = Tik.objects.filter(okrug__in=okrugs).order_by("name")

    def clean(self) -> dict:
        cleaned = super().clean()
        okrug, tik = cleaned.get("okrug"), cleaned.get("tik")
        if okrug and tik and tik.okrug_id != okrug.pk:
            cleaned["tik"] = None
        return cleaned


class DispatchForm(forms.Form):
    incident = forms.ModelChoiceField(queryset=Incident.objects.none(), widget=forms.HiddenInput)
    group = forms.ModelChoiceField(label=_("group"), queryset=MobileGroup.objects.none())
    note = forms.CharField(label=_("note"), max_length=1000, required=False)
    across_okrugs = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user: AbstractBaseUser, election: Election, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["incident"].queryset = incidents_for(user).filter(election=election)
        self.fields["group"].queryset = groups_for(user, election).filter(
            status=MobileGroup.Status.AVAILABLE
        )


class DispatchUpdateForm(forms.Form):
    status = forms.ChoiceField(label=_("status"), choices=Dispatch.Status.choices)
    note = forms.CharField(label=_("note"), max_length=1000, required=False)
