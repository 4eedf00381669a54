"""Forms of the relationship screens: every related-row choice limited to the networks the
user reaches as treasurer or communicator (`relations.access`)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from crm import extensions
from crm.admin.common import ScopedForm
from crm.models import Donor
from crm.money import EuroField

from ..access import networks_for, people_of
from ..models import Call, Opportunity, Organisation, Pledge


def donors_of(networks):
    """The people and organisations of `networks` one may tie to a relationship (names only:
    their gifts stay the treasurers')."""
    return Donor.objects.filter(network__in=networks, merged_into=None, anonymised_at=None)


class RelationsForm(ScopedForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        networks = networks_for(self.for_user)
        scopes = {
            "network": lambda: networks,
            "organisation": lambda: Organisation.objects.filter(network__in=networks),
            "funder": lambda: Organisation.objects.filter(network__in=networks),
            "call": lambda: Call.objects.filter(network__in=networks),
            "pledge": lambda: Pledge.objects.filter(network__in=networks),
            "opportunity": lambda: Opportunity.objects.filter(network__in=networks),
            "owner": lambda: people_of(networks),
            "person": lambda: donors_of(networks).filter(kind=Donor.Kind.PERSON),
            "donor": lambda: donors_of(networks),
            "campaign": lambda: extensions.campaign_pages(networks),
        }
        for name, scope in scopes.items():
            if name in self.fields:
                self.fields[name].queryset = scope()
                self.fields[name].widget = forms.Select(choices=self.fields[name].choices)
        if "network" in self.fields and not self.instance.pk and networks.count() == 1:
            self.fields["network"].initial = networks.get()
        if "owner" in self.fields and not self.instance.pk:
            self.fields["owner"].initial = self.for_user.pk

    def clean(self):
        data = super().clean()
        network = data.get("network") or getattr(self.instance, "network", None)
        for name in ("organisation", "funder", "call", "pledge", "person", "donor", "opportunity"):
            row = data.get(name)
            if row is not None and network is not None and row.network_id != network.pk:
                self.add_error(name, _("Choose one of the same network."))
        # An owner is emailed the row's reminders: one of its network's people, never
        # another network's (a user of two networks is offered the people of both).
        owner = data.get("owner")
        if owner and network and not people_of([network]).filter(pk=owner.pk).exists():
            self.add_error("owner", _("Choose one of the same network."))
        return data

    def save(self, commit=True):
        if hasattr(self.instance, "by_id") and not self.instance.pk:
            self.instance.by = self.for_user  # who logged the interaction
        return super().save(commit=commit)


class StageForm(forms.Form):
    stage = forms.ChoiceField(label=_("Stage"))

    def __init__(self, *args, opportunity, **kwargs):
        super().__init__(*args, **kwargs)
        # Pledged comes with its schedule (the pledge form); received with the last gift.
        kept = (Opportunity.Stage.PLEDGED, Opportunity.Stage.RECEIVED)
        self.fields["stage"].choices = [
            (code, label) for code, label in Opportunity.Stage.choices if code not in kept
        ]
        self.fields["stage"].initial = opportunity.stage


class PledgeForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Pledge.Kind.choices)
    amount = EuroField(label=_("Amount promised"))
    instalments = forms.IntegerField(label=_("Instalments"), min_value=1, max_value=60, initial=1)
    first_due_on = forms.DateField(
        label=_("First instalment due on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    every_months = forms.IntegerField(
        label=_("Months between instalments"), min_value=0, max_value=24, initial=1
    )


class LinkGiftForm(forms.Form):
    donation: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Gift"), queryset=None, empty_label=None
    )

    def __init__(self, *args, gifts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["donation"].queryset = gifts


class DocumentForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=255)
    file = forms.FileField(label=_("File"))


class ReportPeriodForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError(_("The period ends before it starts."))
        return data
