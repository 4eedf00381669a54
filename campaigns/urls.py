"""The donor's giving pages: start a checkout, thank-you and cancelled pages, the monthly
donor's cancel link. Mounted inside i18n_patterns (config/urls.py): `/give/...` in Italian,
`/en/give/...` in English, so Stripe returns each donor to a page in their own language. The
Stripe webhook is mounted outside, at a fixed address (`webhook_urlpatterns`)."""

from django.urls import path

from . import plan_views, views, webhooks

app_name = "campaigns"
urlpatterns = [
    path("give/<int:page_id>/", views.give, name="give"),
    path("give/<int:page_id>/live/", views.live_figures, name="live_figures"),
    path("give/token/", views.csrf_token, name="csrf_token"),
    path("give/thanks/<str:token>/", views.thanks, name="thanks"),
    path("give/cancelled/<str:token>/", views.cancelled, name="cancelled"),
    path("give/monthly/cancel/<str:token>/", plan_views.cancel_plan, name="cancel_plan"),
    path("give/plan/<str:token>/", plan_views.manage_plan, name="manage_plan"),
]
webhook_urlpatterns = [
    path("stripe/webhook/", webhooks.stripe_webhook, name="stripe_webhook"),
]
