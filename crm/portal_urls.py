"""The donor's page (crm.portal_views), mounted inside i18n_patterns (config/urls.py)."""

from django.urls import path

from . import portal_views

app_name = "donor_portal"
urlpatterns = [
    path("my-giving/<slug:network>/", portal_views.ask, name="ask"),
    path("my-giving/<slug:network>/open/<str:token>/", portal_views.open_link, name="open"),
    path("my-giving/<slug:network>/me/", portal_views.page, name="page"),
    path(
        "my-giving/<slug:network>/me/data.<str:export_format>",
        portal_views.data,
        name="data",
    ),
]
