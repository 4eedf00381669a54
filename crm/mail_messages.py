"""The emails to a donor, built (not sent: `crm.mail` sends them): each kind's context, in the
donor's language, in the network's own wording if it wrote one (`crm.email_templates`), with
its receipt attached where it has one.
"""

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from . import email_templates, links, portal_links
from .links import newsletter_confirm_url, plan_cancel_url, receipt_download_url
from .mail_policy import _network_of
from .models import Receipt, RecurringPlan
from .models.entities import entity_of, receiving_entity
from .money import format_amount
from .receipt_files import download_name, read_receipt_pdf
from .sending import email_message


def recurring_cancel_url(receipt):
    """The signed self-service link of the monthly plan behind a receipt's gifts, if any."""
    plan = next((d.recurring_plan for d in receipt.donations.all() if d.recurring_plan_id), None)
    if plan is None or plan.status == plan.Status.CANCELLED:
        return ""
    return plan_cancel_url(plan)


# The plan's manage page (amount, pause, card, stop) where the giving app has one, else its
# stop page: both are signed links to the same plan.
plan_manage_url = getattr(links, "plan_manage_url", plan_cancel_url)


def plan_entity(plan):
    """The entity a plan's emails speak for: the one that received its latest gift, else the
    one its campaign names (or the lead's), which will receive the first."""
    latest = plan.donations.select_related("entity").order_by("-received_on", "-pk").first()
    if latest is not None:
        return entity_of(latest)
    return receiving_entity(plan.network, plan.campaign)


def _reply_to(entity, network):
    """Replies go to the entity that received the gift, if it has an address."""
    return entity.email or network.email


def _message(email, template, context, language, reply_to, network=None):
    """The email in `language`: the network's own wording of this kind if it wrote one
    (placeholders filled from `context`, see `crm.email_templates`), else the default."""
    context = {**context, "language": language}
    own = email_templates.network_template(network or _network_of(email), template, language)
    with translation.override(language):
        if own is not None:
            values = email_templates.values_from_context(context)
            subject, text, html = email_templates.compose(own, values, language)
        else:
            subject = render_to_string(f"emails/{template}_subject.txt", context).strip()
            text = render_to_string(f"emails/{template}.txt", context)
            html = render_to_string(f"emails/{template}.html", context)
    return email_message(
        kind=email.kind,
        key=email.pk,
        stamp=int(email.created_at.timestamp()),
        subject=subject,
        text=text,
        html=html,
        to=email.to,
        reply_to=[reply_to] if reply_to else [],
        metadata={"receipt_email": str(email.pk)},
        tags=[email.kind],
    )


def build_payment_failed_message(email):
    """Tells a monthly donor their payment failed, that Stripe will try again, and how to update
    the card or stop giving (the signed self-service link)."""
    plan = email.recurring_plan
    donor, network = plan.donor, plan.network
    entity = plan_entity(plan)
    language = "en" if donor.language == "en" else "it"
    with translation.override(language):  # the amount too is written in the donor's language
        context = {
            "plan": plan,
            "donor_name": donor.first_name or donor.display_name,
            "amount": format_amount(plan.amount_cents),
            "interval": plan.get_interval_display().lower(),
            "entity": entity,
            "manage_url": plan_manage_url(plan),
        }
    return _message(email, "payment_failed", context, language, _reply_to(entity, network), network)


def build_plan_message(email, template):
    """The "plan stopped" notice, or the link to the plan's page sent by the treasurer."""
    plan = email.recurring_plan
    donor, network = plan.donor, plan.network
    entity = plan_entity(plan)
    language = "en" if donor.language == "en" else "it"
    with translation.override(language):  # "(€ 30,00, trimestrale)", mid-sentence
        context = {
            "plan": plan,
            "donor_name": donor.first_name or donor.display_name,
            "amount": format_amount(plan.amount_cents),
            "interval": plan.get_interval_display().lower(),
            "entity": entity,
            "manage_url": plan_manage_url(plan) if template == "plan_link" else "",
        }
    return _message(email, template, context, language, _reply_to(entity, network), network)


def _interval_label(value):
    return str(dict(RecurringPlan.Interval.choices).get(value, "—")).lower()


def plan_change_lines(changes):
    """What changed, one sentence each, in the active language (`crm.plans.update_plan`
    lists the changes; they are kept on the email as they were made)."""
    lines = []
    for change in changes:
        what = change.get("what")
        if what == "amount":
            lines.append(
                _("The amount is now %(to)s (it was %(from)s), from the next payment.")
                % {"to": format_amount(change["to"]), "from": format_amount(change["from"])}
            )
        elif what == "interval":
            lines.append(
                _("It is now %(to)s (it was %(from)s), from the next payment date.")
                % {"to": _interval_label(change["to"]), "from": _interval_label(change["from"])}
            )
        elif what == "pause" and change.get("resumes_at"):
            resumes = parse_datetime(change["resumes_at"])
            lines.append(
                _("It is paused: nothing will be charged until %(date)s.")
                % {"date": _date(timezone.localtime(resumes)) if resumes else "—"}
            )
        elif what == "pause":
            lines.append(_("It is paused: nothing will be charged until it is resumed."))
        elif what == "resume":
            lines.append(_("It is running again: payments start again from the next date."))
    return lines


def build_plan_changed_message(email):
    """Confirms a change to the plan (amount, frequency, pause, resume), whoever made it: what
    changed as it was made, what the plan is now, and the link to change it again."""
    plan = email.recurring_plan
    donor, network = plan.donor, plan.network
    entity = plan_entity(plan)
    details = email.details or {}
    next_charge = parse_datetime(details.get("next_charge_at") or "")
    language = "en" if donor.language == "en" else "it"
    with translation.override(language):
        context = {
            "plan": plan,
            "donor_name": donor.first_name or donor.display_name,
            "amount": format_amount(details.get("amount_cents") or plan.amount_cents),
            "interval": _interval_label(details.get("interval") or plan.interval),
            "changes": plan_change_lines(details.get("changes") or []),
            "next_charge": _date(timezone.localtime(next_charge)) if next_charge else "",
            "paused": bool(details.get("paused")),
            "entity": entity,
            "manage_url": plan_manage_url(plan),
        }
    return _message(email, "plan_changed", context, language, _reply_to(entity, network), network)


def build_newsletter_confirm_message(email):
    """Asks the donor to confirm the newsletter from a signed link (double opt-in); nothing is
    sent to them until they do."""
    donor = email.donor
    network = donor.network
    context = {
        "donor_name": donor.first_name or donor.display_name,
        "entity": network,
        "network_name": network.name,
        "confirm_url": newsletter_confirm_url(donor),
    }
    language = "en" if donor.language == "en" else "it"
    return _message(email, "newsletter_confirm", context, language, network.email, network)


def _date(value):
    return formats.date_format(value, "d/m/Y") if value else ""


def build_refund_message(email):
    """Tells the donor how much of their gift went back to them and what became of its
    receipt: voided, or replaced by a new one for what they still give."""
    donation = email.donation
    donor, network = donation.donor, donation.network
    entity = entity_of(donation)
    receipts = donation.receipts.order_by("-pk")
    current = receipts.filter(status=Receipt.Status.ISSUED).first()
    voided = receipts.filter(status=Receipt.Status.VOID).first()
    language = "en" if donor.language == "en" else "it"
    with translation.override(language):  # amounts written in the donor's language
        context = {
            "donor_name": donor.first_name or donor.display_name,
            "refunded": format_amount(email.amount_cents or 0),
            "amount": format_amount(donation.amount_cents),
            "remaining": format_amount(donation.amount_cents - donation.refunded_cents),
            "received_on": donation.received_on.strftime("%d/%m/%Y"),
            "voided": voided,
            "current": current,
            "current_amount": format_amount(current.amount_cents) if current else "",
            "download_url": receipt_download_url(current) if current else "",
            "entity": entity,
        }
    return _message(email, "refund", context, language, _reply_to(entity, network), network)


def build_receipt_message(email, pdf_bytes):
    receipt = email.receipt
    language = "en" if receipt.language == "en" else "it"
    gifts = sorted(receipt.donations.all(), key=lambda g: g.received_on)
    annual = receipt.kind == receipt.Kind.ANNUAL
    with translation.override(language):
        campaigns = {g.campaign.title for g in gifts if g.campaign_id}
        context = {
            "receipt": receipt,
            "donor": receipt.donor_snapshot,
            "entity": receipt.entity_snapshot,
            "amount": format_amount(receipt.amount_cents),
            # A statement covers the year (its subject says which): no list of dates.
            "date": "" if annual else ", ".join(dict.fromkeys(_date(g.received_on) for g in gifts)),
            "campaign": ", ".join(sorted(campaigns)),
            "replaced_number": receipt.replaces.number if receipt.replaces_id else "",
            "download_url": receipt_download_url(receipt),
            "cancel_url": recurring_cancel_url(receipt),
            "is_annual": annual,
        }
    message = _message(
        email,
        "receipt",
        context,
        language,
        receipt.entity_snapshot.get("email"),
        receipt.network,
    )
    message.attach(download_name(receipt), pdf_bytes, "application/pdf")
    return message


def gift_context(donation, receipt=None):
    """The values of a gift's confirmation (the placeholders of `crm.email_templates`)."""
    donor, network = donation.donor, donation.network
    # The thank-you names the entity that received the gift (a partner of the network, or its
    # lead entity), as its receipt does.
    entity = entity_of(donation)
    plan = donation.recurring_plan
    live_plan = plan is not None and plan.status != plan.Status.CANCELLED
    return {
        "nome": donor.first_name or donor.display_name,
        "importo": format_amount(donation.amount_cents),
        "data": _date(donation.received_on),
        "campagna": donation.campaign.title if donation.campaign_id else network.name,
        "metodo": donation.get_method_display(),
        "link": plan_manage_url(plan) if live_plan else portal_links.request_url(network, donor),
        "ricevuta": receipt.number if receipt else "",
        "ente": entity.legal_name,
        "firma": entity.signer_name,
        "plan": plan if live_plan else None,
        "entity": entity,
    }


def build_gift_message(email):
    """A gift's confirmation (or a plan's welcome) with its receipt attached if one was
    issued with it."""
    donation = email.donation
    network = donation.network
    language = "en" if donation.donor.language == "en" else "it"
    with translation.override(language):
        context = gift_context(donation, email.receipt)
        if context["plan"] is not None:
            context["interval"] = context["plan"].get_interval_display().lower()
    reply_to = _reply_to(context["entity"], network)
    message = _message(email, email.kind, context, language, reply_to, network)
    if email.receipt_id:
        message.attach(
            download_name(email.receipt), read_receipt_pdf(email.receipt), "application/pdf"
        )
    return message


def build_portal_message(email):
    """The signed, expiring link to the donor's own page (crm.portal)."""
    donor = email.donor
    network = donor.network
    language = "en" if donor.language == "en" else "it"
    context = {
        "nome": donor.first_name or donor.display_name,
        "link": portal_links.login_url(donor),
        "ente": network.legal_name,
        "network_name": network.name,
        "firma": network.signer_name,
    }
    return _message(email, "donor_portal", context, language, network.email, network)


def send_test_email(network, language, subject, body, to, entity=None):
    """Send a network's draft of an email, filled with sample data (`{ente}`: `entity`, else
    the lead entity), to whoever is editing it (their own address): at once, not through the
    outbox, as it is nobody's donor email."""
    values = email_templates.sample_values(network, language, entity)
    draft = type("Draft", (), {"subject": subject, "body": body})
    subject, text, html = email_templates.compose(draft, values, language)
    message = EmailMultiAlternatives(
        subject=f"[TEST] {subject}",
        body=text,
        to=[to],
        reply_to=[network.email] if network.email else [],
    )
    message.attach_alternative(html, "text/html")
    message.tags = ["test"]
    message.send(using="default")


def build_tribute_message(email):
    """Tells the family that a gift was made in memory or in honour of their person, in the
    donor's language, naming the donor as our record knows them, with the message the donor
    wrote in the dedication section (for the family: the form puts it beside "tell the
    family"); the amount only if the donor agreed."""
    donation = email.donation
    donor, network = donation.donor, donation.network
    entity = entity_of(donation)
    language = "en" if donor.language == "en" else "it"
    amount = donation.amount_cents if donation.tribute_show_amount else None
    with translation.override(language):
        amount_text = format_amount(amount) if amount is not None else ""
    context = {
        "donor_name": donor.display_name,
        "in_memory": donation.tribute == donation.Tribute.MEMORY,
        "person": donation.tribute_name,
        "message": donation.dedication.strip(),
        "amount": amount_text,
        "campaign": donation.campaign.title if donation.campaign_id else network.name,
        "entity": entity,
    }
    return _message(email, "tribute", context, language, _reply_to(entity, network), network)
