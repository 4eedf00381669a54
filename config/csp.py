"""Which Content Security Policy a response gets. Public pages: the strict `SECURE_CSP` (no
inline script; no inline style but the site's own stylesheet, allowed by the SHA-256 hash of
its exact text, cms.stylesheet); never 'unsafe-inline'. Wagtail's admin and its previews need
inline code, so under the admin's URL they get `SECURE_CSP_ADMIN` instead (no hash there: a
hash source would make browsers ignore its 'unsafe-inline'). Both through Django's public
per-view override (`django.views.decorators.csp.csp_override`), applied to the rest of the
request's handling."""

from django.conf import settings
from django.urls import reverse
from django.views.decorators.csp import csp_override

from cms import stylesheet


def public_policy():
    """SECURE_CSP with the site stylesheet's hash in `style-src` (read at each request: the
    settings may change in tests, and the hash when the file does)."""
    policy = settings.SECURE_CSP
    _text, hash_source = stylesheet.inline()
    return {**policy, "style-src": [*policy.get("style-src", ["'self'"]), hash_source]}


class ContentSecurityPolicyChoiceMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(reverse("wagtailadmin_home")):
            return csp_override(settings.SECURE_CSP_ADMIN)(self.get_response)(request)
        return csp_override(public_policy())(self.get_response)(request)
