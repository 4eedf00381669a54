"""What the outer apps lend the core. `crm` never imports `cms` or `campaigns`; where the core
must show something of theirs (campaign progress on the dashboard, the donor's stop-giving
link), the outer app registers a function under one of these Wagtail hook names, in its
`wagtail_hooks.py`, and the core asks for it here. With none registered, the core does without.
"""

from wagtail import hooks
from wagtail.models import Page

# fn(networks) -> queryset of the campaign pages under these networks' pages.
CAMPAIGN_PAGES = "crm_campaign_pages"
# fn(networks) -> [{"title", "raised", "goal", "percent", "matched"}] for the dashboard, cents
# ("matched": what funders pledged to match so far, never raised; None without a pledge).
CAMPAIGN_PROGRESS = "crm_campaign_progress"
# fn(token) -> the URL path of the page where a monthly donor stops their plan.
PLAN_CANCEL_PATH = "crm_plan_cancel_path"
# fn(token) -> the URL path of the page where a donor manages their plan (amount, interval,
# pause, card, stop); without one, the stop page.
PLAN_MANAGE_PATH = "crm_plan_manage_path"
# fn() -> the giving app's plan verbs, each calling Stripe then recording the change:
# an object with cancel(plan, *, user, by), change_amount(plan, amount_cents, *, user, by),
# change_interval(plan, interval, *, user, by), pause(plan, *, user, by),
# resume(plan, *, user, by), check(plan, *, user, by) (ask Stripe again about a plan to
# check). They raise `crm.plans.PlanGone` / `PlanToCheck` / `PlanServiceDown`.
PLAN_CHANGES = "crm_plan_changes"
# fn() -> [(app_label, codename)]: more model permissions for every network's treasurers.
TREASURER_PERMISSIONS = "crm_treasurer_permissions"
# fn() -> [(app_label, codename)]: more model permissions for every partner entity's own
# treasurers (the giving app: its payouts, scoped to the entity's Stripe account).
ENTITY_TREASURER_PERMISSIONS = "crm_entity_treasurer_permissions"
# fn() -> [(app_label, codename)]: more model permissions for every network's communicators.
COMMUNICATOR_PERMISSIONS = "crm_communicator_permissions"
# fn(request, donation) -> [(label, url, "get" | "post")]: more actions on a gift's admin page
# (the giving app: "Refund", through Stripe).
GIFT_ACTIONS = "crm_gift_actions"
# fn(request, donor) -> [{"title", "rows": [(label, value)]}]: more sections on a donor's
# page (the giving app: what a funder of matched campaigns pledged and owes).
DONOR_SECTIONS = "crm_donor_sections"
# fn(donor) -> None: a donor is being erased (GDPR art. 17, `crm.privacy.anonymise_donor`),
# inside its transaction and before their personal data are blanked: an outer app blanks
# what it keeps of them (outreach: the address on its deliveries).
DONOR_ERASED = "crm_donor_erased"
# The admin's CRM menu: an outer app's viewset with `menu_hook = CRM_MENU` shows up in it.
CRM_MENU = "register_crm_menu_item"


def _first(name):
    found = hooks.get_hooks(name)
    return found[0] if found else None


def campaign_pages(networks):
    provider = _first(CAMPAIGN_PAGES)
    return provider(networks) if provider else Page.objects.none()


def campaign_progress(networks):
    provider = _first(CAMPAIGN_PROGRESS)
    return provider(networks) if provider else []


def plan_cancel_path(token):
    provider = _first(PLAN_CANCEL_PATH)
    return provider(token) if provider else ""


def plan_manage_path(token):
    provider = _first(PLAN_MANAGE_PATH)
    return provider(token) if provider else plan_cancel_path(token)


def plan_changes():
    """The giving app's plan verbs (see PLAN_CHANGES), or None."""
    provider = _first(PLAN_CHANGES)
    return provider() if provider else None


def treasurer_permissions():
    return [perm for provider in hooks.get_hooks(TREASURER_PERMISSIONS) for perm in provider()]


def entity_treasurer_permissions():
    return [
        perm for provider in hooks.get_hooks(ENTITY_TREASURER_PERMISSIONS) for perm in provider()
    ]


def communicator_permissions():
    return [perm for provider in hooks.get_hooks(COMMUNICATOR_PERMISSIONS) for perm in provider()]


def gift_actions(request, donation):
    return [
        action
        for provider in hooks.get_hooks(GIFT_ACTIONS)
        for action in provider(request, donation)
    ]


def donor_sections(request, donor):
    return [
        section
        for provider in hooks.get_hooks(DONOR_SECTIONS)
        for section in provider(request, donor)
    ]


def donor_erased(donor):
    """Let every outer app forget what it keeps of `donor` (see DONOR_ERASED)."""
    for forget in hooks.get_hooks(DONOR_ERASED):
        forget(donor)
