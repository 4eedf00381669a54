"""How values read for people, on every screen and in every export: one place.

Amounts as `€ 1.234,50` (never cents), dates `25/11/2026`, times in the site's time zone
(`TIME_ZONE`, Europe/Rome) without seconds' fractions, "Sì"/"No" for booleans (Django's own
translated words), choice labels instead of codes, "—" for nothing, a stored file by the name it
was given (never where it is stored).
"""

import datetime
import json
import posixpath
import re

from django.db import models
from django.db.models.fields.files import FieldFile
from django.template.defaultfilters import yesno
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from .money import cents_to_decimal, format_amount

EMPTY = "—"
# Django 6.1's blank choice ("- Select an option -", shown by Wagtail's choice blocks and
# selects) is not in Django's Italian catalogue yet: ours translates it until it is.
BLANK_CHOICE_LABEL = gettext_noop("- Select an option -")
# Italian writes months and weekdays in lowercase ("5 dicembre 2026", "sabato 5 dicembre"), and
# Django's Italian catalogue capitalises them ("5 Dicembre"). Ours (LOCALE_PATHS) is read first
# and lowercases them; these marks keep the entries in it. Start of a cell or a sentence: capfirst.
CALENDAR_WORDS = (
    gettext_noop("January"),
    gettext_noop("February"),
    gettext_noop("March"),
    gettext_noop("April"),
    gettext_noop("May"),
    gettext_noop("June"),
    gettext_noop("July"),
    gettext_noop("August"),
    gettext_noop("September"),
    gettext_noop("October"),
    gettext_noop("November"),
    gettext_noop("December"),
    gettext_noop("Monday"),
    gettext_noop("Tuesday"),
    gettext_noop("Wednesday"),
    gettext_noop("Thursday"),
    gettext_noop("Friday"),
    gettext_noop("Saturday"),
    gettext_noop("Sunday"),
)
DATE_FORMAT = "%d/%m/%Y"
DATETIME_FORMAT = "%d/%m/%Y %H:%M"

# Fields only a developer or Stripe's dashboard needs: shown in a folded "technical" section.
TECHNICAL_FIELDS = {
    "currency",
    "donor_details",
    "payload",
    "error",
    "attempts",
    "account",
    "message_id",
    "message_token",
    "last_error",
    "reported_currency",
    "created_at",
    "updated_at",
    "pdf_sha256",
}
# The random part our upload names start with (`4b1f…0c-estratto.xml`, `4b1f…0c.pdf`).
STORED_PREFIX = re.compile(r"^[0-9a-f]{32}-?")


def is_technical(name):
    return name in TECHNICAL_FIELDS or name.startswith("stripe_") or name.endswith("_snapshot")


def format_date(value):
    return value.strftime(DATE_FORMAT) if value else EMPTY


def format_datetime(value):
    """`25/11/2026 14:05` in the site's time zone."""
    if not value:
        return EMPTY
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.strftime(DATETIME_FORMAT)


def file_name(value):
    """A stored file: the name it was uploaded with, else "Stored" (a receipt's PDF)."""
    name = STORED_PREFIX.sub("", posixpath.basename(value.name))
    return name if name and not name.startswith(".") else _("Stored")


def yes_no(value):
    return capfirst(yesno(bool(value)).split(",")[0]) if value is not None else EMPTY


def human(value, field=None):
    """`value` as a person reads it; `field` (a model field) tells amounts and choices apart."""
    if field is not None and value not in (None, ""):
        if getattr(field, "choices", None):
            labels = {str(code): label for code, label in field.flatchoices}
            return str(labels.get(str(value), value))
        if field.name.endswith("_cents") and isinstance(value, int):
            return format_amount(value)
    if value is None or value == "" or value == {} or value == []:
        return EMPTY
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, FieldFile):
        return file_name(value)
    if isinstance(value, datetime.datetime):
        return format_datetime(value)
    if isinstance(value, datetime.date):
        return format_date(value)
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def field_value(obj, name):
    """The value of `obj.<name>` as a person reads it."""
    try:
        field = obj._meta.get_field(name)
    except Exception:  # noqa: BLE001 - a property or method, not a field
        field = None
    value = getattr(obj, name, None)
    if callable(value):
        value = value()
    if isinstance(value, models.Manager):
        return ", ".join(str(item) for item in value.all()) or EMPTY
    return human(value, field)


def _model_field(model, name):
    try:
        return model._meta.get_field(name)
    except Exception:  # noqa: BLE001 - a property or method, not a field
        return None


def is_amount(model, name):
    """An amount kept in cents: a spreadsheet gets it as a number of euros."""
    field = _model_field(model, name)
    return field is not None and field.name.endswith("_cents") and not field.choices


def export_value(obj, name):
    """`obj.<name>` for a spreadsheet: an amount as a number of euros (`12345,67` in a CSV, a
    number in XLSX), a date or time as one (written local by `crm.exports`); the rest as on
    the screen."""
    value = getattr(obj, name, None)
    if is_amount(type(obj), name):
        return cents_to_decimal(value) if value is not None else None
    if isinstance(value, datetime.date):
        return value
    return field_value(obj, name)
