"""CRM → Issuing entities: the legal bodies of a network that receive gifts and issue their
receipts (issue 26). The network's treasurers add and edit them; the lead entity's data are the
network's own (kept in step). Entities are never deleted: their receipts keep them."""

from django.forms import modelform_factory
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import Column, StatusFlagColumn

from crm.models import IssuingEntity

from .common import ActionsInspectView, ScopedForm, ScopedModelViewSet
from .entity_treasurers import entity_treasurers
from .lost_saves import LostRaceCreateView, LostRaceEditView


class IssuingEntityForm(ScopedForm):
    """The user's networks only (ScopedForm); an entity never moves to another network, its
    receipts stay where they were issued."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["network"].disabled = True
        if self.instance.is_lead and "stripe_account_id" in self.fields:
            # The lead entity's account is the network's (Settings → Networks).
            self.fields["stripe_account_id"].disabled = True


class IssuingEntityInspectView(ActionsInspectView):
    def get_actions(self):
        if self.object.is_lead:  # its treasurers are the network's
            return []
        url = reverse("crm_entity:treasurers", args=[self.object.pk])
        return [(_("Treasurers of this entity"), url, "get")]


class IssuingEntityViewSet(ScopedModelViewSet):
    model = IssuingEntity
    icon = "site"
    menu_label = _("Issuing entities")
    add_to_admin_menu = False
    url_names = {"index", "index_results", "add", "edit", "inspect", "history", "history_results"}
    empty_message = _("No issuing entity yet.")
    inspect_view_class = IssuingEntityInspectView
    # Two treasurers saving one Stripe account at once: the second reads why on the form.
    add_view_class = LostRaceCreateView
    edit_view_class = LostRaceEditView
    list_display = [
        "legal_name",
        Column("network", label=_("Network"), accessor="network.name"),
        "codice_fiscale",
        "receipt_series",
        StatusFlagColumn("is_lead", label=_("Lead entity"), true_label=_("Lead entity")),
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
        "stripe_account_id",
        "signer_name",
        "signer_role",
    ]
    form_fields = [
        "network",
        "legal_name",
        "codice_fiscale",
        "partita_iva",
        "entity_kind",
        "runts_number",
        "tax_regime",
        "street_address",
        "postal_code",
        "city",
        "province",
        "email",
        "phone",
        "signer_name",
        "signer_role",
        "logo",
        "receipt_series",
        "declared_income_cents",
        "stripe_account_id",
    ]

    def get_form_class(self, for_update=False):
        return modelform_factory(self.model, form=IssuingEntityForm, fields=self.form_fields)

    def get_extra_urlpatterns(self):
        return [path("<int:pk>/treasurers/", entity_treasurers, name="treasurers")]
