"""The donor's bank transfer pages, inside i18n_patterns (config/urls.py): `/bonifico/...` in
Italian, `/en/bonifico/...` in English."""

from django.urls import path

from . import views

app_name = "banking"
urlpatterns = [
    path("bonifico/<int:page_id>/", views.give_by_transfer, name="give"),
    path("bonifico/dettagli/<str:token>/", views.pledge_page, name="pledge"),
]
