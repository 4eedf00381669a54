"""Mail: the mail backend, its timeout, anymail's keys and the tracking webhook's secret."""

import json
import os

from django.core.exceptions import ImproperlyConfigured

from config.mailers import SMTP_BACKEND, mailer

from .core import DEBUG
from .env import env_bool, env_int, env_str

# --- Mail ---------------------------------------------------------------------------------------
# MAIL_BACKEND is a Django/anymail backend path: the console in development (ours prints headers,
# text and attachment names, not base64), an anymail ESP in production (e.g.
# anymail.backends.brevo.EmailBackend) whose keys go in ANYMAIL_* variables, or Django's SMTP
# backend with the SMTP_* variables. Every send gives up after EMAIL_TIMEOUT seconds (SMTP, the
# ESP's HTTP API, or SES): a hanging provider never holds a worker for long, and the email stays
# queued for its next attempt (crm.outbox). See config/mailers.py for how each backend takes it.
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Trama <noreply@trama.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Not named EMAIL_TIMEOUT here: Django 6.1 refuses the deprecated EMAIL_* settings beside MAILERS.
MAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
MAILERS = {
    "default": mailer(
        # Empty or unset: the console with DEBUG, SMTP (SMTP_* below) without.
        env_str("MAIL_BACKEND") or ("config.console_mail.EmailBackend" if DEBUG else SMTP_BACKEND),
        timeout=MAIL_TIMEOUT,
        smtp={
            "host": env_str("SMTP_HOST", "localhost"),
            "port": env_int("SMTP_PORT", 25),
            "username": env_str("SMTP_USERNAME"),
            "password": env_str("SMTP_PASSWORD"),
            "use_tls": env_bool("SMTP_USE_TLS", False),
            "use_ssl": env_bool("SMTP_USE_SSL", False),
        },
        ses_client_params=json.loads(env_str("ANYMAIL_AMAZON_SES_CLIENT_PARAMS") or "{}"),
    )
}
ANYMAIL = {
    key: os.environ[f"ANYMAIL_{key}"]
    for key in (
        "BREVO_API_KEY",
        "MAILGUN_API_KEY",
        "MAILGUN_SENDER_DOMAIN",
        "POSTMARK_SERVER_TOKEN",
        "SENDGRID_API_KEY",
        "WEBHOOK_SECRET",
    )
    if os.environ.get(f"ANYMAIL_{key}")
}
# The tracking webhook (/crm/anymail/...) checks this basic-auth secret: without it anyone could
# post deliveries and bounces for our emails to donors.
if not DEBUG and not ANYMAIL.get("WEBHOOK_SECRET"):
    raise ImproperlyConfigured("ANYMAIL_WEBHOOK_SECRET must be set when DEBUG is off")
