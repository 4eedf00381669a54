"""Languages and dates, static files, media and the private storage, Wagtail."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from .core import DEBUG
from .env import BASE_DIR, env_str

# --- Internationalisation -----------------------------------------------------------------------
LANGUAGE_CODE = "it"
LANGUAGES = [("it", _("Italian")), ("en", _("English"))]
WAGTAIL_I18N_ENABLED = False
WAGTAIL_CONTENT_LANGUAGES = LANGUAGES
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Europe/Rome")
USE_I18N = True
USE_TZ = True
# Dates in the admin's date pickers (page editor, filters) as people write them: 24/11/2026, not
# 2026-11-24. English keeps the day first too (config/formats/en), so that "04/12/2026" reads
# and parses as the 4th of December in both languages.
WAGTAIL_DATE_FORMAT = "%d/%m/%Y"
WAGTAIL_DATETIME_FORMAT = "%d/%m/%Y %H:%M"
WAGTAIL_TIME_FORMAT = "%H:%M"
FORMAT_MODULE_PATH = ["config.formats"]

# --- Static and media ---------------------------------------------------------------------------
STATIC_URL = "/static/"
# `manage.py collectstatic` copies the static files here; the front server (Caddy, nginx)
# serves them at /static/, or WhiteNoise from the web process when there is none.
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "var" / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
# Private files (receipt PDFs, documents): the "private" storage, never MEDIA_ROOT, which
# /media/ serves to anyone (page images). A folder by default; a private S3-compatible bucket
# when PRIVATE_STORAGE_BUCKET is set (django-storages: private ACL, signed expiring URLs, no
# overwrite). Only checked views serve them (signed links, the admin, the documents' view).
PRIVATE_ROOT = Path(env_str("PRIVATE_ROOT", str(BASE_DIR / "var" / "private")))
PRIVATE_STORAGE_BUCKET = env_str("PRIVATE_STORAGE_BUCKET")


def s3_private_storage(bucket, *, location="", endpoint_url=None, region_name=None, **keys):
    """The private alias on an S3-compatible bucket (django-storages): objects written with a
    private ACL, read only with the keys (or a signed URL that expires in 5 minutes), never
    overwritten. `keys`: access_key and secret_key (None: boto3's own credential chain)."""
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "location": location,
            "endpoint_url": endpoint_url,
            "region_name": region_name,
            "access_key": keys.get("access_key"),
            "secret_key": keys.get("secret_key"),
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": 300,
            "file_overwrite": False,
        },
    }


if PRIVATE_STORAGE_BUCKET:
    PRIVATE_STORAGE = s3_private_storage(
        PRIVATE_STORAGE_BUCKET,
        location=env_str("PRIVATE_STORAGE_PREFIX"),
        # Empty: AWS itself; e.g. https://s3.eu-south-1.amazonaws.com or a MinIO address.
        endpoint_url=env_str("PRIVATE_STORAGE_ENDPOINT_URL") or None,
        region_name=env_str("PRIVATE_STORAGE_REGION") or None,
        # Empty: boto3's own credential chain (instance role, ~/.aws).
        access_key=env_str("PRIVATE_STORAGE_ACCESS_KEY_ID") or None,
        secret_key=env_str("PRIVATE_STORAGE_SECRET_ACCESS_KEY") or None,
    )
else:
    for public_root in (MEDIA_ROOT, STATIC_ROOT):
        if PRIVATE_ROOT.resolve().is_relative_to(Path(public_root).resolve()):
            raise ImproperlyConfigured(f"PRIVATE_ROOT must be outside {public_root} (public)")
    # No base URL: its url() refuses (crm.storage), so nothing can link a private file.
    PRIVATE_STORAGE = {
        "BACKEND": "crm.storage.PrivateFileSystemStorage",
        "OPTIONS": {"location": PRIVATE_ROOT},
    }
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": PRIVATE_STORAGE,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Wagtail ------------------------------------------------------------------------------------
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "pdf", "xlsx", "docx", "odt", "txt"]
# Documents live on the private storage and leave only through Wagtail's serve view, which
# serves a document to the public only if a live public page uses it (cms/documents.py).
WAGTAILDOCS_DOCUMENT_MODEL = "cms.NetworkDocument"
WAGTAILDOCS_SERVE_METHOD = "serve_view"
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES
# No avatars fetched from gravatar.com: treasurers' emails stay on our server.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
