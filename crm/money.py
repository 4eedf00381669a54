"""Money in Trama is always an integer number of euro cents (`amount_cents`); never a float.

`parse_amount` reads what people type in Italian or English forms; `format_amount` shows cents
with the active locale.
"""

import datetime
import re
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

# Plain digits with optional thousands separators and at most two decimals; nothing else
# (no exponents, signs, NaN or currency text).
_AMOUNT_RE = re.compile(r"^[1-9]\d{0,2}(?:([.,' ])\d{3})*(?:[.,]\d{1,2})?$|^\d+(?:[.,]\d{1,2})?$")
_SPACES = re.compile(r"[\s\u00a0\u202f]")
# Decimals beyond the cents, refused rather than guessed: in Italian a lone comma is the
# decimal one (`10,505` is ten euro and 505 thousandths, never € 10.505), and so is the dot
# after grouping commas or before four digits. A dot before three digits stays Italian
# thousands (`10.505`), as two commas stay English ones (`1,234,567`).
_TOO_MANY_DECIMALS = re.compile(
    r"""^\d+(?:[.']\d{3})*,\d{3,}$   # 10,505  1.234,567  0,001
      | ^\d+(?:[,']\d{3})+\.\d{3,}$  # 1,000.505
      | ^\d+[.,]\d{4,}$             # 10.5050""",
    re.VERBOSE,
)


def parse_amount(text: object) -> int:
    """Return the amount in cents for input like `10`, `10,50`, `1.000`, `1.000,50`,
    `1,000.50`, `€ 25`. Raise ValidationError with a translated message otherwise."""
    raw = _SPACES.sub("", str(text or "")).replace("€", "").replace("EUR", "")
    if not raw:
        raise ValidationError(_("Enter an amount."), code="required")
    if raw.startswith("-"):
        raise ValidationError(_("The amount must be more than zero."), code="negative")
    if _TOO_MANY_DECIMALS.match(raw):
        raise ValidationError(
            _(
                "Enter an amount in euro with at most two decimals (the cents), for example 25 "
                "or 10,50."
            ),
            code="decimals",
        )
    if not _AMOUNT_RE.match(raw):
        raise ValidationError(
            _("Enter an amount in euro, for example 25 or 10,50."), code="invalid"
        )
    last_dot, last_comma = raw.rfind("."), raw.rfind(",")
    decimal_sep = None
    last = max(last_dot, last_comma)
    if last != -1 and len(raw) - last - 1 in (1, 2):
        decimal_sep = raw[last]
    if decimal_sep:
        integer_part, fraction = raw[:last], raw[last + 1 :]
    else:
        integer_part, fraction = raw, ""
    integer_part = re.sub(r"[.,' ]", "", integer_part)
    try:
        value = Decimal(f"{integer_part}.{fraction or '0'}")
    except InvalidOperation as exc:  # pragma: no cover - the regex already excludes this
        raise ValidationError(_("Enter a valid amount."), code="invalid") from exc
    cents = int((value * 100).to_integral_value())
    if cents <= 0:
        raise ValidationError(_("The amount must be more than zero."), code="zero")
    return cents


def cents_to_decimal(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


def format_amount(cents: int | None, currency: str = "EUR") -> str:
    """`€ 1.234,50` in Italian, `€ 1,234.50` in English; a negative amount (a refund, a fee in
    a payout) `− € 10,50`, the sign before the symbol, never `€ -10,50`."""
    cents = cents or 0
    value = number_format(cents_to_decimal(abs(cents)), 2, use_l10n=True, force_grouping=True)
    symbol = "€" if currency == "EUR" else currency
    sign = "\u2212\u00a0" if cents < 0 else ""
    return f"{sign}{symbol}\u00a0{value}"


_ZEROS = ("0", "0,00", "0.00", "0,0", "0.0")


class EuroInput(forms.TextInput):
    """A text box for euros as people write them (`1.234,50`), showing stored cents the same way."""

    input_type = "text"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"inputmode": "decimal", "autocomplete": "off", **(attrs or {})})

    def format_value(self, value: Any) -> str:
        if value in (None, ""):
            return ""
        if isinstance(value, int):
            return number_format(cents_to_decimal(value), 2, use_l10n=True, force_grouping=True)
        return str(value)


# The most a CentsField keeps: PostgreSQL's integer (€ 21.474.836,47). A form refuses more
# itself, in its own words; the model's range check would word it with Django's params, which
# EuroField's message does not read (a KeyError, a 500).
MAX_STORED_CENTS = 2_147_483_647


class EuroField(forms.Field):
    """A form field that reads euros (`1.234,50`, `5.000`, `25`) and cleans to integer cents,
    at most `max_cents` (by default what a CentsField keeps: more would be a database error)."""

    widget = EuroInput
    default_error_messages = {"max_value": _("The amount can be at most %(limit)s.")}

    def __init__(
        self, *, max_cents: int = MAX_STORED_CENTS, allow_zero: bool = False, **kwargs: Any
    ) -> None:
        self.max_cents = max_cents
        self.allow_zero = allow_zero
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> int | None:
        if isinstance(value, int):
            return value
        if value in self.empty_values or not str(value).strip():
            return None
        if self.allow_zero and _SPACES.sub("", str(value)).replace("€", "") in _ZEROS:
            return 0
        cents = parse_amount(value)
        if self.max_cents is not None and cents > self.max_cents:
            raise ValidationError(
                self.error_messages["max_value"],
                code="max_value",
                params={"limit": format_amount(self.max_cents)},
            )
        return cents

    def prepare_value(self, value: Any) -> Any:
        return value


class CentsField(models.PositiveIntegerField):
    """An amount stored as integer euro cents; forms (Django's, Wagtail's panels) show and read
    it in euros with `EuroField`, so nobody types cents."""

    def formfield(self, **kwargs: Any) -> Any:
        kwargs.setdefault("form_class", EuroField)
        kwargs.setdefault("allow_zero", True)
        kwargs.setdefault("max_cents", MAX_STORED_CENTS)
        defaults = {k: v for k, v in kwargs.items() if k not in ("min_value", "max_value")}
        return models.Field.formfield(self, **defaults)


# --- The fiscal year -----------------------------------------------------------------------------
# A gift belongs to the year of the day it was paid in Italy (Europe/Rome), whatever the server's
# TIME_ZONE: the receipt's year, the yearly statement's and the Agenzia Entrate data's.
FISCAL_TZ = ZoneInfo("Europe/Rome")


def fiscal_date(moment: datetime.datetime) -> datetime.date:
    """The day in Italy of an aware datetime (a Stripe timestamp, `timezone.now()`)."""
    return timezone.localdate(moment, FISCAL_TZ)


def fiscal_today() -> datetime.date:
    """Today in Italy."""
    return timezone.localdate(timezone=FISCAL_TZ)


# The years a treasurer asks about (a report's `?year=`): others are no year of the CRM's.
YEARS = range(2000, 2101)


def gift_year_bounds(year: int) -> tuple[datetime.date, datetime.date]:
    """The first and last day of fiscal year `year`: the range of `received_on` (a day in
    Italy) of its gifts and of `refunded_on` of its refunds."""
    return datetime.date(year, 1, 1), datetime.date(year, 12, 31)
