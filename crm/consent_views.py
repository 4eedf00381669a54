"""The newsletter's confirmation page (double opt-in), reached from the signed link of the
email `crm.outbox.queue_newsletter_confirmation` queues. A GET only shows a button (mail
scanners follow links); the POST gives the consent, with its time (`crm.donors`)."""

from django.contrib.auth.decorators import login_not_required
from django.core import signing
from django.db import transaction
from django.template.response import TemplateResponse
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from .donors import confirm_newsletter
from .links import donor_from_newsletter_token
from .models import Donor


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def newsletter_confirm(request, token):
    try:
        donor = donor_from_newsletter_token(token)
    except signing.SignatureExpired:
        return _page(request, None, "expired", status=410)
    except signing.BadSignature:  # forged, cut short, or the donor's address changed since
        return _page(request, None, "invalid", status=404)
    if request.method == "POST":
        with transaction.atomic():
            confirm_newsletter(Donor.objects.select_for_update().get(pk=donor.pk))
        donor.newsletter = True
    return _page(request, donor, "done" if donor.newsletter else "ask")


def _page(request, donor, state, status=200):
    language = ("en" if donor.language == "en" else "it") if donor else translation.get_language()
    with translation.override(language):
        response = TemplateResponse(
            request,
            "crm/newsletter_confirm.html",
            {"donor": donor, "state": state},
            status=status,
        )
        response.render()
    response["X-Robots-Tag"] = "noindex"
    return response
