"""The optional second factor: a TOTP code from an authenticator app (django-otp).

Anyone may turn it on from Account → Two-step verification. Once a user has a confirmed
device, every session of theirs must enter a code before any admin page. OTP_REQUIRED_FOR
(config/settings/security.py) names the roles who must have one: they are sent to set it up
before any admin page.
Users with neither go on as before.
"""

from base64 import b32encode
from urllib.parse import urlencode

import django_otp
import qrcode
import qrcode.image.svg
from django.conf import settings
from django.db import transaction
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from crm.models import Network

# Pages an unverified user may still reach: signing in and out, password reset, the
# verification and set-up pages themselves, and what the admin's login look loads.
OPEN_URL_NAMES = {
    "wagtailadmin_login",
    "wagtailadmin_password_reset",
    "wagtailadmin_password_reset_done",
    "wagtailadmin_password_reset_confirm",
    "wagtailadmin_password_reset_complete",
    "wagtailadmin_javascript_catalog",
    "wagtailadmin_sprite",
    "accounts:logout",
    "accounts:password_reset",
    "accounts:two_step",
    "accounts:verify",
}
ROLES = ("superusers", "treasurers", "communicators", "everyone")


def required_for(user):
    """True if OTP_REQUIRED_FOR asks this user for a second factor."""
    roles = set(settings.OTP_REQUIRED_FOR)
    if not roles or not user.is_authenticated:
        return False
    if "everyone" in roles or ("superusers" in roles and user.is_superuser):
        return True
    groups = user.groups.all()
    if "treasurers" in roles and Network.objects.filter(treasurers_group__in=groups).exists():
        return True
    return (
        "communicators" in roles and Network.objects.filter(communicators_group__in=groups).exists()
    )


def confirmed_device(user):
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).first()


def _is_open(request):
    if request.path_info.startswith((settings.STATIC_URL, settings.MEDIA_URL)):
        return True
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    return match.view_name in OPEN_URL_NAMES


def next_step(request):
    """Where an unverified user must go before this request, or None to let it through."""
    user = request.user
    if not user.is_authenticated or user.is_verified() or _is_open(request):
        return None
    if confirmed_device(user):
        name = "accounts:verify"
    elif required_for(user):
        name = "accounts:two_step"
    else:
        return None
    return f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}"


class SecondFactorMiddleware:
    """After django-otp's OTPMiddleware: send a signed-in user who owes a second factor to
    the verification (or set-up) page, whatever they asked for, admin or site."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        step = next_step(request)
        return redirect(step) if step else self.get_response(request)


def pending_device(user):
    """The user's device being set up (unconfirmed), created on first use: the same key until
    confirmed, so reloading the page does not invalidate a code already scanned."""
    device = TOTPDevice.objects.devices_for_user(user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="Trama", confirmed=False)


def qr_svg(device):
    """The device's otpauth:// URL as an inline SVG QR code (no image request, no script)."""
    image = qrcode.make(
        device.config_url, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=16
    )
    return image.to_string(encoding="unicode")


def manual_key(device):
    """The secret in base32, in groups of four, for typing into an app by hand."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def check_code(request, device, code):
    """Verify `code` against `device` (throttled, each code usable once) and mark this session
    verified. A pending device becomes confirmed. True on success."""
    code = "".join(code.split())
    with transaction.atomic():
        verified = django_otp.verify_token(request.user, device.persistent_id, code)
        if verified is None:
            return False
        if not verified.confirmed:
            verified.confirmed = True
            verified.save(update_fields=["confirmed"])
    django_otp.login(request, verified)
    return True


def remove_devices(user):
    TOTPDevice.objects.filter(user=user).delete()


def confirmed_devices():
    """Every user's confirmed device, for the superusers' Sign-in security screen."""
    return TOTPDevice.objects.filter(confirmed=True).select_related("user").order_by("user")
