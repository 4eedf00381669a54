"""Validators for Italian identifiers, shared by models, forms and imports; and the row ids
people (or their browsers) type in an address or a form."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum import exceptions as stdnum_errors
from stdnum.it import codicefiscale, iva


def normalise_code(value):
    """Upper-case and strip spaces, as people type codes in many ways."""
    return "".join((value or "").split()).upper()


def validate_codice_fiscale(value):
    """A personal codice fiscale (16 characters, omocodia included) or a numeric one (11 digits,
    used by organisations and as a temporary code)."""
    code = normalise_code(value)
    if not code:
        raise ValidationError(_("Enter a codice fiscale."), code="required")
    if len(code) not in (11, 16):
        raise ValidationError(
            _("A codice fiscale has 16 characters (or 11 digits for organisations); got %(n)s."),
            code="length",
            params={"n": len(code)},
        )
    try:
        codicefiscale.validate(code)
    except stdnum_errors.InvalidChecksum as exc:
        raise ValidationError(
            _("This codice fiscale has a wrong check character: please check it."),
            code="checksum",
        ) from exc
    except stdnum_errors.ValidationError as exc:
        raise ValidationError(_("This is not a valid codice fiscale."), code="invalid") from exc


def validate_partita_iva(value):
    code = normalise_code(value)
    if code.startswith("IT"):
        code = code[2:]
    if len(code) != 11 or not code.isdigit():
        raise ValidationError(_("A partita IVA has 11 digits."), code="length")
    try:
        iva.validate(code)
    except stdnum_errors.ValidationError as exc:
        raise ValidationError(
            _("This partita IVA has a wrong check digit: please check it."), code="checksum"
        ) from exc


STRIPE_ACCOUNT_ID = re.compile(r"acct_[A-Za-z0-9]{6,58}")


def validate_stripe_account_id(value):
    """A Stripe Connect account id: `acct_` and letters or digits
    (https://docs.stripe.com/api/accounts/object#account_object-id)."""
    if value and not STRIPE_ACCOUNT_ID.fullmatch(value):
        raise ValidationError(
            _("A Stripe account id starts with acct_ followed by letters and digits."),
            code="stripe_account",
        )


def row_id(value):
    """The row id in an address or a form (`?id=12`, a button's value) as a number, or None:
    ASCII digits only, no more than a key holds. "²" and "①" are digits to `str.isdigit` and
    `int()` refuses them, as it refuses 5,000 digits; a letter makes a lookup raise (each a 500)."""
    text = str(value or "")
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None
