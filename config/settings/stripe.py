"""Stripe: keys, the stand-in, timeouts and retries, outbound calls in transactions."""

from django.core.exceptions import ImproperlyConfigured

from .core import DEBUG
from .env import env_int, env_str
from .security import SECURE_CSP

# --- Stripe -------------------------------------------------------------------------------------
# Without STRIPE_SECRET_KEY, STRIPE_API_BASE points at the local stand-in (make demo starts it).
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY", "sk_test_local_standin")
STRIPE_PUBLISHABLE_KEY = env_str("STRIPE_PUBLISHABLE_KEY", "pk_test_local_standin")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET", "whsec_local_standin" if DEBUG else "")
# Stripe signs the events of connected accounts (networks' and entities' own accounts) through
# an endpoint of their own, with its own secret (https://docs.stripe.com/connect/webhooks):
# empty when no network or entity has an account of its own.
STRIPE_CONNECT_WEBHOOK_SECRET = env_str("STRIPE_CONNECT_WEBHOOK_SECRET", "")
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "")
# Seconds a Stripe call waits to connect and for each answer (the SDK's own default is 80), and
# how many times a call that failed on the network, or that Stripe asks us to repeat (409, 5xx),
# is tried again; creating calls (checkout, refunds, plan changes) carry idempotency keys, so a
# retry never makes a second one (campaigns.stripe_api).
STRIPE_TIMEOUT = env_int("STRIPE_TIMEOUT", 15)
STRIPE_MAX_NETWORK_RETRIES = env_int("STRIPE_MAX_NETWORK_RETRIES", 2)
# A call to an outside service made while a database transaction is open holds its locks for as
# long as the service takes (crm.outbound): "raise" (development, tests) or "log" (production).
OUTBOUND_IN_TRANSACTION = env_str("OUTBOUND_IN_TRANSACTION", "raise" if DEBUG else "log")
if STRIPE_API_BASE:
    # The donation form redirects to Checkout's hosted page, on the stand-in's origin here:
    # CSP form-action also governs redirects after a form submission.
    SECURE_CSP["form-action"].append(STRIPE_API_BASE.rstrip("/"))
if not DEBUG and not STRIPE_WEBHOOK_SECRET:
    raise ImproperlyConfigured("STRIPE_WEBHOOK_SECRET must be set when DEBUG is off")
