"""Recurring plans in Wagtail's history log: each change (amount, interval, pause, resume,
card, stop, manage link sent) is one entry, whoever made it (the treasurer, the donor from
their signed link, or Stripe through a webhook). The treasurer's plan page reads them back
(`describe`). Registered with the `register_log_actions` hook; `crm.wagtail_hooks` imports
this module so the actions exist before Wagtail first scans the hook."""

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.log_actions import log
from wagtail.models import ModelLogEntry

from .money import format_amount

AMOUNT = "crm.plan.amount"
INTERVAL = "crm.plan.interval"
PAUSE = "crm.plan.pause"
RESUME = "crm.plan.resume"
CARD = "crm.plan.card"
STOP = "crm.plan.stop"
LINK = "crm.plan.link"
CHECK = "crm.plan.check"
ACTIONS = (AMOUNT, INTERVAL, PAUSE, RESUME, CARD, STOP, LINK, CHECK)

# Who made a change: the words the treasurer reads.
BY_TREASURER, BY_DONOR, BY_STRIPE = "treasurer", "donor", "stripe"
BY_LABELS = {
    BY_TREASURER: _("by the treasurer"),
    BY_DONOR: _("by the donor"),
    BY_STRIPE: _("at Stripe"),
}


@hooks.register("register_log_actions")
def register_plan_log_actions(actions):
    actions.register_action(AMOUNT, _("Change plan amount"), _("Plan amount changed"))
    actions.register_action(INTERVAL, _("Change plan interval"), _("Plan interval changed"))
    actions.register_action(PAUSE, _("Pause plan"), _("Plan paused"))
    actions.register_action(RESUME, _("Resume plan"), _("Plan resumed"))
    actions.register_action(CARD, _("Update payment method"), _("Payment method updated"))
    actions.register_action(STOP, _("Stop plan"), _("Plan stopped"))
    actions.register_action(LINK, _("Send manage link"), _("Manage link sent to the donor"))
    actions.register_action(
        CHECK, _("Mark plan to check"), _("Stripe does not know the subscription: to check")
    )


def log_plan(plan, action, *, user=None, by="", **data):
    """One history entry for `plan`, in the caller's transaction."""
    return log(instance=plan, action=action, user=user, data={"by": by, **data})


def entries(plan):
    return (
        ModelLogEntry.objects.filter(
            content_type__app_label="crm",
            content_type__model="recurringplan",
            object_id=str(plan.pk),
            action__in=ACTIONS,
        )
        .select_related("user")
        .order_by("-timestamp", "-pk")
    )


def describe(entry, interval_labels):
    """What an entry says, in the reader's language: "€ 10,00 → € 20,00 by the donor"."""
    data = entry.data or {}
    by = BY_LABELS.get(data.get("by"), "")
    if entry.action == AMOUNT:
        text = f"{format_amount(data.get('from') or 0)} → {format_amount(data.get('to') or 0)}"
    elif entry.action == INTERVAL:
        text = (
            f"{interval_labels.get(data.get('from'), '—')} → "
            f"{interval_labels.get(data.get('to'), '—')}"
        )
    elif entry.action == STOP and data.get("gone"):
        text = gettext("Stripe no longer knows this subscription: recorded as already stopped")
    elif entry.action == LINK:
        text = data.get("to") or ""
    elif entry.action == CHECK:
        text = data.get("note") or ""
    elif entry.action == PAUSE and data.get("resumes_at"):
        resumes = parse_datetime(data["resumes_at"])
        text = gettext("until %(date)s") % {
            "date": timezone.localtime(resumes).strftime("%d/%m/%Y") if resumes else "—"
        }
    else:
        text = ""
    return " ".join(part for part in (str(text), str(by)) if part)
