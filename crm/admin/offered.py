"""What a user is offered on a CRM screen: links and buttons only to the screens they may open
(an entity's own treasurer reads the entity's gifts and receipts; the donors' pages, issuing,
voiding and reissuing receipts are the network's treasurers'). A link that leads to "Sorry,
you do not have permission" is a trap, not a feature."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import TitleColumn
from wagtail.admin.views.bulk_action.registry import bulk_action_registry
from wagtail.admin.widgets.button import ListingButton

from crm.models import Donor
from crm.tenancy import policy_for


def may(user, model, action="view"):
    """Whether `user` may do `action` on some rows of `model`: a link or a button to a screen
    they would be refused is not shown (an entity's treasurer reads gifts, not donors)."""
    return policy_for(model).user_has_permission(user, action)


def donor_url(user, donor_id):
    """The donor's page, for who may read donors; None (no link) for anyone else."""
    if donor_id and may(user, Donor):
        return reverse("crm_donor:inspect", args=[donor_id])
    return None


class DonorColumn(TitleColumn):
    """A list column whose donor's name opens the donor's page (their history), for who may
    read donors; for an entity's treasurer, the name alone."""

    def get_link_url(self, instance, parent_context):
        request = parent_context.get("request")
        return donor_url(request.user, instance.donor_id) if request else None


def donor_column(name="donor", **kwargs):
    # No donor yet (a payment held for review, a checkout): a dash, never "None".
    kwargs.setdefault("accessor", lambda item: getattr(item, name, None) or "—")
    return DonorColumn(name, label=kwargs.pop("label", _("Donor")), **kwargs)


def bulk_buttons(user, model):
    """The bulk actions bar's buttons (Wagtail's `bulk_action_choices` shows every action to
    everyone): only those the user may do (`network_policy`), so an entity's treasurer is not
    offered to void receipts that a screen would then refuse."""
    opts = model._meta
    actions = bulk_action_registry.get_bulk_actions_for_model(opts.app_label, opts.model_name)
    label, name = opts.app_label, opts.model_name
    return [
        ListingButton(
            action.display_name,
            reverse("wagtail_bulk_action", args=[label, name, action.action_type]),
            attrs={"aria-label": action.aria_label, "data-bulk-action-button": ""},
            priority=action.action_priority,
            classname=" ".join(action.classes | {"bulk-action-btn"}),
        )
        for action in sorted(actions, key=lambda action: action.action_priority)
        if may(user, *getattr(action, "network_policy", None) or (model, "view"))
    ]
