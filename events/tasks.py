"""The ticket email: each ticket with its QR code (the check-in address, signed), sent once
by the worker after the order's payment is recorded."""

import io
import logging
from email.message import MIMEPart

import qrcode
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from .models import Order
from .tokens import ticket_token

log = logging.getLogger(__name__)


def qr_png(text: str) -> bytes:
    image = qrcode.make(text, box_size=6, border=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def checkin_url(base_url: str, token: str) -> str:
    """What a ticket's QR code says: the check-in screen's address for this ticket. Any phone's
    camera opens it; the door staff (signed in) confirm the check-in there."""
    return base_url.rstrip("/") + reverse("events_checkin_ticket") + f"?t={token}"


def build_ticket_email(order: Order, base_url: str) -> EmailMultiAlternatives:
    tickets = list(order.tickets.select_related("ticket_type"))
    rows: list[dict] = [
        {
            "ticket": ticket,
            "cid": f"ticket-{ticket.code}",
            "url": checkin_url(base_url, ticket_token(ticket)),
        }
        for ticket in tickets
    ]
    with translation.override(order.language or "it"):
        context = {"order": order, "event": order.event, "rows": rows}
        subject = render_to_string("events/email/tickets_subject.txt", context).strip()
        text = render_to_string("events/email/tickets.txt", context)
        html = render_to_string("events/email/tickets.html", context)
    message = EmailMultiAlternatives(subject, text, to=[order.email])
    message.attach_alternative(html, "text/html")
    for row in rows:  # inline images the HTML names by Content-ID (`cid:`)
        image = MIMEPart()
        image.set_content(
            qr_png(row["url"]),
            maintype="image",
            subtype="png",
            disposition="inline",
            filename=f"{row['ticket'].code}.png",
            cid=f"<{row['cid']}>",
        )
        message.attach(image)
    return message


@task()
def send_ticket_email(order_id: int) -> bool:
    """Send the order's tickets once: claimed by a conditional UPDATE (a second run, on this
    machine or another, finds it claimed); a failed send releases the claim and raises, so
    the task can run again."""
    claimed = Order.objects.filter(
        pk=order_id, status=Order.Status.PAID, tickets_emailed_at__isnull=True
    ).update(tickets_emailed_at=timezone.now())
    if not claimed:
        return False
    order = Order.objects.select_related("event").get(pk=order_id)
    try:
        build_ticket_email(order, settings.SITE_URL).send()
    except Exception:
        Order.objects.filter(pk=order_id).update(tickets_emailed_at=None)
        log.exception("the tickets of order %s were not sent", order_id)
        raise
    return True
