"""The admin's event screens: each event's figures and orders (the treasurer cancels and
refunds an order there), and the check-in at the door, made for a phone: search a name or a
ticket code, or open the address a ticket's QR code carries (any phone's camera reads it).
Every screen goes through `crm.tenancy.network_view`: a user sees only their networks' events."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from campaigns.refunds import RefundRefused
from crm.models import Donation, Network
from crm.tenancy import network_view, policy_for, reached
from crm.validators import row_id

from . import orders, tokens
from .cancel import cancel_order
from .figures import event_figures
from .models import EventPage, Order, Ticket


def _networks(user):
    return policy_for(Order).networks_for(user)


def _event(user, event_id):
    """The event if it is of one of the user's networks (404 otherwise)."""
    event = get_object_or_404(EventPage, pk=event_id)
    if event.network is None or not _networks(user).filter(pk=event.network.pk).exists():
        raise Http404
    return event


def _may_refund(user, network) -> bool:
    """A treasurer of the order's network: the door staff reach its orders as communicators,
    and a communicator here who is another network's treasurer refunds nothing here."""
    policy = policy_for(Donation)
    return (
        policy.user_has_permission(user, "refund")
        and policy.networks_for(user).filter(pk=network.pk).exists()
    )


@network_view(Order)
def index(request):
    networks = list(_networks(request.user))
    events = [
        (event, event_figures(event))
        for event in EventPage.objects.order_by("-starts_at")
        if event.network in networks
    ]
    return TemplateResponse(request, "events/admin/index.html", {"events": events})


@network_view(Order)
def event_orders(request, event_id):
    event = _event(request.user, event_id)
    rows = reached(request.user, Order).filter(event=event).select_related("donation")
    return TemplateResponse(
        request,
        "events/admin/event.html",
        {
            "event": event,
            "figures": event_figures(event),
            "orders": rows.order_by("-created_at")[:500],
            "may_refund": _may_refund(request.user, event.network),
        },
    )


def _ticket_outcome(request, ticket):
    if orders.check_in(ticket, by=request.user.get_username()):
        messages.success(request, _("Checked in: %(code)s") % {"code": ticket.code})
        return "ok"
    ticket.refresh_from_db()
    if ticket.order.status != Order.Status.PAID:
        messages.error(request, _("This ticket is not valid: its order is not paid."))
        return "invalid"
    messages.warning(
        request,
        _("Already used: ticket %(code)s was checked in before.") % {"code": ticket.code},
    )
    return "used"


@network_view(Order)
def checkin(request, event_id):
    """The door: search by name or code; each ticket's button checks it in, once."""
    event = _event(request.user, event_id)
    tickets = Ticket.objects.filter(order__event=event).select_related("order", "ticket_type")
    query = " ".join(request.GET.get("q", "").split())[:100]
    if request.method == "POST":
        ticket = get_object_or_404(tickets, pk=row_id(request.POST.get("ticket")) or 0)
        _ticket_outcome(request, ticket)
        return redirect(request.get_full_path())
    found = []
    if query:
        match = Q(code__iexact=query.replace(" ", "").upper())
        for word in query.split():
            match |= Q(order__first_name__icontains=word) | Q(order__last_name__icontains=word)
        found = list(tickets.filter(match).order_by("order__last_name", "pk")[:50])
    return TemplateResponse(
        request,
        "events/admin/checkin.html",
        {"event": event, "query": query, "tickets": found, "figures": event_figures(event)},
    )


@network_view(Order)
def checkin_ticket(request):
    """The address a ticket's QR code carries (`?t=`, signed): the ticket, and one button."""
    code = tokens.code_from_token(request.GET.get("t", ""))
    if code is None:
        raise Http404
    networks = _networks(request.user)
    ticket = get_object_or_404(
        Ticket.objects.select_related("order__event", "ticket_type"),
        code=code,
        order__network__in=networks,
    )
    outcome = None
    if request.method == "POST":
        outcome = _ticket_outcome(request, ticket)
        ticket.refresh_from_db()
    return TemplateResponse(
        request,
        "events/admin/ticket.html",
        {"ticket": ticket, "order": ticket.order, "event": ticket.order.event, "outcome": outcome},
    )


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=255)


@network_view(Order, pk=Order)
def cancel(request, pk):
    """Cancel an order and refund its buyer: the gift (its receipt voided), then the tickets."""
    order = get_object_or_404(reached(request.user, Order).select_related("event"), pk=pk)
    if not _may_refund(request.user, order.network):
        raise PermissionDenied
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            cancel_order(order.pk, reason=form.cleaned_data["reason"], user=request.user)
        except RefundRefused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Order cancelled and refunded."))
            return redirect("events_admin_event", event_id=order.event_id)
    return TemplateResponse(request, "events/admin/cancel.html", {"order": order, "form": form})


def networks_reached(user):  # pragma: no cover - for the templates' menu
    return Network.objects.none() if not user.is_authenticated else _networks(user)
