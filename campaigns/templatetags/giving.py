from django import template

from crm.money import format_amount

register = template.Library()


@register.filter
def money(cents):
    """Cents shown in the active locale: `€ 1.234,50`."""
    return format_amount(cents)
