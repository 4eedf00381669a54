"""The admin form of a campaign page: the entity receiving its gifts is chosen among the
campaign's network's own entities (issue 26), never another network's; and the page's own
checks (`page_errors`), which its form shows under each box."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminPageForm

from crm.models import IssuingEntity, Network
from crm.money import format_amount, parse_amount


def page_errors(page, suggested):
    """{field: message} of what the communicator typed that the page could not use as typed:
    the end before the start, a button (`suggested`, in cents) the network's gift limits
    refuse."""
    errors = {}
    if page.starts_on and page.ends_on and page.ends_on < page.starts_on:
        errors["ends_on"] = _("The end cannot come before the start.")
    network = page.network if page.path else None  # a new page: its parent decides, later
    if network is not None and any(
        not network.min_amount_cents <= cents <= network.max_amount_cents for cents in suggested
    ):
        errors["suggested_amounts"] = _(
            "The network takes gifts online from %(min)s to %(max)s: each amount must be within."
        ) % {
            "min": format_amount(network.min_amount_cents),
            "max": format_amount(network.max_amount_cents),
        }
    return errors


def _network_of(page, parent_page):
    """The campaign's network: its own (an existing page) or its parent network page's."""
    if page.pk and page.path:
        return page.network
    parent = parent_page.specific if parent_page is not None else None
    network_id = getattr(parent, "network_id", None)
    return Network.objects.filter(pk=network_id).first() if network_id else None


class CampaignPageForm(WagtailAdminPageForm):
    def __init__(self, *args, parent_page=None, **kwargs):
        super().__init__(*args, parent_page=parent_page, **kwargs)
        field = self.fields.get("issuing_entity")
        if field is None:
            return
        network = _network_of(self.instance, parent_page)
        field.queryset = (
            IssuingEntity.objects.filter(network=network)
            if network is not None
            else IssuingEntity.objects.none()
        )
        field.empty_label = _("The network's lead entity")

    def clean_impact_lines(self):
        """Each line an amount, "=" and a text: the page leaves out a line that does not read
        (pages saved before this check), so the communicator is told here, not by its absence."""
        lines = self.cleaned_data.get("impact_lines") or ""
        for line in lines.splitlines():
            amount, sep, text = line.partition("=")
            try:
                readable = sep and text.strip() and parse_amount(amount.replace("€", "").strip())
            except ValidationError:
                readable = False
            if line.strip() and not readable:
                raise ValidationError(
                    _(
                        "Write each line as an amount, “=” and what it does, for example “25 = "
                        "una settimana di doposcuola”. This line does not read: %(line)s"
                    )
                    % {"line": line.strip()}
                )
        return lines
