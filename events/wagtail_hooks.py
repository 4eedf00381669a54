"""What the events app lends the admin and the giving app: its screens, its Stripe events
(`campaigns.stripe_reads.PAYMENT_OWNERS`), its network policies, its history action."""

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from campaigns.stripe_handlers import GIFT_PAID
from campaigns.stripe_reads import PAYMENT_OWNERS
from campaigns.templatetags.giving import CAMPAIGN_EXTRAS
from campaigns.views import GIFT_STARTED
from crm.tenancy import (
    ANY_ACTION,
    MEMBERS,
    NetworkPermissionPolicy,
    policy_for,
    register_network_policy,
)

from . import admin_views, fundraiser_admin, fundraiser_views, fundraisers, stripe_owner
from .cancel import CANCEL_ACTION
from .models import Fundraiser, Order, Ticket

# The door staff may be a network's treasurers or communicators; refunds ask more (the
# `refund` permission on gifts, `admin_views.cancel`).
register_network_policy(
    Order, NetworkPermissionPolicy(Order, members=MEMBERS, model_permissions=False)
)
register_network_policy(
    Ticket, NetworkPermissionPolicy(Ticket, members=MEMBERS, model_permissions=False)
)

register_network_policy(
    Fundraiser, NetworkPermissionPolicy(Fundraiser, members=MEMBERS, model_permissions=False)
)

hooks.register(PAYMENT_OWNERS, stripe_owner.own)
hooks.register(GIFT_STARTED, fundraiser_views.gift_started)
hooks.register(GIFT_PAID, fundraisers.gift_paid)
hooks.register(CAMPAIGN_EXTRAS, fundraiser_views.campaign_links)


@hooks.register("register_admin_urls")
def event_urls():
    return [
        path("events/", admin_views.index, name="events_admin"),
        path("events/<int:event_id>/", admin_views.event_orders, name="events_admin_event"),
        path("events/<int:event_id>/checkin/", admin_views.checkin, name="events_checkin"),
        path("events/checkin/", admin_views.checkin_ticket, name="events_checkin_ticket"),
        path("events/orders/<int:pk>/cancel/", admin_views.cancel, name="events_order_cancel"),
        path("events/pages/", fundraiser_admin.index, name="events_fundraisers"),
        path("events/pages/<int:pk>/", fundraiser_admin.detail, name="events_fundraiser"),
        path(
            "events/pages/<int:pk>/photo/", fundraiser_admin.photo, name="events_fundraiser_photo"
        ),
    ]


class ScopedMenuItem(MenuItem):
    """A menu item shown only to who may open its screen (`network_view(model)`): an entity's
    own treasurer reaches no network's events, and is not offered a screen that refuses them."""

    def __init__(self, model, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.model = model

    def is_shown(self, request):
        return policy_for(self.model).user_has_any_permission(request.user, ANY_ACTION)


@hooks.register("register_admin_menu_item")
def events_menu_item():
    return ScopedMenuItem(Order, _("Events"), reverse("events_admin"), icon_name="date", order=450)


@hooks.register("register_admin_menu_item")
def fundraisers_menu_item():
    url = reverse("events_fundraisers")
    return ScopedMenuItem(Fundraiser, _("Personal pages"), url, icon_name="user", order=460)


@hooks.register("register_log_actions")
def register_cancel_action(actions):
    actions.register_action(CANCEL_ACTION, _("Cancel"), _("Order cancelled and refunded"))
