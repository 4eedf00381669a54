"""The donor's copy of their data (crm.portal_views.data, attack pass of 5 December 2026): it
holds what we know of them, never what we know of someone else. A donor who types another
person's codice fiscale on their page is flagged as a possible duplicate of that person, for a
treasurer to decide; the copy said so (the other donor's id), which told anyone with a donor
address whether a codice fiscale gives to the network."""

import json

import pytest
from django.urls import reverse

from crm import portal_links
from crm.models import Donor
from tests.crm.conftest import SECRET_EMAIL, rows  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

VICTIMS_CODE = "RSSMRA85T10A562S"  # the secret donor's (tests/crm/conftest.py)


@pytest.fixture
def prober(rows):  # noqa: F811
    """A donor of network A who is not the secret donor, signed in on their page."""
    victim = rows["a"]["donor"]
    return Donor.objects.create(
        network=victim.network, first_name="Pietro", email="pietro@example.org"
    )


def _open(client, donor):
    slug = donor.network.slug
    client.get(reverse("donor_portal:open", args=[slug, portal_links.login_token(donor)]))
    return slug


def test_the_copy_does_not_say_whose_duplicate_the_donor_may_be(client, rows, prober):  # noqa: F811
    victim = rows["a"]["donor"]
    slug = _open(client, prober)
    saved = client.post(
        reverse("donor_portal:page", args=[slug]),
        {"action": "details", "details-codice_fiscale": VICTIMS_CODE},
    )
    assert saved.status_code == 302
    prober.refresh_from_db()
    assert prober.possible_duplicate_of_id == victim.pk  # held for a treasurer, as it should

    data = json.loads(client.get(reverse("donor_portal:data", args=[slug, "json"])).content)
    assert "possible_duplicate_of" not in data["donor"]
    response = client.get(reverse("donor_portal:data", args=[slug, "csv"]))
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "duplicat" not in text.lower()
    assert SECRET_EMAIL not in text


def test_the_copy_still_holds_the_donors_own_details(client, prober):
    slug = _open(client, prober)
    data = json.loads(client.get(reverse("donor_portal:data", args=[slug, "json"])).content)
    assert data["donor"]["first_name"] == "Pietro"
    assert data["donor"]["email"] == "pietro@example.org"
