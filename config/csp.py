"""The admin's Content Security Policy. Public pages get the strict `SECURE_CSP` (no inline
script or style); Wagtail's admin and its previews need inline code, so under the admin's URL
they get `SECURE_CSP_ADMIN` instead, through Django's public per-view override
(`django.views.decorators.csp.csp_override`), applied to the rest of the request's handling."""

from django.conf import settings
from django.urls import reverse
from django.views.decorators.csp import csp_override


class AdminContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(reverse("wagtailadmin_home")):
            return csp_override(settings.SECURE_CSP_ADMIN)(self.get_response)(request)
        return self.get_response(request)
