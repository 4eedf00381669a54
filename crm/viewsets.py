"""The CRM in the Wagtail admin, as declarations: one "CRM" menu group with donors, donations,
recurring plans and receipts (the giving app adds its Stripe event log to the menu).

Tenant isolation happens in three places, on purpose redundant:
1. every URL of a viewset that names an object (`pk`) is wrapped by `_scoped_object_guard`,
   which answers 404 unless the object is in `Model.objects.for_user(user)`;
2. index views (and thus list exports, search and filters) start from the scoped queryset;
3. form fields and filters that list related rows (network, donor, campaign) are scoped too.
"""

import functools

from django.core.exceptions import PermissionDenied
from django.forms.models import modelform_factory
from django.http import Http404
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django_filters import ChoiceFilter, DateFromToRangeFilter, ModelChoiceFilter
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.forms.models import WagtailAdminModelForm
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.views.generic import chooser as chooser_views
from wagtail.admin.viewsets.chooser import ChooserViewSet
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup
from wagtail.admin.widgets import HeaderButton

from . import admin_views, extensions
from .models import Donation, Donor, Network, Receipt, RecurringPlan
from .search import search_donors


def campaigns_for(user):
    """Campaign pages under the network pages of the user's networks."""
    return extensions.campaign_pages(Network.objects.for_user(user))


def _scoped_object_guard(model, view):
    """Wrap an admin view so that an object outside the user's networks is a 404."""

    @functools.wraps(view)
    def guarded(request, *args, **kwargs):
        from django.contrib.admin.utils import unquote

        pk = kwargs.get("pk")
        if pk is not None:
            visible = model._default_manager.for_user(request.user)
            if not visible.filter(pk=unquote(str(pk))).exists():
                raise Http404
        return view(request, *args, **kwargs)

    return guarded


# --- Views --------------------------------------------------------------------------------------


class ScopedIndexView(generic.IndexView):
    """An index (and its exports) that only ever starts from the user's networks' rows."""

    def get_base_queryset(self):
        return super().get_base_queryset().for_user(self.request.user)

    def as_spreadsheet(self, queryset, spreadsheet_format):
        from .exports import csv_response, xlsx_response

        headings = [self.get_heading(queryset, field) for field in self.list_export]

        def rows():
            for item in queryset.iterator(chunk_size=2000):
                yield [
                    value if isinstance(value, (int, str)) or value is None else str(value)
                    for value in self.to_row_dict(item).values()
                ]

        make = csv_response if spreadsheet_format == self.FORMAT_CSV else xlsx_response
        return make(headings, rows(), self.get_filename())


class DonorIndexView(ScopedIndexView):
    def search_queryset(self, queryset):
        if not self.is_searching:
            return queryset
        return search_donors(queryset, self.search_query)


class DonationIndexView(ScopedIndexView):
    def as_spreadsheet(self, queryset, spreadsheet_format):
        from .exports import export_donations

        return export_donations(queryset, spreadsheet_format, self.get_filename())

    @property
    def header_more_buttons(self):
        buttons = list(super().header_more_buttons)
        buttons.append(
            HeaderButton(
                _("Import gifts"), url=admin_views.reverse_crm("import"), icon_name="upload"
            )
        )
        return buttons


class TreasurersOnlyMixin:
    """The donor chooser answers only people who may view donors of at least one network."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm("crm.view_donor") or not (
            Network.objects.for_user(request.user).exists()
        ):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class ScopedChooseView(TreasurersOnlyMixin, chooser_views.ChooseView):
    def get_object_list(self):
        return search_donors(Donor.objects.for_user(self.request.user), "")


class ScopedChooseResultsView(TreasurersOnlyMixin, chooser_views.ChooseResultsView):
    def get_object_list(self):
        return Donor.objects.for_user(self.request.user)

    def filter_object_list(self, objects):
        query = self.request.GET.get("q")
        return search_donors(objects, query) if query else objects


class ScopedChosenView(TreasurersOnlyMixin, chooser_views.ChosenView):
    def get_object(self, pk):
        return Donor.objects.for_user(self.request.user).get(pk=pk)


class ScopedChosenMultipleView(TreasurersOnlyMixin, chooser_views.ChosenMultipleView):
    def get_objects(self, pks):
        return Donor.objects.for_user(self.request.user).filter(pk__in=pks)


class DonorChooserViewSet(ChooserViewSet):
    model = Donor
    icon = "user"
    choose_one_text = _("Choose a donor")
    choose_another_text = _("Choose another donor")
    choose_view_class = ScopedChooseView
    choose_results_view_class = ScopedChooseResultsView
    chosen_view_class = ScopedChosenView
    chosen_multiple_view_class = ScopedChosenMultipleView


donor_chooser_viewset = DonorChooserViewSet("crm_donor_chooser", url_prefix="crm/donor-chooser")


# --- Forms and filters --------------------------------------------------------------------------


class ScopedForm(WagtailAdminModelForm):
    """Related-row choices limited to the editing user's networks."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.for_user
        scopes = {
            "network": lambda: Network.objects.for_user(user),
            "donor": lambda: Donor.objects.for_user(user),
            "recurring_plan": lambda: RecurringPlan.objects.for_user(user),
            "campaign": lambda: campaigns_for(user),
        }
        for name, scope in scopes.items():
            if name in self.fields:
                self.fields[name].queryset = scope()
        if "network" in self.fields:
            networks = self.fields["network"].queryset
            if networks.count() == 1 and not self.instance.pk:
                self.fields["network"].initial = networks.get()
        if "donor" in self.fields:
            self.fields["donor"].widget = donor_chooser_viewset.widget_class()


def _network_filter():
    return ModelChoiceFilter(
        label=_("Network"), queryset=lambda request: Network.objects.for_user(request.user)
    )


class DonationFilterSet(WagtailFilterSet):
    received_on = DateFromToRangeFilter(label=_("Period"), widget=DateRangePickerWidget)
    campaign = ModelChoiceFilter(
        label=_("Campaign"), queryset=lambda request: campaigns_for(request.user)
    )
    network = _network_filter()

    class Meta:
        model = Donation
        fields = ["received_on", "campaign", "method", "status", "channel", "network"]


class ReceiptFilterSet(WagtailFilterSet):
    issued_at = DateFromToRangeFilter(label=_("Issued"), widget=DateRangePickerWidget)
    network = _network_filter()

    class Meta:
        model = Receipt
        fields = ["issued_at", "year", "status", "kind", "network"]


class DonorFilterSet(WagtailFilterSet):
    network = _network_filter()
    kind = ChoiceFilter(choices=Donor.Kind.choices, label=_("Kind"))

    class Meta:
        model = Donor
        fields = ["network", "kind", "newsletter"]


# --- Viewsets -----------------------------------------------------------------------------------


class ScopedModelViewSet(ModelViewSet):
    """A ModelViewSet whose every view is limited to the user's networks."""

    index_view_class = ScopedIndexView
    copy_view_enabled = False
    inspect_view_enabled = True
    #: URL names kept from the generic set; None keeps them all.
    url_names = None

    def get_form_class(self, for_update=False):
        return modelform_factory(
            self.model,
            form=ScopedForm,
            fields=self.get_form_fields(),
            exclude=self.get_exclude_form_fields() or (),
        )

    def get_common_view_kwargs(self, **kwargs):
        # Views must not link to (nor reverse) the URLs this viewset leaves out.
        kwargs = super().get_common_view_kwargs(**kwargs)
        if self.url_names is not None:
            for action in ("add", "edit", "delete", "history", "usage", "inspect"):
                if action not in self.url_names:
                    kwargs[f"{action}_url_name"] = None
        return kwargs

    def get_extra_urlpatterns(self):
        return []

    def get_urlpatterns(self):
        patterns = [
            p
            for p in super().get_urlpatterns()
            if self.url_names is None or p.name in self.url_names
        ]
        patterns += self.get_extra_urlpatterns()
        return [
            path(str(p.pattern), _scoped_object_guard(self.model, p.callback), name=p.name)
            for p in patterns
        ]


class DonorViewSet(ScopedModelViewSet):
    model = Donor
    icon = "user"
    menu_label = _("Donors")
    index_view_class = DonorIndexView
    inspect_view_class = admin_views.DonorInspectView
    filterset_class = DonorFilterSet
    search_fields = ["first_name", "last_name", "organisation_name", "email", "codice_fiscale"]
    list_display = ["display_name", "email", "codice_fiscale", "city", "network", "created_at"]
    list_export = ["id", *Donor.NAME_FIELDS, *Donor.CONTACT_FIELDS, "newsletter", "network"]
    export_filename = "donors"
    exclude_form_fields = ["merged_into", "anonymised_at"]

    def get_extra_urlpatterns(self):
        return [
            path("<int:pk>/export-json/", admin_views.donor_json_export, name="export_json"),
            path("<int:pk>/anonymise/", admin_views.donor_anonymise, name="anonymise"),
            path("<int:pk>/merge/", admin_views.donor_merge, name="merge"),
            path("<int:pk>/record-gift/", admin_views.record_gift, name="record_gift"),
            path("duplicates/", admin_views.donor_duplicates, name="duplicates"),
        ]


class DonationViewSet(ScopedModelViewSet):
    model = Donation
    icon = "euro"
    menu_label = _("Donations")
    index_view_class = DonationIndexView
    inspect_view_class = admin_views.DonationInspectView
    filterset_class = DonationFilterSet
    list_display = [
        "received_on",
        "donor",
        Column("amount", label=_("Amount"), accessor="__str__"),
        "method",
        "channel",
        "status",
        "campaign",
    ]
    list_export = ["id"]  # the export itself is crm.exports.export_donations
    export_filename = "donations"
    form_fields = ["donor", "campaign", "reference", "dedication", "anonymous", "wants_receipt"]
    url_names = {"index", "index_results", "edit", "history", "history_results", "inspect"}

    def get_extra_urlpatterns(self):
        return [
            path("new/", admin_views.record_gift, name="add"),
            path("<int:pk>/issue-receipt/", admin_views.issue_receipt, name="issue_receipt"),
            path("import/", admin_views.import_gifts, name="import"),
            path("export/summary/", admin_views.export_summary, name="export_summary"),
            path("export/receipts/", admin_views.export_receipts, name="export_receipts"),
        ]

    def get_index_view_kwargs(self, **kwargs):
        kwargs = super().get_index_view_kwargs(**kwargs)
        kwargs["add_url_name"] = self.get_url_name("add")
        return kwargs


class RecurringPlanViewSet(ScopedModelViewSet):
    model = RecurringPlan
    icon = "repeat"
    menu_label = _("Recurring plans")
    list_display = ["donor", "__str__", "status", "failures", "started_at", "cancelled_at"]
    list_filter = ["status", "interval"]
    list_export = ["id", "donor", "amount_cents", "interval", "status", "failures", "started_at"]
    export_filename = "recurring-plans"
    url_names = {"index", "index_results", "history", "history_results", "inspect"}


class ReceiptViewSet(ScopedModelViewSet):
    model = Receipt
    icon = "doc-full"
    menu_label = _("Receipts")
    inspect_view_class = admin_views.ReceiptInspectView
    filterset_class = ReceiptFilterSet
    list_display = ["number", "donor", "issued_at", "kind", "status"]
    list_export = ["number", "issued_at", "kind", "status", "donor", "amount_cents"]
    export_filename = "receipts"
    inspect_view_fields_exclude = ["donor_snapshot", "entity_snapshot"]
    # Receipts are immutable once issued: corrections are void + reissue.
    url_names = {"index", "index_results", "history", "history_results", "inspect"}

    def get_extra_urlpatterns(self):
        return [
            path("<int:pk>/pdf/", admin_views.receipt_pdf, name="pdf"),
            path("<int:pk>/void/", admin_views.receipt_void, name="void"),
            path("<int:pk>/reissue/", admin_views.receipt_reissue, name="reissue"),
            path("<int:pk>/resend/", admin_views.receipt_resend, name="resend"),
        ]


class CrmViewSetGroup(ModelViewSetGroup):
    menu_label = _("CRM")
    menu_icon = "group"
    menu_order = 150
    submenu_hook = extensions.CRM_MENU
    items = (
        DonorViewSet("crm_donor", url_prefix="crm/donors"),
        DonationViewSet("crm_donation", url_prefix="crm/donations"),
        RecurringPlanViewSet("crm_recurringplan", url_prefix="crm/recurring-plans"),
        ReceiptViewSet("crm_receipt", url_prefix="crm/receipts"),
    )
