"""The segment and message forms: only the user's networks, only campaigns and segments of the
chosen network; when to schedule a message; which campaign's update to send."""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms.models import WagtailAdminModelForm
from wagtail.blocks.base import BlockWidget
from wagtail.blocks.stream_block import StreamBlockValidationError
from wagtail.blocks.struct_block import StructBlockValidationError
from wagtail.images import get_image_model
from wagtail.models import Page
from wagtail.permissions import policy_registry
from wagtail.rich_text.rewriters import FIND_A_TAG, extract_attrs

from cms.models import NetworkPage
from crm import extensions
from crm.models import Network
from crm.validators import row_id

from .access import networks_for
from .models import Segment
from .rendering import PLACEHOLDERS

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
            # the bounds checked, not only shown: a field's validators are made with it
            self.fields[name].validators += [MinValueValidator(1900), MaxValueValidator(2999)]
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


def placeholders_help():
    """ "Each donor reads their own: {nome} (the donor's first name), …" for the form."""
    listed = ", ".join(f"{{{key}}} ({meaning})" for key, meaning in PLACEHOLDERS.items())
    return gettext("Here and in the text, each donor reads their own: %(placeholders)s.") % {
        "placeholders": listed
    }


class MessageForm(WagtailAdminModelForm):
    """A message's form (its panels are in `outreach.message_views`): the user's networks only;
    the segment and the campaign must be of the message's network."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._missing_streams = self._stand_in_for_missing_streams()
        networks = networks_for(self.for_user)
        if self.instance.pk:
            # A written message stays in its network: its segment and campaign are chosen there.
            networks = networks.filter(pk=self.instance.network_id)
        # The placeholders are listed nowhere else: the subject is where people first type.
        for name in ("subject", "subject_en"):
            if name in self.fields:
                self.fields[name].help_text = placeholders_help()
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

    def _stand_in_for_missing_streams(self):
        """A post without a block field's own counter (a hand-made or truncated request) would
        make Wagtail's widget fail (a 500): the field reads as empty and `clean` refuses it,
        so nothing of the message changes."""
        if not self.is_bound:
            return []
        missing = [
            name
            for name, field in self.fields.items()
            if isinstance(field.widget, BlockWidget)
            and field.widget.value_omitted_from_data(self.data, self.files, self.add_prefix(name))
        ]
        if missing:
            self.data = self.data.copy()
            for name in missing:
                self.data[f"{self.add_prefix(name)}-count"] = "0"
        return missing

    def clean(self):
        data = super().clean()
        for name in self._missing_streams:
            self.add_error(
                name, _("This part of the form did not arrive: reload the page and try again.")
            )
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
                self._check_references(field, data.get(field), network)
        return data

    def _check_references(self, field, body, network):
        """What a message points at stays the network's: a button's or a text link's page is
        of the message's network (or of none, such as the home page), an image is of a
        collection the writer works in. The choosers offer nothing else, and an id typed by
        hand must not bring another network's draft title, address or photo into the email."""
        other_page = _("This page belongs to another network.")
        errors = {}
        for index, block in enumerate(body or []):
            if block.block_type == "button":
                page = block.value.get("page")
                if page is not None and _network_of_page(page) not in (None, network.pk):
                    errors[index] = StructBlockValidationError(
                        block_errors={"page": ValidationError(other_page)}
                    )
            elif block.block_type == "paragraph":
                pages = Page.objects.filter(pk__in=_linked_page_ids(block.value.source))
                if any(_network_of_page(page) not in (None, network.pk) for page in pages):
                    errors[index] = ValidationError(other_page)
            elif block.block_type == "image":
                image = block.value.get("image")
                if image is not None and not self._may_use_image(image):
                    errors[index] = StructBlockValidationError(
                        block_errors={
                            "image": ValidationError(_("This image belongs to another network."))
                        }
                    )
        if errors:
            self.add_error(field, StreamBlockValidationError(block_errors=errors))

    def _may_use_image(self, image):
        policy = policy_registry.get_by_type(get_image_model())
        choosable = policy.instances_user_has_any_permission_for(self.for_user, ["choose"])
        return choosable.filter(pk=image.pk).exists()


def _linked_page_ids(source):
    """The ids of the pages a rich text (database form) links to."""
    ids = []
    for match in FIND_A_TAG.finditer(source or ""):
        attrs = extract_attrs(match.group(1))
        if attrs.get("linktype") == "page" and row_id(attrs.get("id")):
            ids.append(row_id(attrs["id"]))
    return ids


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
