"""A coordinator subscribes an address to their okrug's alerts in the admin; it is audited."""

from reports.models import AlertSubscription, AuditEntry

from .moderation_fixtures import client_for, staff_user

ADD_URL = "/admin/reports/alertsubscription/add/"
LIST_URL = "/admin/reports/alertsubscription/"


def test_coordinator_subscribes_an_address_to_an_okrug(stations):
    coordinator = staff_user("coordinator", "kira")
    okrug = stations[101].okrug
    form = {"okrug": okrug.pk, "email": "cao@hq.example", "webhook_url": ""}

    response = client_for(coordinator).post(ADD_URL, form)

    assert response.status_code == 302
    subscription = AlertSubscription.objects.get()
    assert (subscription.okrug, subscription.email, subscription.is_active) == (
        okrug,
        "cao@hq.example",
        True,
    )
    entry = AuditEntry.objects.get(action="alert_subscription_create")
    assert (entry.actor, entry.object_id) == (coordinator, str(subscription.pk))


def test_a_subscription_without_an_address_is_refused_and_nothing_is_stored(stations):
    coordinator = staff_user("coordinator", "kira")
    form = {"okrug": stations[101].okrug.pk, "email": "", "webhook_url": ""}

    response = client_for(coordinator).post(ADD_URL, form, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert "Give an email address or a webhook URL." in response.content.decode()
    assert not AlertSubscription.objects.exists()


def test_pausing_stops_deliveries_and_is_audited(stations):
    coordinator = staff_user("coordinator", "kira")
    subscription = AlertSubscription.objects.create(okrug=stations[101].okrug, email="a@b.example")
    action = {"action": "pause", "_selected_action": [subscription.pk]}

    client_for(coordinator).post(LIST_URL, action)

    subscription.refresh_from_db()
    assert subscription.is_active is False
    assert AuditEntry.objects.filter(action="alert_subscription_set_active").count() == 1


def test_moderators_cannot_add_subscriptions(stations):
    moderator = staff_user("moderator", "mila")
    form = {"okrug": stations[101].okrug.pk, "email": "x@hq.example", "webhook_url": ""}

    response = client_for(moderator).post(ADD_URL, form)

    assert response.status_code == 403
    assert not AlertSubscription.objects.exists()
