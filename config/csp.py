"""The admin's Content Security Policy. Public pages get the strict `SECURE_CSP` (no inline
script or style); Wagtail's admin and its previews need inline code, so under the admin's URL
they get `SECURE_CSP_ADMIN` instead, through Django's per-response override (`_csp_config`,
what `django.views.decorators.csp.csp_override` sets)."""

from django.conf import settings
from django.urls import reverse


class AdminContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(reverse("wagtailadmin_home")):
            response._csp_config = settings.SECURE_CSP_ADMIN
        return response
