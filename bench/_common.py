"""Shared helpers of the CRM benchmarks (bench/search.py, bench/exports.py): Django on a
throw-away PostgreSQL database and bulk loading with COPY. Nothing to run on its own."""

import os
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/trama_bench"

FIRST_NAMES = [
    "Mario",
    "Luca",
    "Giulia",
    "Anna",
    "Marco",
    "Francesca",
    "Paolo",
    "Chiara",
    "Andrea",
    "Sara",
    "Giuseppe",
    "Elena",
    "Davide",
    "Martina",
    "Stefano",
    "Laura",
    "Matteo",
    "Valentina",
    "Alessandro",
    "Silvia",
    "Lucia",
    "Giovanni",
    "Federica",
    "Roberto",
    "Alessia",
    "Simone",
    "Marta",
    "Antonio",
    "Elisa",
    "Fabio",
]
_STEMS = [
    "Ross",
    "Bianch",
    "Ferr",
    "Espos",
    "Ricc",
    "Marin",
    "Gall",
    "Cont",
    "Brun",
    "Colomb",
    "Russ",
    "Romano",
    "Greco",
    "Mancin",
    "Lombard",
    "Moretti",
    "Barbier",
    "Fontan",
    "Santor",
    "Mariott",
    "Rinald",
    "Caruso",
    "Ferrar",
    "Gallo",
    "Costa",
    "Giordan",
    "Leon",
    "Longh",
    "Gentil",
    "Martinell",
    "Vitale",
    "Serr",
    "Sala",
    "Pellegrin",
    "Palumb",
    "Sanna",
    "Fabbr",
    "Monti",
    "Cattane",
]
_ENDINGS = ("i", "o", "ini", "elli", "etti", "one", "ucci", "ato", "esi", "otti")
LAST_NAMES = [stem + ending for stem in _STEMS for ending in _ENDINGS]


def setup_django(database_url=None, migrate=True):
    """Configure Django on `database_url` (created if missing) and migrate it."""
    sys.path.insert(0, str(ROOT))
    url = database_url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings", DEBUG="1", DATABASE_URL=url, LOG_LEVEL="WARNING"
    )
    if migrate and url.startswith("postgres"):
        _create_database(url)
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
    return url


def _create_database(url):
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def bench_network(slug="bench"):
    from crm.models import Network

    network, _created = Network.objects.get_or_create(
        slug=slug,
        defaults={
            "name": f"Rete {slug}",
            "legal_name": "Associazione Bench ETS",
            "codice_fiscale": "92012340011",
            "entity_kind": Network.EntityKind.APS,
            "street_address": "Via Verdi 1",
            "postal_code": "20121",
            "city": "Milano",
            "signer_name": "Maria Rossi",
        },
    )
    return network


def fake_codice_fiscale(rng):
    letters = "ABCDEFGHILMNOPRSTUVZ"
    pick = rng.choice
    return (
        "".join(pick(letters) for _ in range(6))
        + f"{rng.randrange(100):02d}"
        + pick("ABCDEHLMPRST")
        + f"{rng.randrange(1, 72):02d}"
        + pick("ABCDEFGHLM")
        + f"{rng.randrange(1000):03d}"
        + pick(letters)
    )


def copy_rows(model, fields, rows):
    """COPY `rows` (tuples in `fields` order, other columns at their defaults) into `model`."""
    from django.db import connection

    concrete = [f for f in model._meta.concrete_fields if not f.primary_key]
    names = [f.column for f in concrete]
    now = datetime.now(UTC)
    defaults = {
        f.attname: (
            now
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
            else f.get_db_prep_save(f.get_default(), connection)
        )
        for f in concrete
    }
    index = {name: i for i, name in enumerate(fields)}
    columns = ", ".join(f'"{n}"' for n in names)
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg 3 cursor
        with raw.copy(f'COPY "{model._meta.db_table}" ({columns}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(
                    [
                        row[index[f.attname]] if f.attname in index else defaults[f.attname]
                        for f in concrete
                    ]
                )


def donor_rows(network_id, count, seed=1):
    rng = random.Random(seed)
    for i in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        yield (
            network_id,
            first,
            last,
            f"{first.lower()}.{last.lower()}{i}@example.org",
            fake_codice_fiscale(rng),
            "Lecco",
        )


DONOR_FIELDS = ("network_id", "first_name", "last_name", "email", "codice_fiscale", "city")


def days_ago(n):
    return date.today() - timedelta(days=n)


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


if __name__ == "__main__":  # `make bench` runs every bench/*.py
    print("shared helpers of bench/search.py and bench/exports.py; nothing to measure")
