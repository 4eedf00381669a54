"""Registers what the giving app lends the admin and the CRM core (`crm.extensions`)."""

from django.urls import reverse
from wagtail import hooks

from crm import extensions

from . import plan_changes, reports
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


@hooks.register(extensions.PLAN_MANAGE_PATH)
def plan_manage_path(token):
    return reverse("campaigns:manage_plan", args=[token])


@hooks.register(extensions.PLAN_CHANGES)
def plan_verbs():
    return plan_changes
