from django import template
from django.utils.safestring import mark_safe
from wagtail import hooks

from crm.money import format_amount

register = template.Library()


@register.filter
def money(cents):
    """Cents shown in the active locale: `€ 1.234,50`."""
    return format_amount(cents)


@register.filter
def money_decimal(value):
    """A Decimal of euros (as the exports carry them) shown like `money`: `€ 1.234,50`."""
    if value is None:
        return "—"
    return format_amount(int(value * 100))


@register.filter
def site_title(title):
    """A page's <title>: "Page · Trama", or just the title when it already names Trama (the
    home page's "Trama · reti di welfare di comunità"), never "Trama · … · Trama"."""
    title = " ".join(str(title).split())
    if not title:
        return "Trama"
    return title if "Trama" in title else f"{title} · Trama"


@register.simple_tag(takes_context=True)
def absolute_url(context, url):
    """`url` as an absolute address (share previews need one: og:image, og:url)."""
    request = context.get("request")
    return request.build_absolute_uri(url) if request is not None and url else url


@register.simple_tag
def described_widget(field):
    """The field's widget; with errors, marked invalid and described by its error message."""
    if not field.errors:
        return field.as_widget()
    return field.as_widget(
        attrs={"aria-invalid": "true", "aria-describedby": f"{field.auto_id}-error"}
    )


# Other ways to give an outer app offers under the card button (the banking app: a bank
# transfer): fn(request, page) -> safe HTML, or "" when it has nothing for this campaign.
GIVING_ALTERNATIVES = "campaigns_giving_alternatives"


@register.simple_tag(takes_context=True)
def giving_alternatives(context, page):
    """What the outer apps registered under GIVING_ALTERNATIVES, in the donation form."""
    request = context.get("request")
    parts = [provider(request, page) for provider in hooks.get_hooks(GIVING_ALTERNATIVES)]
    return mark_safe("".join(str(part) for part in parts if part))  # noqa: S308


# What an outer app adds to a campaign's story, under its share links (the events app: "open
# your own page" and the leaderboard): fn(request, page) -> safe HTML, or "".
CAMPAIGN_EXTRAS = "campaigns_campaign_extras"


@register.simple_tag(takes_context=True)
def campaign_extras(context, page):
    """What the outer apps registered under CAMPAIGN_EXTRAS, below the campaign's story."""
    request = context.get("request")
    parts = [provider(request, page) for provider in hooks.get_hooks(CAMPAIGN_EXTRAS)]
    return mark_safe("".join(str(part) for part in parts if part))  # noqa: S308
