"""Registers what the giving app lends the admin and the CRM core (`crm.extensions`)."""

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from crm import extensions

from . import donor_wall, matches, plan_changes, refund_views, reports
from .match_admin import MatchPledgeViewSet
from .payouts.admin import PayoutViewSet
from .refunds import REFUND_ACTION
from .viewsets import StripeEventViewSet


@hooks.register("register_admin_viewset")
def stripe_event_viewset():
    return StripeEventViewSet("campaigns_stripeevent", url_prefix="crm/stripe-events")


@hooks.register("register_admin_viewset")
def payout_viewset():
    return PayoutViewSet("campaigns_payout", url_prefix="crm/payouts")


@hooks.register("register_admin_viewset")
def match_pledge_viewset():
    return MatchPledgeViewSet("campaigns_matchpledge", url_prefix="crm/matches")


hooks.register(extensions.DONOR_SECTIONS, matches.funder_sections)


@hooks.register(extensions.TREASURER_PERMISSIONS)
def treasurer_permissions():
    return [("campaigns", "view_stripeevent"), ("campaigns", "view_payout")]


@hooks.register(extensions.ENTITY_TREASURER_PERMISSIONS)
def entity_treasurer_permissions():
    # An entity's treasurers read the payouts of its own Stripe account (Payout's policy).
    return [("campaigns", "view_payout")]


hooks.register(extensions.CAMPAIGN_PAGES, reports.campaign_pages)
hooks.register(extensions.CAMPAIGN_PROGRESS, reports.campaign_progress)


@hooks.register(extensions.PLAN_CANCEL_PATH)
def plan_cancel_path(token):
    return reverse("campaigns:cancel_plan", args=[token])


@hooks.register("register_admin_urls")
def refund_urls():
    return [path("crm/refunds/<int:pk>/", refund_views.refund, name="campaigns_refund")]


hooks.register(extensions.GIFT_ACTIONS, refund_views.refund_actions)


@hooks.register("register_log_actions")
def register_refund_log_action(actions):
    actions.register_action(REFUND_ACTION, _("Refund"), _("Gift refunded through Stripe"))


@hooks.register(extensions.PLAN_MANAGE_PATH)
def plan_manage_path(token):
    return reverse("campaigns:manage_plan", args=[token])


@hooks.register(extensions.PLAN_CHANGES)
def plan_verbs():
    return plan_changes


@hooks.register("register_admin_urls")
def donor_wall_urls():
    return [
        path("donor-wall/", donor_wall.moderation, name="campaigns_donor_wall"),
        path(
            "donor-wall/<int:donation_id>/",
            donor_wall.decide,
            name="campaigns_donor_wall_decide",
        ),
    ]


@hooks.register("register_admin_menu_item")
def donor_wall_menu_item():
    return donor_wall.DonorWallMenuItem(
        _("Donor wall"), reverse("campaigns_donor_wall"), icon_name="group", order=450
    )
