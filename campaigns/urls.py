"""Giving endpoints: the donation form's checkout start, thank-you page, Stripe webhook."""

app_name = "campaigns"
urlpatterns = []
