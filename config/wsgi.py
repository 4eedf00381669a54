import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_wsgi_application()

from campaigns.webhook_exit import StripeWebhookExit  # noqa: E402 (after Django is set up)
from cms.pagecache import CachedPageExit  # noqa: E402

# Anonymous visitors' cached pages (cms.pagecache) and Stripe's verified deliveries
# (campaigns.webhook_exit) answered before Django's stack; everything else goes to Django.
application = StripeWebhookExit(CachedPageExit(django_application))
