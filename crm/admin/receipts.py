"""Receipts in the admin: the list, the receipt page with its actions, and the actions
themselves (PDF, void, reissue, email again). Receipts are immutable once issued: corrections
are void + reissue."""

from django.contrib import messages
from django.db.models import Exists, OuterRef
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy as pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_filters import DateFromToRangeFilter
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.tables import StatusFlagColumn

from crm.models import Donation, Receipt
from crm.outbox import queue_receipt_email
from crm.receipt_files import STORED_PDF, ReceiptError, receipt_pdf_response
from crm.receipts import reissue_receipt, void_receipt
from crm.search import search_receipts
from crm.tenancy import network_view, reached

from .common import (
    ActionsInspectView,
    BulkActionsMixin,
    ScopedIndexView,
    ScopedModelViewSet,
    donor_column,
    may,
    network_filter,
)
from .entity_lists import EntityColumnMixin, EntityFilterMixin, entity_filter
from .gifts import issued_message

# --- Views --------------------------------------------------------------------------------------


class ReceiptIndexView(EntityColumnMixin, BulkActionsMixin, ScopedIndexView):
    def get_base_queryset(self):
        # One EXISTS per page of rows, not a query per receipt.
        disputed = Donation.objects.open_disputes().filter(receipts=OuterRef("pk"))
        return super().get_base_queryset().annotate(open_dispute=Exists(disputed))

    def search_queryset(self, queryset):
        return search_receipts(queryset, self.search_query) if self.is_searching else queryset


class ReceiptInspectView(ActionsInspectView):
    template_name = "crm/admin/receipt_inspect.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["disputed_gifts"] = list(
            self.object.donations.open_disputes().values_list("pk", flat=True)
        )
        return context

    def get_language_display_value(self):
        """The language's name ("Italiano"), not its code."""
        try:
            return get_language_info(self.object.language)["name_translated"]
        except KeyError:
            return self.object.language

    def get_pdf_file_display_value(self):
        """Whether the PDF is ready (the button downloads it), never where it is stored."""
        return _("Ready") if self.object.pdf_file else _("Not rendered yet")

    def get_actions(self):
        def url(name):
            return reverse(f"crm_receipt:{name}", args=[self.object.pk])

        actions = [(_("Download PDF"), url("pdf"), "get")]
        if self.object.status == Receipt.Status.ISSUED:
            actions.append((_("Email again"), url("resend"), "post"))
        # Voiding and reissuing are the network's treasurers' (an entity's own read its
        # receipts): no button to a screen that would refuse them.
        issued = self.object.status == Receipt.Status.ISSUED
        if issued and may(self.request.user, Receipt, "change"):
            actions += [
                (_("Reissue with current details"), url("reissue"), "get"),
                # The verb, not the status: "Annulla", where the status reads "Annullata".
                (pgettext("receipt action", "Void"), url("void"), "get"),
            ]
        return actions


def _receipt(request, pk, action):
    return get_object_or_404(reached(request.user, Receipt, action), pk=pk)


@never_cache
@network_view(Receipt, "view")
def receipt_pdf(request, pk):
    """The stored PDF, served here to a treasurer of the receipt's network (404 for any other
    receipt): no signed link lands in the browser's history, and a void receipt's PDF is still
    the document as issued."""
    receipt = _receipt(request, pk, "view")
    try:
        return receipt_pdf_response(receipt)
    except ReceiptError as exc:
        if exc.code != STORED_PDF:
            raise
    messages.error(
        request,
        _(
            "The stored PDF of receipt %(number)s is missing or is not the one issued: it is "
            "not served. Restore it from the backup of the private files (README, “Backups "
            "and restore”)."
        )
        % {"number": receipt.number},
    )
    return redirect("crm_receipt:inspect", receipt.pk)


def _receipt_change(request, pk, verb, done, ask, ask_email=False):
    """GET asks (what will happen, and why); POST with a reason calls `verb` (void or
    reissue). `ask` is (question, what happens, confirm button), each with %(number)s;
    `ask_email` offers to email the new receipt (ticked)."""
    receipt = _receipt(request, pk, "change")
    if request.method != "POST":
        question, notice, confirm = (str(text) % {"number": receipt.number} for text in ask)
        return TemplateResponse(
            request,
            "crm/admin/confirm.html",
            {
                "title": question,
                "object": receipt,
                "notice": notice,
                "confirm_label": confirm,
                "back_url": reverse("crm_receipt:inspect", args=[receipt.pk]),
                "ask_reason": True,
                "ask_email": ask_email,
            },
        )
    reason = request.POST.get("reason", "").strip()
    if not reason:
        messages.error(request, _("Say why."))
        return redirect("crm_receipt:inspect", receipt.pk)
    result = verb(receipt, reason=reason, user=request.user)
    if ask_email:
        # A reissued receipt is a new document: emailed like any other, unless unticked.
        done = issued_message(request, result)
    messages.success(request, done)
    return redirect("crm_receipt:inspect", getattr(result, "pk", receipt.pk))


VOID_ASK = (
    _("Void receipt no. %(number)s?"),
    _(
        "The receipt stays on record, marked as void, with its number and PDF; the number is "
        "never used again. The donor is not emailed. To correct a receipt, reissue it instead."
    ),
    _("Void the receipt"),
)
REISSUE_ASK = (
    _("Reissue receipt no. %(number)s?"),
    _(
        "Receipt no. %(number)s is voided and a new receipt, with a new number, is issued for the "
        "same gifts with the donor's current details. The new receipt is emailed to the donor "
        "unless you untick the box below."
    ),
    _("Reissue the receipt"),
)


@network_view(Receipt, "change")
def receipt_void(request, pk):
    return _receipt_change(request, pk, void_receipt, _("Receipt voided."), VOID_ASK)


@network_view(Receipt, "change")
def receipt_reissue(request, pk):
    return _receipt_change(
        request, pk, reissue_receipt, _("Receipt reissued."), REISSUE_ASK, ask_email=True
    )


@network_view(Receipt, "view")
@require_POST
def receipt_resend(request, pk):
    queue_receipt_email(_receipt(request, pk, "view"), user=request.user)
    messages.success(request, _("The receipt will be emailed again."))
    return redirect("crm_receipt:inspect", pk)


# --- Declarations -------------------------------------------------------------------------------


class ReceiptFilterSet(EntityFilterMixin, WagtailFilterSet):
    issued_at = DateFromToRangeFilter(label=_("Issued"), widget=DateRangePickerWidget)
    network = network_filter()
    entity = entity_filter()

    class Meta:
        model = Receipt
        fields = ["issued_at", "year", "status", "kind", "network"]


class ReceiptViewSet(ScopedModelViewSet):
    model = Receipt
    icon = "doc-full"
    menu_label = _("Receipts")
    empty_message = _("No receipts yet.")
    index_view_class = ReceiptIndexView
    inspect_view_class = ReceiptInspectView
    filterset_class = ReceiptFilterSet
    list_display = [
        "number",
        donor_column(),
        "issued_at",
        "kind",
        "status",
        StatusFlagColumn("open_dispute", label=_("Dispute"), true_label=_("Open dispute")),
    ]
    list_export = ["number", "issued_at", "kind", "status", "donor", "amount_cents", "entity"]
    export_filename = "ricevute"
    # Searched by crm.search.search_receipts (number, donor, gift reference).
    search_fields = ["number"]
    # pdf_enqueued_at: the sweep's own bookkeeping (crm.sweep), nothing a treasurer reads.
    inspect_view_fields_exclude = [
        "donor_snapshot",
        "entity_snapshot",
        "goods_snapshot",
        "pdf_enqueued_at",
    ]
    # Receipts are immutable once issued: corrections are void + reissue.
    url_names = {"index", "index_results", "history", "history_results", "inspect"}

    def get_extra_urlpatterns(self):
        return [
            path("<int:pk>/pdf/", receipt_pdf, name="pdf"),
            path("<int:pk>/void/", receipt_void, name="void"),
            path("<int:pk>/reissue/", receipt_reissue, name="reissue"),
            path("<int:pk>/resend/", receipt_resend, name="resend"),
        ]
