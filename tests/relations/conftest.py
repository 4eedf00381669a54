"""Relationship fundraising fixtures: a foundation of each demo network, its donor record, an
ask and its people."""

import datetime

import pytest
from django.contrib.auth import get_user_model

from crm.models import Donor
from relations.models import Call, Organisation, Relationship


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


def make_relations(network, name, owner):
    """A foundation (with its donor record), an employee, and a call of theirs."""
    donor = Donor.objects.create(
        network=network, kind=Donor.Kind.ORGANISATION, organisation_name=name
    )
    foundation = Organisation.objects.create(
        network=network, name=name, kind=Organisation.Kind.FOUNDATION, donor=donor
    )
    employee = Donor.objects.create(network=network, first_name="Ada", last_name=f"{name} Rossi")
    relationship = Relationship.objects.create(
        network=network, person=employee, organisation=foundation
    )
    call = Call.objects.create(
        network=network,
        title=f"Bando {name}",
        funder=foundation,
        deadline=datetime.date.today() + datetime.timedelta(days=30),
        budget_cents=3_000_000,
        owner=owner,
    )
    return {
        "organisation": foundation,
        "donor": donor,
        "employee": employee,
        "relationship": relationship,
        "call": call,
    }


@pytest.fixture
def rel(demo, users):
    return {
        "a": make_relations(
            demo["oltre-il-ponte"], "Fondazione Zebedeo", users["comunicazione-oltre-il-ponte"]
        ),
        "b": make_relations(
            demo["valle-serena"], "Fondazione Bortolo", users["comunicazione-valle-serena"]
        ),
    }
