"""What every CRM admin screen shares.

Tenant isolation is decided in one place, `crm.tenancy.NetworkPermissionPolicy`, and every
screen asks it:
1. every URL of a viewset goes through `network_view` (403 without any of the model's actions,
   404 for an object outside the user's networks), and its views get the policy as their
   `permission_policy` (which action each screen needs);
2. index views (and thus list exports, search and filters) start from the policy's rows;
3. form fields and filters that list related rows (network, donor, campaign) are scoped too;
4. custom views are decorated with `network_view(Model, action)` and load their rows through
   `reached(user, Model, action)`; `tests/crm/test_policy_coverage.py` fails for a screen
   that does not.
"""

from django.forms.models import modelform_factory
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.text import capfirst, format_lazy
from django.utils.translation import gettext_lazy as _
from django_filters import ModelChoiceFilter
from wagtail.admin.forms.models import WagtailAdminModelForm
from wagtail.admin.ui.tables import BulkActionsCheckboxColumn, TitleColumn
from wagtail.admin.utils import get_latest_str
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet

from crm import display, extensions
from crm.exports import csv_response, xlsx_response
from crm.models import Donor, RecurringPlan
from crm.tenancy import network_view, policy_for, reached

from .donor_chooser import use_donor_chooser
from .offered import bulk_buttons, donor_column, donor_url, may  # noqa: F401 (shared here)


def networks_for(user):
    """The networks whose CRM the user reaches (the policy's treasurers' networks)."""
    return policy_for(Donor).networks_for(user)


def campaigns_for(user):
    """Campaign pages under the network pages of the user's networks."""
    return extensions.campaign_pages(networks_for(user))


# --- Views --------------------------------------------------------------------------------------


class ScopedIndexView(generic.IndexView):
    """An index (and its exports) that only ever starts from the user's networks' rows."""

    results_template_name = "crm/admin/index_results.html"
    #: What an empty list says, set by the viewset: Wagtail's one sentence for every model
    #: cannot agree in gender ("Non c'è nessun importazioni").
    empty_message = None

    def get_base_queryset(self):
        return self.permission_policy.scope(super().get_base_queryset(), self.request.user)

    def _get_title_column(self, field_name, column_class=TitleColumn, **kwargs):
        # A row's title opens its page (a donor's history, a gift); editing is on that page
        # and in the row's "more" menu.
        column = super()._get_title_column(field_name, column_class, **kwargs)
        column._get_url_func = lambda item: self.get_inspect_url(item) or self.get_edit_url(item)
        return column

    def as_spreadsheet(self, queryset, spreadsheet_format):
        # amounts as numbers in euros, dates as dates: the accountant sums and sorts them
        headings = [
            format_lazy("{} (EUR)", self.get_heading(queryset, field))
            if display.is_amount(self.model, field)
            else self.get_heading(queryset, field)
            for field in self.list_export
        ]

        def rows():
            for item in queryset.iterator(chunk_size=2000):
                yield [display.export_value(item, field) for field in self.list_export]

        make = csv_response if spreadsheet_format == self.FORMAT_CSV else xlsx_response
        return make(headings, rows(), self.get_filename())


class BulkActionsMixin:
    """An index with a tick box per row and the bulk actions bar (crm.admin.bulk_actions); the
    actions themselves scope the ticked rows again."""

    template_name = "crm/admin/bulk_index.html"

    @cached_property
    def columns(self):
        obj_type = self.model._meta.model_name
        return [BulkActionsCheckboxColumn("bulk_actions", obj_type=obj_type), *super().columns]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["bulk_buttons"] = bulk_buttons(self.request.user, self.model)
        return context


class HumanInspectView(generic.InspectView):
    """An object's page as people read it (`crm.display`): amounts, Sì/No, choice labels,
    local times, "—"; Stripe ids and raw data folded in a "Technical details" section."""

    template_name = "crm/admin/inspect.html"

    def get_page_title(self):
        """The object's name (a receipt's number, a donor's name), not Wagtail's "Inspect"."""
        return get_latest_str(self.object)

    def get_page_subtitle(self):
        return ""

    def get_breadcrumbs_items(self):
        items = [{"url": "", "label": self.get_page_title()}]
        if self.index_url_name:
            plural = capfirst(self.model._meta.verbose_name_plural)
            items.insert(0, {"url": reverse(self.index_url_name), "label": plural})
        return self.breadcrumbs_items + items

    def get_field_display_value(self, field_name, field):
        value_func = getattr(self, f"get_{field_name}_display_value", None)
        if callable(value_func):
            return value_func()
        return display.field_value(self.object, field_name)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        pairs = list(zip(self.fields, context.get("fields", []), strict=False))
        context["fields"] = [f for name, f in pairs if not display.is_technical(name)]
        context["technical_fields"] = [f for name, f in pairs if display.is_technical(name)]
        return context


class ActionsInspectView(HumanInspectView):
    """An inspect page with the object's actions as buttons (POST ones as small forms)."""

    template_name = "crm/admin/actions_inspect.html"

    def get_actions(self):
        return []

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["actions"] = self.get_actions()
        return context


# --- Forms and filters --------------------------------------------------------------------------


class ScopedForm(WagtailAdminModelForm):
    """Related-row choices limited to the editing user's networks."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.for_user
        scopes = {
            "network": lambda: networks_for(user),
            "donor": lambda: reached(user, Donor),
            "recurring_plan": lambda: reached(user, RecurringPlan),
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
            use_donor_chooser(self.fields["donor"])


def network_filter():
    """A filter on the network, offering only the user's networks."""
    return ModelChoiceFilter(
        label=_("Network"), queryset=lambda request: networks_for(request.user)
    )


# --- Viewsets -----------------------------------------------------------------------------------


class ScopedModelViewSet(ModelViewSet):
    """A ModelViewSet whose every view asks the model's network permission policy (registered
    by `crm.tenancy.register_network_policy`): which actions, and which rows.

    Its own extra views (`get_extra_urlpatterns`) are decorated one by one with
    `network_view(Model, action)`: each says what it needs."""

    index_view_class = ScopedIndexView
    inspect_view_class = HumanInspectView
    copy_view_enabled = False
    inspect_view_enabled = True
    #: URL names kept from the generic set; None keeps them all.
    url_names: set[str] | None = None
    #: What the list says when it is empty (see ScopedIndexView.empty_message).
    empty_message = _("Nothing here yet.")

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(empty_message=self.empty_message, **kwargs)

    @cached_property
    def permission_policy(self):
        return policy_for(self.model)

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

    @property
    def url_finder_class(self):
        # Where Wagtail links an object (site history, usage): its edit view, or the inspect
        # view of a read-only screen (receipts), never a URL this viewset leaves out.
        finder = super().url_finder_class
        if self.url_names is not None and "edit" not in self.url_names:
            finder.edit_url_name = self.get_url_name("inspect")
        return finder

    def get_extra_urlpatterns(self):
        return []

    def get_urlpatterns(self):
        # Wagtail's generic views: any of the model's actions (each view asks its own through
        # `permission_policy`), on a row of the user's networks (404 else).
        scoped = network_view(self.model)
        patterns = [
            path(str(p.pattern), scoped(p.callback), name=p.name)
            for p in super().get_urlpatterns()
            if self.url_names is None or p.name in self.url_names
        ]
        return patterns + self.get_extra_urlpatterns()
