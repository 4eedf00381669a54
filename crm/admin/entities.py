"""CRM → Issuing entities: the legal bodies of a network that receive gifts and issue their
receipts (issue 26). The network's treasurers add and edit them; the lead entity's data are the
network's own (kept in step). Entities are never deleted: their receipts keep them."""

from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.admin.ui.tables import BooleanColumn, Column

from crm.models import IssuingEntity

from .common import ScopedModelViewSet


class IssuingEntityViewSet(ScopedModelViewSet):
    model = IssuingEntity
    icon = "site"
    menu_label = _("Issuing entities")
    add_to_admin_menu = False
    url_names = {"index", "index_results", "add", "edit", "inspect", "history", "history_results"}
    empty_message = _("No issuing entity yet.")
    list_display = [
        "legal_name",
        Column("network", label=_("Network"), accessor="network.name"),
        "codice_fiscale",
        "receipt_series",
        BooleanColumn("is_lead", label=_("Lead entity")),
    ]
    inspect_view_fields = [
        "legal_name",
        "network",
        "is_lead",
        "codice_fiscale",
        "partita_iva",
        "entity_kind",
        "runts_number",
        "tax_regime",
        "receipt_series",
        "declared_income_cents",
        "signer_name",
        "signer_role",
    ]
    panels = [
        FieldPanel("network"),
        MultiFieldPanel(
            [
                FieldPanel("legal_name"),
                FieldPanel("codice_fiscale"),
                FieldPanel("partita_iva"),
                FieldPanel("entity_kind"),
                FieldPanel("runts_number"),
                FieldPanel("tax_regime"),
            ],
            heading=_("Legal data printed on receipts"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("street_address"),
                FieldPanel("postal_code"),
                FieldPanel("city"),
                FieldPanel("province"),
                FieldPanel("email"),
                FieldPanel("phone"),
            ],
            heading=_("Registered address and contacts"),
        ),
        MultiFieldPanel(
            [FieldPanel("signer_name"), FieldPanel("signer_role"), FieldPanel("logo")],
            heading=_("Signature"),
        ),
        MultiFieldPanel(
            [FieldPanel("receipt_series"), FieldPanel("declared_income_cents")],
            heading=_("Receipts and Agenzia Entrate data"),
        ),
    ]
