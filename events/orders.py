"""Business verbs of ticket orders: start one (quotas reserved by conditional UPDATE), record
its payment or its end without one (called by `events.stripe_owner` from the Stripe webhook),
record refunds, check a ticket in.

Ticket money stays on the order (`Order.tickets_cents`); only the gift on top is a
`crm.Donation`, recorded through `crm.gifts.record_payment` with its own amount: its receipt,
its thank-you and every gift figure see the gift and nothing of the tickets. A refund on an
order's payment goes to the gift first, then to the tickets (`record_refunded_total`): the rule
`events.cancel` follows when it refunds an order."""

import logging

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from crm import gifts
from crm.models import Donation
from crm.tasks import enqueue_with_work

from .models import EventPage, Order, Ticket, TicketType
from .tasks import send_ticket_email

log = logging.getLogger(__name__)


class SoldOut(Exception):
    """A ticket type has fewer tickets left than asked: nothing was reserved or written."""

    def __init__(self, ticket_type: TicketType) -> None:
        super().__init__(ticket_type.name)
        self.ticket_type = ticket_type


# --- Quotas ------------------------------------------------------------------------------------


def reserve(ticket_type_id: int, quantity: int) -> bool:
    """Take `quantity` tickets of a type if that many are left: one conditional UPDATE (the
    database decides, under its row lock, between concurrent buyers; no read-then-write)."""
    left = Q(quota__isnull=True) | Q(quota__gte=F("sold") + quantity)
    updated = TicketType.objects.filter(left, pk=ticket_type_id).update(sold=F("sold") + quantity)
    return updated == 1


def release(ticket_type_id: int, quantity: int) -> None:
    TicketType.objects.filter(pk=ticket_type_id, sold__gte=quantity).update(
        sold=F("sold") - quantity
    )


def _release_order(order: Order) -> None:
    counts: dict[int, int] = {}
    for type_id in order.tickets.values_list("ticket_type_id", flat=True):
        counts[type_id] = counts.get(type_id, 0) + 1
    for type_id, quantity in counts.items():
        release(type_id, quantity)


# --- Starting an order -------------------------------------------------------------------------


def start_order(
    event: EventPage,
    *,
    lines: list[tuple[TicketType, int, int]],
    buyer: dict,
    gift_cents: int = 0,
    donor_details: dict | None = None,
    wants_receipt: bool = False,
) -> Order:
    """Reserve the tickets, write the order, its tickets and (if any) the pending gift, in one
    transaction: a sold-out type raises SoldOut and nothing is kept. An order with nothing to
    pay (free tickets, no gift) is paid at once and its tickets are emailed."""
    network = event.network
    if network is None:
        raise ValueError(f"event {event.pk} is not under a network's page")
    with transaction.atomic():
        for ticket_type, quantity, _price in lines:
            if not reserve(ticket_type.pk, quantity):
                raise SoldOut(ticket_type)
        donation = None
        if gift_cents > 0:
            donation = Donation.objects.create(
                network=network,
                campaign=event,
                amount_cents=gift_cents,
                wants_receipt=wants_receipt,
                donor_details=donor_details or {},
                anonymous=True,
                status=Donation.Status.PENDING,
            )
        order = Order.objects.create(
            network=network,
            event=event,
            donation=donation,
            tickets_cents=sum(quantity * price for _t, quantity, price in lines),
            **buyer,
        )
        Ticket.objects.bulk_create(
            Ticket(order=order, ticket_type=ticket_type, price_cents=price)
            for ticket_type, quantity, price in lines
            for _ in range(quantity)
        )
        if order.total_cents == 0:
            _mark_paid(order)
    return order


def not_started(order: Order) -> None:
    """Stripe gave the buyer no checkout: the order, its gift and its reserved tickets go."""
    with transaction.atomic():
        locked = Order.objects.select_for_update().filter(pk=order.pk, status="pending").first()
        if locked is None:
            return
        _release_order(locked)
        donation_id = locked.donation_id
        locked.delete()
        if donation_id:
            Donation.objects.filter(pk=donation_id, status=Donation.Status.PENDING).delete()


# --- What Stripe says (inside the webhook's transaction) ---------------------------------------


def lock_order(**lookup) -> Order | None:
    return (
        Order.objects.select_related("network", "donation")
        .select_for_update(of=("self",))
        .filter(**lookup)
        .first()
    )


def _mark_paid(order: Order, payment_intent_id: str = "") -> None:
    order.status = Order.Status.PAID
    order.paid_at = timezone.now()
    order.stripe_payment_intent_id = payment_intent_id or order.stripe_payment_intent_id
    order.save(update_fields=["status", "paid_at", "stripe_payment_intent_id", "updated_at"])
    enqueue_with_work(send_ticket_email, order.pk)


def record_paid(
    order: Order, *, amount_cents: object, currency: object, payment_intent_id: str
) -> bool:
    """The order's Checkout was paid. If Stripe's amount and currency are exactly the order's,
    the tickets are valid (and emailed) and the gift is recorded for its own amount (its donor,
    receipt and thank-you, `crm.gifts.record_payment`). Otherwise the order and its gift are
    held for review. A replay changes nothing."""
    if order.status in (Order.Status.PAID, Order.Status.CANCELLED, Order.Status.REVIEW):
        return False
    matches = (
        isinstance(amount_cents, int)
        and not isinstance(amount_cents, bool)
        and amount_cents == order.total_cents
        and str(currency or "").lower() == "eur"
    )
    if not matches or order.status != Order.Status.PENDING:
        log.warning(
            "order %s held for review: Stripe reported %r %r", order.pk, amount_cents, currency
        )
        order.status = Order.Status.REVIEW
        order.stripe_payment_intent_id = payment_intent_id
        order.save(update_fields=["status", "stripe_payment_intent_id", "updated_at"])
        if order.donation_id:
            donation = gifts.lock_donation(pk=order.donation_id)
            if donation is not None:
                gifts.hold_for_review(donation, amount_cents=amount_cents, currency=currency)
        return True
    _mark_paid(order, payment_intent_id)
    if order.donation_id:
        donation = gifts.lock_donation(pk=order.donation_id)
        if donation is not None:
            gifts.record_payment(
                donation,
                amount_cents=donation.amount_cents,  # the order's total was checked above
                currency=currency,
                stripe_payment_intent_id=payment_intent_id or None,
            )
    return True


def record_unpaid(order: Order) -> bool:
    """The buyer left Checkout, or it expired or failed: the tickets go back on sale and the
    gift is marked cancelled. Only a pending order changes."""
    if order.status != Order.Status.PENDING:
        return False
    order.status = Order.Status.EXPIRED
    order.save(update_fields=["status", "updated_at"])
    _release_order(order)
    if order.donation_id:
        donation = gifts.lock_donation(pk=order.donation_id)
        if donation is not None:
            gifts.record_payment_failure(donation, status=Donation.Status.CANCELLED)
    return True


def record_refunded_total(order: Order, refunded_cents: int, *, reason: str, user=None) -> bool:
    """Stripe's total refunded on the order's payment: the gift's part first (up to the gift,
    through `crm.gifts.record_refunded_total`: its receipt voided), the rest the tickets'.
    Setting totals makes replays and reordering harmless."""
    changed = False
    gift_part = 0
    if order.donation_id:
        donation = gifts.lock_donation(pk=order.donation_id)
        if donation is not None:
            gift_part = min(refunded_cents, donation.amount_cents)
            changed |= gifts.record_refunded_total(donation, gift_part, reason=reason, user=user)
    ticket_part = min(refunded_cents - gift_part, order.tickets_cents)
    if ticket_part > order.tickets_refunded_cents:
        order.tickets_refunded_cents = ticket_part
        order.save(update_fields=["tickets_refunded_cents", "updated_at"])
        changed = True
    return changed


# --- Tickets at the door -----------------------------------------------------------------------


def check_in(ticket: Ticket, *, by: str) -> bool:
    """Mark a paid ticket used, once: True for the first check-in, False if it was used already
    (or its order is not paid). A conditional UPDATE: two scanners at two doors cannot both
    let the same ticket in."""
    updated = Ticket.objects.filter(
        pk=ticket.pk, checked_in_at__isnull=True, order__status=Order.Status.PAID
    ).update(checked_in_at=timezone.now(), checked_in_by=by[:150])
    return updated == 1
