"""Registers what the giving app lends the admin and the CRM core (`crm.extensions`)."""

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from crm import extensions

from . import donor_wall, reports
from .viewsets import StripeEventViewSet


@hooks.register("register_admin_viewset")
def stripe_event_viewset():
    return StripeEventViewSet("campaigns_stripeevent", url_prefix="crm/stripe-events")


@hooks.register(extensions.TREASURER_PERMISSIONS)
def treasurer_permissions():
    return [("campaigns", "view_stripeevent")]


hooks.register(extensions.CAMPAIGN_PAGES, reports.campaign_pages)
hooks.register(extensions.CAMPAIGN_PROGRESS, reports.campaign_progress)


@hooks.register(extensions.PLAN_CANCEL_PATH)
def plan_cancel_path(token):
    return reverse("campaigns:cancel_plan", args=[token])


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
