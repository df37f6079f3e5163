"""Alerts: raised once per key, delivered once per subscription and channel, in batches.

Delivery, run by the `deliver_alerts` task after an alert is raised and by beat:
1. Claim due deliveries with a conditional UPDATE (unsent, unclaimed or claimed longer than
   `DELIVERY_LEASE` ago, fewer than `ALERT_DELIVERY_MAX_ATTEMPTS` attempts), committed
   before anything is sent, so two runs never send the same delivery.
2. Send one email and/or one webhook POST per subscription with all its claimed alerts.
3. Mark what was sent; release what failed for the next run, keeping the error.
A worker that dies between sending and marking resends after the lease: a rare duplicate
is better than a lost alert.
"""

import json
import logging
import urllib.request
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from reports.domain.alert_rules import AlertDraft
from reports.models import Alert, AlertDelivery, AlertSubscription, Okrug
from reports.services.audit import audit_record
from reports.services.queue import task_enqueue_on_commit

log = logging.getLogger(__name__)

DELIVERY_LEASE = timedelta(minutes=5)


def alert_raise(*, draft: AlertDraft) -> Alert | None:
    """Store an alert unless its key exists; queue its deliveries. Returns the new alert."""
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                election_id=draft.election_id,
                rule=draft.rule,
                key=draft.key,
                okrug_id=draft.okrug_id,
                tik_id=draft.tik_id,
                station_id=draft.station_id,
                incident_id=draft.incident_id,
                count=draft.count,
                at=draft.at,
            )
    except IntegrityError:
        return None
    subscriptions = AlertSubscription.objects.filter(is_active=True).filter(
        Q(okrug_id=draft.okrug_id) | Q(okrug__isnull=True)
    )
    deliveries = []
    for subscription in subscriptions:
        if subscription.email:
            deliveries.append(
                AlertDelivery(alert=alert, subscription=subscription, channel="email")
            )
        if subscription.webhook_url:
            deliveries.append(
                AlertDelivery(alert=alert, subscription=subscription, channel="webhook")
            )
    AlertDelivery.objects.bulk_create(deliveries)
    if deliveries:
        # If the broker is down, beat's run delivers later.
        task_enqueue_on_commit("reports.deliver_alerts")
    log.info("alert raised: %s", draft.key)
    return alert


@transaction.atomic
@transaction.atomic
def alert_subscription_create(
    *,
    okrug: Okrug | None,
    email: str = "",
    webhook_url: str = "",
    user=None,
    actor=None,
) -> AlertSubscription:
    """Subscribe an address (and/or a webhook) to the alerts of one okrug, or of all."""
    if not email and not webhook_url:
        raise ValueError("a subscription needs an email or a webhook URL")
    if webhook_url and not webhook_url.startswith(("http://", "https://")):
        raise ValueError("a webhook URL must start with http:// or https://")
    subscription = AlertSubscription.objects.create(
        user=user, okrug=okrug, email=email, webhook_url=webhook_url
    )
    audit_record(
        actor=actor,
        action="alert_subscription_create",
        obj=subscription,
        after={"okrug": okrug.pk if okrug else None, "email": email, "webhook": webhook_url},
    )
    return subscription


@transaction.atomic
def alert_subscriptions_set_active(*, subscriptions, active: bool, actor=None) -> int:
    """Pause or resume subscriptions; return how many changed."""
    changed = list(subscriptions.exclude(is_active=active))
    for subscription in changed:
        subscription.is_active = active
        subscription.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action="alert_subscription_set_active",
            obj=subscription,
            before={"active": not active},
            after={"active": active},
        )
    return len(changed)


def alerts_deliver(*, limit: int = 500) -> int:
    """Send due deliveries, batched per subscription and channel; return how many were sent."""
    claimed_at = timezone.now()
    with transaction.atomic():
        due = (
            AlertDelivery.objects.select_for_update(skip_locked=True)
            .filter(sent_at__isnull=True, attempts__lt=settings.ALERT_DELIVERY_MAX_ATTEMPTS)
            .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=claimed_at - DELIVERY_LEASE))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        ids = list(due[:limit])
        AlertDelivery.objects.filter(pk__in=ids).update(
            claimed_at=claimed_at, attempts=F("attempts") + 1
        )
    batches = defaultdict(list)
    deliveries = AlertDelivery.objects.filter(pk__in=ids).select_related(
        "subscription", "alert__station", "alert__tik", "alert__okrug"
    )
    for delivery in deliveries.order_by("alert__raised_at", "pk"):
        batches[(delivery.subscription, delivery.channel)].append(delivery)
    sent = 0
    for (subscription, channel), batch in batches.items():
        mine = AlertDelivery.objects.filter(pk__in=[d.pk for d in batch], claimed_at=claimed_at)
        alerts = [d.alert for d in batch]
        try:
            with translation.override(settings.LANGUAGE_CODE):
                if channel == AlertDelivery.Channel.EMAIL:
                    _email_send(subscription.email, alerts)
                else:
                    _webhook_post(subscription.webhook_url, alerts)
        except OSError as error:
            log.warning("alert delivery to %s failed: %s", subscription, error)
            mine.update(claimed_at=None, last_error=str(error)[:500])
            continue
        sent += mine.update(sent_at=timezone.now(), last_error="")
    return sent


def _email_send(address: str, alerts: list[Alert]) -> None:
    subject = ngettext("%(count)s new alert", "%(count)s new alerts", len(alerts)) % {
        "count": len(alerts)
    }
    lines = [f"{timezone.localtime(alert.at):%H:%M} {alert.okrug}: {alert}" for alert in alerts]
    body = "\n".join([_("New alerts for coordinators:"), "", *lines])
    message = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [address])
    get_connection(fail_silently=False).send_messages([message])


def alert_payload(alert: Alert) -> dict:
    """An alert as JSON for webhooks: places and counts, never a reporter."""
    return {
        "id": alert.pk,
        "rule": alert.rule,
        "message": alert.message(),
        "election": alert.election_id,
        "okrug": alert.okrug.name,
        "tik": alert.tik.name if alert.tik_id else None,
        "station": alert.station.number if alert.station_id else None,
        "incident": alert.incident_id,
        "count": alert.count,
        "at": alert.at.isoformat(),
        "raised_at": alert.raised_at.isoformat(),
    }


def _webhook_post(url: str, alerts: list[Alert]) -> None:
    if not url.startswith(("http://", "https://")):
        raise OSError(f"refusing webhook URL {url!r}")
    body = json.dumps({"alerts": [alert_payload(a) for a in alerts]}, ensure_ascii=False)
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url,
        data=body.encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=settings.ALERT_WEBHOOK_TIMEOUT) as response:  # noqa: S310
        response.read()


def limits_degraded_alert(*, now: datetime | None = None) -> int:
    """Tell every okrug's coordinators, once an hour, that rate limits are degraded
    (reports.limits counts per process while Redis is down). Returns alerts raised."""
    now = now or timezone.now()
    hour = f"{now:%Y%m%d%H}"
    okrugs = Okrug.objects.filter(election__is_active=True).values_list("pk", "election_id")
    drafts = [
        AlertDraft(
            rule=Alert.Rule.LIMITS_DEGRADED,
            key=f"{Alert.Rule.LIMITS_DEGRADED}:{okrug_id}:{hour}",
            election_id=election_id,
            okrug_id=okrug_id,
            at=now,
        )
        for okrug_id, election_id in okrugs
    ]
    return sum(1 for draft in drafts if alert_raise(draft=draft) is not None)
