"""The admin form of a campaign page: the entity receiving its gifts is chosen among the
campaign's network's own entities (issue 26), never another network's."""

from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminPageForm

from crm.models import IssuingEntity, Network


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
