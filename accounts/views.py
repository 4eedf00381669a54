"""The sign-in pages Wagtail's own do not cover, or cover too openly: the locked-out page, logout
by POST, the throttled password reset, the second factor's set-up and verification, and the
superusers' "Sign-in security" screen (blocked accounts and addresses, two-step devices)."""

import functools
import logging
from urllib.parse import urlencode

from axes.helpers import get_cool_off
from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_ipv46_address
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from wagtail.admin.auth import require_admin_access
from wagtail.admin.views import account
from wagtail.users.models import UserProfile

from crm.validators import row_id

from . import lockouts, second_factor
from .limits import allow_password_reset, client_ip

logger = logging.getLogger(__name__)


def locked_out(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: what a blocked sign-in gets, a 429 in the admin's login look."""
    minutes = max(1, int(get_cool_off(request).total_seconds() // 60))
    response = render(request, "accounts/locked_out.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response


class LogoutView(account.LogoutView):
    """Signs out on POST only (Wagtail's menu posts). Any other request gets a page asking to
    confirm, with a form that posts: a link or an image elsewhere cannot sign anyone out.
    Wagtail's own view answers a GET with a 405 that still deletes the session cookie."""

    def dispatch(self, request, *args, **kwargs):
        if request.method == "POST":
            return super().dispatch(request, *args, **kwargs)
        if not request.user.is_authenticated:
            return redirect("wagtailadmin_login")
        return TemplateResponse(request, "accounts/logout.html")


class PasswordResetView(account.PasswordResetView):
    """Wagtail's password reset, throttled per address and per client (accounts.limits).
    Over the limit it answers the same neutral page and sends nothing."""

    def form_valid(self, form):
        ip = client_ip(self.request)
        if not allow_password_reset(form.cleaned_data["email"], ip):
            logger.warning("password reset throttled, nothing sent (client %s)", ip)
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code from the app"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


def _next_url(request):
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return reverse("wagtailadmin_home")


def _with_next(name, next_url):
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


def _check_code(request, device, form):
    """True if the form's code verifies `device` (the session is then verified), else the
    status to answer with, the reason added to the form."""
    allowed, _info = device.verify_is_allowed()
    if not allowed:
        form.add_error("code", _("Too many wrong codes: wait a moment, then try again."))
        return 429
    if second_factor.check_code(request, device, form.cleaned_data["code"]):
        return True
    form.add_error(
        "code", _("This code is not right or was already used: enter the one the app shows now.")
    )
    return 400


def in_users_language(view):
    """A signed-in page outside Wagtail's own views, in the admin language the user chose."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        language = None
        if request.user.is_authenticated:
            language = UserProfile.get_for_user(request.user).get_preferred_language()
        with translation.override(language or translation.get_language()):
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
        return response

    return wrapped


@never_cache
@login_required(login_url="wagtailadmin_login")
@in_users_language
def verify(request):
    """The second step of signing in, for a user with a confirmed device."""
    next_url = _next_url(request)
    if request.user.is_verified():
        return redirect(next_url)
    device = second_factor.confirmed_device(request.user)
    if device is None:
        return redirect(_with_next("accounts:two_step", next_url))
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = _check_code(request, device, form) if form.is_valid() else 400
        if status is True:
            return redirect(next_url)
    context = {"form": form, "next": next_url}
    return render(request, "accounts/verify.html", context, status=status)


@never_cache
@login_required(login_url="wagtailadmin_login")
@in_users_language
def two_step(request):
    """Account → Two-step verification: set it up (QR code and key, then a first code), or,
    once on, turn it off with a current code (to move to a new phone)."""
    user = request.user
    next_url = _next_url(request)
    device = second_factor.confirmed_device(user)
    if device and not user.is_verified():
        return redirect(_with_next("accounts:verify", next_url))
    form = CodeForm(request.POST or None)
    status = 200
    if device is None:
        device = second_factor.pending_device(user)
        if request.method == "POST":
            status = _check_code(request, device, form) if form.is_valid() else 400
            if status is True:
                messages.success(request, _("Two-step verification is on."))
                return redirect(next_url)
        context = {
            "form": form,
            "next": next_url,
            "qr_svg": second_factor.qr_svg(device),
            "manual_key": second_factor.manual_key(device),
            "required": second_factor.required_for(user),
        }
        return render(request, "accounts/two_step_setup.html", context, status=status)
    if request.method == "POST":
        status = _check_code(request, device, form) if form.is_valid() else 400
        if status is True:
            second_factor.remove_devices(user)
            messages.success(request, _("Two-step verification is off."))
            return redirect("accounts:two_step")
    context = {"form": form, "required": second_factor.required_for(user)}
    return render(request, "accounts/two_step_on.html", context, status=status)


@never_cache
@require_admin_access
def security(request):
    """Settings → Sign-in security (superusers): lift a lockout before its cool-off ends, or
    turn off a user's two-step verification (a lost phone)."""
    if not request.user.is_superuser:
        raise PermissionDenied
    if request.method == "POST":
        return _security_action(request)
    context = {
        "usernames": lockouts.blocked_usernames(),
        "addresses": lockouts.blocked_addresses(),
        "devices": second_factor.confirmed_devices(),
        "cooloff_minutes": int(get_cool_off().total_seconds() // 60),
        "address_limit": lockouts.ADDRESS_FAILURE_LIMIT,
    }
    return TemplateResponse(request, "accounts/security.html", context)


def _security_action(request):
    if username := request.POST.get("username"):
        lockouts.lift_lockout(by=request.user, username=username)
        messages.success(request, _("Sign-in unblocked for %(name)s.") % {"name": username})
    elif address := request.POST.get("ip_address"):
        try:
            validate_ipv46_address(address)
        except ValidationError:
            return HttpResponseBadRequest(_("That is not an IP address."))
        lockouts.lift_lockout(by=request.user, ip_address=address)
        messages.success(request, _("Sign-in unblocked for %(name)s.") % {"name": address})
    elif user_id := request.POST.get("two_step_off"):
        users = get_user_model().objects
        user = users.filter(pk=row_id(user_id)).first() if row_id(user_id) else None
        if user is None:
            return HttpResponseBadRequest(_("No such user."))
        second_factor.remove_devices(user)
        logger.info("two-step verification of %s turned off by %s", user, request.user)
        messages.success(request, _("Two-step verification is off for %(name)s.") % {"name": user})
    else:
        return HttpResponseBadRequest(_("Nothing to do."))
    return redirect("accounts:security")
