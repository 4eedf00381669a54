"""The buyer's pages: buy tickets (start a Checkout), the order's page after Checkout (its
tickets and their QR codes once paid), and the page after leaving Checkout."""

import logging
import time
from datetime import timedelta

from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from campaigns import challenge, ratelimit, stripe_api
from campaigns.views import csrf_failure as campaigns_csrf_failure
from cms.form_posts import posted_from_page
from crm.models.entities import entity_of
from crm.money import format_amount

from . import cancel, orders, tokens
from .forms import OrderForm
from .models import EventPage, Order
from .tasks import checkin_url, qr_png

log = logging.getLogger(__name__)
# How long an unpaid order holds its tickets: Stripe's shortest Checkout expiry is 30 minutes.
HOLD_SECONDS = 35 * 60


def _lines(order: Order, form: OrderForm) -> list[tuple[str, int, int]]:
    """One Checkout line per ticket type (and price), one for the gift."""
    lines = [
        (f"{order.event.title}: {ticket_type.name}", price, quantity)
        for ticket_type, quantity, price in form.cleaned_data["lines"]
        if price > 0
    ]
    if order.gift_cents:
        # Named for the partner entity that receives it, if the event names one (issue 26).
        entity = entity_of(order.donation)
        receiver = order.network.name if entity.is_lead else entity.legal_name
        lines.append((_("Gift to %(network)s") % {"network": receiver}, order.gift_cents, 1))
    return lines


@posted_from_page(EventPage)
def buy(request, page_id):
    """Validate the ticket form, reserve the tickets, open a Stripe Checkout Session with one
    line per ticket type and one for the gift, and send the buyer there. If Stripe fails,
    nothing is kept and the form says so."""
    event = get_object_or_404(EventPage.objects.live().public(), pk=page_id)
    form = OrderForm(request.POST, event=event)
    if form.is_spam:
        return HttpResponse(_("Your order could not be started."), status=400)
    if not form.is_valid():
        return event.serve(request, form=form, status=400)
    if not event.is_on_sale:
        form.add_error(None, _("Tickets for this event are not on sale."))
        return event.serve(request, form=form, status=400)
    # As for a campaign: a busy event (past its threshold) asks every start to pass the
    # challenge; failing it counts nothing, writes nothing and never reaches Stripe.
    if ratelimit.campaign_busy(event.pk) and not challenge.passes(request, event):
        form.add_error(None, _("Please complete the check above the button and try again."))
        return event.serve(request, form=form, status=400, challenge=True)
    decision = ratelimit.check_all(
        ip=ratelimit.client_ip(request), email=form.cleaned_data["email"], campaign_id=event.pk
    )
    if not decision:
        form.add_error(None, _("Too many attempts: nothing was charged. Please try again later."))
        response = event.serve(request, form=form, status=429)
        response["Retry-After"] = str(decision.retry_after)
        return response
    try:
        order = orders.start_order(
            event,
            lines=form.cleaned_data["lines"],
            buyer=form.buyer(),
            gift_cents=form.cleaned_data.get("donation") or 0,
            donor_details=form.donor_details(),
            wants_receipt=bool(form.cleaned_data.get("wants_receipt")),
        )
    except orders.SoldOut as exc:
        left = exc.ticket_type.left or 0
        form.add_error(
            None,
            _("Only %(left)s tickets “%(name)s” are left: nothing was reserved.")
            % {"left": left, "name": exc.ticket_type.name},
        )
        return event.serve(request, form=form, status=409)
    if order.status == Order.Status.PAID:  # nothing to pay: free tickets
        return HttpResponseRedirect(reverse("events:order", args=[order.token]), status=303)
    try:
        session = stripe_api.create_lines_session(
            order,  # on the account of the entity receiving the event's gifts
            lines=_lines(order, form),
            metadata={"order_id": str(order.pk), "network": order.network.slug},
            reference=f"order-{order.pk}",
            email=order.email,
            language=order.language,
            success_url=request.build_absolute_uri(reverse("events:order", args=[order.token])),
            cancel_url=request.build_absolute_uri(reverse("events:cancelled", args=[order.token])),
            key=f"checkout-order-{order.pk}-{order.token}",
            # Reserved tickets are held while the buyer pays, not for Stripe's default 24 hours
            # (abandoned checkouts would keep a small event sold out for a day).
            expires_at=time.time() + HOLD_SECONDS,
        )
    except stripe_api.StripeError:
        log.exception("could not start a checkout for event %s", event.pk)
        orders.not_started(order)
        form.add_error(
            None,
            _("The payment service is not answering: nothing was charged. Please try again."),
        )
        return event.serve(request, form=form, status=503)
    Order.objects.filter(pk=order.pk, stripe_checkout_session_id__isnull=True).update(
        stripe_checkout_session_id=session["id"]
    )
    return HttpResponseRedirect(session["url"], status=303)


@never_cache
@require_GET
def order_page(request, token):
    """After Checkout: waiting until the webhook confirms the payment, then the tickets."""
    order = get_object_or_404(Order.objects.select_related("event", "donation"), token=token)
    tickets = []
    if order.status == Order.Status.PAID:
        tickets = [
            {"ticket": ticket, "token": tokens.ticket_token(ticket)}
            for ticket in order.tickets.select_related("ticket_type")
        ]
    return render(
        request,
        "events/order.html",
        {
            "order": order,
            "event": order.event,
            "tickets": tickets,
            "total": format_amount(order.total_cents),
        },
    )


@never_cache
@require_GET
def ticket_qr(request, token):
    """A ticket's QR code (PNG) for its order page: the signed check-in address."""
    if tokens.code_from_token(token) is None:
        raise Http404
    url = checkin_url(request.build_absolute_uri("/"), token)
    return HttpResponse(qr_png(url), content_type="image/png")


@never_cache
@require_http_methods(["GET", "POST"])
def cancelled(request, token):
    """The buyer left Checkout without paying. Showing the page changes nothing (a browser
    prefetching it or a link scanner may GET it): the tickets stay held until the Checkout
    expires (HOLD_SECONDS, then Stripe's `checkout.session.expired` frees them), and the buyer
    can still go back and pay. The button "Cancel the order" (a POST) frees them now. The page
    is rendered for each visitor (never cached), so its form carries the visitor's own token."""
    order = get_object_or_404(Order.objects.select_related("event", "network"), token=token)
    problem = ""
    if request.method == "POST" and order.status == Order.Status.PENDING:
        try:
            if not cancel.buyer_gives_up(order):
                return HttpResponseRedirect(reverse("events:order", args=[order.token]), status=303)
        except stripe_api.StripeError:
            log.exception("could not expire the checkout of order %s", order.pk)
            problem = _("The payment service is not answering: please try again in a moment.")
        order.refresh_from_db()
    context = {
        "event": order.event,
        "order": order,
        "held": order.status == Order.Status.PENDING,
        "held_until": order.created_at + timedelta(seconds=HOLD_SECONDS),
        "problem": problem,
    }
    return render(request, "events/cancelled.html", context, status=503 if problem else 200)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW (config/settings/security.py). A ticket form sent from an event page
    served from the page cache by a browser without JavaScript carries no token: the buyer gets
    the form back, filled in, with their own token and a sentence saying to press the button
    again. Nothing was started. Anything else goes to the campaigns' view (the donation form,
    then Django's own page)."""
    match = getattr(request, "resolver_match", None)
    if match is not None and match.view_name == "events:buy" and request.method == "POST":
        event = EventPage.objects.live().public().filter(pk=match.kwargs["page_id"]).first()
        if event is not None:
            form = OrderForm(request.POST, event=event)
            form.add_error(
                None,
                _(
                    "Your order was not started: nothing was charged. Please check the form "
                    "and press the button again."
                ),
            )
            return event.serve(request, form=form, status=403)
    return campaigns_csrf_failure(request, reason=reason)
