"""Donors in the admin: the list, the donor's page (timeline and yearly totals), the JSON data
export, anonymisation, duplicates and merge. "Record a gift" on the donor's page is the gift
form of `crm.admin.gifts`."""

import json

from django.contrib import messages
from django.db.models import Count, Q, Sum
from django.db.models.functions import ExtractYear
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.timezone import localdate
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from django_filters import BooleanFilter, ChoiceFilter
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.views import generic
from wagtail.log_actions import registry as log_registry

from crm import extensions
from crm.consent import REQUESTED, WITHDRAWN, staff_saved_donor
from crm.donors import flag_possible_duplicate
from crm.merging import (
    SharedCodiceFiscale,
    confirm_same_person,
    dismiss_duplicate,
    duplicate_suggestions,
    merge_donors,
)
from crm.models import KEPT, Donor, DonorEmail
from crm.money import format_amount
from crm.privacy import KEPT_NOTICE, anonymise_donor, donor_export
from crm.search import search_donors
from crm.tenancy import network_view, reached
from crm.validators import row_id

from .common import (
    HumanInspectView,
    ScopedIndexView,
    ScopedModelViewSet,
    network_filter,
)
from .gifts import record_gift_for_donor

# --- Views --------------------------------------------------------------------------------------


class DonorIndexView(ScopedIndexView):
    def search_queryset(self, queryset):
        if not self.is_searching:
            return queryset
        return search_donors(queryset, self.search_query)


IDENTITY_FIELDS = ("codice_fiscale", "partita_iva", "email")


def _after_staff_save(request, before, donor):
    """What a treasurer's save of the donor's form sets off: a new double opt-in for a ticked
    newsletter or a new address (`crm.consent`), and a flag when the donor now shares a code
    or an email with another donor (`crm.donors.flag_possible_duplicate`)."""
    outcome = staff_saved_donor(before, donor, user=request.user)
    if outcome and outcome[0] == REQUESTED:
        if outcome[1] is None:
            messages.warning(
                request,
                _("The newsletter needs the donor's confirmation, and they have no email."),
            )
        else:
            messages.info(
                request,
                _(
                    "A confirmation email was sent to %(email)s: the newsletter starts only "
                    "when the donor confirms it."
                )
                % {"email": donor.email},
            )
    elif outcome and outcome[0] == WITHDRAWN:
        messages.info(request, _("Newsletter consent withdrawn."))
    if before is None or any(
        getattr(before, field) != getattr(donor, field) for field in IDENTITY_FIELDS
    ):
        other = flag_possible_duplicate(donor)
        if other is not None:
            messages.warning(
                request,
                _(
                    "%(other)s has the same codice fiscale, partita IVA or email: flagged as a "
                    "possible duplicate. Merge them or confirm they are the same person."
                )
                % {"other": other},
            )


class DonorCreateView(generic.CreateView):
    def save_instance(self):
        donor = super().save_instance()
        _after_staff_save(self.request, None, donor)
        return donor


class DonorEditView(generic.EditView):
    def save_instance(self):
        before = Donor.objects.get(pk=self.form.instance.pk)
        donor = super().save_instance()
        _after_staff_save(self.request, before, donor)
        return donor


class DonorInspectView(HumanInspectView):
    template_name = "crm/admin/donor_inspect.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        donor = self.object
        donations = donor.donations.select_related("campaign").order_by("-received_on")
        receipts = donor.receipts.order_by("-issued_at")
        emails = DonorEmail.objects.filter(
            Q(receipt__donor=donor)
            | Q(recurring_plan__donor=donor)
            | Q(donor=donor)
            | Q(donation__donor=donor)
        ).select_related("receipt")
        timeline = [(d.received_on, "gift", d) for d in donations[:200]]
        timeline += [(localdate(r.issued_at), "receipt", r) for r in receipts[:200]]
        timeline += [(localdate(e.created_at), "email", e) for e in emails[:200]]
        timeline.sort(key=lambda item: item[0], reverse=True)
        context.update(
            donor=donor,
            timeline=timeline,
            totals=[
                {**row, "total_display": format_amount(row["total"])}
                for row in donor.donations.succeeded()
                .annotate(year=ExtractYear("received_on"))
                .order_by("-year")
                .values("year")
                .annotate(total=Sum(KEPT), n=Count("id"))
            ],
            plans=donor.recurring_plans.order_by("-created_at")[:50],
            in_kind=[
                _with_value(gift) for gift in donor.in_kind_gifts.order_by("-received_on")[:200]
            ],
            record_in_kind_url=reverse("crm_inkindgift:add") + f"?donor={donor.pk}",
            extra_sections=extensions.donor_sections(self.request, donor),
            record_gift_url=reverse("crm_donor:record_gift", args=[donor.pk]),
            export_json_url=reverse("crm_donor:export_json", args=[donor.pk]),
            anonymise_url=reverse("crm_donor:anonymise", args=[donor.pk]),
            possible_duplicate_of=_live_flag(donor),
            duplicates_url=reverse("crm_donor:duplicates"),
            newsletter_asked_on=_newsletter_asked_on(donor),
        )
        return context


def _with_value(gift):
    gift.value_display = format_amount(gift.value_cents)
    return gift


def _newsletter_asked_on(donor):
    """When the confirmation the donor has not yet clicked was emailed (None if none waits):
    the last one sent since the news were last withdrawn."""
    if donor.newsletter:
        return None
    asked = (
        DonorEmail.objects.filter(donor=donor, kind=DonorEmail.Kind.NEWSLETTER_CONFIRM)
        .order_by("-created_at")
        .first()
    )
    if asked is None:
        return None
    withdrawn = log_registry.get_logs_for_instance(donor).filter(
        action=WITHDRAWN, timestamp__gte=asked.created_at
    )
    return None if withdrawn.exists() else asked.created_at


def _live_flag(donor):
    """The donor this one may duplicate, if the flag still stands (and the user may see it:
    the same network, like the donor)."""
    other = donor.possible_duplicate_of
    if other is None or other.merged_into_id or other.anonymised_at:
        return None
    return other


@network_view(Donor, "view")
def donor_json_export(request, pk):
    donor = get_object_or_404(reached(request.user, Donor, "view"), pk=pk)
    body = json.dumps(donor_export(donor), indent=2, ensure_ascii=False)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="donatore-{donor.pk}.json"'
    return response


@network_view(Donor, "change")
def donor_anonymise(request, pk):
    donor = get_object_or_404(reached(request.user, Donor, "change"), pk=pk)
    if request.method == "POST":
        anonymise_donor(donor, user=request.user)
        messages.success(request, KEPT_NOTICE)
        return redirect("crm_donor:inspect", donor.pk)
    return TemplateResponse(
        request,
        "crm/admin/confirm.html",
        {
            "title": _("Anonymise %(donor)s?") % {"donor": donor},
            "object": donor,
            "notice": KEPT_NOTICE,
            "confirm_label": _("Anonymise the donor"),
            "back_url": reverse("crm_donor:inspect", args=[donor.pk]),
            "danger": True,
        },
    )


@network_view(Donor, "change")
@require_POST
def donor_merge(request, pk):
    donors = reached(request.user, Donor, "change")
    keep = get_object_or_404(donors, pk=pk)
    duplicate = get_object_or_404(donors, pk=row_id(request.POST.get("duplicate")))
    try:
        merge_donors(keep, duplicate, user=request.user)
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Donors merged."))
    return redirect("crm_donor:inspect", keep.pk)


@network_view(Donor, "change")
@require_POST
def donor_not_duplicate(request, pk):
    """A flagged donor is not the same person as the one flagged: the flag goes."""
    donor = get_object_or_404(reached(request.user, Donor, "change"), pk=pk)
    try:
        if dismiss_duplicate(donor, user=request.user):
            messages.success(request, _("Marked as a different person."))
    except SharedCodiceFiscale as exc:
        messages.error(request, str(exc))
    return redirect("crm_donor:duplicates")


@network_view(Donor, "change")
@require_POST
def donor_same_person(request, pk):
    """A flagged donor is the same person as the one flagged, kept as a record of its own: the
    flag goes and their gifts are reported together under their codice fiscale."""
    donor = get_object_or_404(reached(request.user, Donor, "change"), pk=pk)
    if confirm_same_person(donor, user=request.user):
        messages.success(request, _("Confirmed as the same person."))
    return redirect("crm_donor:duplicates")


@network_view(Donor, "change")
def donor_duplicates(request):
    pairs = duplicate_suggestions(reached(request.user, Donor, "change"))
    return TemplateResponse(request, "crm/admin/duplicates.html", {"pairs": pairs})


# --- Declarations -------------------------------------------------------------------------------


class DonorFilterSet(WagtailFilterSet):
    network = network_filter()
    kind = ChoiceFilter(choices=Donor.Kind.choices, label=_("Kind"))
    flagged = BooleanFilter(
        field_name="possible_duplicate_of",
        lookup_expr="isnull",
        exclude=True,
        label=_("Possible duplicate"),
    )

    class Meta:
        model = Donor
        fields = ["network", "kind", "newsletter"]


class DonorViewSet(ScopedModelViewSet):
    model = Donor
    icon = "user"
    menu_label = _("Donors")
    empty_message = _("No donors yet.")
    index_view_class = DonorIndexView
    inspect_view_class = DonorInspectView
    add_view_class = DonorCreateView
    edit_view_class = DonorEditView
    filterset_class = DonorFilterSet
    search_fields = ["first_name", "last_name", "organisation_name", "email", "codice_fiscale"]
    list_display = ["display_name", "email", "codice_fiscale", "city", "network", "created_at"]
    list_export = ["id", *Donor.NAME_FIELDS, *Donor.CONTACT_FIELDS, "newsletter", "network"]
    export_filename = "donatori"
    # Set by the system: a flag cleared by merging or "not the same person", a confirmation.
    exclude_form_fields = [
        "merged_into",
        "anonymised_at",
        "possible_duplicate_of",
        "newsletter_confirmed_at",
    ]

    def get_extra_urlpatterns(self):
        return [
            path("<int:pk>/export-json/", donor_json_export, name="export_json"),
            path("<int:pk>/anonymise/", donor_anonymise, name="anonymise"),
            path("<int:pk>/merge/", donor_merge, name="merge"),
            path("<int:pk>/not-duplicate/", donor_not_duplicate, name="not_duplicate"),
            path("<int:pk>/same-person/", donor_same_person, name="same_person"),
            path("<int:pk>/record-gift/", record_gift_for_donor, name="record_gift"),
            path("duplicates/", donor_duplicates, name="duplicates"),
        ]
