"""The protections of the public forms of events/ beyond the ticket form (which uses the
giving limits of `campaigns.ratelimit` as a donation does): per-client limits on opening a
personal page, and the photo check.

Settings (optional):
    FUNDRAISER_RATE_LIMITS = {"ip": (10, 3600), "email": (3, 3600)}  # (max attempts, seconds)
    FUNDRAISER_PHOTO_MAX_BYTES = 5 * 1024 * 1024
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from campaigns.ratelimit import normalise_email
from crm.throttle import Decision, client_key, sliding_window

DEFAULT_LIMITS = {"ip": (10, 3600), "email": (3, 3600)}
DEFAULT_PHOTO_MAX_BYTES = 5 * 1024 * 1024


def fundraiser_limits() -> dict[str, tuple[int, int]]:
    return {**DEFAULT_LIMITS, **getattr(settings, "FUNDRAISER_RATE_LIMITS", {})}


def check_open_page(*, ip: str, email: str) -> Decision:
    """Count one attempt to open a personal page, the email first (an email over its limit
    does not use up the address's room); the first refusal, else an allowed Decision."""
    limits = fundraiser_limits()
    for kind, value in (("email", normalise_email(email)), ("ip", client_key(ip))):
        limit, window = limits[kind]
        decision = sliding_window(f"fundraise:{kind}", value, limit, window)
        if not decision:
            return decision
    return Decision(True)


def photo_max_bytes() -> int:
    return int(getattr(settings, "FUNDRAISER_PHOTO_MAX_BYTES", DEFAULT_PHOTO_MAX_BYTES))


def check_photo(photo: UploadedFile) -> None:
    """Refuse a photo over the size limit (Django's ImageField has already had Pillow verify
    that it is an image)."""
    limit = photo_max_bytes()
    if photo.size is not None and photo.size > limit:
        megabytes = f"{limit / (1024 * 1024):.1f}".removesuffix(".0")
        raise ValidationError(
            _("The photo is too large: at most %(size)s MB.") % {"size": megabytes},
            code="too_large",
        )
