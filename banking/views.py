"""Giving by bank transfer: the donation form of a campaign page sent with the "Bank transfer"
button (`formaction`), checked as the card's start is (the same form, honeypot, challenge
while busy and rate limits: `campaigns.challenge`, `campaigns.ratelimit`), makes a pledge and
shows the bank details with the EPC QR code. Nothing reaches Stripe."""

import base64
import logging
import math

from django.core import signing
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from campaigns import challenge, ratelimit
from campaigns.forms import DonationForm
from campaigns.models import CampaignPage
from cms.form_posts import posted_from_page
from crm.money import format_amount

from . import qr
from .mail import pledge_context
from .models import BankDetails, Pledge
from .pledges import TRIBUTE_FIELDS, bank_details_of, create_pledge

log = logging.getLogger(__name__)
PLEDGE_SALT = "banking.pledge"


def _retry_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext(
        "Too many attempts: nothing was charged. Please try again in %(minutes)d minute.",
        "Too many attempts: nothing was charged. Please try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def pledge_token(pledge: Pledge) -> str:
    return signing.dumps(pledge.pk, salt=PLEDGE_SALT)


@posted_from_page(CampaignPage)
def give_by_transfer(request, page_id):  # type: ignore[no-untyped-def]
    campaign = get_object_or_404(CampaignPage.objects.live().public(), pk=page_id)
    if bank_details_of(campaign.network) is None:
        raise Http404
    form = DonationForm(request.POST, campaign=campaign)
    if form.is_spam:
        log.info("honeypot filled on campaign %s (bank transfer)", campaign.pk)
        return HttpResponse(_("Your gift could not be started."), status=400)
    if not form.is_valid():
        return campaign.serve(request, form=form, status=400)
    if not campaign.is_open:
        form.add_error(None, _("This campaign is closed."))
        return campaign.serve(request, form=form, status=400)
    if form.monthly:
        form.add_error(
            "frequency",
            _("A bank transfer is a one-off gift: choose “Once”, or give monthly by card."),
        )
        return campaign.serve(request, form=form, status=400)
    if ratelimit.campaign_busy(campaign.pk) and not challenge.passes(request, campaign):
        form.add_error(None, _("Please complete the check above the button and try again."))
        return campaign.serve(request, form=form, status=400, challenge=True)
    decision = ratelimit.check_all(
        ip=ratelimit.client_ip(request), email=form.cleaned_data["email"], campaign_id=campaign.pk
    )
    if not decision:
        form.add_error(None, _retry_message(decision.retry_after))
        response = campaign.serve(request, form=form, status=429)
        response["Retry-After"] = str(decision.retry_after)
        return response
    data = form.cleaned_data
    details = form.donor_details()
    details.update(fee_cover_cents=0, gift_cents=data["gift_cents"])  # no card fee to cover
    pledge = create_pledge(
        network=campaign.network,
        campaign=campaign,
        amount_cents=data["gift_cents"],
        donor_details=details,
        wants_receipt=bool(data.get("wants_receipt")),
        dedication=data.get("dedication", ""),
        tribute={name: data.get(name) for name in TRIBUTE_FIELDS if data.get(name)},
    )
    url = reverse("banking:pledge", args=[pledge_token(pledge)])
    return HttpResponseRedirect(url, status=303)


@require_GET
def pledge_page(request, token):  # type: ignore[no-untyped-def]
    try:
        pk = signing.loads(token, salt=PLEDGE_SALT)
    except signing.BadSignature as exc:
        raise Http404 from exc
    pledge = get_object_or_404(Pledge.objects.select_related("network"), pk=pk)
    details = get_object_or_404(BankDetails, network=pledge.network)
    payload = qr.epc_payload(details, pledge)
    context = pledge_context(pledge, details)
    context.update(
        qr_svg=qr.epc_svg(details, pledge),
        epc_payload=base64.b64encode(payload).decode("ascii"),
        state=pledge.state(),
        amount=format_amount(pledge.amount_cents),
    )
    response = render(request, "banking/pledge.html", context)
    response["Cache-Control"] = "private, no-store"
    return response
