"""Superusers set up networks (the tenants) and their issuing entity in Settings → Networks."""

from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.admin.viewsets.model import ModelViewSet

from crm.admin.lost_saves import LostRaceCreateView, LostRaceEditView
from crm.models import Network


class NetworkViewSet(ModelViewSet):
    model = Network
    icon = "site"
    menu_label = _("Networks")
    add_to_settings_menu = True
    list_display = ["name", "legal_name", "codice_fiscale", "entity_kind", "tax_regime"]
    search_fields = ["name", "legal_name", "codice_fiscale"]
    inspect_view_enabled = True
    # Two people saving one Stripe account at once: the second reads why on the form.
    add_view_class = LostRaceCreateView
    edit_view_class = LostRaceEditView
    panels = [
        MultiFieldPanel([FieldPanel("name"), FieldPanel("slug")], heading=_("Network")),
        MultiFieldPanel(
            [
                FieldPanel("legal_name"),
                FieldRowPanel([FieldPanel("codice_fiscale"), FieldPanel("partita_iva")]),
                FieldRowPanel([FieldPanel("entity_kind"), FieldPanel("runts_number")]),
                FieldPanel("tax_regime"),
                FieldPanel("street_address"),
                FieldRowPanel(
                    [FieldPanel("postal_code"), FieldPanel("city"), FieldPanel("province")]
                ),
                FieldRowPanel([FieldPanel("email"), FieldPanel("phone")]),
                FieldRowPanel([FieldPanel("signer_name"), FieldPanel("signer_role")]),
                FieldPanel("logo"),
            ],
            heading=_("Issuing entity (ente capofila)"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("receipt_series"),
                FieldPanel("always_issue_receipts"),
                FieldPanel("annual_statement_for_all"),
                FieldPanel("declared_income_cents"),
                FieldRowPanel([FieldPanel("min_amount_cents"), FieldPanel("max_amount_cents")]),
                FieldPanel("stripe_account_id"),
                FieldRowPanel([FieldPanel("offer_paypal"), FieldPanel("offer_satispay")]),
            ],
            heading=_("Receipts and payments"),
        ),
        InlinePanel("partners", heading=_("Partners"), label=_("Partner")),
    ]
