"""The treasurers' verbs on the 5 per mille: record a grant, change it, add and remove an
expense. Each checks the money under the grant's row lock, so two treasurers adding expenses at
once cannot together account for more than was received; a refusal changes nothing."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy
from wagtail.log_actions import log

from crm.money import format_amount

from .figures import grant_figures
from .models import PerMilleExpense, PerMilleGrant


def _locked(grant: PerMilleGrant) -> PerMilleGrant:
    return PerMilleGrant.objects.select_for_update().get(pk=grant.pk)


OVER_RECEIVED = gettext_lazy(
    "The expenses and the amount set aside (%(reported)s) exceed the %(received)s received."
)
OVER_SET_ASIDE = gettext_lazy(
    "The expenses paid from the amount set aside (%(used)s) exceed the %(set_aside)s set aside."
)


def _check_totals(grant: PerMilleGrant) -> None:
    """Headings 1-6 of Mod. A within what was received; Mod. B within what was set aside."""
    figures = grant_figures(grant)
    if figures.left < 0:
        amounts = {"reported": figures.reported, "received": figures.received}
        raise ValidationError(OVER_RECEIVED % {k: format_amount(v) for k, v in amounts.items()})
    if figures.set_aside_left < 0:
        amounts = {"used": figures.set_aside_used, "set_aside": figures.set_aside}
        raise ValidationError(OVER_SET_ASIDE % {k: format_amount(v) for k, v in amounts.items()})


@transaction.atomic
def save_grant(grant: PerMilleGrant, *, user) -> PerMilleGrant:
    """Record a new grant or save a changed one (its amount or the amount set aside may not
    fall below what its expenses already account for)."""
    creating = grant.pk is None
    if not creating:
        _locked(grant)
    grant.save()
    _check_totals(grant)  # raises inside the transaction: the save is rolled back
    log(grant, "wagtail.create" if creating else "wagtail.edit", user=user)
    return grant


@transaction.atomic
def add_expense(grant: PerMilleGrant, expense: PerMilleExpense, *, user) -> PerMilleExpense:
    grant = _locked(grant)
    expense.grant, expense.network_id = grant, grant.network_id
    expense.save()
    _check_totals(grant)
    log(grant, "wagtail.edit", user=user, data={"expense_added": expense.pk})
    return expense


@transaction.atomic
def remove_expense(grant: PerMilleGrant, expense_id: int, *, user) -> bool:
    grant = _locked(grant)
    deleted, _rows = PerMilleExpense.objects.filter(grant=grant, pk=expense_id).delete()
    if deleted:
        log(grant, "wagtail.edit", user=user, data={"expense_removed": expense_id})
    return bool(deleted)
