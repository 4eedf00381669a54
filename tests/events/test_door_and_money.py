"""At the door (a ticket checked in once, by its QR address or a search), the treasurer's
cancellation and refund (the gift first, through the giving app's refund verb), the tickets
kept out of every gift figure, quotas under concurrency, and each network's screens its own."""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from campaigns.refunds import RefundRefused
from crm.models import Donation, Receipt
from crm.tax_data import tax_data
from events import orders
from events.cancel import cancel_order
from events.models import Ticket, TicketType
from events.tasks import checkin_url
from events.tokens import ticket_token

from .test_tickets import BUYER, buy_and_pay, buy_url

pytestmark = pytest.mark.django_db


def _user(name):
    return get_user_model().objects.get(username=name)


@pytest.fixture
def paid_order(client, event, types, stripe_events, django_capture_on_commit_callbacks):
    return buy_and_pay(client, event, types, stripe_events, django_capture_on_commit_callbacks)


def test_a_ticket_is_checked_in_once_from_its_qr_address(client, paid_order):
    ticket = paid_order.tickets.first()
    url = checkin_url("http://testserver", ticket_token(ticket))
    client.force_login(_user("tesoreria-oltre-il-ponte"))
    assert client.get(url).status_code == 200
    first = client.post(url)
    assert 'data-state="ok"' in first.content.decode()
    again = client.post(url)
    assert 'data-state="used"' in again.content.decode()
    ticket.refresh_from_db()
    assert ticket.checked_in_at is not None and ticket.checked_in_by == "tesoreria-oltre-il-ponte"
    assert Ticket.objects.filter(checked_in_at__isnull=False).count() == 1


def test_a_forged_qr_address_is_not_a_ticket(client, paid_order):
    client.force_login(_user("tesoreria-oltre-il-ponte"))
    code = paid_order.tickets.first().code
    response = client.get(reverse("events_checkin_ticket") + f"?t={code}")
    assert response.status_code == 404


def test_the_door_finds_tickets_by_name_or_code(client, event, paid_order):
    client.force_login(_user("tesoreria-oltre-il-ponte"))
    url = reverse("events_checkin", args=[event.pk])
    by_name = client.get(url, {"q": "D'Alò"}).content.decode()
    assert by_name.count('data-testid="checkin-ticket"') == 2
    ticket = paid_order.tickets.first()
    by_code = client.get(url, {"q": ticket.code.lower()}).content.decode()
    assert by_code.count('data-testid="checkin-ticket"') == 1
    client.post(url + f"?q={ticket.code}", {"ticket": ticket.pk})
    ticket.refresh_from_db()
    assert ticket.checked_in_at is not None


def test_an_unpaid_ticket_is_never_let_in(event, types):
    order = orders.start_order(
        event, lines=[(types["Adulto"], 1, 2500)], buyer={**_buyer()}, gift_cents=0
    )
    assert not orders.check_in(order.tickets.get(), by="door")


def _buyer():
    return {k: BUYER[k] for k in ("first_name", "last_name", "email")}


def test_the_treasurer_cancels_and_refunds_an_order(
    paid_order, types, stripe_events, django_capture_on_commit_callbacks
):
    treasurer = _user("tesoreria-oltre-il-ponte")
    with django_capture_on_commit_callbacks(execute=True):
        cancel_order(paid_order.pk, reason="Evento annullato", user=treasurer)
    paid_order.refresh_from_db()
    gift = Donation.objects.get()
    assert (paid_order.status, paid_order.tickets_refunded_cents) == ("cancelled", 5000)
    assert (gift.status, gift.refunded_cents) == ("refunded", 1000)
    assert Receipt.objects.get().status == "void"
    assert TicketType.objects.get(pk=types["Adulto"].pk).sold == 0
    # Stripe's own word on the refunds, arriving after: nothing more changes
    stripe_events.wait_for("charge.refunded")
    with django_capture_on_commit_callbacks(execute=True):
        assert all(r.status_code == 200 for r in stripe_events.relay())
    gift.refresh_from_db()
    paid_order.refresh_from_db()
    assert (gift.refunded_cents, paid_order.tickets_refunded_cents) == (1000, 5000)
    # and a second cancellation refunds nothing more
    with pytest.raises(RefundRefused):
        cancel_order(paid_order.pk, reason="again", user=treasurer)


def test_tickets_never_enter_gift_figures_or_the_agenzia_data(
    client, event, types, paid_order, demo, django_capture_on_commit_callbacks
):
    network = demo["oltre-il-ponte"]
    # a mixed history: the € 60 order (€ 10 of it a gift), a free-ticket order, and a plain gift
    with django_capture_on_commit_callbacks(execute=True):
        client.post(buy_url(event), {**BUYER, f"qty_{types['Bambino'].pk}": "1"})
    plain = Donation.objects.create(
        network=network,
        amount_cents=2500,
        status=Donation.Status.SUCCEEDED,
        received_on=timezone.localdate(),
        donor=Donation.objects.get(event_order=paid_order).donor,
    )
    gifts = Donation.objects.filter(network=network)
    assert gifts.raised() == 1000 + 2500
    assert gifts.money().received == 1000 + 2500
    data = tax_data(network, timezone.localdate().year)
    assert (
        sum(row.amount_cents for row in data.rows) + data.left_out_cents + data.to_check_cents
        == 3500
    )
    assert Receipt.objects.filter(donations__in=[plain]).count() == 0
    assert Receipt.objects.get().donations.get().amount_cents == 1000


@pytest.mark.django_db(transaction=True)
def test_a_quota_is_never_oversold_under_concurrency(event, types):
    ticket_type = types["Adulto"]
    TicketType.objects.filter(pk=ticket_type.pk).update(quota=5)
    results, barrier = [], threading.Barrier(8)

    def buy():
        try:
            barrier.wait()
            results.append(orders.reserve(ticket_type.pk, 1))
        finally:
            connection.close()

    threads = [threading.Thread(target=buy) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 5
    assert TicketType.objects.get(pk=ticket_type.pk).sold == 5


def test_another_networks_treasurer_sees_none_of_the_events_screens(client, event, paid_order):
    client.force_login(_user("tesoreria-valle-serena"))
    ticket = paid_order.tickets.first()
    for url in (
        reverse("events_admin_event", args=[event.pk]),
        reverse("events_checkin", args=[event.pk]),
        checkin_url("", ticket_token(ticket)),
        reverse("events_order_cancel", args=[paid_order.pk]),
    ):
        for method in ("get", "post"):
            status = getattr(client, method)(url).status_code
            assert status in (403, 404), (method, url, status)
    assert "Cena di primavera" not in client.get(reverse("events_admin")).content.decode()
    ticket.refresh_from_db()
    paid_order.refresh_from_db()
    assert ticket.checked_in_at is None and paid_order.status == "paid"
    # while the network's own treasurer reaches each of them
    client.force_login(_user("tesoreria-oltre-il-ponte"))
    assert client.get(reverse("events_admin_event", args=[event.pk])).status_code == 200
    assert client.get(reverse("events_order_cancel", args=[paid_order.pk])).status_code == 200
    assert "Cena di primavera" in client.get(reverse("events_admin")).content.decode()


def test_every_events_admin_screen_goes_through_the_network_policy():
    from django.urls import get_resolver

    from crm.tenancy import NetworkCheck
    from tests.crm.test_policy_coverage import _walk

    screens = [
        (route, view)
        for route, _name, view in _walk(get_resolver().url_patterns)
        if route.startswith("admin/events/")
    ]
    assert len(screens) == 8  # orders, check-in, cancel; personal pages and their photos
    assert all(isinstance(getattr(v, "network_policy", None), NetworkCheck) for _r, v in screens)
