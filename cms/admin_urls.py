"""Wagtail admin screens that Wagtail offers no hook to scope, mounted on their own addresses
(config/urls.py includes this list just before Wagtail's admin, so these win): the same views,
subclassed to show a user only what they may see. See `cms.admin_views` and
`crm.admin.history` for what each one closes. The names stay Wagtail's (reversing
`wagtailadmin_reports:site_history` gives the same address).
"""

from django.urls import path
from django.views.decorators.cache import never_cache
from wagtail.admin.auth import require_admin_access
from wagtail.admin.viewsets.pages import base_page_viewset
from wagtail.utils.urlpatterns import decorate_urlpatterns

from crm.admin.history import SiteHistoryView

from .admin_views import (
    NamedPageSearchView,
    NeutralisedAgingPagesView,
    NeutralisedLockedPagesView,
    NeutralisedWorkflowTasksView,
    NeutralisedWorkflowView,
    ScopedBrowseView,
    ScopedChosenMultipleView,
    ScopedPageTypesUsageView,
)

urlpatterns = [
    path("reports/site-history/", SiteHistoryView.as_view()),
    path("reports/site-history/results/", SiteHistoryView.as_view(results_only=True)),
    path("reports/page-types-usage/", ScopedPageTypesUsageView.as_view()),
    path(
        "reports/page-types-usage/results/",
        ScopedPageTypesUsageView.as_view(results_only=True),
    ),
    # Exports that neutralise formulas (the views are Wagtail's, scoped as Wagtail scopes them).
    path("reports/aging-pages/", NeutralisedAgingPagesView.as_view()),
    path("reports/aging-pages/results/", NeutralisedAgingPagesView.as_view(results_only=True)),
    path("reports/locked/", NeutralisedLockedPagesView.as_view()),
    path("reports/locked/results/", NeutralisedLockedPagesView.as_view(results_only=True)),
    path("reports/workflow/", NeutralisedWorkflowView.as_view()),
    path("reports/workflow/results/", NeutralisedWorkflowView.as_view(results_only=True)),
    path("reports/workflow_tasks/", NeutralisedWorkflowTasksView.as_view()),
    path(
        "reports/workflow_tasks/results/",
        NeutralisedWorkflowTasksView.as_view(results_only=True),
    ),
    path("choose-page/<int:parent_page_id>/", ScopedBrowseView.as_view()),
    # The page search, built as Wagtail builds it (the base page viewset), its count named.
    path("pages/search/", base_page_viewset.construct_view(NamedPageSearchView)),
    path(
        "pages/search/results/",
        base_page_viewset.construct_view(NamedPageSearchView, results_only=True),
    ),
    path("choose-page/chosen-multiple/", ScopedChosenMultipleView.as_view()),
]

# As Wagtail decorates its own admin views: signed-in admin users only, never cached.
urlpatterns = decorate_urlpatterns(urlpatterns, require_admin_access)
urlpatterns = decorate_urlpatterns(urlpatterns, never_cache)
