"""Receipts in Wagtail's history log (docs/design/domain.md: every change to receipts is logged).
The actions are registered with the `register_log_actions` hook; this module is imported from
`crm.receipt_receivers` (so from `CrmConfig.ready()`), before Wagtail first scans the hook."""

from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.log_actions import log

ISSUE = "crm.receipt.issue"
VOID = "crm.receipt.void"
REISSUE = "crm.receipt.reissue"
RESEND = "crm.receipt.resend"


@hooks.register("register_log_actions")
def register_receipt_log_actions(actions):
    actions.register_action(ISSUE, _("Issue receipt"), _("Receipt issued"))
    actions.register_action(VOID, _("Void receipt"), _("Receipt voided"))
    actions.register_action(REISSUE, _("Reissue receipt"), _("Receipt voided and reissued"))
    actions.register_action(RESEND, _("Resend receipt"), _("Receipt emailed again"))


def log_receipt(receipt, action, user=None, **data):
    """One history entry for `receipt`, in the caller's transaction (rolled back with it)."""
    return log(instance=receipt, action=action, user=user, data={"number": receipt.number, **data})
