"""Campaign pages: a goal, a story, progress, and the donation form."""

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Sum
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject, cached_property
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index

from cms.blocks import StoryStreamBlock
from cms.models import network_privacy_notice
from crm.models import KEPT, Donation, IssuingEntity, Network
from crm.models.entities import receiving_entity
from crm.money import CentsField, parse_amount

from .challenge import challenge_html
from .forms import DonationForm, message_token
from .matches import MatchPledge, campaign_matches  # noqa: F401 (MatchPledge: a model of the app)
from .page_forms import CampaignPageForm, page_errors
from .payouts.models import Payout, PayoutLine  # noqa: F401 (the app's models live here)
from .sharing import share_url
from .stripe_event import StripeEvent  # noqa: F401 (a model of the app)

PROGRESS_CACHE_TIMEOUT = 600  # seconds; invalidated on every donation change anyway
# Rendered story, header and blank form are cached per published revision and language; what
# they show from elsewhere (the network's name, the privacy page's address) may lag this long.
FRAGMENT_CACHE_TIMEOUT = 600
DONOR_WALL_SIZE = 12


def parse_suggested_amounts(text):
    """`"10 25 50 100"` (euro, separated by spaces or semicolons) → list of cents."""
    amounts = []
    for item in (text or "").replace(";", " ").split():
        amounts.append(parse_amount(item))
    return amounts


def validate_suggested_amounts(text):
    try:
        parse_suggested_amounts(text)
    except ValidationError as exc:
        raise ValidationError(
            _("Write amounts in euro separated by spaces, for example: 10 25 50 100.")
        ) from exc


class CampaignUpdateBlock(blocks.StructBlock):
    date = blocks.DateBlock(label=_("Date"))
    title = blocks.CharBlock(label=_("Title"), max_length=200)
    text = blocks.RichTextBlock(label=_("Text"), features=["bold", "italic", "link"])

    class Meta:
        icon = "date"
        label = _("Update")


def progress_cache_key(campaign_id):
    return f"campaigns:progress:{campaign_id}"


def live_figures_key(campaign_id, language):
    return f"campaigns:live:{campaign_id}:{language}"


def invalidate_progress(campaign_id):
    cache.delete_many(
        [progress_cache_key(campaign_id)]
        + [live_figures_key(campaign_id, code) for code, _name in settings.LANGUAGES]
    )


class CampaignPage(Page):
    """A fundraising campaign of a network, with a goal and a donation form. Communicators
    create it under their network's page; donors give on it (see `campaigns.views`)."""

    intro = models.CharField(
        _("introduction"),
        max_length=300,
        blank=True,
        help_text=_("One or two sentences shown in lists and share previews."),
    )
    goal_cents = CentsField(
        _("goal"),
        null=True,
        blank=True,
        help_text=_("The amount to raise, in euros (e.g. 15.000)."),
    )
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    hero_image = models.ForeignKey(
        "wagtailimages.Image",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("hero image"),
    )
    body = StreamField(StoryStreamBlock(), blank=True, verbose_name=_("story"))
    suggested_amounts = models.CharField(
        _("suggested amounts"),
        max_length=100,
        default="10 25 50 100",
        validators=[validate_suggested_amounts],
        help_text=_("In euro, separated by spaces: the buttons shown above the free amount."),
    )
    monthly_offered = models.BooleanField(
        _("offer monthly giving"),
        default=True,
        help_text=_("Let donors choose a monthly gift (a Stripe subscription)."),
    )
    donor_wall = models.BooleanField(
        _("show the donor wall"),
        default=False,
        help_text=_(
            "List recent donors who agreed to be named (first name only), once a communicator "
            "has approved each name (Donor wall in the admin menu); the others are counted."
        ),
    )
    impact_lines = models.TextField(
        _("what each amount does"),
        blank=True,
        help_text=_(
            "One line per suggested amount, e.g. “25 = una settimana di doposcuola”: shown "
            "under the amount buttons."
        ),
    )
    memorial_of = models.CharField(
        _("in memory of"),
        max_length=150,
        blank=True,
        help_text=_("A memorial campaign: every gift on it is in memory of this person."),
    )
    thank_you_text = RichTextField(
        _("thank-you text"), blank=True, features=["bold", "italic", "link"]
    )
    updates = StreamField(
        [("update", CampaignUpdateBlock())], blank=True, verbose_name=_("updates")
    )
    privacy_page = models.ForeignKey(
        "wagtailcore.Page",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("privacy notice"),
        help_text=_(
            "The privacy notice linked from the donation form. Empty: the network's page "
            "called “privacy”."
        ),
    )
    # Who receives the campaign's gifts and receipts them (issue 26): a partner entity of the
    # network, or (empty) the network's lead entity. The form offers the network's own only.
    issuing_entity = models.ForeignKey(
        IssuingEntity,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("entity receiving the gifts"),
        help_text=_(
            "The entity of the network that receives this campaign's gifts and issues their "
            "receipts; donors see its name before they give. Empty: the network's lead entity."
        ),
    )

    search_fields = [*Page.search_fields, index.SearchField("intro"), index.SearchField("body")]
    base_form_class = CampaignPageForm
    content_panels = [
        *Page.content_panels,
        FieldPanel("intro"),
        FieldPanel("hero_image"),
        MultiFieldPanel(
            [FieldPanel("goal_cents"), FieldPanel("starts_on"), FieldPanel("ends_on")],
            heading=_("Goal and dates"),
        ),
        FieldPanel("body"),
        MultiFieldPanel(
            [
                FieldPanel("suggested_amounts"),
                FieldPanel("impact_lines"),
                FieldPanel("monthly_offered"),
                FieldPanel("donor_wall"),
                FieldPanel("memorial_of"),
                FieldPanel("thank_you_text"),
                FieldPanel("privacy_page"),
                FieldPanel("issuing_entity"),
            ],
            heading=_("Giving"),
        ),
        FieldPanel("updates"),
    ]
    parent_page_types = ["cms.NetworkPage"]
    subpage_types: list[str] = []
    # Anonymous visitors get it whole from the shared cache (cms.pagecache); its live figures
    # and the form's CSRF token come from `live_figures` and `csrf_token` (campaigns.views).
    cache_whole_page = True

    class Meta:
        verbose_name = _("campaign page")
        verbose_name_plural = _("campaign pages")

    @cached_property
    def network(self):
        """The network of the nearest network page above this one. Read in one query by the
        ancestors' paths (each a prefix of this page's), without building their pages: every
        donation form asks (bench/giving_day.py's py-spy: 8% of gunicorn's time)."""
        ancestors = [self.path[:end] for end in range(self.steplen, len(self.path), self.steplen)]
        return Network.objects.filter(page__path__in=ancestors).order_by("-page__path").first()

    @property
    def receiving_entity(self):
        """The entity that receives this campaign's gifts (its own, else the lead's)."""
        network = self.network
        return receiving_entity(network, self) if network is not None else None

    def get_privacy_page(self):
        """The privacy notice donors acknowledge (art. 13 GDPR): the chosen page, else the
        network page's child StandardPage with slug "privacy". None if neither is live."""
        if self.privacy_page_id:
            page = self.privacy_page
            if page.live:
                return page
        return network_privacy_notice(self)

    @property
    def suggested_amounts_cents(self):
        try:
            return parse_suggested_amounts(self.suggested_amounts)
        except ValidationError:
            return []

    @property
    def impacts(self):
        """{cents: text} from the impact lines; lines that do not parse are left out."""
        impacts = {}
        for line in (self.impact_lines or "").splitlines():
            amount, sep, text = line.partition("=")
            if not sep or not text.strip():
                continue
            try:
                impacts[parse_amount(amount.replace("€", "").strip())] = text.strip()
            except ValidationError:
                continue
        return impacts

    def clean(self):
        super().clean()
        if errors := page_errors(self, self.suggested_amounts_cents):
            raise ValidationError(errors)

    @property
    def is_open(self):
        today = timezone.localdate()
        started = self.starts_on is None or self.starts_on <= today
        return started and (self.ends_on is None or self.ends_on >= today)

    def get_progress(self):
        """Raised (net of refunds), goal, donors and days left: one aggregate query, cached
        until a donation of this campaign changes (`campaigns.signals`)."""
        key = progress_cache_key(self.pk)
        progress = cache.get(key)
        if progress is None:
            progress = self._compute_progress()
            cache.set(key, progress, PROGRESS_CACHE_TIMEOUT)
        days_left = None
        if self.ends_on:
            days_left = max(0, (self.ends_on - timezone.localdate()).days)
        percent = 0
        if self.goal_cents:
            percent = min(100, progress["raised_cents"] * 100 // self.goal_cents)
        return {
            **progress,
            "goal_cents": self.goal_cents,
            "percent": percent,
            "days_left": days_left,
        }

    def _compute_progress(self):
        succeeded = Donation.objects.filter(campaign_id=self.pk).succeeded()
        totals = succeeded.aggregate(
            raised=Sum(KEPT),
            donors=Count("donor_id", distinct=True),
            gifts=Count("id"),
        )
        wall, others = [], 0
        if self.donor_wall:
            wall, others = donor_wall(succeeded, DONOR_WALL_SIZE)
        return {
            "raised_cents": totals["raised"] or 0,
            "donors": totals["donors"],
            "gifts": totals["gifts"],
            "wall": wall,
            "wall_others": others,
            "matches": campaign_matches(self.pk),  # pledged, never raised (campaigns.matches)
        }

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["progress"] = self.get_progress()
        context["live_refresh"] = settings.LIVE_FIGURES_REFRESH
        context.setdefault("form", kwargs.get("form") or DonationForm(campaign=self))
        # Lazy: the template reads it inside cached fragments, so a warm page never asks.
        context["network"] = SimpleLazyObject(lambda: self.network)
        context["entity"] = SimpleLazyObject(lambda: self.receiving_entity)
        context["fragment_version"] = f"{self.live_revision_id}-{self.last_published_at}"
        context["fragment_timeout"] = FRAGMENT_CACHE_TIMEOUT
        # Only on a form refused for want of it (campaigns.views.give): the page itself is the
        # same for every visitor.
        context["challenge"] = challenge_html(request, self) if kwargs.get("challenge") else ""
        # The email the visitor came through (`?m=`, or the form sent back with errors): this
        # visitor's own, so rendered outside every cached fragment and kept off the share links.
        form = context["form"]
        token = form.data.get("message_token") if form.is_bound else request.GET.get("m")
        context["message_token"] = message_token(token)
        context["share_url"] = share_url(request)
        return context

    def serve(self, request, *args, **kwargs):
        form = kwargs.pop("form", None)
        status = kwargs.pop("status", 200)
        ask = kwargs.pop("challenge", False)
        context = self.get_context(request, *args, form=form, challenge=ask, **kwargs)
        if form is not None:
            context["form"] = form
        return TemplateResponse(
            request, self.get_template(request, *args, **kwargs), context, status=status
        )


def donor_wall(succeeded, size):
    """The approved names of the most recent gifts (first name only) and how many other donors
    gave. A name is shown only with the consent given with this very gift (`anonymous`
    unticked), never because of the donor's stored consent (whoever typed the donor's email on
    another gift could not give it for them), and only once a communicator approved it."""
    approved = succeeded.filter(
        anonymous=False, wall_name__approved=True, donor__isnull=False
    ).exclude(donor__first_name="")
    rows = list(
        approved.order_by("-received_on", "-id").values_list("id", "donor__first_name")[:size]
    )
    named_ids = [pk for pk, _name in rows]
    named_donors = approved.filter(pk__in=named_ids).values("donor_id")
    others = succeeded.exclude(donor_id__in=named_donors).values("donor_id").distinct().count()
    return [name for _pk, name in rows], others


class WallName(models.Model):
    """A communicator's decision on showing a donor's first name on the campaign's donor wall.
    Gifts whose donor agreed to be named wait, without a decision, until approved."""

    donation = models.OneToOneField(
        Donation, on_delete=models.CASCADE, related_name="wall_name", verbose_name=_("gift")
    )
    approved = models.BooleanField(_("shown on the donor wall"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), default=timezone.now)

    class Meta:
        verbose_name = _("name on the donor wall")
        verbose_name_plural = _("names on the donor wall")

    def __str__(self):
        return str(self.donation_id)
