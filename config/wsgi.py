import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_wsgi_application()

from django.urls import get_resolver  # noqa: E402 (after Django is set up)

from campaigns.webhook_exit import StripeWebhookExit  # noqa: E402
from cms.pagecache import CachedPageExit  # noqa: E402

# Every view imported now, not on a worker's first request: a gunicorn worker that replaces
# another does so while the others serve, and under `--preload` workers are forked with them.
get_resolver().url_patterns  # noqa: B018 (the import is the point)

# Anonymous visitors' cached pages (cms.pagecache) and Stripe's verified deliveries
# (campaigns.webhook_exit) answered before Django's stack; everything else goes to Django.
application = StripeWebhookExit(CachedPageExit(django_application))
