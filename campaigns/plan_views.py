"""The donor's plan page, reached from the signed link in our emails (no login: the signature
is the key, `crm.links.plan_manage_url`): change the amount or how often, pause and resume,
give a new card on Stripe's page, stop. The older stop link (`crm.links.plan_cancel_url`)
leads to the stop question, which links here.

A forged link is a 404, an expired or revoked one a 410, each with a page that says what to do
(the donor's page, `crm.portal`, sends a fresh link by email). The donor revokes every link
to the plan sent so far from the page itself ("revoke"), a treasurer from the plan's screen
(`crm.links.revoke_plan_links`). The pages are never stored by a browser or a proxy nor
indexed, and send no address (with its key) to another site. A change that Stripe cannot
make leaves everything as it was and says so (503); so does a plan Stripe does not know with
our key and account (marked to check for the treasurer)."""

import functools
import logging

from django.core import signing
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from crm import plans
from crm.links import plan_from_cancel_token, plan_of_old_link, revoke_plan_links
from crm.models import RecurringPlan
from crm.plan_forms import PlanAmountForm, PlanIntervalForm
from crm.plan_history import BY_DONOR
from crm.portal_links import request_url

from . import plan_changes

log = logging.getLogger(__name__)
# What the page says after a change (the `done` query parameter of the redirect).
DONE = ("amount", "interval", "paused", "resumed", "card", "stopped")


def private_page(view):
    """The plan's pages: not kept by browsers or proxies (no-store), not indexed, and the
    address, which is the key, never sent as a referrer to another site (Stripe's page)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["X-Robots-Tag"] = "noindex, nofollow"
        response["Referrer-Policy"] = "same-origin"
        return response

    return never_cache(wrapper)


def _ask_url(pk):
    """Where the donor of plan `pk` asks for a fresh link (their page), or ""."""
    plan = RecurringPlan.objects.select_related("network", "donor").filter(pk=pk).first()
    return request_url(plan.network, plan.donor) if plan is not None else ""


def _plan_or_page(request, token, template):
    """(plan, None) for a valid link, or (None, the 404/410 page)."""
    try:
        pk, version = plan_from_cancel_token(token)
    except signing.SignatureExpired:
        context = {"link_problem": "expired", "ask_url": _ask_url(plan_of_old_link(token))}
        return None, render(request, template, context, status=410)
    except signing.BadSignature:
        return None, render(request, template, {"link_problem": "invalid"}, status=404)
    plan = RecurringPlan.objects.select_related("network", "donor").filter(pk=pk).first()
    if plan is None:
        return None, render(request, template, {"link_problem": "invalid"}, status=404)
    if version != plan.link_version:
        context = {"link_problem": "revoked", "ask_url": _ask_url(plan.pk)}
        return None, render(request, template, context, status=410)
    return plan, None


def _manage_url(token, done=""):
    url = reverse("campaigns:manage_plan", args=[token])
    return f"{url}?done={done}" if done else url


@private_page
@require_http_methods(["GET", "POST"])
def manage_plan(request, token):
    plan, problem = _plan_or_page(request, token, "campaigns/manage_plan.html")
    if problem:
        return problem
    if request.method == "POST" and request.POST.get("action") == "revoke":
        revoke_plan_links(plan)
        context = {"link_problem": "revoked_now", "ask_url": _ask_url(plan.pk)}
        return render(request, "campaigns/manage_plan.html", context)
    amount_form = PlanAmountForm(plan=plan)
    interval_form = PlanIntervalForm(plan=plan, initial={"interval": plan.interval})
    error, status = None, 200
    action = request.POST.get("action") if request.method == "POST" else None
    live = plan.status != RecurringPlan.Status.CANCELLED
    try:
        if action and live:
            if action == "amount":
                amount_form = PlanAmountForm(request.POST, plan=plan)
                if amount_form.is_valid():
                    plan_changes.change_amount(
                        plan, amount_form.cleaned_data["amount"], by=BY_DONOR
                    )
                    return HttpResponseRedirect(_manage_url(token, "amount"), status=303)
                status = 400
            elif action == "interval":
                interval_form = PlanIntervalForm(request.POST, plan=plan)
                if interval_form.is_valid():
                    plan_changes.change_interval(
                        plan, interval_form.cleaned_data["interval"], by=BY_DONOR
                    )
                    return HttpResponseRedirect(_manage_url(token, "interval"), status=303)
                status = 400
            elif action == "pause" and plan.status != RecurringPlan.Status.PAUSED:
                plan_changes.pause(plan, by=BY_DONOR)
                return HttpResponseRedirect(_manage_url(token, "paused"), status=303)
            elif action == "resume" and plan.status == RecurringPlan.Status.PAUSED:
                plan_changes.resume(plan, by=BY_DONOR)
                return HttpResponseRedirect(_manage_url(token, "resumed"), status=303)
            elif action == "card":
                back = request.build_absolute_uri(_manage_url(token, "card"))
                url = plan_changes.card_update_url(
                    plan, return_url=back, language=(get_language() or "it")[:2], by=BY_DONOR
                )
                return HttpResponseRedirect(url, status=303)
            else:
                status = 400
        elif action:
            status = 409
    except plans.PlanGone:
        plan.refresh_from_db()
    except (plans.PlanServiceDown, plans.PlanToCheck) as exc:
        error, status = str(exc), 503
    plan.refresh_from_db()
    done = request.GET.get("done")
    return render(
        request,
        "campaigns/manage_plan.html",
        {
            "plan": plan,
            "token": token,
            "amount_form": amount_form,
            "interval_form": interval_form,
            "error": error,
            "done": done if done in DONE else "",
            "cancel_url": reverse("campaigns:cancel_plan", args=[token]),
        },
        status=status,
    )


@private_page
@require_http_methods(["GET", "POST"])
def cancel_plan(request, token):
    """Asks "stop your gift?", then stops it (the link of our older emails leads here too)."""
    plan, problem = _plan_or_page(request, token, "campaigns/cancel_plan.html")
    if problem:
        return problem
    done = plan.status == RecurringPlan.Status.CANCELLED
    error = None
    if request.method == "POST" and not done:
        try:
            plan_changes.cancel(plan, by=BY_DONOR)
        except plans.PlanGone:
            pass
        except (plans.PlanServiceDown, plans.PlanToCheck) as exc:
            log.warning("could not stop plan %s: %s", plan.pk, exc)
            error = str(exc)
        plan.refresh_from_db()
        done = plan.status == RecurringPlan.Status.CANCELLED
    return render(
        request,
        "campaigns/cancel_plan.html",
        {
            "plan": plan,
            "done": done,
            "error": error,
            "manage_url": reverse("campaigns:manage_plan", args=[token]),
        },
        status=503 if error else 200,
    )
