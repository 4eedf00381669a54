"""What a public-fundraising report says, once, for every way of showing it (the admin screen,
the PDF, the spreadsheet): the entity, the fundraising and its period, the income lines, the
expenses, the totals and the explanatory note."""

from dataclasses import dataclass

from crm.models.entities import receiving_entity
from crm.money import format_amount

from .figures import IncomeLine, income_lines
from .models import Expense, FundraisingReport


@dataclass(frozen=True)
class Totals:
    income_cents: int
    expenses_cents: int

    @property
    def balance_cents(self) -> int:
        return self.income_cents - self.expenses_cents


def expenses_of(report: FundraisingReport):
    return Expense.objects.filter(report=report).order_by("spent_on", "pk")


def report_data(report: FundraisingReport) -> dict:
    """The report's content; amounts in cents and as people write them (`€ 1.234,50`)."""
    lines: list[IncomeLine] = income_lines(report)
    expenses = list(expenses_of(report))
    totals = Totals(
        income_cents=sum(line.cents for line in lines),
        expenses_cents=sum(expense.amount_cents for expense in expenses),
    )
    # The entity that received the gifts and answers for the fundraising: the one the
    # campaign names, else the network's lead entity.
    entity = receiving_entity(report.network, report.campaign or report.event)
    return {
        "report": report,
        "entity": {
            "name": entity.legal_name or report.network.name,
            "codice_fiscale": entity.codice_fiscale,
            "runts_number": entity.runts_number,
        },
        "source": report.campaign or report.event,
        "is_event": bool(report.event_id),
        "income": [
            {
                "key": line.key,
                "label": line.label,
                "cents": line.cents,
                "amount": format_amount(line.cents),
            }
            for line in lines
        ],
        "expenses": [
            {
                "expense": expense,
                "category": expense.get_category_display(),
                "amount": format_amount(expense.amount_cents),
            }
            for expense in expenses
        ],
        "totals": totals,
        "income_total": format_amount(totals.income_cents),
        "expenses_total": format_amount(totals.expenses_cents),
        "balance": format_amount(totals.balance_cents),
    }
