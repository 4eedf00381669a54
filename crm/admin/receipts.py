"""Receipts in the admin: the list, the receipt page with its actions, and the actions
themselves (PDF, void, reissue, email again). Receipts are immutable once issued: corrections
are void + reissue."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy as pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_filters import DateFromToRangeFilter
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet

from crm.models import Receipt
from crm.outbox import queue_receipt_email
from crm.receipt_files import receipt_pdf_response
from crm.receipts import reissue_receipt, void_receipt

from .common import (
    ActionsInspectView,
    ScopedModelViewSet,
    donor_column,
    network_filter,
    require_perm,
)

# --- Views --------------------------------------------------------------------------------------


class ReceiptInspectView(ActionsInspectView):
    def get_actions(self):
        def url(name):
            return reverse(f"crm_receipt:{name}", args=[self.object.pk])

        actions = [(_("Download PDF"), url("pdf"), "get")]
        if self.object.status == Receipt.Status.ISSUED:
            actions += [
                (_("Email again"), url("resend"), "post"),
                (_("Reissue with current details"), url("reissue"), "get"),
                # The verb, not the status: "Annulla", where the status reads "Annullata".
                (pgettext("receipt action", "Void"), url("void"), "get"),
            ]
        return actions


def _receipt(request, pk):
    return get_object_or_404(Receipt.objects.for_user(request.user), pk=pk)


@never_cache
def receipt_pdf(request, pk):
    """The stored PDF, served here to a treasurer of the receipt's network (404 for any other
    receipt): no signed link lands in the browser's history, and a void receipt's PDF is still
    the document as issued."""
    require_perm(request, "view_receipt")
    return receipt_pdf_response(_receipt(request, pk))


def _receipt_change(request, pk, verb, done, ask):
    """GET asks (what will happen, and why); POST with a reason calls `verb` (void or
    reissue). `ask` is (question, what happens, confirm button), each with %(number)s."""
    require_perm(request, "change_receipt")
    receipt = _receipt(request, pk)
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
            },
        )
    reason = request.POST.get("reason", "").strip()
    if not reason:
        messages.error(request, _("Say why."))
        return redirect("crm_receipt:inspect", receipt.pk)
    result = verb(receipt, reason=reason, user=request.user)
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
        "same gifts with the donor's current details. The new receipt is not emailed by itself: "
        "use “Email again” on it to send it to the donor."
    ),
    _("Reissue the receipt"),
)


def receipt_void(request, pk):
    return _receipt_change(request, pk, void_receipt, _("Receipt voided."), VOID_ASK)


def receipt_reissue(request, pk):
    return _receipt_change(request, pk, reissue_receipt, _("Receipt reissued."), REISSUE_ASK)


@require_POST
def receipt_resend(request, pk):
    require_perm(request, "view_receipt")
    queue_receipt_email(_receipt(request, pk), user=request.user)
    messages.success(request, _("The receipt will be emailed again."))
    return redirect("crm_receipt:inspect", pk)


# --- Declarations -------------------------------------------------------------------------------


class ReceiptFilterSet(WagtailFilterSet):
    issued_at = DateFromToRangeFilter(label=_("Issued"), widget=DateRangePickerWidget)
    network = network_filter()

    class Meta:
        model = Receipt
        fields = ["issued_at", "year", "status", "kind", "network"]


class ReceiptViewSet(ScopedModelViewSet):
    model = Receipt
    icon = "doc-full"
    menu_label = _("Receipts")
    inspect_view_class = ReceiptInspectView
    filterset_class = ReceiptFilterSet
    list_display = ["number", donor_column(), "issued_at", "kind", "status"]
    list_export = ["number", "issued_at", "kind", "status", "donor", "amount_cents"]
    export_filename = "receipts"
    inspect_view_fields_exclude = ["donor_snapshot", "entity_snapshot"]
    # Receipts are immutable once issued: corrections are void + reissue.
    url_names = {"index", "index_results", "history", "history_results", "inspect"}

    def get_extra_urlpatterns(self):
        return [
            path("<int:pk>/pdf/", receipt_pdf, name="pdf"),
            path("<int:pk>/void/", receipt_void, name="void"),
            path("<int:pk>/reissue/", receipt_reissue, name="reissue"),
            path("<int:pk>/resend/", receipt_resend, name="resend"),
        ]
