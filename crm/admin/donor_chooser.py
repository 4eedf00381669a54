"""The donor chooser of every CRM form: it lists, searches, creates and shows only donors of the
user's networks."""

from django import forms
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.urls import path
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms.choosers import BaseFilterForm
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic import chooser as chooser_views
from wagtail.admin.viewsets.chooser import ChooserViewSet
from wagtail.admin.widgets.chooser import BaseChooser
from wagtail.log_actions import log

from crm.donors import flag_possible_duplicate
from crm.models import Donor
from crm.search import search_donors
from crm.tenancy import network_view, policy_for, reached
from crm.validators import row_id


def networks_for(user):
    return policy_for(Donor).networks_for(user)


class ScopedChooserWidget(BaseChooser):
    """The chooser box. A refused form shows again the id that was posted in it, which is a
    claim: the box names a donor only among the choices of its form's field (another network's
    donor, or `xx`, is shown as nothing chosen; Wagtail's own box looks any id up, or fails)."""

    def get_instance(self, value):
        if value is None or isinstance(value, self.model_class):
            return value
        queryset = getattr(getattr(self, "choices", None), "queryset", None)
        if queryset is None:
            return None
        try:
            return queryset.get(pk=value)
        except (ObjectDoesNotExist, ValueError, TypeError, ValidationError):
            return None


def use_donor_chooser(field):
    """Put the donor chooser on a form's donor `field`, after its queryset is scoped."""
    field.widget = donor_chooser_viewset.widget_class()
    field.widget.choices = field.choices


class DonorCreationForm(forms.ModelForm):
    """A new donor from the chooser ("Create" tab): in one of the user's networks."""

    class Meta:
        model = Donor
        fields = ["network", "first_name", "last_name", "organisation_name", "email"]
        fields += ["codice_fiscale"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        networks = networks_for(user)
        self.fields["network"].queryset = networks
        if networks.count() == 1:
            self.fields["network"].initial = networks.get()

    def clean(self):
        data = super().clean()
        if not (data.get("last_name") or data.get("organisation_name")):
            raise forms.ValidationError(_("Give a surname or an organisation name."))
        if data.get("organisation_name") and not data.get("last_name"):
            self.instance.kind = Donor.Kind.ORGANISATION
        return data


class DonorCreationMixin:
    def get_creation_form_kwargs(self):
        return {**super().get_creation_form_kwargs(), "user": self.request.user}


class DonorSearchForm(BaseFilterForm):
    """The chooser's search box: the donor search of the Donors list (name, email, code)."""

    q = forms.CharField(
        label=_("Search donors"),
        widget=forms.TextInput(attrs={"placeholder": _("Name, email or codice fiscale")}),
        required=False,
    )

    def filter(self, objects):
        query = (self.cleaned_data.get("q") or "").strip()
        if query:
            self.is_searching, self.search_query = True, query
            return search_donors(objects, query)
        return objects


class DonorColumnsMixin:
    """The chooser's table: the donor, with what tells two namesakes apart."""

    filter_form_class = DonorSearchForm

    def get_object_list(self):
        return reached(self.request.user, Donor, "view").select_related("network")

    @property
    def title_column(self):
        column = super().title_column
        column.label = _("Donor")
        return column

    @property
    def columns(self):
        return [
            self.title_column,
            Column("email", label=_("Email")),
            Column("city", label=_("City")),
            Column("network", label=_("Network"), accessor="network.name"),
        ]


class ScopedChooseView(DonorCreationMixin, DonorColumnsMixin, chooser_views.ChooseView):
    pass


class ScopedChooseResultsView(DonorColumnsMixin, chooser_views.ChooseResultsView):
    pass


class ScopedChosenView(chooser_views.ChosenView):
    def get_object(self, pk):
        # An id that is no number is no donor (a 404), not a lookup that raises (a 500).
        return reached(self.request.user, Donor, "view").get(pk=row_id(pk))


class ScopedChosenMultipleView(chooser_views.ChosenMultipleView):
    def get_objects(self, pks):
        wanted = [pk for pk in map(row_id, pks) if pk]
        return reached(self.request.user, Donor, "view").filter(pk__in=wanted)


class ScopedCreateView(DonorCreationMixin, chooser_views.CreateView):
    def save_form(self, form):
        donor = form.save(commit=False)
        donor.source = "admin"
        donor.save()
        log(donor, "wagtail.create", user=self.request.user)
        flag_possible_duplicate(donor)  # another donor's code or email: for the treasurer
        return donor


class DonorChooserViewSet(ChooserViewSet):
    model = Donor
    base_widget_class = ScopedChooserWidget
    icon = "user"
    choose_one_text = _("Choose a donor")
    choose_another_text = _("Choose another donor")
    choose_view_class = ScopedChooseView
    choose_results_view_class = ScopedChooseResultsView
    chosen_view_class = ScopedChosenView
    chosen_multiple_view_class = ScopedChosenMultipleView
    create_view_class = ScopedCreateView
    creation_form_class = DonorCreationForm
    create_action_label = _("Create the donor")
    creation_tab_label = _("New donor")

    def get_urlpatterns(self):
        # Every step through the policy: the chooser answers people who may view donors of
        # at least one network (as before: creating from the chooser asks the same).
        return [
            path(str(p.pattern), network_view(Donor, "view")(p.callback), name=p.name)
            for p in super().get_urlpatterns()
        ]


donor_chooser_viewset = DonorChooserViewSet("crm_donor_chooser", url_prefix="crm/donor-chooser")
