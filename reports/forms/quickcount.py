"""The coordinator's form for drawing a quick-count sample: a size, or a target margin of
error from which the size is chosen; a seed to repeat a draw, or none for a fresh one."""

from django import forms
from django.utils.translation import gettext_lazy as _

from reports.models import Election


class SampleDrawForm(forms.Form):
    election = forms.ModelChoiceField(
        Election.objects.exclude(protocol_template={}), label=_("Election")
    )
    margin = forms.FloatField(
        label=_("Target margin of error, points"),
        required=False,
        min_value=0.1,
        max_value=20,
        help_text=_("The half-width wanted of the interval (95 %); the size is chosen from it."),
    )
    size = forms.IntegerField(label=_("Sample size, stations"), required=False, min_value=2)
    seed = forms.IntegerField(
        label=_("Seed"),
        required=False,
        min_value=0,
        help_text=_("Leave empty for a fresh random draw."),
    )
    threshold = forms.FloatField(
        label=_("Run-off threshold, %"), initial=50, min_value=1, max_value=99
    )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("margin") is None and data.get("size") is None:
            raise forms.ValidationError(_("Give a sample size or a target margin of error."))
        return data
