"""Personal and team pages (peer-to-peer): a supporter opens a page under a campaign (photo,
story, goal) after confirming their email; a communicator approves it before it is public.
Gifts through a page are soft-credited to it (`SoftCredit`): the gift is the campaign's, once;
the page only shows what came through it."""

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.models import Donation, Network
from crm.money import CentsField
from crm.storage import private_storage

from .fundraiser_photos import photo_name


def _slug() -> str:
    return secrets.token_urlsafe(6).lower().replace("_", "x").replace("-", "y")


class Team(models.Model):
    campaign = models.ForeignKey(
        "campaigns.CampaignPage", on_delete=models.CASCADE, related_name="fundraising_teams"
    )
    name = models.CharField(_("team"), max_length=100)

    class Meta:
        verbose_name = _("team")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "name"], name="events_team_name_once")
        ]

    def __str__(self) -> str:
        return self.name


class FundraiserQuerySet(models.QuerySet):
    def for_user(self, user):
        if user.is_authenticated and user.is_active and user.is_superuser:
            return self
        networks = (Network.objects.for_user(user) | Network.objects.edited_by(user)).distinct()
        return self.filter(network__in=networks)

    def public(self):
        return self.filter(status=Fundraiser.Status.APPROVED)


class Fundraiser(models.Model):
    class Status(models.TextChoices):
        UNCONFIRMED = "unconfirmed", _("Email not confirmed")
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Public")
        HIDDEN = "hidden", _("Hidden")
        CLOSED = "closed", _("Closed")

    network = models.ForeignKey(Network, on_delete=models.PROTECT, related_name="fundraisers")
    campaign = models.ForeignKey(
        "campaigns.CampaignPage", on_delete=models.PROTECT, related_name="fundraisers"
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="pages"
    )
    slug = models.CharField(max_length=20, unique=True, default=_slug)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.UNCONFIRMED)
    title = models.CharField(_("page title"), max_length=120)
    owner_name = models.CharField(_("your name"), max_length=100)
    email = models.EmailField(_("email"))
    language = models.CharField(max_length=8, default="it")
    story = models.TextField(_("why you are raising money"), max_length=3000)
    goal_cents = CentsField(_("goal"))
    # Private until the page is public, and then served only through its view (fundraiser_photos).
    photo = models.ImageField(_("photo"), upload_to=photo_name, storage=private_storage, blank=True)
    photo_alt = models.CharField(_("what the photo shows"), max_length=200, blank=True)
    # When the owner was told the page is public (once: the claim of `tell_owner_public`).
    owner_told_public_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = FundraiserQuerySet.as_manager()

    class Meta:
        verbose_name = _("personal page")
        verbose_name_plural = _("personal pages")

    def __str__(self) -> str:
        return self.title


class FundraiserLog(models.Model):
    """The page's history: opened, confirmed, approved, edited, hidden, closed; who and when."""

    fundraiser = models.ForeignKey(Fundraiser, on_delete=models.CASCADE, related_name="history")
    action = models.CharField(max_length=20)
    by = models.CharField(max_length=150, blank=True)
    note = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.action} {self.at:%Y-%m-%d %H:%M}"


class SoftCredit(models.Model):
    """A gift made through a personal page: credited to the page, counted once (as the
    campaign's gift) everywhere money is counted. `show_amount`: the donor agreed that the
    page's owner sees the amount."""

    donation = models.OneToOneField(Donation, on_delete=models.CASCADE, related_name="soft_credit")
    fundraiser = models.ForeignKey(Fundraiser, on_delete=models.PROTECT, related_name="credits")
    show_amount = models.BooleanField(default=False)
    owner_told_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.fundraiser} · {self.donation_id}"
