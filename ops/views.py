"""/healthz for monitors and load balancers, /metrics for Prometheus."""

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import health, metrics


@never_cache
@require_GET
def healthz(request):
    """200 with every check green, 503 otherwise; the JSON says which (no secrets, no
    cookies: nothing here touches the session or the CSRF token)."""
    checks = health.run_checks()
    ok = all(check["ok"] for check in checks.values())
    return JsonResponse({"ok": ok, "checks": checks}, status=200 if ok else 503)


@never_cache
@require_GET
def metrics_view(request):
    """Prometheus' text format, only with `Authorization: Bearer <METRICS_TOKEN>`: 404 while
    no token is set, 401 with a missing or wrong one."""
    if not settings.METRICS_TOKEN:
        raise Http404
    if not metrics.token_matches(request.headers.get("Authorization", "")):
        response = HttpResponse(status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(metrics.scrape(), content_type="text/plain; version=0.0.4")
