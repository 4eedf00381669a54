"""Auth and security: passwords, sign-in lockouts and challenge, the second factor, HTTPS,
proxies, cookies and the Content Security Policy."""

from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured

from .core import DEBUG, WAGTAIL_SITE_NAME
from .env import env_bool, env_int, env_list

# --- Auth and security --------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "wagtailadmin_login"
# django-axes first: it refuses a blocked sign-in before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Sign-in lockout (django-axes 8, https://django-axes.readthedocs.io/en/latest/4_configuration.html;
# the rules in accounts/lockouts.py). AXES_FAILURE_LIMIT failed sign-ins on one account from one
# address block that account from that address (a colleague elsewhere still signs in) for
# AXES_COOLOFF minutes after the last counted failure, twice as long each time it comes back
# within a day; SIGN_IN_ADDRESS_FAILURE_LIMIT failures from one address on any accounts block the
# address. Superusers lift one early in Settings → Sign-in security.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
SIGN_IN_ADDRESS_FAILURE_LIMIT = env_int("SIGN_IN_ADDRESS_FAILURE_LIMIT", 20)
# One account guessed from many addresses (a botnet, each address under its own limit): after
# SIGN_IN_CHALLENGE_FAILURES failures on it within a day from SIGN_IN_CHALLENGE_ADDRESSES
# addresses or more, its sign-in asks the proof of work (accounts.forms, crm.challenge).
SIGN_IN_CHALLENGE_FAILURES = env_int("SIGN_IN_CHALLENGE_FAILURES", 10)
SIGN_IN_CHALLENGE_ADDRESSES = env_int("SIGN_IN_CHALLENGE_ADDRESSES", 3)
WAGTAILADMIN_USER_LOGIN_FORM = "accounts.forms.SignInForm"
SIGN_IN_COOLOFF = timedelta(minutes=env_int("AXES_COOLOFF", 15))
AXES_COOLOFF_TIME = "accounts.lockouts.cool_off"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The log of failed sign-ins (username, address, browser): the blocks recorded in it make the next
# block of the same account and address longer. Kept a day (accounts.lockouts.SignInHandler).
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# Attempts while blocked are refused without counting: the block ends on time, as the page says.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# A success does not wipe the failures (it would let anyone with one account reset the count of
# their address between guesses at others).
AXES_RESET_ON_SUCCESS = False
# The database handler: counted once across all web processes (the cache handler would be too,
# with Redis, but the database is always there).
AXES_HANDLER = "accounts.lockouts.SignInHandler"
# REMOTE_ADDR only, as the giving rate limits: behind a proxy, make the proxy set it. An IPv6
# client is its /64 (crm.throttle.client_key), as in every per-client limit.
AXES_CLIENT_IP_CALLABLE = "accounts.limits.sign_in_client"
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"  # a translated 429 in the admin's look
# No log of every successful sign-in (username, address, browser) kept forever; the failures
# are kept only for the cool-off.
AXES_DISABLE_ACCESS_LOG = True
# Second factor (django-otp, TOTP apps): who must have one before any admin page, among
# superusers, treasurers, communicators, everyone. Anyone may turn it on for themselves
# (Account → Two-step verification). Production asks superusers and treasurers by default; with
# DEBUG (make demo) nobody, so the demo needs no phone.
OTP_REQUIRED_FOR = env_list("OTP_REQUIRED_FOR", "" if DEBUG else "superusers,treasurers")
if unknown := set(OTP_REQUIRED_FOR) - {"superusers", "treasurers", "communicators", "everyone"}:
    raise ImproperlyConfigured(f"OTP_REQUIRED_FOR: unknown roles {sorted(unknown)}")
OTP_TOTP_ISSUER = WAGTAIL_SITE_NAME  # the account's name in the authenticator app
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Monitors and Prometheus call the web processes directly, inside the private network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
# The front servers in front of the web processes (addresses or networks, e.g. 127.0.0.1 or
# 172.28.0.0/24): only from them is X-Forwarded-For believed (ops.middleware). Empty: nobody.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
# A donation or ticket form sent without a token (a page from the page cache, no JavaScript)
# comes back filled in with the donor's own token (events.views.csrf_failure for the ticket
# form, which hands the rest to campaigns.views.csrf_failure); other refusals as Django's.
CSRF_FAILURE_VIEW = "events.views.csrf_failure"
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "SAMEORIGIN"  # Wagtail's preview panel shows the page in a same-origin iframe.
SILENCED_SYSTEM_CHECKS = ["security.W019"]  # ...so DENY would break the editors' preview.

# Content Security Policy (Django 6 built-in): our own assets, and Stripe's where they are used.
# Public pages run no inline script or style at all (templates link static files only); the
# Wagtail admin, whose editors need inline code, gets SECURE_CSP_ADMIN (config/csp.py).
STRIPE_JS_ORIGIN = "https://js.stripe.com"
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'", STRIPE_JS_ORIGIN],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:", "blob:", "https:"],
    "frame-src": [
        "'self'",
        STRIPE_JS_ORIGIN,
        "https://www.youtube-nocookie.com",
        "https://www.youtube.com",
        "https://player.vimeo.com",
    ],
    "connect-src": ["'self'", "https://api.stripe.com"],
    "form-action": ["'self'", "https://checkout.stripe.com"] + env_list("CSP_EXTRA_FORM_ACTION"),
    "frame-ancestors": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
}
SECURE_CSP_ADMIN = {
    **SECURE_CSP,
    "script-src": ["'self'", "'unsafe-inline'", "'unsafe-eval'"],
    "style-src": ["'self'", "'unsafe-inline'"],
}
