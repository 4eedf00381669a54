"""Donors' pages reached from a message's links (outreach.public_views), mounted inside
i18n_patterns (config/urls.py): Italian at /news/…, English at /en/news/…."""

from django.urls import path

from . import public_views

app_name = "outreach_public"
urlpatterns = [
    path("news/unsubscribe/<str:token>/", public_views.unsubscribe, name="unsubscribe"),
    path("news/preferences/<str:token>/", public_views.preferences, name="preferences"),
]
