"""A segment: a saved, named filter over one network's donors (`outreach.segments.members`)."""

import re
import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.fields import StreamField
from wagtail.models import PreviewableMixin

from cms.blocks import ImageWithCaptionBlock, KeyFiguresBlock
from crm.models import Donor, Network
from crm.models.network import NetworkScopedQuerySet
from crm.money import CentsField

from .access import networks_for


class SegmentQuerySet(NetworkScopedQuerySet):
    def for_user(self, user):
        """Segments of the networks the user reaches as treasurer or communicator."""
        return self.filter(network__in=networks_for(user))


class Segment(models.Model):
    class Plan(models.TextChoices):
        ACTIVE = "active", _("Has an active recurring plan")
        LAPSED = "lapsed", _("Had a recurring plan, none active now")

    class Consent(models.TextChoices):
        CONSENTED = "consented", _("Confirmed the newsletter")
        NOT_CONSENTED = "not_consented", _("Did not confirm the newsletter")

    network = models.ForeignKey(
        Network, on_delete=models.CASCADE, related_name="segments", verbose_name=_("network")
    )
    name = models.CharField(_("name"), max_length=200)
    campaign = models.ForeignKey(
        "wagtailcore.Page",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("gave to campaign"),
    )
    gave_in_year = models.PositiveSmallIntegerField(_("gave in year"), null=True, blank=True)
    not_given_in_year = models.PositiveSmallIntegerField(
        _("did not give in year"), null=True, blank=True
    )
    lybunt = models.BooleanField(
        _("LYBUNT"),
        default=False,
        help_text=_("Gave last year but not (yet) this year."),
    )
    sybunt = models.BooleanField(
        _("SYBUNT"),
        default=False,
        help_text=_("Gave some year before last, but neither last year nor this year."),
    )
    first_time = models.BooleanField(
        _("first-time donors"),
        default=False,
        help_text=_("Their first gift is of this year."),
    )
    plan = models.CharField(_("recurring plan"), max_length=10, choices=Plan, blank=True)
    min_total_cents = CentsField(
        _("given at least"),
        null=True,
        blank=True,
        help_text=_("Total given (net of refunds), in the year above if one is set."),
    )
    max_total_cents = CentsField(_("given at most"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=5, choices=settings.LANGUAGES, blank=True)
    consent = models.CharField(_("newsletter"), max_length=15, choices=Consent, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    objects = SegmentQuerySet.as_manager()

    class Meta:
        ordering = ["network", "name"]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        constraints = [
            models.CheckConstraint(
                condition=Q(min_total_cents__isnull=True)
                | Q(max_total_cents__isnull=True)
                | Q(max_total_cents__gte=F("min_total_cents")),
                name="segment_amount_range",
            )
        ]

    def __str__(self):
        return self.name


class MessageButtonBlock(blocks.StructBlock):
    """A call to action: a button to a campaign page (or any address). Links to our own pages
    carry the delivery's token, so a gift made through them is counted for the message."""

    label = blocks.CharBlock(label=_("Button label"), max_length=60)
    page = blocks.PageChooserBlock(label=_("Campaign or page"), required=False)
    url = blocks.URLBlock(label=_("Or an external link"), required=False)

    class Meta:
        icon = "link"
        label = _("Button")


class MessageBody(blocks.StreamBlock):
    """What a message to donors is made of. Rendered to email-safe HTML (inline styles, one
    column) by `outreach.rendering`, and to plain text for the text part."""

    paragraph = blocks.RichTextBlock(
        label=_("Text"), features=["bold", "italic", "link", "ol", "ul", "h3"]
    )
    image = ImageWithCaptionBlock()
    key_figures = KeyFiguresBlock()
    button = MessageButtonBlock()


class MessageQuerySet(NetworkScopedQuerySet):
    def for_user(self, user):
        """Messages of the networks the user reaches as treasurer or communicator."""
        return self.filter(network__in=networks_for(user))


class Message(PreviewableMixin, models.Model):
    """An appeal or an update a communicator writes to a network's donors: in Italian, and in
    English for the donors who chose English (else they get the Italian text). Sent to the
    consenting members of `segment` (or, with no segment, to the consenting donors of
    `campaign`) by the worker (`outreach.sending`), once per donor."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        CANCELLED = "cancelled", _("Cancelled")

    network = models.ForeignKey(
        Network, on_delete=models.CASCADE, related_name="messages", verbose_name=_("network")
    )
    subject = models.CharField(_("subject"), max_length=200)
    preheader = models.CharField(
        _("preheader"),
        max_length=200,
        blank=True,
        help_text=_("The line mail apps show after the subject, before the message is opened."),
    )
    body = StreamField(MessageBody(), verbose_name=_("message"))
    subject_en = models.CharField(_("subject (English)"), max_length=200, blank=True)
    preheader_en = models.CharField(_("preheader (English)"), max_length=200, blank=True)
    body_en = StreamField(
        MessageBody(),
        blank=True,
        verbose_name=_("message (English)"),
        help_text=_("For the donors who chose English. Empty: they get the Italian message."),
    )
    segment = models.ForeignKey(
        Segment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="messages",
        verbose_name=_("segment"),
        help_text=_("Who receives it: only the members who confirmed the newsletter."),
    )
    campaign = models.ForeignKey(
        "wagtailcore.Page",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("campaign"),
        help_text=_(
            "The campaign the message is about: named in it, and with no segment chosen, "
            "its donors who confirmed the newsletter receive it."
        ),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status, default=Status.DRAFT, db_index=True
    )
    send_at = models.DateTimeField(_("send at"), null=True, blank=True)
    recipients = models.PositiveIntegerField(_("recipients"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("written by"),
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("sent by"),
    )
    started_at = models.DateTimeField(_("sending started at"), null=True, blank=True)
    # Set once every recipient has its Delivery row (`outreach.sending.prepare`): only then may
    # the message count as sent when no delivery is left to send.
    prepared_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The last sign of work on a sending message: its tasks queued, or a batch sent by one of
    # them. The sweep queues its tasks again only once this is older than TASKS_LOST_AFTER.
    heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # The results page's figures (`outreach.results.message_results`), kept here when the
    # per-donor deliveries are pruned (`prune_deliveries`, after the retention time): the
    # message's totals outlive who opened or clicked what.
    frozen_results = models.JSONField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("message to donors")
        verbose_name_plural = _("messages to donors")

    def __str__(self):
        return self.subject

    @property
    def editable(self):
        return self.status in (self.Status.DRAFT, self.Status.SCHEDULED)

    # The admin's preview panel (`outreach.message_preview_views` renders them with
    # `outreach.rendering`): the email in each language, and its plain-text part.
    @property
    def preview_modes(self):
        return [
            ("it", _("Email in Italian")),
            ("en", _("Email in English")),
            ("it-text", _("Plain text, Italian")),
            ("en-text", _("Plain text, English")),
        ]


_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,32}")


def new_token():
    """A delivery's secret (url-safe, 24 characters, 144 random bits)."""
    return secrets.token_urlsafe(18)


class Delivery(models.Model):
    """One message to one donor: created for every recipient when sending starts, then sent
    once by whichever worker claims it (`outreach.sending`). Two secrets of that email:
    `token`, the key of its unsubscribe and preferences pages (in the footer and the
    List-Unsubscribe header only); `attribution`, the `?m=` of its links to our pages, which
    counts a gift made through them for the message and opens nothing (a forwarded email's
    link gives a stranger no door to the donor's settings). Deliveries made before the two
    were apart have both the same: their emails are already out."""

    class Status(models.TextChoices):
        PENDING = "pending", _("To send")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Not sent, will retry")
        GAVE_UP = "gave_up", _("Not sent")
        SKIPPED = "skipped", _("Not sent: no longer consenting")
        DELIVERED = "delivered", _("Delivered")
        BOUNCED = "bounced", _("Bounced")
        COMPLAINED = "complained", _("Marked as spam")

    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("message")
    )
    donor = models.ForeignKey(
        Donor, on_delete=models.CASCADE, related_name="+", verbose_name=_("donor")
    )
    to = models.EmailField(_("to"))
    language = models.CharField(_("language"), max_length=5, default="it")
    token = models.CharField(max_length=32, unique=True, editable=False)
    attribution = models.CharField(
        _("attribution marker"), max_length=32, unique=True, editable=False, default=new_token
    )
    status = models.CharField(_("status"), max_length=12, choices=Status, default=Status.PENDING)
    claimed_by = models.CharField(max_length=64, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    provider_message_id = models.CharField(max_length=255, blank=True, db_index=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    clicked_at = models.DateTimeField(_("clicked at"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed at"), null=True, blank=True)

    class Meta:
        ordering = ["message", "pk"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(fields=["message", "donor"], name="one_delivery_per_donor")
        ]
        indexes = [models.Index(fields=["message", "status"], name="delivery_message_status")]

    def __str__(self):
        return f"{self.message} → {self.to}"

    @staticmethod
    def is_token(value):
        """Whether `value` can be a delivery's token (url-safe, as `outreach.mailing` makes
        them). Anything else, from a link or a provider's event, is looked up nowhere: a NUL
        character would make PostgreSQL fail, and a 500 is no answer to a stranger."""
        return isinstance(value, str) and _TOKEN.fullmatch(value) is not None


class KeptLink(models.Model):
    """What stays of a sent delivery once it is pruned (`outreach.results.prune_deliveries`):
    the key of its email's unsubscribe and preferences links, for whom and from which message.
    A donor may object to direct marketing at any time (art. 21(2)-(3) GDPR), so the link of
    any email ever sent keeps working. No address, no tracking: an old link may stop the news,
    never start them (`subscriptions.proves_current_address`)."""

    token = models.CharField(max_length=32, unique=True, editable=False)
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="+", verbose_name=_("message")
    )
    donor = models.ForeignKey(
        Donor, on_delete=models.CASCADE, related_name="+", verbose_name=_("donor")
    )

    class Meta:
        verbose_name = _("kept unsubscribe link")
        verbose_name_plural = _("kept unsubscribe links")

    def __str__(self):
        return str(self.message)


class CommunityMembership(models.Model):
    """Whether a network takes part in the community of practice: if it does, its yearly
    figures (counts, sums and ratios, never a person, none built from fewer than 5 donors) are
    shown to the observers and counted in the median every taking-part network sees. Off until
    a treasurer of the network turns it on (`outreach.community.set_taking_part`)."""

    network = models.OneToOneField(
        Network,
        on_delete=models.CASCADE,
        related_name="community_membership",
        verbose_name=_("network"),
    )
    takes_part = models.BooleanField(_("takes part in the community of practice"), default=False)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("changed by"),
    )
    changed_at = models.DateTimeField(_("changed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("community membership")
        verbose_name_plural = _("community memberships")
        permissions = [
            ("view_community", _("Can see the figures of the community of practice")),
        ]

    def __str__(self):
        return str(self.network)
