"""The ticket form of an event page: how many of each ticket type (and what to pay, for a
pay-what-you-want ticket), a gift on top, who is buying."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from campaigns.forms import PRIVACY_NOTICE_VERSION
from crm.money import EuroField, format_amount

MAX_PER_TYPE = 10
MAX_GIFT_CENTS = 1_000_000


class OrderForm(forms.Form):
    donation = EuroField(
        label=_("A gift on top (optional)"),
        required=False,
        allow_zero=True,
        max_cents=MAX_GIFT_CENTS,
        help_text=_("In euros. Only the gift gets a receipt for tax purposes, not the tickets."),
    )
    wants_receipt = forms.BooleanField(label=_("Send me a receipt for my gift"), required=False)
    first_name = forms.CharField(label=_("First name"), max_length=100)
    last_name = forms.CharField(label=_("Last name"), max_length=100)
    email = forms.EmailField(label=_("Email"), max_length=254)  # the order's column: 254
    privacy = forms.BooleanField(label=_("I have read the privacy notice"))
    # Honeypot, as on the donation form: a text field off screen (bots fill it; a hidden input
    # they leave as it is).
    website = forms.CharField(required=False, label=_("Leave this field empty"))

    def __init__(self, *args, event, **kwargs):
        super().__init__(*args, **kwargs)
        self.event = event
        self.types = list(event.ticket_types.all())
        self.fields["website"].widget.attrs.update(tabindex="-1", autocomplete="off")
        for ticket_type in self.types:
            self.fields[f"qty_{ticket_type.pk}"] = forms.IntegerField(
                label=_("%(name)s: how many") % {"name": ticket_type.name},
                min_value=0,
                max_value=MAX_PER_TYPE,
                initial=0,
                required=False,
            )
            if ticket_type.kind == "pwyw":
                self.fields[f"price_{ticket_type.pk}"] = EuroField(
                    label=_("%(name)s: what you pay per ticket (at least %(min)s)")
                    % {"name": ticket_type.name, "min": format_amount(ticket_type.price_cents)},
                    required=False,
                    max_cents=MAX_GIFT_CENTS,
                )
        if not event.donation_offered:
            del self.fields["donation"]
            del self.fields["wants_receipt"]

    @property
    def is_spam(self) -> bool:
        return bool(self.data.get("website"))

    def ticket_rows(self):
        """(ticket type, quantity field, price field or None) for the template."""
        for ticket_type in self.types:
            price = self[f"price_{ticket_type.pk}"] if ticket_type.kind == "pwyw" else None
            yield ticket_type, self[f"qty_{ticket_type.pk}"], price

    def clean(self):
        data = super().clean()
        lines = []
        for ticket_type in self.types:
            quantity = data.get(f"qty_{ticket_type.pk}") or 0
            if not quantity:
                continue
            if ticket_type.kind == "free":
                price = 0
            elif ticket_type.kind == "fixed":
                price = ticket_type.price_cents
            else:
                price = data.get(f"price_{ticket_type.pk}")
                if f"price_{ticket_type.pk}" in self.errors:
                    continue  # a mistyped price is said once, by its own error
                if price is None or price < ticket_type.price_cents:
                    self.add_error(
                        f"price_{ticket_type.pk}",
                        ValidationError(
                            _("At least %(min)s per ticket.")
                            % {"min": format_amount(ticket_type.price_cents)},
                            code="below_minimum",
                        ),
                    )
                    continue
            lines.append((ticket_type, quantity, price))
        if not lines and not self.errors:
            raise ValidationError(_("Choose at least one ticket."), code="no_tickets")
        data["lines"] = lines
        return data

    def buyer(self) -> dict:
        data = self.cleaned_data
        return {
            "first_name": data["first_name"].strip(),
            "last_name": data["last_name"].strip(),
            "email": data["email"].strip().lower(),
            "language": (get_language() or "it")[:2],
        }

    def donor_details(self) -> dict:
        """What the gift on top keeps of its donor (as `campaigns.forms.DonationForm` does)."""
        buyer = self.buyer()
        return {
            "kind": "person",
            **buyer,
            "codice_fiscale": "",
            "newsletter": False,
            "public_mention": False,
            "privacy_notice_version": PRIVACY_NOTICE_VERSION,
            "privacy_accepted_at": timezone.now().isoformat(),
            "frequency": "once",
            "gift_cents": self.cleaned_data.get("donation") or 0,
            "fee_cover_cents": 0,
        }
