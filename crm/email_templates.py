"""The wording of emails to donors: each network may write its own subject and body per kind
and language (`EmailTemplate`), with placeholders such as `{nome}`; without one, the default
wording in `templates/emails/<kind>_subject.txt` and `<kind>.txt` is sent.

A network's text is plain text: placeholders are replaced by plain substitution
(`substitute`), so no template code ever runs from what a communicator typed. The defaults are
Django templates; rendered with each placeholder as its own value (`default_text`) they give
the text a communicator starts from. Every kind's context (in `crm.mail`) names its values
through the keys in `CONTEXT_KEYS`, so the same values fill a network's text.
"""

import re

from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils.html import linebreaks, urlize
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

from .models import EmailTemplate

PLACEHOLDERS = {
    "nome": _("the donor's first name"),
    "importo": _("the amount, e.g. € 25,00"),
    "data": _("the date of the gift, e.g. 25/11/2026"),
    "campagna": _("the campaign (or the network's name)"),
    "metodo": _("the payment method"),
    "link": _("the link of this email (manage the plan, download, confirm…)"),
    "ricevuta": _("the receipt number, if any"),
    "ente": _("the legal name of the entity that receives the gift"),
    "firma": _("who signs for the entity"),
}

# Where each placeholder's value sits in the context of a kind's default template; the first
# key found wins. Kinds added later name their values with these keys too.
CONTEXT_KEYS = {
    "nome": ("nome", "donor_name", "donor.name"),
    "importo": ("importo", "amount"),
    "data": ("data", "date"),
    "campagna": ("campagna", "campaign"),
    "metodo": ("metodo", "method"),
    "link": ("link", "manage_url", "confirm_url", "download_url", "portal_url"),
    "ricevuta": ("ricevuta", "receipt.number"),
    "ente": ("ente", "entity.legal_name", "network_name"),
    "firma": ("firma", "entity.signer_name"),
}

SAMPLE_VALUES = {
    "nome": "Lucia",
    "importo": "€ 25,00",
    "data": "25/11/2026",
    "campagna": "Doposcuola per tutti",
    "metodo": _("Card"),
    "link": "https://example.org/link",
    "ricevuta": "2026/00123",
    "ente": "Associazione Esempio ETS",
    "firma": "Maria Rossi",
}

_PLACEHOLDER = re.compile(r"\{(\w*)\}")


def unknown_placeholders(text):
    """The `{names}` in `text` that are not placeholders, in order."""
    return [m for m in dict.fromkeys(_PLACEHOLDER.findall(text or "")) if m not in PLACEHOLDERS]


def substitute(text, values):
    """Replace each known `{name}` with its value; anything else stays as typed."""

    def value(match):
        name = match.group(1)
        return str(values.get(name, "") or "") if name in PLACEHOLDERS else match.group(0)

    return _PLACEHOLDER.sub(value, text or "")


def _lookup(context, path):
    value = context
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else getattr(value, part, None)
        if value is None:
            return None
    return value


def values_from_context(context):
    values = {}
    for name, keys in CONTEXT_KEYS.items():
        found = (_lookup(context, key) for key in keys)
        values[name] = next((str(v) for v in found if v not in (None, "")), "")
    return values


def _token_context():
    context = {}
    for name, keys in CONTEXT_KEYS.items():
        for key in keys:
            *parents, leaf = key.split(".")
            node = context
            for part in parents:
                node = node.setdefault(part, {})
            node.setdefault(leaf, f"{{{name}}}")
    return context


def default_text(kind, language):
    """(subject, body) of the default wording, with placeholders where the values go."""
    context = {**_token_context(), "language": language, "template_preview": True}
    with override(language):
        try:
            subject = render_to_string(f"emails/{kind}_subject.txt", context)
            body = render_to_string(f"emails/{kind}.txt", context)
        except TemplateDoesNotExist:
            return "", ""
    return " ".join(subject.split()), body.strip() + "\n"


def network_template(network, kind, language):
    if network is None:
        return None
    return EmailTemplate.objects.filter(network=network, kind=kind, language=language).first()


def text_to_html(text, language):
    # urlize escapes the text around the links it makes; linebreaks must not escape again.
    body = linebreaks(urlize(text, nofollow=True, autoescape=True))
    return (
        f'<!DOCTYPE html>\n<html lang="{language}"><head><meta charset="utf-8"></head>'
        '<body style="font-family: sans-serif; font-size: 15px; line-height: 1.5; color: #111;'
        f' max-width: 36em;">{body}</body></html>\n'
    )


def compose(template, values, language):
    """(subject, text, html) of a network's template filled with `values`."""
    subject = " ".join(substitute(template.subject, values).split())
    text = substitute(template.body, values)
    return subject, text, text_to_html(text, language)


def sample_values(network=None, language="it", entity=None):
    """Sample data for a preview or a test; `{ente}` and `{firma}` are those of `entity` (the
    entity whose gifts the email is about), else of the network's lead entity."""
    with override(language):
        values = {name: str(value) for name, value in SAMPLE_VALUES.items()}
    if entity is None and network is not None:
        entity = network.lead_entity
    if entity is not None:
        values.update(ente=entity.legal_name or values["ente"], firma=entity.signer_name)
    return values


def preview(cleaned, language, network=None, entity=None):
    """(subject, text) of a subject and body typed in the admin, filled with sample data, and
    the entity `{ente}` was filled with (`entity`, else the network's lead)."""
    if entity is None and network is not None:
        entity = network.lead_entity
    values = sample_values(network, language, entity)
    subject = " ".join(substitute(cleaned["subject"], values).split())
    return {
        "subject": subject,
        "text": substitute(cleaned["body"], values),
        "entity": entity,
    }
