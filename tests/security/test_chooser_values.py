"""A donor chooser re-shown on a refused form: the id posted in its hidden box is a claim. It
never shows another network's donor (their name, their link) and a non-number is a form error,
never a 500."""

import pytest
from django.contrib.auth import get_user_model
from django.utils import translation

from crm.models import Donor

A, B = "oltre-il-ponte", "valle-serena"
SECRET = "Zebedea Segretissima"

# The forms of network A's treasurer that carry a donor chooser, with what they post.
FORMS = {
    "gift": ("/admin/crm/donations/new/", {"amount": "10,00", "method": "bank_transfer"}),
    "gift of a donor": (None, {"amount": "10,00", "method": "bank_transfer"}),
    "in kind": ("/admin/crm/in-kind/new/", {"description": "Libri", "value": "10,00"}),
}


@pytest.fixture
def setting(demo, client):
    treasurer = get_user_model().objects.get(username=f"tesoreria-{A}")
    client.force_login(treasurer)
    first, last = SECRET.split()
    stranger = Donor.objects.create(network=demo[B], first_name=first, last_name=last)
    own = Donor.objects.create(network=demo[A], first_name="Rita", last_name="Nostra")
    return {"stranger": stranger, "own": own}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("posted", ["stranger", "not a number", "a huge number"])
def test_a_tampered_donor_is_refused_without_showing_anyone(client, setting, form, posted):
    url, data = FORMS[form]
    url = url or f"/admin/crm/donors/{setting['own'].pk}/record-gift/"
    donor = {
        "stranger": setting["stranger"].pk,
        "not a number": "xx",
        "a huge number": "99999999999999999999",
    }[posted]
    with translation.override("it"):
        response = client.post(url, {**data, "received_on": "2026-11-01", "donor": donor})
    body = response.content.decode()
    assert response.status_code == 200
    assert SECRET.split()[0] not in body
    assert f"/donors/edit/{setting['stranger'].pk}/" not in body
    assert "opzione valida" in body or "obbligatorio" in body


def test_the_own_donor_is_still_shown_on_a_refused_form(client, setting):
    # a refused amount: the chosen donor of the network stays chosen, by name
    own = setting["own"]
    with translation.override("it"):
        response = client.post(
            f"/admin/crm/donors/{own.pk}/record-gift/",
            {"donor": own.pk, "amount": "", "received_on": "2026-11-01", "method": "cash"},
        )
    assert response.status_code == 200
    assert "Rita Nostra" in response.content.decode()
