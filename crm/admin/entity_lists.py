"""The entity of each gift or receipt in the admin lists (issue 26): a column and a filter,
shown only when one of the user's networks has several issuing entities."""

from django.db.models import Count
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django_filters import ModelChoiceFilter
from wagtail.admin.ui.tables import Column

from crm.models import IssuingEntity
from crm.tenancy import policy_for


def several_entities(user, model):
    """The issuing entities of `model`'s rows the user reaches, if one of their networks has
    more than one (else None: a list need not name the entity of its rows)."""
    entities = policy_for(model).entities_for(user)
    crowded = entities.values("network").annotate(n=Count("pk")).filter(n__gt=1)
    return entities if crowded.exists() else None


class EntityColumnMixin:
    """A list of gifts or receipts names each row's entity when a network has several (a gift
    recorded before entities existed is its network's lead entity's)."""

    def get_base_queryset(self):
        return super().get_base_queryset().select_related("entity")

    @cached_property
    def columns(self):
        columns = list(super().columns)
        entities = several_entities(self.request.user, self.model)
        if entities is not None:
            leads = {e.network_id: e.legal_name for e in entities if e.is_lead}

            def entity(row):
                return row.entity.legal_name if row.entity_id else leads.get(row.network_id, "—")

            columns.append(Column("entity", label=_("Entity"), accessor=entity))
        return columns


class EntityFilterMixin:
    """The entity filter of a list of gifts or receipts, offered only when a network has
    several entities; the lead's rows include those recorded before entities existed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        entities = several_entities(self.request.user, self._meta.model)
        if entities is None:
            self.filters.pop("entity", None)
        else:
            self.filters["entity"].queryset = entities

    def filter_entity(self, queryset, name, value):
        return queryset.of_entity(value) if value else queryset


def entity_filter():
    return ModelChoiceFilter(
        label=_("Entity"), queryset=IssuingEntity.objects.none(), method="filter_entity"
    )
