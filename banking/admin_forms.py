"""The forms of the treasurers' banking screens, each limited to the user's networks."""

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.admin.common import use_donor_chooser
from crm.models import Donor, Network
from crm.money import MAX_STORED_CENTS, format_amount

from .models import BankDetails, CsvMapping, Statement


class StatementUploadForm(forms.Form):
    network = forms.ModelChoiceField(queryset=Network.objects.none(), label=_("Network"))
    kind = forms.ChoiceField(label=_("Format"), choices=Statement.Kind.choices)
    mapping = forms.ModelChoiceField(
        queryset=CsvMapping.objects.none(),
        required=False,
        label=_("Bank (for a CSV)"),
        help_text=_("The saved column mapping of the bank that exported the CSV."),
    )
    file = forms.FileField(label=_("Statement file (camt.053 XML or CSV)"))

    def __init__(self, *args, networks, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["network"].queryset = networks
        self.fields["mapping"].queryset = CsvMapping.objects.filter(network__in=networks)
        if networks.count() == 1:
            self.fields["network"].initial = networks.get()

    def clean(self):  # type: ignore[no-untyped-def]
        data = super().clean()
        mapping, network = data.get("mapping"), data.get("network")
        if data.get("kind") == Statement.Kind.CSV and mapping is None:
            self.add_error("mapping", _("Choose the bank whose CSV this is."))
        if mapping is not None and network is not None and mapping.network_id != network.pk:
            self.add_error("mapping", _("This CSV mapping belongs to another network."))
        return data


class BankDetailsForm(forms.ModelForm):
    class Meta:
        model = BankDetails
        fields = ["beneficiary", "iban", "bic", "pledge_days", "payout_marker"]


# The dates banks write in their CSVs, as people read them (the code is for the parser).
DATE_FORMATS = [
    ("%d/%m/%Y", _("dd/mm/yyyy (31/12/2026)")),
    ("%d-%m-%Y", _("dd-mm-yyyy (31-12-2026)")),
    ("%d.%m.%Y", _("dd.mm.yyyy (31.12.2026)")),
    ("%d/%m/%y", _("dd/mm/yy (31/12/26)")),
    ("%Y-%m-%d", _("yyyy-mm-dd (year-month-day)")),
]


class CsvMappingForm(forms.ModelForm):
    date_format = forms.ChoiceField(label=_("Date format"), choices=DATE_FORMATS)

    class Meta:
        model = CsvMapping
        fields = [
            "bank",
            "delimiter",
            "decimal_comma",
            "date_format",
            "skip_lines",
            "date_column",
            "value_date_column",
            "amount_column",
            "credit_column",
            "debit_column",
            "description_column",
            "name_column",
            "iban_column",
            "reference_column",
        ]


class DecisionForm(forms.Form):
    """What a treasurer decides of a credit on the review list."""

    ACTIONS = [
        ("pledge", _("Gift of the proposed pledge")),
        ("existing", _("Gift of an existing donor")),
        ("new", _("Gift of a new donor")),
        ("ignore", _("Ignore")),
    ]
    action = forms.ChoiceField(choices=ACTIONS, label=_("Decision"))
    donor = forms.ModelChoiceField(queryset=Donor.objects.none(), required=False, label=_("Donor"))
    first_name = forms.CharField(required=False, max_length=150, label=_("First name"))
    last_name = forms.CharField(required=False, max_length=150, label=_("Last name"))
    email = forms.EmailField(required=False, label=_("Email"))
    wants_receipt = forms.BooleanField(required=False, label=_("Issue a receipt"))
    reason = forms.CharField(required=False, max_length=500, label=_("Reason"))

    def __init__(self, *args, line, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.line = line
        self.fields["donor"].queryset = Donor.objects.filter(
            network=line.network, anonymised_at=None, merged_into=None
        )
        use_donor_chooser(self.fields["donor"])
        self.fields["donor"].initial = line.proposed_donor_id

    def clean(self):  # type: ignore[no-untyped-def]
        data = super().clean()
        action = data.get("action")
        if action == "pledge" and self.line.pledge_id is None:
            self.add_error("action", _("This credit has no proposed pledge."))
        if action == "existing" and not data.get("donor"):
            self.add_error("donor", _("Choose a donor of this network."))
        if action == "new" and not (data.get("last_name") or "").strip():
            self.add_error("last_name", _("Enter the donor's last name."))
        if action == "ignore" and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Say why this credit is ignored."))
        if action in ("pledge", "existing", "new") and self.line.amount_cents > MAX_STORED_CENTS:
            # before any donor is made for it: no gift keeps such an amount
            limit = format_amount(MAX_STORED_CENTS)
            self.add_error("action", _("The amount can be at most %(limit)s.") % {"limit": limit})
        return data
