"""The unsubscribe and preferences pages of a message's links, by delivery token, no login.

Unsubscribe never happens on GET (link scanners open every link of an email): the GET asks,
the POST acts. Mail apps' one-click button (RFC 8058) POSTs `List-Unsubscribe=One-Click` with
no cookie and no CSRF token: that exact body is accepted without one; any other POST is a
normal form and must carry the CSRF token."""

from django import forms
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.template.response import TemplateResponse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from . import subscriptions

ONE_CLICK = ("List-Unsubscribe", "One-Click")


class PreferencesForm(forms.Form):
    newsletter = forms.BooleanField(label=_("Send me news by email"), required=False)
    language = forms.ChoiceField(
        label=_("Language of the emails"), choices=[("it", "Italiano"), ("en", "English")]
    )


def _csrf_rejected(request):
    """The CSRF check the middleware would have made (the view is exempt for one-click)."""
    return CsrfViewMiddleware(lambda r: HttpResponse()).process_view(request, None, (), {})


def _page(request, template, delivery, context=None, status=200):
    language = (
        ("en" if delivery.donor.language == "en" else "it")
        if delivery
        else translation.get_language()
    )
    with translation.override(language):
        response = TemplateResponse(
            request,
            template,
            {"delivery": delivery, "network": delivery.message.network if delivery else None}
            | (context or {}),
            status=status,
        )
        response.render()
    response["X-Robots-Tag"] = "noindex"
    return response


def _not_found(request):
    return _page(request, "outreach/public/invalid.html", None, status=404)


@login_not_required
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    delivery = subscriptions.delivery_for_token(token)
    if delivery is None:
        return _not_found(request)
    if request.method == "POST":
        one_click = request.POST.get(ONE_CLICK[0]) == ONE_CLICK[1]
        if not one_click:
            rejected = _csrf_rejected(request)
            if rejected is not None:
                return rejected
        subscriptions.unsubscribe(delivery)
        if one_click:
            return HttpResponse(status=200)
        state = "done"
    else:
        state = "ask" if delivery.donor.newsletter else "done"
    return _page(request, "outreach/public/unsubscribe.html", delivery, {"state": state})


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def preferences(request, token):
    delivery = subscriptions.delivery_for_token(token)
    if delivery is None:
        return _not_found(request)
    donor = delivery.donor
    saved = False
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if (
            form.is_valid()
            and form.cleaned_data["newsletter"]
            and not subscriptions.proves_current_address(delivery)
        ):
            form.add_error(
                "newsletter",
                _(
                    "This email went to an address we no longer use for you: the news can "
                    "start again only from an email sent to your current address."
                ),
            )
        if form.is_valid():
            subscriptions.set_preferences(
                delivery, form.cleaned_data["newsletter"], form.cleaned_data["language"]
            )
            saved = True
            form = PreferencesForm(
                initial={"newsletter": donor.newsletter, "language": donor.language}
            )
    else:
        language = "en" if donor.language == "en" else "it"
        form = PreferencesForm(initial={"newsletter": donor.newsletter, "language": language})
    status = 400 if request.method == "POST" and not saved else 200
    return _page(
        request,
        "outreach/public/preferences.html",
        delivery,
        {"form": form, "saved": saved},
        status=status,
    )
