"""Forms that change a recurring plan: the treasurer's plan page and the donor's signed plan
page use the same ones. Amounts are typed in euros (`EuroField`) within the network's gift
limits."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import RecurringPlan
from .money import EuroField, format_amount


class PlanAmountForm(forms.Form):
    """The donor's own words; the treasurer's plan page uses `StaffPlanAmountForm`."""

    too_large = _("The largest gift online is %(max)s: for more, please contact us.")
    amount = EuroField(
        label=_("New amount (€)"), help_text=_("For example 20 or 12,50"), required=True
    )

    def __init__(self, *args, plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan
        self.fields["amount"].widget.attrs.update({"inputmode": "decimal", "autocomplete": "off"})

    def clean_amount(self):
        cents = self.cleaned_data["amount"]
        network = self.plan.network
        if cents < network.min_amount_cents:
            raise forms.ValidationError(
                _("The smallest gift online is %(min)s.")
                % {"min": format_amount(network.min_amount_cents)}
            )
        if cents > network.max_amount_cents:
            raise forms.ValidationError(
                self.too_large % {"max": format_amount(network.max_amount_cents)}
            )
        if cents == self.plan.amount_cents:
            raise forms.ValidationError(_("This is already the amount of the gift."))
        return cents


class StaffPlanAmountForm(PlanAmountForm):
    # the treasurer is the "us" a donor is asked to contact
    too_large = _("The network's largest online gift is %(max)s.")


class PlanIntervalForm(forms.Form):
    interval = forms.ChoiceField(
        label=_("How often"),
        choices=RecurringPlan.Interval.choices,
        # Django's own message repeats the value sent: a code the page never offered.
        error_messages={"invalid_choice": _("Choose one of the frequencies offered.")},
    )

    def __init__(self, *args, plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan

    def clean_interval(self):
        interval = self.cleaned_data["interval"]
        if interval == self.plan.interval:
            raise forms.ValidationError(_("The gift is already at this frequency."))
        return interval
