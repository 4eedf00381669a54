"""IBAN and BIC checked with schwifty (country format, length, check digits)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException


def compact(value: str) -> str:
    return "".join(str(value or "").split()).upper()


def validate_iban(value: str) -> None:
    try:
        IBAN(compact(value))
    except SchwiftyException as exc:
        raise ValidationError(_("This is not a valid IBAN.")) from exc


def validate_bic(value: str) -> None:
    if not value:
        return
    try:
        BIC(compact(value))
    except SchwiftyException as exc:
        raise ValidationError(_("This is not a valid BIC.")) from exc
