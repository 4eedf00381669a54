"""The segment form: only the user's networks, only campaigns of the chosen network."""

from django import forms
from django.utils.translation import gettext_lazy as _

from crm import extensions
from crm.models import Network

from .access import networks_for
from .models import Segment

FILTER_FIELDS = [
    "campaign",
    "gave_in_year",
    "not_given_in_year",
    "lybunt",
    "sybunt",
    "first_time",
    "plan",
    "min_total_cents",
    "max_total_cents",
    "language",
    "consent",
]


class SegmentForm(forms.ModelForm):
    class Meta:
        model = Segment
        fields = ["network", "name", *FILTER_FIELDS]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        networks = networks_for(user)
        self.fields["network"].queryset = networks
        self.fields["campaign"].queryset = extensions.campaign_pages(networks)
        if networks.count() == 1:
            self.fields["network"].initial = networks.get()
        for name in ("gave_in_year", "not_given_in_year"):
            self.fields[name].min_value = 1900
            self.fields[name].max_value = 2999
            self.fields[name].widget.attrs.update(min=1900, max=2999)

    def clean(self):
        data = super().clean()
        network, campaign = data.get("network"), data.get("campaign")
        if network and campaign:
            own = extensions.campaign_pages(Network.objects.filter(pk=network.pk))
            if not own.filter(pk=campaign.pk).exists():
                self.add_error("campaign", _("This campaign belongs to another network."))
        low, high = data.get("min_total_cents"), data.get("max_total_cents")
        if low is not None and high is not None and high < low:
            self.add_error("max_total_cents", _("The upper bound is below the lower one."))
        return data
