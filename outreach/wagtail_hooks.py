"""Registers the outreach screens in the Wagtail admin: segments and the fundraising report, for
a network's treasurers and communicators; the community of practice, for observers."""

from django.contrib.auth.models import Permission
from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from . import community_views, report_views, views
from .access import networks_for
from .community import can_observe


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
        order=462,
    )


@hooks.register("register_permissions")
def community_permission():
    # Listed on Settings → Groups, so a superuser can give it to the funding foundation's group.
    return Permission.objects.filter(content_type__app_label="outreach", codename="view_community")
