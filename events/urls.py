"""The buyer's pages, inside i18n_patterns (config/urls.py): `/events/...` in Italian,
`/en/events/...` in English."""

from django.urls import path

from . import fundraiser_views, views

app_name = "events"
urlpatterns = [
    path("events/<int:page_id>/buy/", views.buy, name="buy"),
    path("events/order/<str:token>/", views.order_page, name="order"),
    path("events/order/<str:token>/cancelled/", views.cancelled, name="cancelled"),
    path("events/ticket/<str:token>/qr.png", views.ticket_qr, name="ticket_qr"),
    path("fundraise/<int:campaign_id>/", fundraiser_views.start, name="fundraiser_start"),
    path("fundraise/confirm/<str:token>/", fundraiser_views.confirm, name="fundraiser_confirm"),
    path(
        "fundraise/<int:campaign_id>/leaderboard/",
        fundraiser_views.leaderboard,
        name="leaderboard",
    ),
    path("p/<str:slug>/", fundraiser_views.personal_page, name="fundraiser"),
    path("p/<str:slug>/photo/", fundraiser_views.photo, name="fundraiser_photo"),
]
