"""Checkout attempts: donations started on the giving form and never paid (still pending, failed,
cancelled or abandoned). They are not gifts (no money arrived) and appear in no gift list, total
or export (`DonationQuerySet`); the treasurer looks into them here, e.g. when a donor says their
card was refused. Each row opens the attempt's page among the donations."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_filters import ChoiceFilter, DateFromToRangeFilter
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.paginator import WagtailPaginator
from wagtail.admin.ui.tables import Column, DateColumn, TitleColumn

from crm.display import format_datetime
from crm.models import Donation
from crm.money import format_amount

from .common import ScopedIndexView, ScopedModelViewSet, network_filter


def _typed_name(item):
    """Who started the checkout, as they typed it (a claim: no donor is matched until paid)."""
    details = item.donor_details or {}
    name = " ".join(p for p in (details.get("first_name"), details.get("last_name")) if p)
    name = name or details.get("organisation_name") or details.get("email")
    return name or "—"


class CheckoutAttemptFilterSet(WagtailFilterSet):
    created_at = DateFromToRangeFilter(label=_("Started"), widget=DateRangePickerWidget)
    status = ChoiceFilter(
        label=_("Status"),
        choices=[(s.value, s.label) for s in Donation.Status if s in Donation.ATTEMPT_STATUSES],
    )
    network = network_filter()

    class Meta:
        model = Donation
        fields = ["created_at", "status", "network"]


class CheckoutAttemptPaginator(WagtailPaginator):
    """Counts attempts as attempts ("3 checkout attempts"), not as the model's donations."""

    verbose_name = _("checkout attempt")
    verbose_name_plural = _("checkout attempts")


class CheckoutAttemptIndexView(ScopedIndexView):
    page_title = _("Checkout attempts")
    # The empty list and the count speak of attempts, not of the model's donations.
    verbose_name = _("checkout attempt")
    verbose_name_plural = _("checkout attempts")
    paginator_class = CheckoutAttemptPaginator

    def get_base_queryset(self):
        return super().get_base_queryset().checkout_attempts().select_related("campaign")


class CheckoutAttemptViewSet(ScopedModelViewSet):
    """The list of checkout attempts, in the CRM menu next to the donations."""

    model = Donation
    icon = "warning"
    menu_label = _("Checkout attempts")
    empty_message = _("No checkout attempts yet.")
    add_to_admin_menu = False
    index_view_class = CheckoutAttemptIndexView
    filterset_class = CheckoutAttemptFilterSet
    ordering = ["-created_at", "-id"]
    list_display = [
        TitleColumn(
            "created_at",
            label=_("Started"),
            accessor=lambda item: format_datetime(item.created_at),
            get_url=lambda item: reverse("crm_donation:inspect", args=[item.pk]),
        ),
        Column("who", label=_("Name given"), accessor=_typed_name),
        Column("amount", label=_("Amount"), accessor=lambda item: format_amount(item.amount_cents)),
        "status",
        "campaign",
        DateColumn("updated_at", label=_("Last change")),
    ]
    url_names = {"index", "index_results"}

    # Objects of this model open on the donations' screens: this list neither claims their URLs
    # (Wagtail's admin URL finder) nor registers the model's permissions a second time.
    def register_admin_url_finder(self):
        pass

    def register_permissions(self):
        pass
