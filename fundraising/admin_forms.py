"""The treasurers' forms: a new report (from a campaign or an event of their networks), an
expense (euros as people write them), the explanatory note."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from campaigns.models import CampaignPage
from crm.money import EuroField, fiscal_date
from events.models import EventPage

from .models import Expense, FundraisingReport


def _under(model, networks):
    paths = list(networks.filter(page__isnull=False).values_list("page__path", flat=True))
    if not paths:
        return model.objects.none()
    condition = Q()
    for prefix in paths:
        condition |= Q(path__startswith=prefix)
    return model.objects.filter(condition).order_by("title")


def sources(networks):
    """("campaign:<id>" or "event:<id>", label) of the networks' campaigns and events."""
    choices = [(f"campaign:{p.pk}", p.title) for p in _under(CampaignPage, networks)]
    events = _under(EventPage, networks)
    choices += [(f"event:{e.pk}", _("Event: %(title)s") % {"title": e.title}) for e in events]
    return choices


class NewReportForm(forms.Form):
    source = forms.ChoiceField(label=_("Campaign or event"))
    starts_on = forms.DateField(
        label=_("From"),
        required=False,
        help_text=_("Empty: the campaign's start or the event's day."),
    )
    ends_on = forms.DateField(
        label=_("To"), required=False, help_text=_("Empty: the campaign's end or the event's day.")
    )

    def __init__(self, *args, networks, **kwargs):
        super().__init__(*args, **kwargs)
        self.networks = networks
        self.fields["source"].choices = [("", "---------"), *sources(networks)]

    def clean(self):
        data = super().clean()
        source = data.get("source")
        if not source:
            return data
        kind, pk = source.split(":")
        model = CampaignPage if kind == "campaign" else EventPage
        page = _under(model, self.networks).filter(pk=pk).first()
        if page is None:
            raise forms.ValidationError(_("Choose a campaign or an event of your networks."))
        data["page"] = page
        if kind == "campaign":
            data["starts_on"] = data.get("starts_on") or page.starts_on
            data["ends_on"] = data.get("ends_on") or page.ends_on
        else:
            day = fiscal_date(page.starts_at)  # the event's day in Italy
            data["starts_on"] = data.get("starts_on") or day
            data["ends_on"] = data.get("ends_on") or day
        if not data["starts_on"] or not data["ends_on"]:
            raise forms.ValidationError(_("This campaign has no dates: enter the period."))
        if data["ends_on"] < data["starts_on"]:
            self.add_error("ends_on", _("The end cannot come before the start."))
        return data


class ExpenseForm(forms.Form):
    amount = EuroField(label=_("Amount"))
    spent_on = forms.DateField(label=_("Date"))
    supplier = forms.CharField(label=_("Supplier"), max_length=200)
    category = forms.ChoiceField(label=_("Category"), choices=Expense.Category.choices)
    description = forms.CharField(label=_("Description"), max_length=255, required=False)
    document = forms.FileField(
        label=_("Document"),
        required=False,
        help_text=_("The invoice or receipt: PDF, JPEG or PNG, at most 10 MB. Kept privately."),
    )


class NoteForm(forms.ModelForm):
    class Meta:
        model = FundraisingReport
        fields = ["note"]
        widgets = {"note": forms.Textarea(attrs={"rows": 10})}
