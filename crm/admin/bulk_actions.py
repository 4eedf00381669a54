"""Bulk actions on the gifts and receipts lists (Wagtail's bulk actions: tick rows, pick an
action, confirm). Each asks, then acts, then says what it did. Only rows of the user's networks
are ever touched: ids of another network are left out (and counted as such), whatever the
request says."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponseBase
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy
from wagtail.admin.views.bulk_action import BulkAction

from crm import receipt_selection, receipts
from crm.exports import export_donations, export_receipts_zip
from crm.models import Donation, Receipt
from crm.search import search_gifts, search_receipts
from crm.tenancy import reached, require
from crm.validators import row_id

from .gifts import DonationFilterSet
from .imports import receipts_report, selection_summary
from .receipts import ReceiptFilterSet


class ScopedBulkAction(BulkAction):
    """The rows asked for (`id=` or `id=all` with the listing's filters and search), limited to
    the user's networks. `network_policy` is what the action asks the network permission
    policy: (model, action), e.g. (Receipt, "add") to issue receipts from the gifts' list."""

    template_name = "crm/admin/bulk_confirm.html"
    network_policy: tuple[type, str] | None = None
    filterset_class: type | None = None
    search: Callable[[Any, Any], Any] | None = None
    button_text = _("Confirm")

    def dispatch(self, request, *args, **kwargs):
        require(request.user, *self.network_policy)
        return super().dispatch(request, *args, **kwargs)

    def get_actionable_objects(self):
        if not hasattr(self, "_actionable"):
            # The rows the action is for: reading a row (an entity's own treasurers read its
            # gifts) is not acting on it; issuing a gift's receipt changes the gift.
            model, action = self.network_policy
            scoped = reached(
                self.request.user, self.model, action if model is self.model else "change"
            )
            ids = self.request.GET.getlist("id")
            if "all" in ids:
                filters = self.filterset_class(
                    self.request.GET, queryset=scoped, request=self.request
                )
                queryset = self.search(filters.qs, self.request.GET.get("q"))
                self.ignored = 0
            else:
                wanted = {row_id(i) for i in ids} - {None}
                queryset = scoped.filter(pk__in=wanted)
                self.ignored = len(wanted) - queryset.count()
            self._actionable = list(queryset.order_by("pk"))
        return self._actionable, {"items_with_no_access": []}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            title=self.display_name,
            ignored=self.ignored,
            shown=context["items"][:200],
            more=max(len(context["items"]) - 200, 0),
            action_button_text=self.button_text,
            no_action_button_text=_("Cancel"),
        )
        return context

    def form_valid(self, form):
        objects, _none = self.get_actionable_objects()
        if not objects:
            messages.error(self.request, _("Nothing selected that you may act on."))
            return redirect(self.next_url)
        done = self.act(objects, form.cleaned_data)
        if isinstance(done, HttpResponseBase):
            return done
        if self.ignored:
            done += " " + ngettext(
                "%(n)s selected row of another network was left out.",
                "%(n)s selected rows of another network were left out.",
                self.ignored,
            ) % {"n": self.ignored}
        messages.success(self.request, done)
        return redirect(self.next_url)

    def act(self, objects, data):
        raise NotImplementedError


class GiftBulkAction(ScopedBulkAction):
    models = [Donation]
    filterset_class = DonationFilterSet
    search = staticmethod(search_gifts)


class ReceiptBulkAction(ScopedBulkAction):
    models = [Receipt]
    filterset_class = ReceiptFilterSet
    search = staticmethod(search_receipts)


class EmailChoiceForm(forms.Form):
    email = forms.BooleanField(
        label=_("Email each receipt to its donor"), required=False, initial=True
    )


class IssueReceiptsForm(EmailChoiceForm):
    include_not_asked = forms.BooleanField(
        label=_("Also issue receipts for the gifts whose donor did not ask for one"),
        required=False,
    )
    include_missing = forms.BooleanField(
        label=_(
            "Also issue receipts for donors without a codice fiscale or address: the receipt "
            "lacks what the law asks for, and your confirmation is kept in its history"
        ),
        required=False,
    )


class IssueReceiptsAction(GiftBulkAction):
    """Says who gets a receipt and why the others do not; by default only the gifts whose
    donor asked (or every gift where the network issues them always) and whose donor has the
    data a receipt needs."""

    display_name = _("Issue receipts")
    action_type = "issue_receipts"
    aria_label = _("Issue a receipt for each selected gift")
    network_policy = (Receipt, "add")
    form_class = IssueReceiptsForm
    template_name = "crm/admin/bulk_issue_receipts.html"
    button_text = _("Issue the receipts")
    action_priority = 10

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        objects, _none = self.get_actionable_objects()
        context["selection"] = selection_summary(receipt_selection.sort_for_receipts(objects))
        return context

    def act(self, objects, data):
        report = receipt_selection.issue_receipts_for(
            objects,
            issued_by=self.request.user,
            email=data["email"],
            include_not_asked=data["include_not_asked"],
            include_missing=data["include_missing"],
        )
        return receipts_report(report)


class FormatForm(forms.Form):
    format = forms.ChoiceField(
        label=_("Format"), choices=[("csv", "CSV"), ("xlsx", "XLSX (Excel)")], initial="csv"
    )


class ExportGiftsAction(GiftBulkAction):
    display_name = _("Export")
    action_type = "export"
    aria_label = _("Export the selected gifts")
    network_policy = (Donation, "view")
    form_class = FormatForm
    button_text = _("Download")
    action_priority = 40

    def act(self, objects, data):
        selection = Donation.objects.filter(pk__in=[o.pk for o in objects]).order_by("pk")
        return export_donations(selection, data["format"], "donations-selection")


class EmailReceiptsAction(ReceiptBulkAction):
    display_name = _("Email to donors")
    action_type = "email"
    aria_label = _("Email the selected receipts to their donors (again)")
    network_policy = (Receipt, "view")
    button_text = _("Send the emails")
    action_priority = 10

    def act(self, objects, data):
        sent = 0
        for receipt in objects:
            if receipt.status == Receipt.Status.ISSUED and receipts.email_receipt(
                receipt, user=self.request.user
            ):
                sent += 1
        text = ngettext(
            "%(n)s receipt will be emailed.", "%(n)s receipts will be emailed.", sent
        ) % {"n": sent}
        if len(objects) - sent:
            text += " " + ngettext(
                "%(n)s was not (void, or no email address).",
                "%(n)s were not (void, or no email address).",
                len(objects) - sent,
            ) % {"n": len(objects) - sent}
        return text


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=255)


class VoidReceiptsAction(ReceiptBulkAction):
    display_name = pgettext_lazy("receipt action", "Void")  # the verb, not the status
    action_type = "void"
    aria_label = _("Void the selected receipts")
    network_policy = (Receipt, "change")
    form_class = ReasonForm
    button_text = _("Void the receipts")
    classes = {"serious"}
    action_priority = 30

    def act(self, objects, data):
        voided = 0
        for receipt in objects:
            if receipt.status == Receipt.Status.ISSUED:
                receipts.void_receipt(receipt, reason=data["reason"], user=self.request.user)
                voided += 1
        text = ngettext("%(n)s receipt voided.", "%(n)s receipts voided.", voided) % {"n": voided}
        if len(objects) - voided:
            text += " " + ngettext(
                "%(n)s was already void.", "%(n)s were already void.", len(objects) - voided
            ) % {"n": len(objects) - voided}
        return text


class DownloadReceiptsAction(ReceiptBulkAction):
    display_name = _("Download (ZIP)")
    action_type = "download"
    aria_label = _("Download the selected receipts as a ZIP of PDFs")
    network_policy = (Receipt, "view")
    button_text = _("Download")
    action_priority = 20

    def act(self, objects, data):
        selection = Receipt.objects.filter(pk__in=[o.pk for o in objects])
        return export_receipts_zip(
            selection, f"ricevute-selezionate-{timezone.localdate():%Y-%m-%d}"
        )


BULK_ACTIONS = (
    IssueReceiptsAction,
    ExportGiftsAction,
    EmailReceiptsAction,
    VoidReceiptsAction,
    DownloadReceiptsAction,
)
