"""The figures of one 5 per mille grant, defined once: the admin page, the rendiconto PDF and the
public page all show these (never a sum of their own).

Mod. A (the rendiconto) reports the expenses paid directly by heading, plus heading 6, the
amount set aside; Mod. B reports how the amount set aside was later used, by the same headings.
"""

from dataclasses import dataclass

from crm.money import format_amount

from . import rules
from .categories import ExpenseCategory


@dataclass(frozen=True)
class Heading:
    code: str
    label: str
    cents: int

    @property
    def amount(self) -> str:
        return format_amount(self.cents)


@dataclass(frozen=True)
class GrantFigures:
    grant: object
    received: int
    headings: list  # Mod. A, headings 1-5: expenses paid directly
    spent: int  # headings 1-5
    set_aside: int  # heading 6
    reported: int  # headings 1-6: what Mod. A accounts for
    left: int  # received and not yet accounted for
    set_aside_headings: list  # Mod. B: the later use of heading 6
    set_aside_used: int
    set_aside_left: int
    deadlines: rules.Deadlines
    must_publish: bool

    def __getattr__(self, name):
        # `received_display`, `spent_display`...: the same figure as people write it.
        if name.endswith("_display"):
            return format_amount(object.__getattribute__(self, name.removesuffix("_display")))
        raise AttributeError(name)


def _by_heading(expenses) -> list[Heading]:
    totals = dict.fromkeys(ExpenseCategory.values, 0)
    for expense in expenses:
        totals[expense.category] += expense.amount_cents
    return [Heading(code, str(ExpenseCategory(code).label), totals[code]) for code in totals]


def grant_figures(grant) -> GrantFigures:
    """Every figure of `grant` from its own rows (prefetch `expenses` for many grants)."""
    expenses = list(grant.expenses.all())
    direct = [e for e in expenses if not e.from_set_aside]
    later = [e for e in expenses if e.from_set_aside]
    headings = _by_heading(direct)
    spent = sum(h.cents for h in headings)
    set_aside_headings = _by_heading(later)
    used = sum(h.cents for h in set_aside_headings)
    return GrantFigures(
        grant=grant,
        received=grant.amount_cents,
        headings=headings,
        spent=spent,
        set_aside=grant.set_aside_cents,
        reported=spent + grant.set_aside_cents,
        left=grant.amount_cents - spent - grant.set_aside_cents,
        set_aside_headings=set_aside_headings,
        set_aside_used=used,
        set_aside_left=grant.set_aside_cents - used,
        deadlines=rules.deadlines(grant.received_on, grant.amount_cents),
        must_publish=rules.must_send_and_publish(grant.amount_cents),
    )
