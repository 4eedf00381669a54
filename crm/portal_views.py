"""The donor's page on a network's public site (crm.portal): ask for a link, open it, see and
change what is theirs. Mounted inside i18n_patterns (`crm.portal_urls`): Italian at
/my-giving/<network>/, English at /en/my-giving/<network>/.

Who is looking is decided only by the signed link and, once opened, by this browser's session
(the donor id and the address hash the link carried, checked again on every request): no id
of a donor, gift or receipt is ever taken from the URL or a form."""

from django import forms
from django.contrib.auth.decorators import login_not_required
from django.core import signing
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from . import portal, portal_links
from .exports import csv_response
from .links import receipt_download_token
from .models import Network
from .money import format_amount
from .validators import normalise_code, validate_codice_fiscale


class AskForm(forms.Form):
    email = forms.EmailField(
        label=_("Your email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class DetailsForm(forms.Form):
    codice_fiscale = forms.CharField(
        label=_("Codice fiscale"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    street_address = forms.CharField(
        label=_("Address"),
        max_length=255,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    postal_code = forms.CharField(
        label=_("Postal code"),
        max_length=10,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}),
    )
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    province = forms.CharField(label=_("Province"), max_length=2, required=False)

    def clean_codice_fiscale(self):
        code = normalise_code(self.cleaned_data["codice_fiscale"])
        if code:
            validate_codice_fiscale(code)
        return code

    def clean_province(self):
        code = normalise_code(self.cleaned_data["province"])
        if code and not (len(code) == 2 and code.isalpha()):
            raise forms.ValidationError(_("Use the two-letter code of the province, e.g. MI."))
        return code


class NewsletterForm(forms.Form):
    newsletter = forms.BooleanField(label=_("Send me news by email"), required=False)


def _network(slug):
    return get_object_or_404(Network, slug=slug)


def _session_key(network):
    return f"donor_portal:{network.pk}"


def _render(request, template, context, status=200):
    response = TemplateResponse(request, f"crm/portal/{template}", context, status=status)
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "same-origin"  # no-referrer would make POSTs "Origin: null"
    return response


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def ask(request, network):
    """The donor types their address; the answer is the same whether we know it or not."""
    network = _network(network)
    form = AskForm(request.POST or None)
    if request.method == "POST":
        if not form.is_valid():
            return _render(request, "ask.html", {"network": network, "form": form}, status=400)
        email = portal.normalise_email(form.cleaned_data["email"])
        if not portal.may_ask(network, email, request.META.get("REMOTE_ADDR", "")):
            context = {"network": network, "form": form, "throttled": True}
            return _render(request, "ask.html", context, status=429)
        portal.send_link(network, email)
        return _render(request, "sent.html", {"network": network, "email": email})
    return _render(request, "ask.html", {"network": network, "form": form})


@login_not_required
@never_cache
@require_GET
def open_link(request, network, token):
    """The emailed link: checks it and opens the page in this browser."""
    network = _network(network)
    try:
        pk, address_key = portal_links.donor_from_login_token(token)
    except signing.SignatureExpired:
        return _render(request, "link_error.html", {"network": network, "expired": True}, 410)
    except signing.BadSignature:
        return _render(request, "link_error.html", {"network": network}, 404)
    donor = portal_links.live_donor(pk, address_key)
    if donor is None or donor.network_id != network.pk:
        return _render(request, "link_error.html", {"network": network}, 404)
    request.session.cycle_key()  # a fresh session id: nobody can plant one beforehand
    request.session[_session_key(network)] = portal.session_value(donor, address_key)
    return redirect("donor_portal:page", network.slug)


def _signed_in(request, network):
    value = request.session.get(_session_key(network))
    if not isinstance(value, dict) or not portal.session_fresh(value):
        return None
    donor = portal_links.live_donor(value.get("d"), value.get("e"))
    if donor is None or donor.network_id != network.pk:
        return None
    return donor


def _page_context(network, donor, details=None, newsletter=None):
    receipts = [
        (r, reverse("crm:receipt_download", args=[receipt_download_token(r)]))
        for r in portal.receipts_of(donor)
        if r.pdf_sha256
    ]
    plans = [(p, portal_links.plan_link(p)) for p in portal.plans_of(donor)]
    gifts = list(portal.gifts_of(donor))
    for row in [*gifts, *(r for r, _url in receipts), *(p for p, _link in plans)]:
        row.amount_text = format_amount(row.amount_cents)
    initial = {f: getattr(donor, f) for f in portal.DETAIL_FIELDS}
    return {
        "network": network,
        "donor": donor,
        "gifts": gifts,
        "receipts": receipts,
        "plans": plans,
        "details_form": details or DetailsForm(initial=initial, prefix="details"),
        "newsletter_form": newsletter
        or NewsletterForm(initial={"newsletter": donor.newsletter}, prefix="news"),
    }


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def page(request, network):
    network = _network(network)
    donor = _signed_in(request, network)
    if donor is None:
        return redirect("donor_portal:ask", network.slug)
    action = request.POST.get("action")
    if request.method == "POST" and action == "leave":
        request.session.pop(_session_key(network), None)
        return redirect("donor_portal:ask", network.slug)
    if request.method == "POST" and action == "details":
        form = DetailsForm(request.POST, prefix="details")
        if not form.is_valid():
            return _render(request, "page.html", _page_context(network, donor, details=form), 400)
        portal.update_details(donor, form.cleaned_data)
        return redirect(reverse("donor_portal:page", args=[network.slug]) + "?saved=details")
    if request.method == "POST" and action == "newsletter":
        form = NewsletterForm(request.POST, prefix="news")
        form.is_valid()  # a checkbox: always valid
        portal.set_newsletter(donor, form.cleaned_data.get("newsletter", False))
        return redirect(reverse("donor_portal:page", args=[network.slug]) + "?saved=newsletter")
    if request.method == "POST":
        return _render(request, "page.html", _page_context(network, donor), status=400)
    context = {**_page_context(network, donor), "saved": request.GET.get("saved", "")}
    return _render(request, "page.html", context)


@login_not_required
@never_cache
@require_GET
def data(request, network, export_format):
    """A copy of everything we hold about the donor (GDPR art. 15 and 20)."""
    network = _network(network)
    if export_format not in ("json", "csv"):
        raise Http404
    donor = _signed_in(request, network)
    if donor is None:
        return redirect("donor_portal:ask", network.slug)
    if export_format == "csv":
        rows = portal.export_rows(donor)
        headings = [capfirst(_("field")), capfirst(_("value"))]
        return csv_response(headings, rows, f"dati-{network.slug}")
    response = HttpResponse(portal.export_json(donor), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="dati-{network.slug}.json"'
    return response
