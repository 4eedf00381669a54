import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_wsgi_application()

from cms.pagecache import CachedPageExit  # noqa: E402 (after Django is set up)

# Anonymous visitors' cached pages answered before Django's stack (cms.pagecache).
application = CachedPageExit(django_application)
