"""Admin screens for segments: a list with counts, add/edit with a live count, delete and a CSV
of the members who confirmed the newsletter (the others' emails never leave through it).
Everything starts from `Segment.objects.for_user`: another network's segment is a 404, and
people who reach no network get 403."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import F, Max, Sum
from django.db.models import Q as models_q
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from crm.display import yes_no
from crm.exports import csv_response
from crm.models import Donation
from crm.money import cents_to_decimal

from .access import networks_for
from .forms import SegmentForm
from .models import Segment
from .segments import members, reachable


def _require_network(request):
    if not networks_for(request.user).exists():
        raise PermissionDenied


def _segment(request, pk):
    _require_network(request)
    return get_object_or_404(Segment.objects.for_user(request.user), pk=pk)


def index(request):
    _require_network(request)
    segments = Segment.objects.for_user(request.user).select_related("network")
    rows = [
        {
            "segment": segment,
            "count": members(segment).count(),
            "reachable": reachable(segment).count(),
        }
        for segment in segments
    ]
    return TemplateResponse(
        request,
        "outreach/segments.html",
        {"title": _("Segments"), "rows": rows, "add_url": reverse("outreach_segments:add")},
    )


def _edit(request, segment, title):
    form = SegmentForm(request.POST or None, instance=segment, user=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Segment saved."))
        return redirect("outreach_segments:edit", pk=form.instance.pk)
    count = None
    if segment.pk and not form.is_bound:
        count = {"count": members(segment).count(), "reachable": reachable(segment).count()}
    return TemplateResponse(
        request,
        "outreach/segment_form.html",
        {
            "title": title,
            "form": form,
            "segment": segment,
            "count": count,
            "count_url": reverse("outreach_segments:count"),
            "count_texts": {
                "count": gettext(
                    "Donors matching: %(count)s; of these, with a confirmed newsletter and "
                    "an email: %(reachable)s."
                ),
                "invalid": gettext("Correct the filters to see the count."),
            },
        },
        status=400 if form.is_bound else 200,
    )


def add(request):
    _require_network(request)
    return _edit(request, Segment(), _("New segment"))


def edit(request, pk):
    segment = _segment(request, pk)
    return _edit(request, segment, segment.name)


@require_POST
def count(request):
    """The live count of an unsaved form's filters (the form page posts here as you type)."""
    _require_network(request)
    form = SegmentForm(request.POST, user=request.user)
    form.fields["name"].required = False
    if not form.is_valid():
        errors = {name: [str(e) for e in errs] for name, errs in form.errors.items()}
        return JsonResponse({"errors": errors}, status=400)
    segment = form.save(commit=False)
    return JsonResponse(
        {"count": members(segment).count(), "reachable": reachable(segment).count()}
    )


def delete(request, pk):
    segment = _segment(request, pk)
    if request.method == "POST":
        segment.delete()
        messages.success(request, _("Segment deleted."))
        return redirect("outreach_segments:index")
    return TemplateResponse(
        request, "outreach/segment_delete.html", {"title": segment.name, "segment": segment}
    )


EXPORT_HEADINGS = (
    _("Name"),
    _("Email"),
    _("Language"),
    _("Newsletter confirmed"),
    _("Total given"),
    _("Last gift"),
)


def export_rows(segment, today=None):
    """One row per member who may be written to (confirmed newsletter consent and an email:
    what a segment is for), as people read it: name, email, language, consent, total, last
    gift. The others' addresses and totals stay in the CRM, for the people who may see them."""
    languages = dict(Segment._meta.get_field("language").choices)
    donors = reachable(segment, today).annotate(
        last_gift=Max("donations__received_on", filter=_counted()),
        total_given=Sum(
            F("donations__amount_cents") - F("donations__refunded_cents"), filter=_counted()
        ),
    )
    for donor in donors.iterator(chunk_size=2000):
        yield [
            str(donor.display_name),
            donor.email,
            str(languages.get(donor.language, donor.language)),
            yes_no(donor.newsletter and donor.newsletter_confirmed_at is not None),
            cents_to_decimal(donor.total_given or 0),
            donor.last_gift,
        ]


def _counted():
    return models_q(donations__status__in=Donation.COUNTED_STATUSES)


def export(request, pk):
    segment = _segment(request, pk)
    stamp = timezone.localdate().isoformat()
    # The name says whom the file holds: the members with a confirmed newsletter consent.
    filename = f"{slugify(segment.name) or 'segmento'}-newsletter-{stamp}"
    return csv_response(EXPORT_HEADINGS, export_rows(segment), filename)


urlpatterns = [
    path("", index, name="index"),
    path("add/", add, name="add"),
    path("count/", count, name="count"),
    path("<int:pk>/", edit, name="edit"),
    path("<int:pk>/delete/", delete, name="delete"),
    path("<int:pk>/export/", export, name="export"),
]
