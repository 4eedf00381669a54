"""An event's figures, one definition: tickets sold, ticket income (never a gift), the gifts
on top (counted as every gift is, `crm`'s `DonationQuerySet.raised`), check-ins."""

from django.db.models import Count, F, Q, Sum

from crm.models import Donation

from .models import EventPage, Order, Ticket


def event_figures(event: EventPage) -> dict:
    paid = Order.objects.filter(event=event, status=Order.Status.PAID)
    income = paid.aggregate(
        cents=Sum(F("tickets_cents") - F("tickets_refunded_cents")), orders=Count("pk")
    )
    tickets = Ticket.objects.filter(order__in=paid).aggregate(
        sold=Count("pk"), checked_in=Count("pk", filter=Q(checked_in_at__isnull=False))
    )
    gifts = Donation.objects.filter(event_order__event=event)
    return {
        "orders": income["orders"],
        "tickets_sold": tickets["sold"],
        "checked_in": tickets["checked_in"],
        "ticket_income_cents": income["cents"] or 0,
        "donations_cents": gifts.raised(),
        "donations": gifts.succeeded().count(),
    }
