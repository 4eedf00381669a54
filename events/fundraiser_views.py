"""Public pages of peer-to-peer fundraising: open a personal page (then confirm the email by
its link), the personal page itself (from the whole-page cache, like a campaign page: its
gift form is the campaign's own, sent to `campaigns.views.give` with the page named), and the
campaign's leaderboard."""

import math

from django import forms
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from campaigns import ratelimit
from campaigns.forms import DonationForm
from campaigns.models import CampaignPage
from crm.money import EuroField

from . import fundraiser_photos, fundraisers, protect
from .fundraiser_models import Fundraiser


class FundraiserForm(forms.ModelForm):
    goal_cents = EuroField(label=_("Goal (euros)"), max_cents=10_000_000)
    team_name = forms.CharField(
        label=_("Team (optional)"),
        required=False,
        max_length=100,
        help_text=_("Raising money with friends or colleagues? Give your team a name."),
    )
    privacy = forms.BooleanField(label=_("I have read the privacy notice"))
    # Honeypot: hidden from people, filled in by bots (as on the donation form).
    website = forms.CharField(required=False, label=_("Leave this field empty"))

    class Meta:
        model = Fundraiser
        fields = ["owner_name", "email", "title", "story", "goal_cents", "photo", "photo_alt"]
        widgets = {"story": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["website"].widget.attrs.update(tabindex="-1", autocomplete="off")

    @property
    def is_spam(self) -> bool:
        return bool(self.data.get("website"))

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if photo and hasattr(photo, "size"):
            protect.check_photo(photo)
        return photo

    def clean(self):
        data = super().clean()
        if data.get("photo") and not (data.get("photo_alt") or "").strip():
            self.add_error("photo_alt", _("Say in a few words what the photo shows."))
        return data


def _campaign(campaign_id):
    return get_object_or_404(CampaignPage.objects.live().public(), pk=campaign_id)


@never_cache
def start(request, campaign_id):
    campaign = _campaign(campaign_id)
    form = FundraiserForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_spam:
            return HttpResponse(_("Your page could not be opened."), status=400)
        if form.is_valid():
            decision = protect.check_open_page(
                ip=ratelimit.client_ip(request), email=form.cleaned_data["email"]
            )
            if not decision:
                form.add_error(None, _retry_message(decision.retry_after))
                response = render(
                    request,
                    "events/fundraiser_start.html",
                    {"form": form, "campaign": campaign},
                    status=429,
                )
                response["Retry-After"] = str(decision.retry_after)
                return response
            data = {k: v for k, v in form.cleaned_data.items() if k not in ("privacy", "website")}
            team_name = data.pop("team_name", "")
            page = fundraisers.open_page(
                campaign, team_name=team_name, language=(get_language() or "it")[:2], **data
            )
            return render(request, "events/fundraiser_started.html", {"fundraiser": page})
        status = 400
    return render(
        request,
        "events/fundraiser_start.html",
        {"form": form, "campaign": campaign},
        status=status,
    )


def _retry_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext(
        "Too many attempts: no page was opened. Please try again in %(minutes)d minute.",
        "Too many attempts: no page was opened. Please try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request, token):
    """GET shows a button (mail scanners open links: they must confirm nothing); its POST
    confirms. The token is signed; a second press changes nothing."""
    if request.method == "GET":
        if fundraisers.confirm_target(token) is None:
            raise Http404
        return render(request, "events/fundraiser_confirm.html", {"token": token})
    page = fundraisers.confirm(token)
    if page is None:
        raise Http404
    return render(request, "events/fundraiser_confirmed.html", {"fundraiser": page})


def _public_pages():
    # Public while its campaign is: a page shows the campaign (its title, its gift form).
    campaigns = CampaignPage.objects.live().public()
    return Fundraiser.objects.public().filter(campaign__in=campaigns)


def personal_page(request, slug):
    page = get_object_or_404(_public_pages().select_related("campaign", "team"), slug=slug)
    campaign = page.campaign.specific
    if getattr(request, "page_cache_candidate", False) and not request.GET:
        request.page_cache_storable = True  # the same for every visitor (cms.pagecache)
    return render(
        request,
        "events/fundraiser_page.html",
        {
            "fundraiser": page,
            "campaign": campaign,
            "page": campaign,  # the gift form's privacy notice is the campaign's
            "form": DonationForm(campaign=campaign),
            "figures": fundraisers.raised(page),
        },
    )


def photo(request, slug):
    """A public page's photo; any other page's is a 404, as the page is. Cached briefly: a
    page hidden by its moderators stops showing it within minutes everywhere."""
    page = get_object_or_404(_public_pages().exclude(photo=""), slug=slug)
    return fundraiser_photos.photo_response(page, cache_control="public, max-age=300")


@never_cache
def leaderboard(request, campaign_id):
    campaign = _campaign(campaign_id)
    return render(
        request,
        "events/leaderboard.html",
        {
            "campaign": campaign,
            "board": fundraisers.leaderboard(campaign),
            "progress": campaign.get_progress(),
        },
    )


def gift_started(request, donation) -> dict[str, str] | None:
    """`campaigns.views.GIFT_STARTED`: a gift sent from a personal page is credited to it, and
    its Checkout Session says so (`fundraisers.gift_paid` reads it, not the database)."""
    slug = request.POST.get("fundraiser", "")
    if not slug:
        return None
    page = Fundraiser.objects.filter(slug=slug[:20]).first()
    if page is None:
        return None
    show_amount = bool(request.POST.get("show_amount"))
    if fundraisers.credit(donation, page, show_amount=show_amount) is None:
        return None
    return {"fundraiser": page.slug}


def campaign_links(request, page) -> str:
    """`campaigns.templatetags.giving.CAMPAIGN_EXTRAS`: on an open campaign's page, the way to
    open a personal page for it and, once it has public ones, its leaderboard."""
    has_pages = Fundraiser.objects.public().filter(campaign=page).exists()
    context = {"campaign": page, "has_pages": has_pages}
    return render_to_string("events/_campaign_links.html", context, request=request)
