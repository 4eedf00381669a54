"""A message to donors as each donor sees it: email-safe HTML (one column, inline styles: mail
apps drop <style>) and a plain-text part with the same content.

Rendering is split for speed (tens of thousands of recipients per message): `MessageRenderer`
renders the blocks and the chrome ONCE per message and language, leaving markers where each
donor's values go; `for_delivery` then fills them with plain string replacement. The
communicator's placeholders (`{nome}`, `{ultimo_dono}`, `{campagna}`) are replaced by plain
substitution too: no template code ever runs from what a communicator typed.
The blocks themselves (rich text, images, key figures, buttons) are `outreach.email_blocks`.

Links to our own site (buttons to a page, links in the text) carry `?m=<delivery attribution>`,
which attributes a gift made through them to the message; the footer's unsubscribe and
preferences links carry the delivery's other secret, its token, as their key (a forwarded link
to a page must not open the donor's settings). Without a delivery (preview, test) those links
point to a sample token: well-formed, but they open the "link not valid" page.
"""

from dataclasses import dataclass

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, translation
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from crm.models import Donation
from crm.money import format_amount

from .email_blocks import _M_FIRST, _M_MORE, _site, render_blocks

# The placeholders a communicator may type in a message (subject, preheader, text).
PLACEHOLDERS = {
    "nome": _("the donor's first name"),
    "ultimo_dono": _("the donor's last gift, e.g. € 25,00 on 25/11/2026"),
    "campagna": _("the campaign of the message"),
}
SAMPLE_NAME = "Maria"
SAMPLE_TOKEN = "anteprima"

# Markers left in the rendered message, filled per recipient. Characters no editor types.
_NAME, _LAST_GIFT, _TOKEN = "\x01n\x01", "\x01g\x01", "\x01t\x01"


@dataclass(frozen=True)
class Rendered:
    subject: str
    preheader: str
    html: str
    text: str


def public_url(name, token, language):
    """Absolute address of a donor's page by delivery token, in their language."""
    with translation.override(language):
        return _site() + reverse(f"outreach_public:{name}", args=[token])


def _marked_url(name, language):
    # reverse() quotes the marker's control characters: put it in after.
    return public_url(name, "TRAMATOKEN", language).replace("TRAMATOKEN", _TOKEN)


def _placeholders(text, campaign, escape_values):
    """The communicator's placeholders turned into markers ({campagna} filled at once)."""
    value = escape(campaign) if escape_values else campaign
    return (
        (text or "")
        .replace("{nome}", _NAME)
        .replace("{ultimo_dono}", _LAST_GIFT)
        .replace("{campagna}", value)
    )


def last_gift_text(donation, language):
    """ "€ 25,00 del 25/11/2026" (in the donor's language), or "" for no gift."""
    if donation is None:
        return ""
    with translation.override(language):
        amount = format_amount(donation.amount_cents - donation.refunded_cents)
        date = formats.date_format(donation.received_on, "d/m/Y")
        return _("%(amount)s on %(date)s") % {"amount": amount, "date": date}


def last_gifts(network, donor_ids):
    """{donor id: their last counted gift} for a batch of donors, in one query."""
    gifts = (
        Donation.objects.filter(
            network=network, donor_id__in=donor_ids, status__in=Donation.COUNTED_STATUSES
        )
        .order_by("donor_id", "-received_on", "-pk")
        .only("donor_id", "amount_cents", "refunded_cents", "received_on")
    )
    found = {}
    for gift in gifts:
        found.setdefault(gift.donor_id, gift)
    return found


def message_language(message, language):
    """English only for an English reader and a message written in English too."""
    if language == "en" and message.subject_en and len(message.body_en):
        return "en"
    return "it"


class _Template:
    """One message in one language, rendered with markers."""

    def __init__(self, message, language):
        self.language = language
        english = language == "en"
        subject = message.subject_en if english else message.subject
        preheader = (message.preheader_en if english else message.preheader) or ""
        body = message.body_en if english else message.body
        network = message.network
        campaign = message.campaign.title if message.campaign_id else network.name
        with translation.override(language):
            blocks_html, blocks_text = render_blocks(body)
            unsubscribe = _marked_url("unsubscribe", language)
            preferences = _marked_url("preferences", language)
            address = ", ".join(
                part
                for part in (
                    network.street_address,
                    " ".join(p for p in (network.postal_code, network.city) if p),
                    network.province,
                )
                if part
            )
            context = {
                "language": language,
                "network": network,
                "legal_name": network.legal_name or network.name,
                "address": address,
                "unsubscribe_url": unsubscribe,
                "preferences_url": preferences,
            }
            self.unsubscribe_url = unsubscribe
            self.subject = " ".join(_placeholders(subject, campaign, False).split())
            self.preheader = " ".join(_placeholders(preheader, campaign, False).split())
            context["subject"] = self.subject
            context["preheader"] = self.preheader
            # Built here from Wagtail's rich text (its editor keeps only the allowed tags) and
            # escaped block values.
            blocks_markup = _placeholders(blocks_html, campaign, True)
            context["blocks"] = mark_safe(blocks_markup)  # noqa: S308
            self.html = render_to_string("outreach/email/message.html", context)
            context["blocks"] = _placeholders(blocks_text, campaign, False)
            self.text = render_to_string("outreach/email/message.txt", context)

    def fill(self, name, last_gift, token, attribution=""):
        """The message for one donor: plain string replacement of the markers (`token` in the
        footer's pages, `attribution` as the `?m=` of the links to our site)."""
        # A name typed in a public form may hold line breaks: one line, or the subject
        # becomes an invalid header and the donor never gets the email.
        name = " ".join(name.split())
        if attribution:
            first, more = "?m=" + attribution, "&m=" + attribution
        else:
            first = more = ""
        subject = self.subject.replace(_NAME, name).replace(_LAST_GIFT, last_gift)
        preheader = self.preheader.replace(_NAME, name).replace(_LAST_GIFT, last_gift)
        token = token or SAMPLE_TOKEN
        html_ = (
            self.html.replace(_NAME, escape(name))
            .replace(_LAST_GIFT, escape(last_gift))
            .replace(_TOKEN, token)
            .replace(_M_FIRST, first)
            .replace(_M_MORE, more.replace("&", "&amp;"))
        )
        text = (
            self.text.replace(_NAME, name)
            .replace(_LAST_GIFT, last_gift)
            .replace(_TOKEN, token)
            .replace(_M_FIRST, first)
            .replace(_M_MORE, more)
        )
        return Rendered(subject=subject, preheader=preheader, html=html_, text=text)


class MessageRenderer:
    """Renders one message for many donors: blocks and chrome once per language, then per
    donor only string replacement (`for_delivery`)."""

    def __init__(self, message):
        self.message = message
        self._templates = {}

    def template(self, language):
        language = message_language(self.message, language)
        if language not in self._templates:
            self._templates[language] = _Template(self.message, language)
        return self._templates[language]

    def unsubscribe_url(self, delivery):
        """The delivery's unsubscribe page (for the List-Unsubscribe header), in its language;
        without reversing the URL for every email."""
        template = self.template(delivery.language)
        return template.unsubscribe_url.replace(_TOKEN, delivery.token)

    def for_delivery(self, delivery=None, donor=None, *, language=None, last_gift=...):
        """The message as `donor` (or `delivery.donor`) sees it, in `language` (by default the
        delivery's, else the donor's). `last_gift`: their last counted gift, when the caller
        fetched it for a whole batch (`last_gifts`); else it is looked up here."""
        if donor is None and delivery is not None:
            donor = delivery.donor
        if language is None:
            language = (
                delivery.language
                if delivery is not None
                else (donor.language if donor is not None else "it")
            )
        template = self.template(language)
        if donor is None:
            name = SAMPLE_NAME
            with translation.override(template.language):
                gift = _("%(amount)s on %(date)s") % {
                    "amount": format_amount(2500),
                    "date": "25/11/2026",
                }
        else:
            name = donor.first_name or donor.display_name
            if last_gift is ...:
                last_gift = last_gifts(self.message.network, [donor.pk]).get(donor.pk)
            gift = last_gift_text(last_gift, template.language)
        if delivery is None:
            return template.fill(name, gift, "")
        return template.fill(name, gift, delivery.token, delivery.attribution)


def render_message(message, *, language="it", delivery=None, donor=None):
    """The email as the donor sees it (or, without a donor, with sample values: preview)."""
    return MessageRenderer(message).for_delivery(delivery, donor, language=language)
