"""Alert subscriptions in the admin: who at headquarters is told of alerts, per okrug.

Rows are created and paused through the services, which write the audit log.
"""

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from reports.models import AlertSubscription
from reports.services.alerts import alert_subscription_create, alert_subscriptions_set_active


class AlertSubscriptionForm(forms.ModelForm):
    class Meta:
        model = AlertSubscription
        fields = ["user", "okrug", "email", "webhook_url"]

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("email") and not data.get("webhook_url"):
            raise forms.ValidationError(_("Give an email address or a webhook URL."))
        return data


@admin.register(AlertSubscription)
class AlertSubscriptionAdmin(admin.ModelAdmin):
    form = AlertSubscriptionForm
    list_display = ["__str__", "okrug", "user", "is_active"]
    list_filter = ["is_active", "okrug"]
    list_select_related = ["okrug", "user"]
    actions = ["pause", "resume"]

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def save_model(self, request, obj: AlertSubscription, form, change: bool) -> None:
        created = alert_subscription_create(
            okrug=obj.okrug,
            email=obj.email,
            webhook_url=obj.webhook_url,
            user=obj.user,
            actor=request.user,
        )
        obj.pk = created.pk

    @admin.action(permissions=["change"], description=_("Pause the selected subscriptions"))
    def pause(self, request, queryset) -> None:
        self.say_changed(
            request,
            alert_subscriptions_set_active(
                subscriptions=queryset, active=False, actor=request.user
            ),
        )

    @admin.action(permissions=["change"], description=_("Resume the selected subscriptions"))
    def resume(self, request, queryset) -> None:
        self.say_changed(
            request,
            alert_subscriptions_set_active(subscriptions=queryset, active=True, actor=request.user),
        )

    def say_changed(self, request, count: int) -> None:
        message = ngettext(
            "%(count)d subscription changed.", "%(count)d subscriptions changed.", count
        )
        self.message_user(request, message % {"count": count}, messages.SUCCESS)
