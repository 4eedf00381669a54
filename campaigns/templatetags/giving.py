from django import template

from crm.money import format_amount

register = template.Library()


@register.filter
def money(cents):
    """Cents shown in the active locale: `€ 1.234,50`."""
    return format_amount(cents)


@register.filter
def money_decimal(value):
    """A Decimal of euros (as the exports carry them) shown like `money`: `€ 1.234,50`."""
    if value is None:
        return "—"
    return format_amount(int(value * 100))
