"""Campaign pages: a goal, a story, progress, and the donation form."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index

from cms.blocks import StoryStreamBlock


class CampaignPage(Page):
    """A fundraising campaign of a network, with a goal and a donation form. Communicators
    create it under their network's page."""

    intro = models.CharField(
        _("introduction"),
        max_length=300,
        blank=True,
        help_text=_("One or two sentences shown in lists and share previews."),
    )
    goal_cents = models.PositiveIntegerField(
        _("goal (cents)"),
        null=True,
        blank=True,
        help_text=_("The amount to raise, in euro cents (e.g. 1500000 for € 15.000)."),
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
    thank_you_text = RichTextField(
        _("thank-you text"), blank=True, features=["bold", "italic", "link"]
    )

    search_fields = [*Page.search_fields, index.SearchField("intro"), index.SearchField("body")]
    content_panels = [
        *Page.content_panels,
        FieldPanel("intro"),
        FieldPanel("hero_image"),
        MultiFieldPanel(
            [FieldPanel("goal_cents"), FieldPanel("starts_on"), FieldPanel("ends_on")],
            heading=_("Goal and dates"),
        ),
        FieldPanel("body"),
        FieldPanel("thank_you_text"),
    ]
    parent_page_types = ["cms.NetworkPage"]
    subpage_types = []

    class Meta:
        verbose_name = _("campaign page")
