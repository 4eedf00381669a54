from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.conf.urls.static import static
from django.contrib.staticfiles.urls import staticfiles_urlpatterns
from django.urls import include, path
from django.views.i18n import set_language
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from campaigns.urls import webhook_urlpatterns

# Webhooks, admin and documents live outside i18n_patterns: their URLs never change with the
# visitor's language (Stripe and mail providers call a fixed address).
urlpatterns = [
    # Ours before Wagtail's: logout by POST only, throttled password reset, the second factor
    # and the superusers' Sign-in security screen (accounts/urls.py).
    path("admin/", include("accounts.urls")),
    # Wagtail's screens that only a subclass can scope to what the user may see
    # (cms/admin_urls.py: site history, page types usage, page chooser steps).
    path("admin/", include("cms.admin_urls")),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("i18n/setlang/", set_language, name="set_language"),
    *webhook_urlpatterns,
    path("", include("ops.urls")),
    path("", include("crm.urls")),
    # A calendar app subscribes to a fixed address, in no language (relations.ical).
    path("relations/", include("relations.urls")),
]

if settings.DEBUG:
    urlpatterns += staticfiles_urlpatterns()
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# Italian pages at /, English at /en/: the pages and the donor's giving steps (/give/...), so a
# donor who starts in English stays in English through Stripe Checkout and back.
urlpatterns += i18n_patterns(
    path("", include("campaigns.urls")),
    path("", include("banking.urls")),
    path("", include("crm.portal_urls")),
    path("", include("outreach.public_urls")),
    path("", include("events.urls")),
    path("", include(wagtail_urls)),
    prefix_default_language=False,
)
