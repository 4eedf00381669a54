"""The treasurers' forms: a grant (the 5 per mille of a year) and an expense line. Amounts in
euros as people write them (`crm.money.EuroField`); the totals are checked by `verbs` under the
grant's lock."""

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.models import IssuingEntity
from crm.money import EuroField, fiscal_today

from . import rules
from .models import PerMilleExpense, PerMilleGrant

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class GrantForm(forms.ModelForm):
    amount_cents = EuroField(label=_("Amount received"))
    set_aside_cents = EuroField(
        label=_("Amount set aside (accantonamento)"),
        allow_zero=True,
        required=False,
        help_text=_("Heading 6 of the rendiconto: kept for a later use, reported on Mod. B."),
    )

    class Meta:
        model = PerMilleGrant
        fields = [
            "network",
            "entity",
            "reference_year",
            "amount_cents",
            "received_on",
            "choices_count",
            "set_aside_cents",
            "report_note",
            "report_done_on",
            "sent_on",
            "published_on",
            "published",
        ]
        widgets = {
            "received_on": DATE,
            "report_done_on": DATE,
            "sent_on": DATE,
            "published_on": DATE,
        }

    def __init__(self, *args, networks, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["network"].queryset = networks
        self.fields["entity"].queryset = IssuingEntity.objects.filter(network__in=networks)
        self.fields["entity"].required = False
        if self.instance.pk:  # a grant stays with its network and its entity
            self.fields["network"].disabled = True
            self.fields["entity"].disabled = True
        elif networks.count() == 1:
            self.fields["network"].initial = networks.get()

    def clean_reference_year(self):
        year = self.cleaned_data["reference_year"]
        if not rules.FIRST_YEAR <= year <= fiscal_today().year:
            raise forms.ValidationError(
                _("Give a year from %(first)d to this year.") % {"first": rules.FIRST_YEAR}
            )
        return year

    def clean_set_aside_cents(self):
        return self.cleaned_data.get("set_aside_cents") or 0

    def clean(self):
        data = super().clean()
        network, entity = data.get("network"), data.get("entity")
        if network and entity is None:  # the lead entity, set here so uniqueness is checked
            data["entity"] = network.lead_entity
        elif network and entity.network_id != network.pk:
            self.add_error("entity", _("Choose an entity of the grant's network."))
        received_on, year = data.get("received_on"), data.get("reference_year")
        if received_on and received_on > fiscal_today():
            self.add_error("received_on", _("The day received cannot be in the future."))
        elif received_on and year and received_on.year < year:
            self.add_error(
                "received_on", _("The 5 per mille of a year is paid after that year, not before.")
            )
        return data


class ExpenseForm(forms.ModelForm):
    amount_cents = EuroField(label=_("Amount"))

    class Meta:
        model = PerMilleExpense
        fields = ["category", "description", "amount_cents", "spent_on", "from_set_aside"]
        widgets = {"spent_on": DATE}

    def clean_spent_on(self):
        spent_on = self.cleaned_data["spent_on"]
        if spent_on > fiscal_today():
            raise forms.ValidationError(_("An expense is recorded once paid, not before."))
        return spent_on


class RemoveExpenseForm(forms.Form):
    expense = forms.IntegerField(min_value=1)
