"""5 per mille fixtures: a year received by each demo network, with expenses."""

import datetime

import pytest
from django.contrib.auth import get_user_model

from permille.models import PerMilleExpense, PerMilleGrant

# What network A's page and files carry, never shown to network B or on B's public page.
A_AMOUNT = 2_345_678  # € 23.456,78: above the threshold
A_NOTE = "Relazione Lanterna: doposcuola"


@pytest.fixture(autouse=True)
def english(settings):
    from django.urls import clear_url_caches
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    clear_url_caches()
    with translation.override("en"):
        yield
    clear_url_caches()


@pytest.fixture
def users(demo):
    return {u.username: u for u in get_user_model().objects.all()}


def make_grant(network, *, year, amount, received_on, set_aside=0, note="", published=True):
    return PerMilleGrant.objects.create(
        network=network,
        reference_year=year,
        amount_cents=amount,
        received_on=received_on,
        set_aside_cents=set_aside,
        report_note=note,
        published=published,
    )


def add(grant, category, cents, *, from_set_aside=False, description="Spesa"):
    return PerMilleExpense.objects.create(
        grant=grant,
        network=grant.network,
        category=category,
        amount_cents=cents,
        spent_on=grant.received_on,
        description=description,
        from_set_aside=from_set_aside,
    )


@pytest.fixture
def grants(demo):
    a, b = demo["oltre-il-ponte"], demo["valle-serena"]
    grant_a = make_grant(
        a,
        year=2023,
        amount=A_AMOUNT,
        received_on=datetime.date(2025, 10, 15),
        set_aside=500_000,
        note=A_NOTE,
    )
    add(grant_a, "human_resources", 1_000_001, description="Educatrice doposcuola")
    add(grant_a, "running_costs", 12_345)
    add(grant_a, "goods_and_services", 99)
    add(grant_a, "grants", 300_000)
    add(grant_a, "human_resources", 120_050, from_set_aside=True, description="Dal fondo")
    grant_b = make_grant(
        b, year=2023, amount=812_340, received_on=datetime.date(2025, 11, 3), note="Valle note"
    )
    add(grant_b, "other", 10_000)
    return {"a": grant_a, "b": grant_b}
