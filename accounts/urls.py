"""Sign-in pages, mounted under /admin/ before Wagtail's admin (config/urls.py) so that
/admin/logout/ and /admin/password_reset/ are ours, not Wagtail's."""

from django.urls import path
from django.views.decorators.cache import never_cache

from . import views

app_name = "accounts"
urlpatterns = [
    path("logout/", never_cache(views.LogoutView.as_view()), name="logout"),
    path("password_reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("two-step/", views.two_step, name="two_step"),
    path("two-step/verify/", views.verify, name="verify"),
    path("sign-in-security/", views.security, name="security"),
]
