"""The segment and message forms: only the user's networks, only campaigns and segments of the
chosen network; when to schedule a message; which campaign's update to send."""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms.models import WagtailAdminModelForm
from wagtail.blocks.stream_block import StreamBlockValidationError
from wagtail.blocks.struct_block import StructBlockValidationError
from wagtail.models import Page

from cms.models import NetworkPage
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


class NetworkOptionsSelect(forms.Select):
    """A select whose options say their network (`data-network`), so that the form's script
    offers only the chosen network's segments and campaigns."""

    def __init__(self, networks_of, attrs=None):
        super().__init__({"data-network-options": "", **(attrs or {})})
        self.networks_of = networks_of

    @property
    def media(self):
        return forms.Media(js=["js/message_form.js"])

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        network = self.networks_of.get(getattr(value, "value", value))
        if network is not None:
            option["attrs"]["data-network"] = str(network)
        return option


class MessageForm(WagtailAdminModelForm):
    """A message's form (its panels are in `outreach.message_views`): the user's networks only;
    the segment and the campaign must be of the message's network."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        networks = networks_for(self.for_user)
        if self.instance.pk:
            # A written message stays in its network: its segment and campaign are chosen there.
            networks = networks.filter(pk=self.instance.network_id)
        if "network" in self.fields:
            self.fields["network"].queryset = networks
            if networks.count() == 1:
                self.fields["network"].initial = networks.get()
        if "segment" in self.fields:
            segments = Segment.objects.filter(network__in=networks)
            self.fields["segment"].widget = NetworkOptionsSelect(
                dict(segments.values_list("pk", "network_id"))
            )
            self.fields["segment"].queryset = segments
        if "campaign" in self.fields:
            campaigns_of = {
                page_pk: network.pk
                for network in networks
                for page_pk in extensions.campaign_pages(
                    Network.objects.filter(pk=network.pk)
                ).values_list("pk", flat=True)
            }
            self.fields["campaign"].widget = NetworkOptionsSelect(campaigns_of)
            self.fields["campaign"].queryset = extensions.campaign_pages(networks)

    def clean(self):
        data = super().clean()
        network = data.get("network") or (self.instance.network if self.instance.pk else None)
        segment, campaign = data.get("segment"), data.get("campaign")
        if network and segment and segment.network_id != network.pk:
            self.add_error("segment", _("This segment belongs to another network."))
        if network and campaign:
            own = extensions.campaign_pages(Network.objects.filter(pk=network.pk))
            if not own.filter(pk=campaign.pk).exists():
                self.add_error("campaign", _("This campaign belongs to another network."))
        if network:
            for field in ("body", "body_en"):
                self._check_button_pages(field, data.get(field), network)
        return data

    def _check_button_pages(self, field, body, network):
        """A button leads to a page of the message's network (or to a page of no network, such
        as the home page): the page chooser offers no other, and an id typed by hand must not
        bring another network's page (its draft title, its address) into this message."""
        errors = {}
        for index, block in enumerate(body or []):
            page = block.value.get("page") if block.block_type == "button" else None
            if page is not None and _network_of_page(page) not in (None, network.pk):
                errors[index] = StructBlockValidationError(
                    block_errors={
                        "page": ValidationError(_("This page belongs to another network."))
                    }
                )
        if errors:
            self.add_error(field, StreamBlockValidationError(block_errors=errors))


def _network_of_page(page):
    """The network whose page tree holds `page` (its NetworkPage or one above it), or None."""
    steps = range(Page.steplen, len(page.path) + 1, Page.steplen)
    home = NetworkPage.objects.filter(path__in=[page.path[:end] for end in steps]).first()
    return home.network_id if home else None


class ScheduleForm(forms.Form):
    """When to send: a day and a time, local (Europe/Rome), in the future."""

    date = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(label=_("Time"), widget=forms.TimeInput(attrs={"type": "time"}))

    def clean(self):
        data = super().clean()
        day, time = data.get("date"), data.get("time")
        if day is None or time is None:
            return data
        try:
            send_at = timezone.make_aware(datetime.datetime.combine(day, time))
        except (ValueError, OverflowError):
            raise forms.ValidationError(_("This day and time do not exist here.")) from None
        if send_at <= timezone.now():
            raise forms.ValidationError(_("Choose a day and time in the future."))
        data["send_at"] = send_at
        return data


class CampaignUpdateForm(forms.Form):
    """Which campaign's latest update to send (campaigns of the user's networks)."""

    campaign = forms.ModelChoiceField(
        label=_("Campaign"), queryset=Page.objects.none(), empty_label=None
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = extensions.campaign_pages(networks_for(user))
