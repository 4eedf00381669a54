"""Donor search, the treasurer's most frequent action (docs/design/quality.md: p50 < 30 ms among
1,000,000 donors on PostgreSQL).

On PostgreSQL every branch is written as the exact expression a pg_trgm GIN index of migration
0002 serves (a trigram index answers `LIKE 'x%'` and `LIKE '% x%'` on the indexed expression;
https://www.postgresql.org/docs/current/pgtrgm.html#PGTRGM-INDEX). The SQL of those expressions
is written out again in the (frozen) migration. Other databases get the same answers from
plain per-column lookups.
"""

from django.db import connections
from django.db.models import CharField, Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower

from .models import Donation, Donor, Receipt
from .validators import normalise_code

# Upper-cased "last first organisation", the text a name search runs against. `{t}` is the table
# qualifier (`"crm_donor".` in queries, empty in the migration's index definition).
NAME_SQL = 'UPPER({t}"last_name" || \' \' || {t}"first_name" || \' \' || {t}"organisation_name")'


def _looks_like_code(query):
    """A codice fiscale or partita IVA, whole or its beginning (letters and digits, 6+)."""
    code = normalise_code(query)
    return (
        len(query.split()) == 1
        and len(code) >= 6
        and code.isalnum()
        and (any(c.isdigit() for c in code))
    )


def search_donors(queryset, query):
    """Donors matching what a treasurer types: the start of an email, of a codice fiscale or
    partita IVA, or of each word of a name (`ross mar` finds Mario Rossi)."""
    query = (query or "").strip()
    if not query:
        return queryset
    if connections[queryset.db].vendor == "postgresql":
        return _search_postgresql(queryset, query)
    if "@" in query:
        return queryset.filter(email__istartswith=query.lower())
    if _looks_like_code(query):
        code = normalise_code(query)
        return queryset.filter(Q(codice_fiscale__startswith=code) | Q(partita_iva__startswith=code))
    condition = Q()
    for word in query.split():
        matches_word = Q()
        for field in ("last_name", "first_name", "organisation_name"):
            matches_word |= Q(**{f"{field}__istartswith": word})
            matches_word |= Q(**{f"{field}__icontains": f" {word}"})
        condition &= matches_word
    return queryset.filter(condition)


def _search_postgresql(queryset, query):
    table = f'"{queryset.model._meta.db_table}".'
    if "@" in query:
        email = Lower("email")
        return queryset.alias(search_email=email).filter(search_email__startswith=query.lower())
    if _looks_like_code(query):
        code = normalise_code(query)
        return queryset.filter(Q(codice_fiscale__startswith=code) | Q(partita_iva__startswith=code))
    # Constant SQL (no user input): the exact expression the trigram index is built on.
    name = RawSQL(NAME_SQL.format(t=table), (), output_field=CharField())  # noqa: S611
    condition = Q()
    for word in query.upper().split():
        # A word matches the start of any word of the name: at the start, or after a space.
        condition &= Q(search_name__startswith=word) | Q(search_name__contains=f" {word}")
    queryset = queryset.alias(search_name=name).filter(condition)
    if not queryset.query.order_by:
        # Under the default order (last name, first name) PostgreSQL walks the name btree in
        # order and filters on the way: matches of one surname sit under one letter, so it may
        # read half the table for 20 rows. Sorting the found rows by the same text is cheap.
        queryset = queryset.order_by("search_name", "pk")
    return queryset


def search_gifts(queryset, query):
    """Gifts whose donor matches (name, email, codice fiscale), whose reference contains the
    text, or that a receipt of that number covers."""
    query = (query or "").strip()
    if not query:
        return queryset
    donors = search_donors(Donor.objects.all(), query)
    receipts = Receipt.objects.filter(number__icontains=query).values("donations")
    return queryset.filter(Q(donor__in=donors) | Q(reference__icontains=query) | Q(pk__in=receipts))


def search_receipts(queryset, query):
    """Receipts by number, by their donor (name, email, codice fiscale) or by the reference of
    a gift they cover."""
    query = (query or "").strip()
    if not query:
        return queryset
    donors = search_donors(Donor.objects.all(), query)
    gifts = Donation.objects.filter(reference__icontains=query).values("pk")
    return queryset.filter(
        Q(number__icontains=query) | Q(donor__in=donors) | Q(donations__in=gifts)
    ).distinct()
