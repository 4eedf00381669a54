"""Signed links we put in donors' emails: a receipt's download, a monthly plan's stop page and
the newsletter's confirmation. No login: the signature is the key, and it expires."""

import hashlib

from django.conf import settings
from django.core import signing
from django.db.models import F
from django.urls import reverse
from django.utils import translation

from . import extensions
from .models import Donor, Receipt
from .receipt_files import ensure_receipt_pdf

DOWNLOAD_SALT = "crm.receipt-download"
# A donor may download their receipt again for a year after we sent the link.
DOWNLOAD_MAX_AGE = 365 * 24 * 3600

PLAN_CANCEL_SALT = "campaigns.cancel-plan"
# Every email to a monthly donor carries a fresh link; an old email's link still works a year on.
PLAN_CANCEL_MAX_AGE = 400 * 24 * 3600

NEWSLETTER_SALT = "crm.newsletter-confirm"
# A confirmation is asked once per donor; after a month the donor ticks the box again next time.
NEWSLETTER_MAX_AGE = 30 * 24 * 3600


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


def receipt_of_expired_token(token):
    """The receipt a genuine but expired download token names (its page says the link has
    expired and where to find the receipt now), or None."""
    try:
        signing.loads(token, salt=DOWNLOAD_SALT, max_age=DOWNLOAD_MAX_AGE)
    except signing.SignatureExpired:
        data = signing.loads(token, salt=DOWNLOAD_SALT)
        return Receipt.objects.filter(pk=data.get("r")).select_related("network").first()
    except signing.BadSignature:
        return None
    return None


def receipt_download_url(receipt):
    """Absolute signed link from which the donor can download the receipt again."""
    receipt = ensure_receipt_pdf(receipt)
    path = reverse("crm:receipt_download", args=[receipt_download_token(receipt)])
    return f"{settings.SITE_URL}{path}"


def plan_link_token(plan):
    """The key of the plan's page: the plan and the version of its links (revoking raises it)."""
    return signing.dumps({"p": plan.pk, "v": plan.link_version}, salt=PLAN_CANCEL_SALT)


def _plan_url(plan, page):
    token = plan_link_token(plan)
    language = (plan.donor.language if plan.donor_id else "") or settings.LANGUAGE_CODE
    with translation.override(language):
        path = page(token)
    return settings.SITE_URL + path if path else ""


def plan_cancel_url(plan):
    """Absolute, signed link letting a monthly donor stop their plan without logging in (put it
    in every email to them), in the donor's language (`/en/...` for English). The page is the
    giving app's (`extensions.PLAN_CANCEL_PATH`); without one, no link. Prefer
    `plan_manage_url`, whose page also stops the plan."""
    return _plan_url(plan, extensions.plan_cancel_path)


def plan_manage_url(plan):
    """Absolute, signed link to the page where the donor manages their plan without logging
    in: amount, interval, pause and resume, card, stop (`extensions.PLAN_MANAGE_PATH`). Same
    signature and lifetime as `plan_cancel_url`, in the donor's language."""
    return _plan_url(plan, extensions.plan_manage_path)


def _plan_link(data):
    """(plan id, link version) of a link's payload; the links sent before links had a version
    carry the bare id, version 0. Raises signing.BadSignature for anything else."""
    if isinstance(data, int) and not isinstance(data, bool):
        return data, 0
    if isinstance(data, dict):
        pk, version = data.get("p"), data.get("v")
        if all(isinstance(v, int) and not isinstance(v, bool) for v in (pk, version)):
            return pk, version
    raise signing.BadSignature("not a plan link")


def plan_from_cancel_token(token):
    """(plan id, link version) of a plan's link; raises signing.BadSignature (or
    SignatureExpired)."""
    return _plan_link(signing.loads(token, salt=PLAN_CANCEL_SALT, max_age=PLAN_CANCEL_MAX_AGE))


def plan_of_old_link(token):
    """The plan id of a well-signed link however old (to say where to ask for a new one), or
    None."""
    try:
        return _plan_link(signing.loads(token, salt=PLAN_CANCEL_SALT))[0]
    except signing.BadSignature:
        return None


def revoke_plan_links(plan):
    """Every link to the plan's page sent so far stops working; links made from now on work."""
    type(plan).objects.filter(pk=plan.pk).update(link_version=F("link_version") + 1)
    plan.refresh_from_db(fields=["link_version"])


def _address_key(email):
    # Pins a confirmation link to the address it was sent to, without putting it in the URL.
    return hashlib.sha256((email or "").strip().lower().encode()).hexdigest()[:16]


def newsletter_confirm_token(donor):
    return signing.dumps({"d": donor.pk, "e": _address_key(donor.email)}, salt=NEWSLETTER_SALT)


def newsletter_confirm_url(donor):
    """Absolute, signed link from which the donor confirms the newsletter (double opt-in)."""
    path = reverse("crm:newsletter_confirm", args=[newsletter_confirm_token(donor)])
    return f"{settings.SITE_URL}{path}"


def donor_from_newsletter_token(token):
    """The donor a confirmation link was sent to. Raises signing.BadSignature (SignatureExpired
    when too old), also when that donor was since merged or anonymised or their address is no
    longer the one the link went to."""
    data = signing.loads(token, salt=NEWSLETTER_SALT, max_age=NEWSLETTER_MAX_AGE)
    if not isinstance(data, dict):
        raise signing.BadSignature("not a confirmation link")
    live = Donor.objects.filter(merged_into__isnull=True, anonymised_at__isnull=True)
    donor = live.select_related("network").filter(pk=data.get("d")).first()
    if donor is None or not donor.email or _address_key(donor.email) != data.get("e"):
        raise signing.BadSignature("the link no longer matches a donor")
    return donor
