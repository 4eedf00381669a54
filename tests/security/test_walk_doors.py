"""A stranger's input at the public doors, found walking the demo (5 December 2026): whatever is
typed, the answer is a translated 4xx that writes nothing, never a row the database refuses
later (an address longer than the donor's column, 254 characters, is a 500 on PostgreSQL)."""

import pytest

from crm.models import Donation
from tests.campaigns import conftest as giving

# The giving fixtures live in tests/campaigns/conftest.py; these names make them ours here.
campaign = giving.campaign
_clear_cache = giving._clear_cache

pytestmark = pytest.mark.django_db

FORM = {
    "amount": "2500",
    "frequency": "once",
    "first_name": "Anna",
    "last_name": "Bianchi",
    "email": "anna@example.org",
    "privacy": "on",
}
# 64 characters before the @ (the most an address may have there) and a long domain: 300 in all,
# an address Django's validator takes, longer than the 254 a donor's email column keeps.
LONG_EMAIL = "a" * 64 + "@" + ".".join(["b" * 60] * 3) + "." + "c" * 50 + ".org"


def test_the_long_address_is_one_the_validator_takes():
    from django.core.validators import validate_email

    validate_email(LONG_EMAIL)
    assert len(LONG_EMAIL) > 254


@pytest.mark.parametrize(
    "field, extra",
    [
        ("email", {}),
        (
            "tribute_notify_email",
            {"tribute": "memory", "tribute_name": "Ada", "tribute_notify": "on"},
        ),
    ],
)
def test_an_address_longer_than_the_column_is_refused_in_italian(client, campaign, field, extra):
    response = client.post(f"/give/{campaign.pk}/", {**FORM, **extra, field: LONG_EMAIL})
    assert response.status_code == 400
    assert "non contenga più di 254 caratteri" in response.content.decode()
    assert not Donation.objects.exists()


# --- the admin's forms: a communicator's segment ---------------------------------------------


@pytest.fixture
def communicator(client, demo):
    from django.contrib.auth import get_user_model
    from wagtail.users.models import UserProfile

    user = get_user_model().objects.get(username="comunicazione-oltre-il-ponte")
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "it"
    profile.save()
    client.force_login(user)
    return user


@pytest.mark.parametrize(
    "typed, said",
    [
        # more than any amount column keeps: was a KeyError ('limit') in the error message, a 500
        ({"max_total_cents": "99999999999999999999999"}, "L&#x27;importo può essere al massimo"),
        ({"min_total_cents": "30.000.000"}, "€\xa021.474.836,47"),
        # a year the form's box says is out of range (1900-2999) was saved as it was
        ({"gave_in_year": "99999999999"}, "minore o uguale a 2999"),
        ({"not_given_in_year": "1066"}, "maggiore o uguale a 1900"),
    ],
)
def test_a_segment_with_an_impossible_figure_is_refused_in_italian(
    client, communicator, demo, typed, said
):
    from outreach.models import Segment

    network = demo["oltre-il-ponte"]
    before = Segment.objects.count()
    response = client.post(
        "/admin/outreach/segments/add/", {"network": network.pk, "name": "Prova", **typed}
    )
    assert response.status_code == 400
    assert said in response.content.decode()
    assert Segment.objects.count() == before
