"""The story pages: a home listing the networks, a page per network, plain pages and news."""

from django.apps import apps
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index

from .blocks import StoryStreamBlock
from .documents import NetworkDocument  # noqa: F401  (WAGTAILDOCS_DOCUMENT_MODEL)
from .forms import NetworkPageForm


class HomePage(Page):
    """The site's front page: introduces the install and lists its networks."""

    intro = RichTextField(_("introduction"), blank=True, features=["bold", "italic", "link"])

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    subpage_types = ["cms.NetworkPage", "cms.StandardPage"]
    parent_page_types = ["wagtailcore.Page"]
    max_count = 1

    # Anonymous visitors get it whole from the shared cache (cms.pagecache).
    cache_whole_page = True

    class Meta:
        verbose_name = _("home page")
        verbose_name_plural = _("home pages")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["network_pages"] = (
            NetworkPage.objects.child_of(self)
            .live()
            .public()
            .select_related("network", "hero_image")
        )
        return context


class NetworkPage(Page):
    """The story of one network: who they are, what they do, with whom. Its communicators edit
    this page and everything under it (campaigns, news, plain pages)."""

    network = models.OneToOneField(
        "crm.Network",
        on_delete=models.PROTECT,
        related_name="page",
        help_text=_("The network this page tells the story of."),
    )
    tagline = models.CharField(
        _("tagline"),
        max_length=255,
        blank=True,
        help_text=_("One sentence shown under the title and in lists."),
    )
    hero_image = models.ForeignKey(
        "wagtailimages.Image",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("hero image"),
    )
    body = StreamField(StoryStreamBlock(), blank=True, verbose_name=_("story"))

    search_fields = [*Page.search_fields, index.SearchField("tagline"), index.SearchField("body")]
    content_panels = [
        *Page.content_panels,
        FieldPanel("network"),
        FieldPanel("tagline"),
        FieldPanel("hero_image"),
        FieldPanel("body"),
    ]
    base_form_class = NetworkPageForm  # only superusers set or change `network`
    parent_page_types = ["cms.HomePage"]
    subpage_types = [
        "cms.StandardPage",
        "cms.NewsIndexPage",
        "campaigns.CampaignPage",
        "events.EventPage",
        "permille.PerMillePage",
    ]

    # Anonymous visitors get it whole from the shared cache (cms.pagecache).
    cache_whole_page = True

    class Meta:
        verbose_name = _("network page")
        verbose_name_plural = _("network pages")

    def with_content_json(self, content):
        """A revision never carries the network: it is the page's tenancy, not its content,
        so no draft, revert or scheduled publish can move the page (and its campaigns) to
        another network. Superusers change it through the form (`crm.tenancy`)."""
        page = super().with_content_json(content)
        # As stored: `self` may be an edited copy held in memory (a revision caches it).
        stored = NetworkPage.objects.filter(pk=self.pk).values_list("network_id", flat=True)
        page.network_id = stored.first() or self.network_id
        return page

    def get_open_campaigns(self):
        return _open_campaigns(self)

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["partners"] = self.network.partners.select_related("logo")
        context["campaigns"] = self.get_open_campaigns()
        context["news"] = NewsPage.objects.descendant_of(self).live().public().order_by("-date")[:3]
        return context


def _open_campaigns(network_page):
    """Live campaign pages under a network page (resolved lazily so cms does not import
    campaigns)."""
    if not apps.is_installed("campaigns"):
        return []
    campaign_model = apps.get_model("campaigns", "CampaignPage")
    return (
        campaign_model.objects.child_of(network_page).live().public().select_related("hero_image")
    )


class StandardPage(Page):
    """A plain page: about us, privacy notice, contacts."""

    body = StreamField(StoryStreamBlock(), blank=True, verbose_name=_("body"))

    search_fields = [*Page.search_fields, index.SearchField("body")]
    content_panels = [*Page.content_panels, FieldPanel("body")]
    subpage_types = ["cms.StandardPage"]

    # Anonymous visitors get it whole from the shared cache (cms.pagecache).
    cache_whole_page = True

    class Meta:
        verbose_name = _("standard page")
        verbose_name_plural = _("standard pages")


def network_privacy_notice(page):
    """The privacy notice (art. 13 GDPR) of the network a page sits under: its sibling
    StandardPage with slug "privacy", if live; what a form asking "I have read the privacy
    notice" links. None if there is none."""
    parent_path = page.path[: -page.steplen]
    return (
        StandardPage.objects.live()
        .filter(path__startswith=parent_path, depth=page.depth, slug="privacy")
        .first()
    )


class NewsIndexPage(Page):
    """The list of a network's news and updates."""

    intro = RichTextField(_("introduction"), blank=True, features=["bold", "italic", "link"])

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["cms.NetworkPage"]
    subpage_types = ["cms.NewsPage"]

    # Anonymous visitors get it whole from the shared cache (cms.pagecache).
    cache_whole_page = True

    class Meta:
        verbose_name = _("news index")
        verbose_name_plural = _("news indexes")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["items"] = NewsPage.objects.child_of(self).live().public().order_by("-date")
        return context


class NewsPage(Page):
    """A news item or update from a network."""

    date = models.DateField(_("date"))
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    body = StreamField(StoryStreamBlock(), blank=True, verbose_name=_("body"))

    search_fields = [*Page.search_fields, index.SearchField("summary"), index.SearchField("body")]
    content_panels = [
        *Page.content_panels,
        FieldPanel("date"),
        FieldPanel("summary"),
        FieldPanel("body"),
    ]
    parent_page_types = ["cms.NewsIndexPage"]
    subpage_types: list[str] = []

    # Anonymous visitors get it whole from the shared cache (cms.pagecache).
    cache_whole_page = True

    class Meta:
        verbose_name = _("news item")
        verbose_name_plural = _("news items")
