"""The donation form on a campaign page. Works without JavaScript."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from crm.money import format_amount, parse_amount
from crm.validators import normalise_code, validate_codice_fiscale, validate_partita_iva

from .fees import covered_fee_cents

# Bump when the privacy notice text changes: each donor's consent records the version read.
PRIVACY_NOTICE_VERSION = "2026-11"
OTHER = "other"
# A message's token as it comes on its links (`?m=`): short and url-safe, else not ours.
MESSAGE_TOKEN = re.compile(r"[A-Za-z0-9_-]{4,32}")


def message_token(value):
    """The token of the email a donor says they came through (`?m=` on its links), or "" when
    the value is not one: a wrong or tampered link still lets the donor give, unattributed."""
    value = value if isinstance(value, str) else ""
    return value if MESSAGE_TOKEN.fullmatch(value) else ""


class DonationForm(forms.Form):
    # A choice the page never offered (a tampered form) is refused without echoing it.
    amount = forms.ChoiceField(
        label=_("Amount"),
        widget=forms.RadioSelect,
        required=False,
        error_messages={"invalid_choice": _("Choose one of the amounts offered or type another.")},
    )
    other_amount = forms.CharField(
        label=_("Other amount (€)"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    frequency = forms.ChoiceField(
        label=_("How often"),
        choices=[("once", _("Once")), ("monthly", _("Every month"))],
        initial="once",
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose one of the frequencies offered.")},
    )
    cover_fees = forms.BooleanField(
        label=_("I add the payment fee, so all of my gift reaches the project"), required=False
    )
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    # The donor's and the family's email columns keep 254 characters (Django's EmailField):
    # a longer address is refused here, never left for the database to refuse with a 500.
    email = forms.EmailField(label=_("Email"), max_length=254)
    as_organisation = forms.BooleanField(
        label=_("I give on behalf of an organisation"), required=False
    )
    organisation_name = forms.CharField(
        label=_("Organisation name"), max_length=255, required=False
    )
    partita_iva = forms.CharField(label=_("Partita IVA"), max_length=16, required=False)
    wants_receipt = forms.BooleanField(label=_("I want a receipt for tax purposes"), required=False)
    codice_fiscale = forms.CharField(label=_("Codice fiscale"), max_length=20, required=False)
    street_address = forms.CharField(label=_("Address"), max_length=255, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=10, required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    province = forms.CharField(label=_("Province"), max_length=2, required=False)
    # The dedication section ("Dedicate your gift", in the template): its kind, the person's
    # name, and the donor's own words (kept with the gift, and written to the family if the
    # donor asks us to tell them: `crm.mail_messages.build_tribute_message`).
    tribute = forms.ChoiceField(
        label=_("Kind of dedication"),
        choices=[
            ("", _("No dedication")),
            ("memory", _("In memory of")),
            ("honour", _("In honour of")),
        ],
        required=False,
        error_messages={"invalid_choice": _("Choose one of the dedications offered.")},
    )
    tribute_name = forms.CharField(label=_("Name of the person"), max_length=150, required=False)
    dedication = forms.CharField(label=_("Message"), max_length=255, required=False)
    tribute_notify = forms.BooleanField(
        label=_("Tell their family of my gift by email"), required=False
    )
    tribute_notify_email = forms.EmailField(
        label=_("The family's email"), max_length=254, required=False
    )
    tribute_show_amount = forms.BooleanField(label=_("Tell them the amount too"), required=False)
    public_mention = forms.BooleanField(
        label=_("You may name me (first name only) among the donors"), required=False
    )
    newsletter = forms.BooleanField(label=_("Send me news from the network"), required=False)
    privacy = forms.BooleanField(
        label=_("I have read the privacy notice"),
        error_messages={"required": _("Please confirm you have read the privacy notice.")},
    )
    # Honeypot: hidden from people, filled in by bots.
    website = forms.CharField(required=False, label=_("Leave this field empty"))
    # Carried from the page's `?m=` in a hidden input rendered outside the cached fragments.
    message_token = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.fields["amount"].choices = [
            (str(cents), format_amount(cents)) for cents in campaign.suggested_amounts_cents
        ] + [(OTHER, _("Other"))]
        if not campaign.monthly_offered:
            self.fields["frequency"].choices = [("once", _("Once"))]
        self.fields["website"].widget.attrs.update(tabindex="-1", autocomplete="off")

    @property
    def amount_options(self):
        """(radio, impact line) for each amount button: what the communicator says each
        suggested amount does (CampaignPage.impact_lines), "" where nothing is said."""
        impacts = self.campaign.impacts
        for radio in self["amount"]:
            value = radio.data["value"]
            yield radio, impacts.get(int(value)) if value.isdigit() else ""

    @property
    def fee_example(self):
        """(gift, fee) for the middle suggested amount: the example next to "add the fee"."""
        amounts = self.campaign.suggested_amounts_cents
        if not amounts:
            return None
        gift = amounts[len(amounts) // 2]
        return gift, covered_fee_cents(gift)

    def error_summary(self):
        """Each field's error with the id of the field to jump to, in the order of the page: the
        summary at the top of the form links them. The form's own errors (the payment service
        not answering, a closed campaign) are not things to correct: the page says them apart."""
        errors = []
        for name, field in self.fields.items():
            for error in self.errors.get(name, []):
                anchor = self[name].auto_id
                if isinstance(field.widget, forms.RadioSelect):
                    anchor += "_0"
                errors.append((anchor, field.label, error))
        return errors

    @property
    def network(self):
        return self.campaign.network  # looked up only when validating (amount bounds)

    @property
    def is_spam(self):
        return bool(self.data.get("website"))

    def clean_other_amount(self):
        return (self.cleaned_data.get("other_amount") or "").strip()

    def clean_codice_fiscale(self):
        return normalise_code(self.cleaned_data.get("codice_fiscale"))

    def clean_partita_iva(self):
        code = normalise_code(self.cleaned_data.get("partita_iva"))
        return code[2:] if code.startswith("IT") else code

    def clean_message_token(self):
        return message_token(self.cleaned_data.get("message_token"))

    def clean_province(self):
        return (self.cleaned_data.get("province") or "").upper()

    def clean(self):
        data = super().clean()
        self._clean_amount(data)
        self._clean_tribute(data)
        if data.get("wants_receipt"):
            # A receipt names the donor by codice fiscale and address (art. 83 D.Lgs. 117/2017
            # and the Agenzia delle Entrate precompiled return need them).
            for field in ("street_address", "postal_code", "city"):
                if not data.get(field):
                    self.add_error(field, _("Needed for the receipt."))
            if not data.get("as_organisation") or not data.get("partita_iva"):
                self._check(data, "codice_fiscale", validate_codice_fiscale)
        if data.get("as_organisation"):
            if not data.get("organisation_name"):
                self.add_error("organisation_name", _("Enter the organisation's name."))
            if data.get("partita_iva"):
                self._check(data, "partita_iva", validate_partita_iva)
            elif data.get("wants_receipt") and not data.get("codice_fiscale"):
                self.add_error("partita_iva", _("Enter the organisation's partita IVA."))
        if data.get("codice_fiscale") and "codice_fiscale" not in self.errors:
            self._check(data, "codice_fiscale", validate_codice_fiscale)
        return data

    def _clean_tribute(self, data):
        """A memorial campaign's every gift is in memory of its person; otherwise the donor's
        choice, which needs a name. The family's address is kept only with the donor's consent
        to tell them (ticked), and the amount only if the donor also agreed."""
        memorial = (getattr(self.campaign, "memorial_of", "") or "").strip()
        if memorial:
            data["tribute"], data["tribute_name"] = "memory", memorial
        data["tribute_name"] = (data.get("tribute_name") or "").strip()
        asked = data["tribute_name"] or data.get("tribute_notify")
        if not data.get("tribute") and asked and "tribute" not in self.errors:
            # a name or "tell the family" with the kind left on "No dedication": asked for,
            # never silently dropped (the family would never be told)
            self.add_error("tribute", _("Choose “In memory of” or “In honour of”."))
        if data.get("tribute") and not data["tribute_name"]:
            self.add_error("tribute_name", _("Enter the name of the person."))
        if not data.get("tribute"):
            data["tribute_name"] = ""
        if data.get("tribute_notify") and data.get("tribute"):
            if not data.get("tribute_notify_email") and "tribute_notify_email" not in self.errors:
                self.add_error("tribute_notify_email", _("Enter the family's email."))
        else:
            data["tribute_notify_email"] = ""
        data["tribute_show_amount"] = bool(
            data.get("tribute_notify_email") and data.get("tribute_show_amount")
        )

    def _check(self, data, field, validator):
        try:
            validator(data.get(field))
        except ValidationError as exc:
            self.add_error(field, exc)

    def _clean_amount(self, data):
        if "amount" in self.errors or "other_amount" in self.errors:
            return  # a tampered choice or an overlong amount: said once, by its own error
        choice = data.get("amount")
        text = data.get("other_amount")
        field = "other_amount"
        if not text and choice and choice != OTHER:
            text, field = f"{int(choice) / 100:.2f}".replace(".", ","), "amount"
        if not text:
            self.add_error("other_amount", _("Choose or enter an amount."))
            return
        try:
            cents = parse_amount(text)
        except ValidationError as exc:
            self.add_error(field, exc)
            return
        low, high = self.network.min_amount_cents, self.network.max_amount_cents
        if cents < low:
            self.add_error(
                field,
                _("The smallest gift online is %(min)s.") % {"min": format_amount(low)},
            )
        elif cents > high:
            self.add_error(
                field,
                _("The largest gift online is %(max)s: for more, please contact us.")
                % {"max": format_amount(high)},
            )
        else:
            data["gift_cents"] = cents
            data["fee_cover_cents"] = covered_fee_cents(cents) if data.get("cover_fees") else 0
            data["amount_cents"] = cents + data["fee_cover_cents"]

    @property
    def monthly(self):
        return self.cleaned_data.get("frequency") == "monthly"

    def donor_details(self):
        """What Donation.donor_details keeps: enough to match or create the donor later."""
        data = self.cleaned_data
        organisation = data.get("as_organisation")
        return {
            "kind": "organisation" if organisation else "person",
            "first_name": data["first_name"].strip(),
            "last_name": data["last_name"].strip(),
            "organisation_name": data.get("organisation_name", "") if organisation else "",
            "partita_iva": data.get("partita_iva", "") if organisation else "",
            "email": data["email"].strip().lower(),
            "codice_fiscale": data.get("codice_fiscale", ""),
            "street_address": data.get("street_address", ""),
            "postal_code": data.get("postal_code", ""),
            "city": data.get("city", ""),
            "province": data.get("province", ""),
            "newsletter": bool(data.get("newsletter")),
            "public_mention": bool(data.get("public_mention")),
            "privacy_notice_version": PRIVACY_NOTICE_VERSION,
            "privacy_accepted_at": timezone.now().isoformat(),
            "language": (get_language() or "it")[:2],
            "frequency": data.get("frequency", "once"),
            # The gift and the fee the donor chose to add: amount_cents is their sum.
            "gift_cents": data["gift_cents"],
            "fee_cover_cents": data["fee_cover_cents"],
        }
