"""Giving endpoints: start a checkout, thank-you and cancelled pages. The donor's plan page is
in `campaigns.plan_views`, the Stripe webhook in `campaigns.webhooks`."""

import logging
import math

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.csrf import csrf_failure as django_csrf_failure
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_safe
from wagtail import hooks

from cms.form_posts import posted_from_page
from crm.models import Donation
from crm.models.entities import entity_of
from crm.money import format_amount
from crm.validators import row_id

from . import challenge, ratelimit, stripe_api
from .forms import DonationForm
from .models import CampaignPage, live_figures_key

log = logging.getLogger(__name__)
GIFT_STARTED = "campaigns_gift_started"
DONATION_SALT = "campaigns.donation"


def donation_token(donation):
    return signing.dumps(donation.pk, salt=DONATION_SALT)


def _donation_from(token):
    try:
        pk = signing.loads(token, salt=DONATION_SALT)
    except signing.BadSignature as exc:
        raise Http404 from exc
    # The entity too: the return page names it (`entity_of`), reloaded while pending.
    return get_object_or_404(Donation.objects.select_related("network", "entity"), pk=pk)


@posted_from_page(CampaignPage)
def give(request, page_id):
    """Validate the form, create the pending donation, open a Stripe Checkout Session and send
    the donor there. If Stripe fails, nothing is kept and the form says so."""
    campaign = get_object_or_404(CampaignPage.objects.live().public(), pk=page_id)
    form = DonationForm(request.POST, campaign=campaign)
    if form.is_spam:
        log.info("honeypot filled on campaign %s", campaign.pk)
        return HttpResponse(_("Your gift could not be started."), status=400)
    if not form.is_valid():
        return campaign.serve(request, form=form, status=400)
    if not campaign.is_open:
        form.add_error(None, _("This campaign is closed."))
        return campaign.serve(request, form=form, status=400)
    # A busy campaign (past its threshold: a giving day or an attack from many addresses) asks
    # every start to pass the challenge instead of refusing everyone. Failing it counts nothing,
    # writes nothing and never reaches Stripe.
    if ratelimit.campaign_busy(campaign.pk) and not challenge.passes(request, campaign):
        form.add_error(None, _("Please complete the check above the button and try again."))
        return campaign.serve(request, form=form, status=400, challenge=True)
    # Per client (an IPv4 address or an IPv6 /64) and per email: refused with a 429, before any
    # row or Checkout Session exists.
    decision = ratelimit.check_all(
        ip=ratelimit.client_ip(request), email=form.cleaned_data["email"], campaign_id=campaign.pk
    )
    if not decision:
        form.add_error(None, _retry_message(decision.retry_after))
        response = campaign.serve(request, form=form, status=429)
        response["Retry-After"] = str(decision.retry_after)
        return response
    # Mark, commit, call, record: the pending gift is committed before Stripe is asked (no
    # transaction waits on Stripe), the session id recorded after. If Stripe fails, the pending
    # gift is deleted (nothing half-written) and the donor reads that nothing was charged.
    donation = _pending_donation(campaign, form)
    # Another app may note where the gift came from (a supporter's page: `events.fundraisers`,
    # a soft credit that is never money). fn(request, donation) -> None, or a few words the
    # Checkout Session carries in its metadata for that app's GIFT_PAID hook.
    noted: dict[str, str] = {}
    for started in hooks.get_hooks(GIFT_STARTED):
        noted.update(started(request, donation) or {})
    try:
        session = stripe_api.create_checkout_session(
            donation,
            noted=noted,
            product_name=_product_name(campaign, form),
            success_url=_absolute(request, "campaigns:thanks", donation),
            cancel_url=_absolute(request, "campaigns:cancelled", donation),
            monthly=form.monthly,
        )
    except stripe_api.StripeError:
        log.exception("could not start a checkout for campaign %s", campaign.pk)
        _not_started(donation)
        form.add_error(
            None,
            _("The payment service is not answering: nothing was charged. Please try again."),
        )
        return campaign.serve(request, form=form, status=503)
    donation.stripe_checkout_session_id = session["id"]
    donation.save(update_fields=["stripe_checkout_session_id", "updated_at"])
    return HttpResponseRedirect(session["url"], status=303)


@require_GET
def live_figures(request, page_id):
    """The campaign's live figures (raised, donors, days left), written as the page writes
    them in the visitor's language: the campaign page's script refreshes its cached copy from
    here every few seconds. Kept LIVE_FIGURES_MAX_AGE seconds in the shared cache (dropped at
    once when a gift of the campaign changes: `invalidate_progress`) and by browsers or a CDN."""
    key = live_figures_key(page_id, get_language())
    figures = cache.get(key)
    if figures is None:
        campaign = get_object_or_404(CampaignPage.objects.live().public(), pk=page_id)
        figures = _live_figures(campaign)
        cache.set(key, figures, settings.LIVE_FIGURES_MAX_AGE)
    response = JsonResponse(figures)
    patch_cache_control(response, public=True, max_age=settings.LIVE_FIGURES_MAX_AGE)
    return response


def _live_figures(campaign):
    progress = campaign.get_progress()
    days_left = progress["days_left"]
    return {
        "raised_cents": progress["raised_cents"],
        "raised": format_amount(progress["raised_cents"]),
        "donors": progress["donors"],
        "donors_text": ngettext("%(counter)s donor", "%(counter)s donors", progress["donors"])
        % {"counter": progress["donors"]},
        "percent": progress["percent"],
        "days_left": days_left,
        "days_left_text": ""
        if days_left is None
        else ngettext("%(counter)s day left", "%(counter)s days left", days_left)
        % {"counter": days_left},
        "open": campaign.is_open,
    }


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW. A donation form sent from a page served from the page cache by a
    browser without JavaScript carries no token (cms.pagecache): the donor gets the form back,
    filled in, with their own token and a sentence saying to press the button again. Nothing
    was started. Any other refusal is Django's own page."""
    match = getattr(request, "resolver_match", None)
    if match is not None and match.view_name == "campaigns:give" and request.method == "POST":
        campaign = CampaignPage.objects.live().public().filter(pk=match.kwargs["page_id"]).first()
        if campaign is not None:
            form = DonationForm(request.POST, campaign=campaign)
            form.add_error(
                None,
                _(
                    "Your gift was not started: nothing was charged. Please check the form "
                    "and press the button again."
                ),
            )
            return campaign.serve(request, form=form, status=403)
    return django_csrf_failure(request, reason=reason)


@never_cache
@require_GET
def csrf_token(request):
    """A CSRF token for the forms of a cached page (which carry none: cms.pagecache), with the
    cookie it belongs to. Never stored anywhere: each visitor gets their own."""
    return JsonResponse({"token": get_token(request)})


def _not_started(donation):
    """Stripe gave the donor no checkout for this gift: no payment can arrive for it (a session
    Stripe made before our timeout is never shown to anyone and expires; its events find no
    gift and are acknowledged as not ours)."""
    Donation.objects.filter(pk=donation.pk, status=Donation.Status.PENDING).delete()


def _retry_message(seconds):
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext(
        "Too many attempts: nothing was charged. Please try again in %(minutes)d minute.",
        "Too many attempts: nothing was charged. Please try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def _product_name(campaign, form):
    name = _("Gift to %(campaign)s") % {"campaign": campaign.title}
    fee = form.cleaned_data.get("fee_cover_cents")
    if fee:
        name += " " + _("(including %(fee)s for the payment fee)") % {"fee": format_amount(fee)}
    return name


def _pending_donation(campaign, form):
    data = form.cleaned_data
    return Donation.objects.create(
        network=campaign.network,
        campaign=campaign,
        amount_cents=data["amount_cents"],
        wants_receipt=bool(data.get("wants_receipt")),
        donor_details=form.donor_details(),
        dedication=data.get("dedication", ""),
        tribute=data.get("tribute", ""),
        tribute_name=data.get("tribute_name", ""),
        tribute_notify_email=data.get("tribute_notify_email", ""),
        tribute_show_amount=bool(data.get("tribute_show_amount")),
        anonymous=not data.get("public_mention"),
        message_token=data.get("message_token", ""),
        status=Donation.Status.PENDING,
    )


def _absolute(request, name, donation):
    # Reversed in the active language (from the URL: /give/ or /en/give/), so Stripe brings
    # the donor back to a page in the language they gave in.
    return request.build_absolute_uri(reverse(name, args=[donation_token(donation)]))


# What the return page says for each status of the gift: (state, heading). The page never
# says "Thank you!" over money that did not arrive or went back.
_RETURN_STATES = {
    Donation.Status.SUCCEEDED: "confirmed",
    Donation.Status.PARTIALLY_REFUNDED: "partially_refunded",
    Donation.Status.REFUNDED: "refunded",
    Donation.Status.DISPUTED: "disputed",
    Donation.Status.FAILED: "failed",
    Donation.Status.CANCELLED: "cancelled",
    Donation.Status.NEEDS_REVIEW: "review",
}


def return_state(donation):
    """The donor-facing state of a gift on its return page."""
    if donation.status == Donation.Status.PENDING:
        # A SEPA debit is pending for days after Checkout: the bank settles it later.
        return "sepa_pending" if donation.method == Donation.Method.SEPA_DEBIT else "pending"
    return _RETURN_STATES.get(donation.status, "pending")


# While a gift is pending its return page reloads itself, each time a little later (the
# reload's address counts the looks: `?look=N`): a confirmation that comes within seconds is
# seen as soon as before (3 s), and on a saturated giving day the donors' reloads, which share
# the web workers with Stripe's webhooks, thin out instead of holding the confirmations back.
REFRESH_SECONDS = (3, 3, 5, 8, 13, 20)
MAX_LOOKS = 1000


def _look(request):
    """Which look at the return page this is (1 for the first), from `?look=`."""
    look = row_id(request.GET.get("look"))
    return min(look, MAX_LOOKS) if look else 1


def thanks(request, token):
    """Shown after Checkout: pending until the webhook confirms the gift, then what happened
    to it (confirmed, failed, refunded, disputed, held for review), truthfully."""
    donation = _donation_from(token)
    campaign = CampaignPage.objects.filter(pk=donation.campaign_id).first()
    state = return_state(donation)
    look = _look(request)
    return render(
        request,
        "campaigns/thanks.html",
        {
            "donation": donation,
            "campaign": campaign,
            # The entity that received the gift, as its receipt and emails name it.
            "entity": entity_of(donation),
            "state": state,
            "confirmed": state in ("confirmed", "partially_refunded"),
            "failed": state in ("failed", "cancelled"),
            "kept_amount_cents": donation.amount_cents - donation.refunded_cents,
            "fee_cover_cents": donation.donor_details.get("fee_cover_cents") or 0,
            "refresh_seconds": REFRESH_SECONDS[min(look, len(REFRESH_SECONDS)) - 1],
            "next_look": look + 1,
        },
    )


@require_safe
def cancelled(request, token):
    """The donor left Checkout without paying: the page says no gift was made, and changes
    nothing (a GET: link prefetchers and crawlers open it too). The pending gift stays as it
    is: its Checkout Session is still open, so the donor may go back and pay after all, and
    Stripe's checkout.session.expired event cancels it when it closes
    (`campaigns.stripe_handlers.checkout_expired`)."""
    donation = _donation_from(token)
    campaign = CampaignPage.objects.filter(pk=donation.campaign_id).first()
    return render(request, "campaigns/cancelled.html", {"campaign": campaign})
