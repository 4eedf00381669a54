"""Recurring plans in the admin: the list, and the plan's page (its gifts, next charge date,
failures and history) with the treasurer's actions: stop, change the amount or how often,
pause and resume, send the donor their manage link. Each action asks first (a question
page that says what will happen), then acts.

The actions that call Stripe are the giving app's (`crm.extensions.plan_changes()`); the
core only asks for them. Every view asks the network permission policy (another network's
plan is a 404, see `crm.tenancy.network_view`)."""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.components import Component

from crm import extensions, plan_history, plans
from crm.links import revoke_plan_links
from crm.models import RecurringPlan
from crm.money import format_amount
from crm.plan_forms import PlanIntervalForm, StaffPlanAmountForm
from crm.tenancy import network_view, reached

from .common import ActionsInspectView, ScopedModelViewSet, donor_column

LIVE = (
    RecurringPlan.Status.ACTIVE,
    RecurringPlan.Status.PAST_DUE,
    RecurringPlan.Status.PAUSED,
    RecurringPlan.Status.TO_CHECK,
)


def _url(name, pk):
    return reverse(f"crm_recurringplan:{name}", args=[pk])


def _date(value):
    return timezone.localtime(value).strftime("%d/%m/%Y") if value else "—"


class RecurringPlanInspectView(ActionsInspectView):
    template_name = "crm/admin/plan_inspect.html"

    def get_fields(self):
        return []  # the summary below says it all, in the reader's words and time zone

    def get_actions(self):
        plan, pk = self.object, self.object.pk
        actions = []
        stripe_managed = bool(plan.stripe_subscription_id) and extensions.plan_changes()
        if plan.status == RecurringPlan.Status.TO_CHECK and stripe_managed:
            actions.append((_("Check again with Stripe"), _url("plan_check", pk), "get"))
        if plan.status in LIVE and stripe_managed:
            actions.append((_("Change amount"), _url("plan_amount", pk), "get"))
            actions.append((_("Change how often"), _url("plan_interval", pk), "get"))
            if plan.status == RecurringPlan.Status.PAUSED:
                actions.append((_("Resume"), _url("plan_resume", pk), "get"))
            else:
                actions.append((_("Pause"), _url("plan_pause", pk), "get"))
            actions.append((_("Stop the plan"), _url("plan_cancel", pk), "get"))
        if plan.status != RecurringPlan.Status.CANCELLED and plan.donor_id and plan.donor.email:
            actions.append((_("Send the donor their manage link"), _url("plan_link", pk), "get"))
        actions.append((_("Make the donor's links stop working"), _url("plan_revoke", pk), "get"))
        if plan.donor_id:
            actions.append((_("Donor"), reverse("crm_donor:inspect", args=[plan.donor_id]), "get"))
        return actions

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        plan = self.object
        labels = dict(RecurringPlan.Interval.choices)
        context["plan"] = plan
        context["summary"] = [
            (_("Donor"), plan.donor.display_name if plan.donor_id else "—"),
            (_("Network"), plan.network.name),
            (_("Campaign"), plan.campaign.title if plan.campaign_id else "—"),
            (_("Amount"), format_amount(plan.amount_cents)),
            (_("How often"), plan.get_interval_display()),
            (_("Status"), plan.get_status_display()),
            (_("Next charge"), _date(plan.upcoming_charge)),
            (_("Failed payments"), str(plan.failures)),
            (_("Started"), _date(plan.started_at)),
            (_("Stopped"), _date(plan.cancelled_at)),
        ]
        if plan.status == RecurringPlan.Status.TO_CHECK:
            context["check_note"] = plan.check_note
        context["gifts"] = plan.donations.order_by("-received_on", "-id")[:100]
        context["history"] = [
            (entry, plan_history.describe(entry, labels))
            for entry in plan_history.entries(plan)[:100]
        ]
        return context


# --- Actions: a question page, then the change ----------------------------------------------------


class _NoFields(forms.Form):
    def __init__(self, *args, plan, **kwargs):
        super().__init__(*args, **kwargs)


def _action_spec(plan, action):
    """(question, what will happen, form class) of an action."""
    amount = format_amount(plan.amount_cents)
    next_charge = _date(plan.upcoming_charge)
    donor_email = plan.donor.email if plan.donor_id else ""
    specs = {
        "cancel": (
            _("Stop this plan?"),
            _(
                "Stripe stops the subscription now: no further payments will be taken. The "
                "donor receives an email saying their plan has stopped. This cannot be undone."
            ),
            _NoFields,
        ),
        "amount": (
            _("Change the amount of this plan?"),
            _(
                "Now %(amount)s. From the next charge (%(date)s) Stripe charges the new "
                "amount; nothing is charged or refunded now."
            )
            % {"amount": amount, "date": next_charge},
            StaffPlanAmountForm,
        ),
        "interval": (
            _("Change how often this plan gives?"),
            _(
                "Same amount (%(amount)s), at the new frequency from the next charge date "
                "(%(date)s); nothing is charged before."
            )
            % {"amount": amount, "date": next_charge},
            PlanIntervalForm,
        ),
        "pause": (
            _("Pause this plan?"),
            _("Stripe charges nothing until the plan is resumed; the plan is kept."),
            _NoFields,
        ),
        "resume": (
            _("Resume this plan?"),
            _("Stripe charges %(amount)s again from the next charge date.") % {"amount": amount},
            _NoFields,
        ),
        "check": (
            _("Ask Stripe again about this plan?"),
            _(
                "Trama asks Stripe for the subscription with the key and account in use now. If "
                "Stripe knows it, the plan takes the state Stripe has; if Stripe says it is "
                "cancelled, the plan stops and the donor is told. Otherwise it stays to check."
            ),
            _NoFields,
        ),
        "revoke": (
            _("Make the donor's links to this plan stop working?"),
            _(
                "Every link to this plan's page sent so far (in receipts, confirmations and "
                "reminders) stops working: whoever has one of them can no longer change or stop "
                "the plan. The plan itself does not change. The donor gets a new link from "
                "their page on the site, or from you (Send the donor their manage link)."
            ),
            _NoFields,
        ),
        "link": (
            _("Send the donor their manage link?"),
            _(
                "An email goes to %(email)s with a signed link where the donor can change the "
                "amount or frequency, pause, update the card or stop the plan."
            )
            % {"email": donor_email},
            _NoFields,
        ),
    }
    question, consequence, form_class = specs[action]
    if action in TOLD and donor_email:
        consequence = format_lazy(
            "{} {}", consequence, _("The donor receives an email confirming the change.")
        )
    return question, consequence, form_class


# The changes the donor is told about by email (`crm.plans.update_plan`).
TOLD = ("amount", "interval", "pause", "resume")


def _act(request, plan, action, data):
    """Run the action; returns the success message."""
    if action == "revoke":
        revoke_plan_links(plan)
        return _("The links sent so far no longer work.")
    if action == "link":
        if plans.send_manage_link(plan, user=request.user) is None:
            raise plans.PlanError(_("The donor has no email address."))
        return _("The manage link was sent to the donor.")
    verbs = extensions.plan_changes()
    if verbs is None or not plan.stripe_subscription_id:
        raise Http404
    by = {"user": request.user, "by": plan_history.BY_TREASURER}
    if action == "check":
        checked = verbs.check(plan, **by)
        return _("Stripe knows this subscription: the plan is %(status)s.") % {
            "status": checked.get_status_display().lower()
        }
    if action == "cancel":
        verbs.cancel(plan, **by)
        return _("The plan is stopped. The donor has been told.")
    if action == "amount":
        verbs.change_amount(plan, data["amount"], **by)
        return _("The amount is changed from the next charge.")
    if action == "interval":
        verbs.change_interval(plan, data["interval"], **by)
        return _("The frequency is changed from the next charge date.")
    if action == "pause":
        verbs.pause(plan, **by)
        return _("The plan is paused.")
    verbs.resume(plan, **by)
    return _("The plan is resumed.")


def _allowed(plan, action):
    if action == "revoke":
        return True
    if action == "link":
        return plan.status != RecurringPlan.Status.CANCELLED and bool(
            plan.donor_id and plan.donor.email
        )
    if plan.status not in LIVE:
        return False
    if action == "pause":
        return plan.status != RecurringPlan.Status.PAUSED
    if action == "resume":
        return plan.status == RecurringPlan.Status.PAUSED
    if action == "check":
        return plan.status == RecurringPlan.Status.TO_CHECK
    return True


ACTIONS = ("cancel", "amount", "interval", "pause", "resume", "check", "link", "revoke")


def _action_view(action):
    def view(request, pk):
        return plan_action(request, pk, action)

    view.__name__ = f"plan_{action}"
    return network_view(RecurringPlan, "change")(view)


def plan_action(request, pk, action):
    plans_reached = reached(request.user, RecurringPlan, "change")
    plan = get_object_or_404(plans_reached.select_related("donor", "network"), pk=pk)
    back = _url("inspect", plan.pk)
    if not _allowed(plan, action):
        messages.warning(request, _("This action is no longer possible for this plan."))
        return redirect(back)
    question, consequence, form_class = _action_spec(plan, action)
    form = form_class(request.POST if request.method == "POST" else None, plan=plan)
    if action == "interval" and not form.is_bound:
        form = form_class(plan=plan, initial={"interval": plan.interval})
    error, status = None, 200
    if request.method == "POST":
        if form.is_valid():
            try:
                messages.success(request, _act(request, plan, action, form.cleaned_data))
                return redirect(back)
            except plans.PlanGone:
                messages.warning(request, _("This plan is already stopped."))
                return redirect(back)
            except plans.PlanToCheck:
                plan.refresh_from_db()
                messages.warning(
                    request,
                    _("Nothing was changed and no donor was told: the plan is to check. %(note)s")
                    % {"note": plan.check_note},
                )
                return redirect(back)
            except plans.PlanError as exc:
                error, status = str(exc), 503
        else:
            status = 400
    return TemplateResponse(
        request,
        "crm/admin/plan_action.html",
        {
            "title": question,
            "object": plan,
            "consequence": consequence,
            "form": form,
            "error": error,
            "back_url": back,
        },
        status=status,
    )


class RecurringPlanViewSet(ScopedModelViewSet):
    model = RecurringPlan
    icon = "repeat"
    menu_label = _("Recurring plans")
    empty_message = _("No recurring plans yet.")
    list_display = ["__str__", donor_column(), "status", "failures", "started_at", "cancelled_at"]
    list_filter = ["status", "interval"]
    list_export = ["id", "donor", "amount_cents", "interval", "status", "failures", "started_at"]
    export_filename = "donazioni-periodiche"
    url_names = {"index", "index_results", "history", "history_results", "inspect"}
    inspect_view_class = RecurringPlanInspectView

    def get_extra_urlpatterns(self):
        return [
            path(f"<int:pk>/{action}/", _action_view(action), name=f"plan_{action}")
            for action in ACTIONS
        ]


# --- Plans to check, on the dashboard ---------------------------------------------------------


class PlansToCheckPanel(Component):
    """A notice on the admin home: the plans Stripe answered "No such subscription" for, with
    what was compared, for the networks the user reaches. Shown only when there are some."""

    name = "crm_plans_to_check"
    order = 40
    template_name = "crm/admin/plans_to_check_panel.html"

    def __init__(self, plans_to_check):
        self.plans = plans_to_check

    def get_context_data(self, parent_context=None):
        return {"plans": self.plans}


def plans_to_check_panels(request):
    to_check = list(
        reached(request.user, RecurringPlan, "view")
        .filter(status=RecurringPlan.Status.TO_CHECK)
        .select_related("donor", "network")
        .order_by("network__name", "pk")[:50]
    )
    return [PlansToCheckPanel(to_check)] if to_check else []
