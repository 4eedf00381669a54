"""StreamField blocks communicators compose network stories with."""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.embeds.blocks import EmbedBlock
from wagtail.images.blocks import ImageBlock


class HeadingBlock(blocks.StructBlock):
    text = blocks.CharBlock(label=_("Heading"), max_length=200)
    level = blocks.ChoiceBlock(
        choices=[("h2", "H2"), ("h3", "H3")],
        default="h2",
        label=_("Level"),
        help_text=_("H2 for sections, H3 for sub-sections: screen readers navigate by them."),
    )

    class Meta:
        icon = "title"
        template = "cms/blocks/heading.html"
        label = _("Heading")


class LabelledImageBlock(ImageBlock):
    """Wagtail's ImageBlock, whose chooser is labelled from its name ("Image", untranslated)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.child_blocks["image"].label = _("Image")

    def deconstruct(self):
        # Stored in migrations as Wagtail's own block: the label is not part of the data.
        path, args, kwargs = super().deconstruct()
        return "wagtail.images.blocks.ImageBlock", args, kwargs


class ImageWithCaptionBlock(blocks.StructBlock):
    image = LabelledImageBlock(label=_("Image"))
    caption = blocks.CharBlock(label=_("Caption"), required=False)
    credit = blocks.CharBlock(label=_("Photo credit"), required=False)

    class Meta:
        icon = "image"
        template = "cms/blocks/image.html"
        label = _("Image")


class QuoteBlock(blocks.StructBlock):
    text = blocks.TextBlock(label=_("Quote"))
    author = blocks.CharBlock(label=_("Who said it"), required=False)
    role = blocks.CharBlock(label=_("Their role"), required=False)

    class Meta:
        icon = "openquote"
        template = "cms/blocks/quote.html"
        label = _("Quote")


class KeyFigureBlock(blocks.StructBlock):
    figure = blocks.CharBlock(label=_("Figure"), max_length=20, help_text=_("e.g. 1.200 or 35%"))
    label = blocks.CharBlock(label=_("What it counts"), max_length=120)


class KeyFiguresBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("Title"), required=False)
    figures = blocks.ListBlock(KeyFigureBlock(), label=_("Figures"), min_num=1, max_num=6)

    class Meta:
        icon = "list-ol"
        template = "cms/blocks/key_figures.html"
        label = _("Key figures")


class PartnerLogosBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("Title"), required=False, default=_("The partners"))

    class Meta:
        icon = "group"
        template = "cms/blocks/partner_logos.html"
        label = _("Partner logos")
        help_text = _("Shows the partners of this network, as entered in the network's settings.")


class CallToActionBlock(blocks.StructBlock):
    text = blocks.CharBlock(label=_("Text"), max_length=200)
    button_label = blocks.CharBlock(label=_("Button label"), max_length=60)
    page = blocks.PageChooserBlock(label=_("Page"), required=False)
    url = blocks.URLBlock(label=_("Or an external link"), required=False)

    class Meta:
        icon = "link"
        template = "cms/blocks/call_to_action.html"
        label = _("Call to action")


class StoryStreamBlock(blocks.StreamBlock):
    heading = HeadingBlock()
    paragraph = blocks.RichTextBlock(
        label=_("Text"),
        features=["bold", "italic", "link", "ol", "ul", "h3"],
        template="cms/blocks/paragraph.html",
    )
    image = ImageWithCaptionBlock()
    quote = QuoteBlock()
    key_figures = KeyFiguresBlock()
    partner_logos = PartnerLogosBlock()
    video = EmbedBlock(
        label=_("Video"),
        icon="media",
        template="cms/blocks/video.html",
        help_text=_("A YouTube or Vimeo address."),
    )
    call_to_action = CallToActionBlock()
