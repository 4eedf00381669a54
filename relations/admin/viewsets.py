"""The plain lists of relationship fundraising (organisations' people, interactions, tasks,
reports owed, the year's targets): scoped like every CRM screen (`crm.admin.common`)."""

from django.forms.models import modelform_factory
from django.utils.translation import gettext_lazy as _
from django_filters import BooleanFilter, ChoiceFilter, ModelChoiceFilter
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.views import generic

from crm.admin.common import ScopedModelViewSet
from crm.validators import row_id

from ..access import networks_for
from ..models import Interaction, Organisation, Relationship, Report, Task, YearTarget
from .forms import RelationsForm

NO_COPY = {
    "index",
    "index_results",
    "add",
    "edit",
    "delete",
    "history",
    "history_results",
    "inspect",
}


def relations_network_filter():
    return ModelChoiceFilter(
        label=_("Network"), queryset=lambda request: networks_for(request.user)
    )


class PrefilledCreateView(generic.CreateView):
    """A new row with its call, organisation or network given in the address (a link from a
    call's or an organisation's page); the form's scoped choices still decide."""

    def get_initial(self):
        initial = super().get_initial()
        for name in ("call", "organisation", "network"):
            if row_id(self.request.GET.get(name)):
                initial[name] = row_id(self.request.GET[name])
        return initial


class RelationsViewSet(ScopedModelViewSet):
    """A relationship screen: its form's choices limited to the user's networks."""

    url_names = NO_COPY
    add_view_class = PrefilledCreateView

    def get_form_class(self, for_update=False):
        return modelform_factory(
            self.model,
            form=RelationsForm,
            fields=self.get_form_fields(),
            exclude=self.get_exclude_form_fields() or (),
        )


class RelationshipViewSet(RelationsViewSet):
    model = Relationship
    icon = "link"
    menu_label = _("Relationships")
    empty_message = _("No relationships yet.")
    form_fields = ["network", "person", "organisation", "kind", "role", "soft_credit"]
    list_display = ["person", "kind", "organisation", "soft_credit"]
    list_filter = ["kind"]


class InteractionFilterSet(WagtailFilterSet):
    network = relations_network_filter()
    kind = ChoiceFilter(choices=Interaction.Kind.choices, label=_("Kind"))

    class Meta:
        model = Interaction
        fields = ["network", "kind"]


class InteractionViewSet(RelationsViewSet):
    model = Interaction
    icon = "comment"
    menu_label = _("Interactions")
    empty_message = _("No interactions logged yet.")
    form_fields = ["network", "kind", "organisation", "person", "happened_on", "summary"]
    list_display = ["__str__", "happened_on", "by"]
    filterset_class = InteractionFilterSet


class TaskFilterSet(WagtailFilterSet):
    network = relations_network_filter()
    done = BooleanFilter(label=_("Done"))

    class Meta:
        model = Task
        fields = ["network", "done"]


class TaskViewSet(RelationsViewSet):
    model = Task
    icon = "tasks"
    menu_label = _("Tasks")
    empty_message = _("No tasks.")
    form_fields = ["network", "title", "due_on", "owner", "organisation", "done"]
    list_display = ["title", "due_on", "owner", "organisation", "done"]
    filterset_class = TaskFilterSet


class ReportViewSet(RelationsViewSet):
    model = Report
    icon = "doc-full"
    menu_label = _("Reports owed")
    empty_message = _("No reports owed.")
    form_fields = ["network", "title", "call", "pledge", "due_on", "owner", "submitted_on"]
    list_display = ["title", "due_on", "call", "owner", "submitted_on"]


class YearTargetViewSet(RelationsViewSet):
    model = YearTarget
    icon = "pick"
    menu_label = _("Year's targets")
    empty_message = _("No target set.")
    form_fields = ["network", "year", "amount_cents"]
    list_display = ["network", "year", "amount_cents"]


class OrganisationFilterSet(WagtailFilterSet):
    network = relations_network_filter()
    kind = ChoiceFilter(choices=Organisation.Kind.choices, label=_("Kind"))

    class Meta:
        model = Organisation
        fields = ["network", "kind"]
