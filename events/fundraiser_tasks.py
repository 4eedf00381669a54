"""Emails of personal pages: the owner's confirmation link, the news that the page is public
(once), and each paid gift through the page (its amount only if the donor agreed). Each is
claimed before it is sent: safe to run twice."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from .fundraiser_models import Fundraiser, SoftCredit
from .tokens import confirm_token


def _send(page: Fundraiser, template: str, context: dict) -> None:
    with translation.override(page.language or "it"):
        context = {"page": page, **context}
        subject = render_to_string(f"events/email/{template}_subject.txt", context).strip()
        body = render_to_string(f"events/email/{template}.txt", context)
    EmailMessage(subject, body, to=[page.email]).send()


@task()
def send_confirmation(page_id: int) -> bool:
    page = Fundraiser.objects.filter(pk=page_id, status=Fundraiser.Status.UNCONFIRMED).first()
    if page is None:
        return False
    with translation.override(page.language or "it"):
        url = settings.SITE_URL + reverse("events:fundraiser_confirm", args=[confirm_token(page)])
    _send(page, "fundraiser_confirm", {"url": url})
    return True


@task()
def tell_owner_public(page_id: int) -> bool:
    """The confirmation page promised "we will write to you": the page is public, with its
    address to share. Only the first time it goes public (hidden and shown again: not told)."""
    claimed = Fundraiser.objects.filter(
        pk=page_id, status=Fundraiser.Status.APPROVED, owner_told_public_at__isnull=True
    ).update(owner_told_public_at=timezone.now())
    if not claimed:
        return False
    page = Fundraiser.objects.get(pk=page_id)
    with translation.override(page.language or "it"):
        url = settings.SITE_URL + reverse("events:fundraiser", args=[page.slug])
    try:
        _send(page, "fundraiser_public", {"url": url})
    except Exception:
        Fundraiser.objects.filter(pk=page_id).update(owner_told_public_at=None)
        raise
    return True


@task()
def tell_owner(donation_id: int) -> bool:
    claimed = SoftCredit.objects.filter(donation_id=donation_id, owner_told_at__isnull=True).update(
        owner_told_at=timezone.now()
    )
    if not claimed:
        return False
    credit = SoftCredit.objects.select_related("fundraiser", "donation").get(
        donation_id=donation_id
    )
    try:
        _send(
            credit.fundraiser,
            "fundraiser_gift",
            {"amount_cents": credit.donation.amount_cents if credit.show_amount else None},
        )
    except Exception:
        SoftCredit.objects.filter(pk=credit.pk).update(owner_told_at=None)
        raise
    return True
