"""Giving endpoints: the donation form's checkout start, thank-you page, Stripe webhook.

Outside i18n_patterns (see config/urls.py): Stripe calls and redirects to fixed addresses.
"""

from django.urls import path

from . import views, webhooks

app_name = "campaigns"
urlpatterns = [
    path("give/<int:page_id>/", views.give, name="give"),
    path("give/thanks/<str:token>/", views.thanks, name="thanks"),
    path("give/cancelled/<str:token>/", views.cancelled, name="cancelled"),
    path("give/monthly/cancel/<str:token>/", views.cancel_plan, name="cancel_plan"),
    path("stripe/webhook/", webhooks.stripe_webhook, name="stripe_webhook"),
]
