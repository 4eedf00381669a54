from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from wagtail import hooks

from . import admin_views, pagecache
from .documents import check_document_download
from .models import NetworkPage
from .viewsets import NetworkViewSet

# Registered after Wagtail's own (order): the later registration of an endpoint or of a bulk
# action for the same model replaces the earlier one.
AFTER_WAGTAIL = 100


@hooks.register("register_admin_viewset")
def register_network_viewset():
    return NetworkViewSet("networks")


hooks.register("construct_page_chooser_queryset", admin_views.limit_page_chooser)
hooks.register("construct_admin_api", admin_views.scope_admin_api, order=AFTER_WAGTAIL)
for action_class in admin_views.SCOPED_BULK_ACTIONS:
    hooks.register("register_bulk_action", action_class, order=AFTER_WAGTAIL)
hooks.register("before_serve_document", check_document_download)
# Anonymous visitors' story and campaign pages are stored whole (cms.pagecache).
hooks.register("before_serve_page", lambda page, request, *args: pagecache.mark_page(page, request))


@hooks.register("before_copy_page")
def refuse_copying_network_pages(request, page):
    """A network has exactly one page (its `network` link is unique): a copy of it, or of a
    page above one, could only fail. Say so instead, and change nothing."""
    has_network_page = NetworkPage.objects.filter(
        path__startswith=page.path, depth__gte=page.depth
    ).exists()
    if not has_network_page:
        return None
    messages.error(
        request,
        _(
            "A network's page cannot be copied: each network has exactly one page. "
            "For a new network, add it in Settings → Networks, then add a network page for it."
        ),
    )
    return redirect("wagtailadmin_explore", page.get_parent().pk)
