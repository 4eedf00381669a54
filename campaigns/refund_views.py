"""The treasurer's "Refund" on a gift's admin page: a form (how much, why), then a question
page that says what will happen ("Refund € 25,00 to Mario Rossi?"), then the refund itself
(`campaigns.refunds.refund_gift`). Mounted in the admin by `campaigns.wagtail_hooks`; the
gift page gets its button through `crm.extensions.GIFT_ACTIONS`."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.models import Donation, Receipt
from crm.money import EuroField, format_amount
from crm.tenancy import network_view, policy_for, reached

from .refunds import RefundRefused, can_refund, refund_gift, remaining_cents


class RefundForm(forms.Form):
    amount = EuroField(label=_("Amount to refund"), help_text=_("In euros, for example 25,00"))
    reason = forms.CharField(
        label=_("Reason"),
        max_length=255,
        help_text=_("Written on the voided receipt and kept in the gift's history."),
    )
    # What was refunded when the treasurer asked: a second click finds it changed.
    seen = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args, donation, **kwargs):
        super().__init__(*args, **kwargs)
        self.donation = donation

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        left = remaining_cents(self.donation)
        if amount > left:
            raise ValidationError(
                _("At most %(left)s is left to refund on this gift.")
                % {"left": format_amount(left)},
                code="too_large",
            )
        return amount

    def clean_reason(self):
        reason = " ".join(self.cleaned_data["reason"].split())
        if not reason:
            raise ValidationError(_("Say why."), code="required")
        return reason


def refund_actions(request, donation):
    """The gift page's "Refund" button, for those who may refund a gift Stripe can refund."""
    if not policy_for(Donation).user_has_permission(request.user, "refund"):
        return []
    if not can_refund(donation):
        return []
    url = reverse("campaigns_refund", args=[donation.pk])
    return [(pgettext_lazy("refund action", "Refund"), url, "get")]


def _consequences(donation, amount):
    """What the refund will do, in sentences for the question page."""
    lines = [
        _("%(amount)s goes back to the donor's card or account through Stripe.")
        % {"amount": format_amount(amount)}
    ]
    for receipt in donation.receipts.filter(status=Receipt.Status.ISSUED).order_by("pk"):
        left = receipt.amount_cents - amount
        if left > 0:
            lines.append(
                _("Receipt %(number)s will be voided and reissued for %(left)s.")
                % {"number": receipt.number, "left": format_amount(left)}
            )
        else:
            lines.append(_("Receipt %(number)s will be voided.") % {"number": receipt.number})
    donor = donation.donor
    if donor is not None and donor.email and not donor.anonymised_at:
        lines.append(
            _("%(name)s will be told by email (%(email)s).")
            % {"name": donor.display_name, "email": donor.email}
        )
    else:
        lines.append(_("The donor has no email address: tell them yourself."))
    return lines


@network_view(Donation, "refund")
def refund(request, pk):
    """GET: the form. POST: the question page; POST with `confirm`: the refund."""
    gifts = reached(request.user, Donation, "refund").select_related("donor", "network")
    donation = get_object_or_404(gifts, pk=pk)
    gift_url = reverse("crm_donation:inspect", args=[donation.pk])
    if not can_refund(donation):
        messages.error(request, _("This gift cannot be refunded from Trama."))
        return redirect(gift_url)
    context = {"donation": donation, "gift_url": gift_url, "gift": str(donation)}
    if request.method != "POST":
        initial = {"amount": remaining_cents(donation), "seen": donation.refunded_cents}
        form = RefundForm(initial=initial, donation=donation)
        return _form_page(request, form, context)
    form = RefundForm(request.POST, donation=donation)
    if not form.is_valid():
        return _form_page(request, form, context, status=400)
    data = form.cleaned_data
    if "confirm" not in request.POST:
        donor = donation.donor.display_name if donation.donor else "—"
        context.update(
            form=form,
            title=_("Refund %(amount)s to %(donor)s?")
            % {"amount": format_amount(data["amount"]), "donor": donor},
            consequences=_consequences(donation, data["amount"]),
        )
        return TemplateResponse(request, "campaigns/admin/refund_confirm.html", context)
    try:
        refund_gift(
            donation.pk,
            amount_cents=data["amount"],
            reason=data["reason"],
            user=request.user,
            seen_refunded_cents=data["seen"],
        )
    except ValidationError as exc:
        form.add_error("amount", exc)
        return _form_page(request, form, context, status=400)
    except RefundRefused as exc:
        messages.error(request, str(exc))
        return redirect(gift_url)
    messages.success(
        request,
        _("%(amount)s refunded.") % {"amount": format_amount(data["amount"])},
    )
    return redirect(gift_url)


def _form_page(request, form, context, status=200):
    context = {**context, "form": form, "title": _("Refund a gift")}
    return TemplateResponse(request, "campaigns/admin/refund_form.html", context, status=status)
