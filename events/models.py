"""Events: a dinner, a run, a concert with tickets. An `EventPage` (a Wagtail page under a
network's page) has ticket types; a buyer's `Order` holds `Ticket`s and, when they add a gift
on top, a `crm.Donation` for that gift alone. Ticket money is never a gift: it is kept on the
order (`tickets_cents`), never in a Donation, so no gift total, receipt, Agenzia data or yearly
statement can count it."""

import secrets

from django.db import models
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.fields import StreamField
from wagtail.models import Orderable, Page
from wagtail.search import index

from campaigns.challenge import challenge_html
from campaigns.page_forms import CampaignPageForm
from cms.blocks import StoryStreamBlock
from cms.models import NetworkPage, network_privacy_notice
from crm.models import Donation, IssuingEntity, Network, NetworkScopedQuerySet
from crm.models.entities import receiving_entity
from crm.money import CentsField

from .forms import OrderForm


class EventPage(Page):
    """An event of a network: when, where, its story, and the tickets on sale."""

    starts_at = models.DateTimeField(_("starts at"))
    place = models.CharField(_("place"), max_length=200)
    intro = models.CharField(_("introduction"), max_length=300, blank=True)
    body = StreamField(StoryStreamBlock(), blank=True, verbose_name=_("story"))
    donation_offered = models.BooleanField(
        _("offer a gift on top"),
        default=True,
        help_text=_("Let buyers add a gift to the network: only the gift gets a receipt."),
    )
    sales_open = models.BooleanField(_("tickets on sale"), default=True)
    # Who receives the gifts on top and receipts them (issue 26), as a campaign names it
    # (`crm.models.giving.receiving_entity`); the form offers the network's own only.
    issuing_entity = models.ForeignKey(
        IssuingEntity,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("entity receiving the gifts"),
        help_text=_(
            "The entity of the network that receives the gifts added to tickets and issues "
            "their receipts; buyers see its name before they pay. Empty: the network's lead "
            "entity."
        ),
    )

    search_fields = [*Page.search_fields, index.SearchField("intro"), index.SearchField("body")]
    content_panels = [
        *Page.content_panels,
        MultiFieldPanel(
            [FieldPanel("starts_at"), FieldPanel("place"), FieldPanel("intro")],
            heading=_("When and where"),
        ),
        FieldPanel("body"),
        MultiFieldPanel(
            [
                FieldPanel("sales_open"),
                FieldPanel("donation_offered"),
                FieldPanel("issuing_entity"),
            ],
            heading=_("Sales"),
        ),
        InlinePanel("ticket_types", heading=_("Ticket types"), label=_("Ticket type")),
    ]
    parent_page_types = ["cms.NetworkPage"]
    subpage_types: list[str] = []
    base_form_class = CampaignPageForm  # the receiving entity among the network's own
    # Anonymous visitors get it whole from the shared cache (cms.pagecache): the form's CSRF
    # token is fetched by the page's script, what is left of each quota is not on the page.
    cache_whole_page = True

    class Meta:
        verbose_name = _("event page")
        verbose_name_plural = _("event pages")

    @cached_property
    def network(self) -> Network | None:
        parent = NetworkPage.objects.ancestor_of(self).select_related("network").last()
        return parent.network if parent else None

    def get_privacy_page(self):
        """The network's privacy notice the ticket form links (`cms.models`)."""
        return network_privacy_notice(self)

    @property
    def is_on_sale(self) -> bool:
        return self.sales_open and self.starts_at > timezone.now()

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context.setdefault("form", kwargs.get("form") or OrderForm(event=self))
        network = self.network
        context["entity"] = receiving_entity(network, self) if network is not None else None
        return context

    def serve(self, request, *args, **kwargs):
        form = kwargs.pop("form", None)
        status = kwargs.pop("status", 200)
        ask = kwargs.pop("challenge", False)
        context = self.get_context(request, *args, **kwargs)
        context["challenge"] = challenge_html(request, self) if ask else ""
        if form is not None:
            context["form"] = form
        return TemplateResponse(request, self.get_template(request), context, status=status)


class TicketType(Orderable):
    """What a ticket costs: a fixed price, pay what you want (at least a minimum), or free; and
    how many there are (`quota`, empty: no limit). `sold` counts the tickets held by orders
    not cancelled: it only moves by conditional UPDATE (`events.orders.reserve`)."""

    class Kind(models.TextChoices):
        FIXED = "fixed", _("Fixed price")
        PWYW = "pwyw", _("Pay what you want")
        FREE = "free", _("Free")

    event = ParentalKey(EventPage, on_delete=models.CASCADE, related_name="ticket_types")
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("price"), max_length=5, choices=Kind.choices, default=Kind.FIXED)
    price_cents = CentsField(
        _("price or minimum"),
        default=0,
        help_text=_("The price, or the least a buyer may pay (pay what you want), in euros."),
    )
    quota = models.PositiveIntegerField(_("quota"), null=True, blank=True)
    sold = models.PositiveIntegerField(default=0, editable=False)

    panels = [
        FieldPanel("name"),
        FieldPanel("kind"),
        FieldPanel("price_cents"),
        FieldPanel("quota"),
    ]

    class Meta(Orderable.Meta):
        verbose_name = _("ticket type")
        verbose_name_plural = _("ticket types")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quota__isnull=True) | models.Q(sold__lte=models.F("quota")),
                name="events_ticket_type_never_oversold",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def left(self) -> int | None:
        return None if self.quota is None else max(0, self.quota - self.sold)


def _members_networks(user):
    return (Network.objects.for_user(user) | Network.objects.edited_by(user)).distinct()


class OrderQuerySet(NetworkScopedQuerySet):
    def for_user(self, user):
        """Orders of the networks the user is a treasurer or a communicator of."""
        if user.is_authenticated and user.is_active and user.is_superuser:
            return self
        return self.filter(network__in=_members_networks(user))


class TicketQuerySet(models.QuerySet):
    def for_user(self, user):
        if user.is_authenticated and user.is_active and user.is_superuser:
            return self
        return self.filter(order__network__in=_members_networks(user))


def _token() -> str:
    return secrets.token_urlsafe(16)


class Order(models.Model):
    """One purchase: its tickets, the ticket money (`tickets_cents`, never a gift) and, if the
    buyer added one, the gift (`donation`, a crm.Donation of that amount alone)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for payment")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Not paid")
        REVIEW = "review", _("Held for review")

    network = models.ForeignKey(Network, on_delete=models.PROTECT, related_name="event_orders")
    event = models.ForeignKey(EventPage, on_delete=models.PROTECT, related_name="orders")
    token = models.CharField(max_length=32, unique=True, default=_token, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    email = models.EmailField(_("email"))
    language = models.CharField(max_length=8, default="it")
    tickets_cents = models.PositiveIntegerField(_("tickets"), default=0)
    tickets_refunded_cents = models.PositiveIntegerField(default=0)
    donation = models.OneToOneField(
        Donation, null=True, blank=True, on_delete=models.PROTECT, related_name="event_order"
    )
    stripe_checkout_session_id = models.CharField(max_length=255, unique=True, null=True)
    stripe_payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    stripe_charge_id = models.CharField(max_length=255, blank=True)
    stripe_invoice_id = ""  # what `campaigns.stripe_api.create_refund` asks of a payment
    paid_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=255, blank=True)
    tickets_emailed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket order")
        verbose_name_plural = _("ticket orders")

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} · {self.event}"

    @property
    def gift_cents(self) -> int:
        return self.donation.amount_cents if self.donation is not None else 0

    @property
    def stripe_account(self) -> str:
        """The Stripe account the order is paid on ('' the platform): its gift's (frozen when
        the order started), else the account of the entity receiving the event's gifts."""
        if self.donation is not None:
            return self.donation.stripe_account
        return receiving_entity(self.network, self.event).stripe_account

    @property
    def total_cents(self) -> int:
        return self.tickets_cents + self.gift_cents


def _code() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at the door
    return "".join(secrets.choice(alphabet) for _ in range(8))


class Ticket(models.Model):
    """One admission: its price, its code (typed at the door, or in the signed QR), and when it
    was checked in (once)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="tickets")
    ticket_type = models.ForeignKey(TicketType, on_delete=models.PROTECT, related_name="tickets")
    price_cents = models.PositiveIntegerField()
    code = models.CharField(max_length=12, unique=True, default=_code)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_in_by = models.CharField(max_length=150, blank=True)

    objects = TicketQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.code


from .fundraiser_models import Fundraiser, FundraiserLog, SoftCredit, Team  # noqa: E402, F401
