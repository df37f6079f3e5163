"""Forms of the counts: turnout at a checkpoint and the final protocol copy. They validate only;
`reports.services.protocols` stores.

The protocol form has one field per line of the election's template. A copy that breaks a
hard control relation is refused with the relation and its line numbers named, unless the
observer confirms that the signed protocol itself says so (a forged protocol must still be
reported as it is). Soft checks only warn.
"""

import uuid
from collections.abc import Sequence

from django import forms
from django.utils.translation import gettext_lazy as _

from reports.domain.protocol_checks import Check, ProtocolTemplate, election_template
from reports.domain.uploads import SkippedUpload
from reports.models import Checkpoint, Observer, Station
from reports.models.protocols import VOTERS_MAX
from reports.services.protocols import ProtocolCopyInput, TurnoutInput


class StationChoiceMixin:
    def station_field(self, observer: Observer) -> None:
        stations = observer.stations.order_by("number")
        self.fields["station"] = forms.ModelChoiceField(
            queryset=stations,
            label=_("Polling station"),
            initial=stations.first(),
            empty_label=None,
        )


class TurnoutForm(StationChoiceMixin, forms.Form):
    uuid = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)
    checkpoint = forms.ChoiceField(label=_("Checkpoint"), choices=Checkpoint.choices)
    own_tally = forms.IntegerField(
        label=_("Your own tally of voters"), min_value=0, max_value=VOTERS_MAX, required=False
    )
    announced = forms.IntegerField(
        label=_("Figure announced by the station"),
        min_value=0,
        max_value=VOTERS_MAX,
        required=False,
    )

    def __init__(self, *args, observer: Observer, **kwargs):
        super().__init__(*args, **kwargs)
        self.station_field(observer)
        self.order_fields(["uuid", "station", "checkpoint", "own_tally", "announced"])

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("own_tally") is None and cleaned.get("announced") is None:
            raise forms.ValidationError(_("Give your own tally, the announced figure, or both."))
        return cleaned

    def turnout_input(self) -> TurnoutInput:
        data = self.cleaned_data
        return TurnoutInput(
            uuid=data["uuid"],
            station=data["station"],
            checkpoint=data["checkpoint"],
            own_tally=data["own_tally"],
            announced=data["announced"],
        )


class ProtocolCopyForm(StationChoiceMixin, forms.Form):
    uuid = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)
    photo = forms.FileField(
        label=_("Photo of the certified copy"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )
    confirm_failures = forms.BooleanField(
        label=_("I checked: the signed protocol itself has these numbers (send it as it is)."),
        required=False,
    )

    def __init__(self, *args, observer: Observer, skipped: Sequence[SkippedUpload] = (), **kwargs):
        super().__init__(*args, **kwargs)
        if skipped:  # the upload handler dropped the photo (too large): say why, not "required"
            self.fields["photo"].error_messages["required"] = skipped[0].message
        self.template: ProtocolTemplate = election_template(observer.election)
        self.check: Check | None = None
        self.station_field(observer)
        for key in self.template.keys:
            number = self.template.number(key)
            self.fields[f"line_{key}"] = forms.IntegerField(
                label=f"{number}. {self.template.label(key)}",
                min_value=0,
                max_value=VOTERS_MAX,
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "data-line": key}),
            )
        self.order_fields(["uuid", "station", *self.line_names, "photo", "confirm_failures"])

    @property
    def line_names(self) -> list[str]:
        return [f"line_{key}" for key in self.template.keys]

    @property
    def line_fields(self) -> list:
        return [self[name] for name in self.line_names]

    def lines(self) -> dict[str, int]:
        return {key: self.cleaned_data[f"line_{key}"] for key in self.template.keys}

    def clean(self) -> dict:
        cleaned = super().clean()
        if any(cleaned.get(name) is None for name in self.line_names):
            return cleaned
        self.check = self.template.check(self.lines())
        if self.check.outcomes_failed and not cleaned.get("confirm_failures"):
            raise forms.ValidationError(
                [outcome.message for outcome in self.check.outcomes_failed]
                + [_("Check the lines named above against the protocol.")]
            )
        return cleaned

    def copy_input(self, photo=None) -> ProtocolCopyInput:
        station: Station = self.cleaned_data["station"]
        return ProtocolCopyInput(
            uuid=self.cleaned_data["uuid"],
            station=station,
            lines=self.lines(),
            photo=photo or self.cleaned_data.get("photo"),
        )
