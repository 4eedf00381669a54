"""Registers the outreach screens in the Wagtail admin: segments, for a network's treasurers
and communicators."""

from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from . import views
from .access import networks_for


class OutreachMenuItem(MenuItem):
    def is_shown(self, request):
        return networks_for(request.user).exists()


@hooks.register("register_admin_urls")
def register_segment_urls():
    return [path("outreach/segments/", include((views.urlpatterns, "outreach_segments")))]


@hooks.register("register_admin_menu_item")
def segments_menu_item():
    return OutreachMenuItem(
        _("Segments"), reverse("outreach_segments:index"), icon_name="group", order=460
    )
