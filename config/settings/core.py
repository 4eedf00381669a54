"""The core: debug and secrets, hosts, apps, middleware, templates, the database."""

from django.core.exceptions import ImproperlyConfigured

from .env import BASE_DIR, database_from_url, env_bool, env_list, env_str

# --- Core ---------------------------------------------------------------------------------------
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# The public address of the site, used in emails and Stripe return URLs.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
WAGTAILADMIN_BASE_URL = SITE_URL
WAGTAIL_SITE_NAME = "Trama"

INSTALLED_APPS = [
    "crm",
    "cms",
    "campaigns",
    "events",
    "accounts",
    "outreach",
    "banking",
    "relations",
    "fundraising",
    "permille",
    "ops",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "anymail",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_tasks",
    "django_tasks_db",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Wagtail's PostgreSQL search backend needs it (postgres.E005 otherwise).
    "django.contrib.postgres",
]

MIDDLEWARE = [
    # Outermost: every log line of a request carries its id (X-Request-ID, echoed back), and
    # every response, even one a middleware below answers, is counted and timed (/metrics).
    "ops.middleware.RequestIdMiddleware",
    "ops.middleware.MetricsMiddleware",
    # The client's address from X-Forwarded-For, only when the peer is a TRUSTED_PROXIES.
    "ops.middleware.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files from the web process itself when no front server serves /static/ first
    # (production only; runserver serves them in development).
    *([] if DEBUG else ["whitenoise.middleware.WhiteNoiseMiddleware"]),
    # Anonymous visitors' public pages whole from the shared cache, before sessions, CSRF and
    # Wagtail's routing (cms.pagecache; PAGE_CACHE_* below).
    "cms.pagecache.PublicPageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(), then the second factor owed before any page (accounts/).
    "django_otp.middleware.OTPMiddleware",
    "accounts.second_factor.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Below the CSP middleware, so it answers first: public pages' policy with the inline
    # stylesheet's hash, the admin's own looser one.
    "config.csp.ContentSecurityPolicyChoiceMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Last, as django-axes asks: turns a blocked sign-in into the locked-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "wagtail.contrib.settings.context_processors.settings",
                # No CSRF token in a page rendered for the page cache (cms.pagecache).
                "cms.pagecache.context",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
# Without DATABASE_URL: SQLite in the project folder (the embedded default for the demo).
DATABASES = {
    "default": database_from_url(env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'trama.sqlite3'}"))
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
