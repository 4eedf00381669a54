from wagtail import hooks

from . import admin_views
from .documents import check_document_download
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
