"""Signed links we put in donors' emails: a receipt's download and a monthly plan's stop page.
No login: the signature is the key, and it expires."""

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import translation

from . import extensions
from .models import Receipt
from .receipt_files import ensure_receipt_pdf

DOWNLOAD_SALT = "crm.receipt-download"
# A donor may download their receipt again for a year after we sent the link.
DOWNLOAD_MAX_AGE = 365 * 24 * 3600

PLAN_CANCEL_SALT = "campaigns.cancel-plan"
# Every email to a monthly donor carries a fresh link; an old email's link still works a year on.
PLAN_CANCEL_MAX_AGE = 400 * 24 * 3600


def receipt_download_token(receipt):
    # The hash pins the link to this exact document.
    return signing.dumps({"r": receipt.pk, "h": receipt.pdf_sha256[:16]}, salt=DOWNLOAD_SALT)


def receipt_from_token(token):
    """The receipt a download token names, or None if the token is forged or expired."""
    try:
        data = signing.loads(token, salt=DOWNLOAD_SALT, max_age=DOWNLOAD_MAX_AGE)
    except signing.BadSignature:
        return None
    receipt = Receipt.objects.filter(pk=data.get("r")).first()
    if receipt is None or (data.get("h") and receipt.pdf_sha256[:16] != data["h"]):
        return None
    return receipt


def receipt_download_url(receipt):
    """Absolute signed link from which the donor can download the receipt again."""
    receipt = ensure_receipt_pdf(receipt)
    path = reverse("crm:receipt_download", args=[receipt_download_token(receipt)])
    return f"{settings.SITE_URL}{path}"


def plan_cancel_url(plan):
    """Absolute, signed link letting a monthly donor stop their plan without logging in (put it
    in every email to them), in the donor's language (`/en/...` for English). The page is the
    giving app's (`extensions.PLAN_CANCEL_PATH`); without one, no link."""
    token = signing.dumps(plan.pk, salt=PLAN_CANCEL_SALT)
    language = (plan.donor.language if plan.donor_id else "") or settings.LANGUAGE_CODE
    with translation.override(language):
        path = extensions.plan_cancel_path(token)
    return settings.SITE_URL + path if path else ""


def plan_from_cancel_token(token):
    """The plan id in a cancel link; raises signing.BadSignature (or SignatureExpired)."""
    return signing.loads(token, salt=PLAN_CANCEL_SALT, max_age=PLAN_CANCEL_MAX_AGE)
