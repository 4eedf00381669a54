"""Registers the outreach screens in the Wagtail admin: segments, messages to donors and the
fundraising report, for a network's treasurers and communicators; the community of practice,
for observers."""

from django.contrib.auth.models import Permission
from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from crm import extensions
from crm.tenancy import MEMBERS, NetworkPermissionPolicy, register_network_policy

from . import community_views, message_common, report_views, subscriptions, views
from .access import networks_for
from .community import can_observe
from .message_views import MessageViewSet
from .models import Message

# Every network's communicators and treasurers write, send and read its messages to donors
# (`crm.tenancy` gives these to the network's groups; rows stay scoped by `networks_for`).
MESSAGE_PERMISSIONS = [
    ("outreach", "view_message"),
    ("outreach", "add_message"),
    ("outreach", "change_message"),
    ("outreach", "delete_message"),
]

# The network permission policy of the CRM: the model permissions, and only the messages of the
# networks the user reaches as treasurer or communicator.
register_network_policy(Message, NetworkPermissionPolicy(Message, members=MEMBERS))


class CommunityMenuItem(MenuItem):
    def is_shown(self, request):
        return can_observe(request.user)


class OutreachMenuItem(MenuItem):
    def is_shown(self, request):
        return networks_for(request.user).exists()


@hooks.register("register_admin_urls")
def register_segment_urls():
    return [
        path("outreach/segments/", include((views.urlpatterns, "outreach_segments"))),
        path("outreach/report/", include((report_views.urlpatterns, "outreach_report"))),
        path(
            "outreach/community/",
            include((community_views.urlpatterns, "outreach_community")),
        ),
    ]


@hooks.register("register_admin_menu_item")
def segments_menu_item():
    return OutreachMenuItem(
        _("Segments"), reverse("outreach_segments:index"), icon_name="group", order=460
    )


@hooks.register("register_admin_menu_item")
def report_menu_item():
    return OutreachMenuItem(
        _("Fundraising report"), reverse("outreach_report:index"), icon_name="table", order=461
    )


@hooks.register("register_admin_menu_item")
def community_menu_item():
    return CommunityMenuItem(
        _("Community of practice"),
        reverse("outreach_community:index"),
        icon_name="site",
        order=463,
    )


@hooks.register("register_permissions")
def community_permission():
    # Listed on Settings → Groups, so a superuser can give it to the funding foundation's group.
    return Permission.objects.filter(content_type__app_label="outreach", codename="view_community")


@hooks.register("register_admin_viewset")
def message_viewset():
    return MessageViewSet("outreach_message", url_prefix="outreach/messages")


@hooks.register(extensions.TREASURER_PERMISSIONS)
def treasurer_permissions():
    return MESSAGE_PERMISSIONS


@hooks.register(extensions.DONOR_ERASED)
def forget_erased_donor(donor):
    subscriptions.forget_donor(donor)


@hooks.register(extensions.COMMUNICATOR_PERMISSIONS)
def communicator_permissions():
    return MESSAGE_PERMISSIONS


@hooks.register("register_log_actions")
def register_message_log_actions(actions):
    actions.register_action(
        message_common.LOG_TEST, _("Test sent"), _("Message sent as a test to the writer")
    )
    actions.register_action(message_common.LOG_SEND, _("Send"), _("Sending to the donors started"))
    actions.register_action(message_common.LOG_SCHEDULE, _("Schedule"), _("Sending scheduled"))
    actions.register_action(
        message_common.LOG_UNSCHEDULE, _("Cancel the schedule"), _("Schedule cancelled")
    )
