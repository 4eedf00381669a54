"""A treasurer types an amount too large to keep (a slip of the finger: 99.999.999.999 for
99,99) or pastes a text longer than its box keeps: every admin form that records money answers
with its error in the treasurer's language and records nothing, never a 500 from the database."""

import pytest
from django.utils import timezone
from wagtail.users.models import UserProfile

from campaigns.matches import MatchPledge
from campaigns.models import CampaignPage
from crm.models import Donation, Donor, InKindGift

A = "oltre-il-ponte"
HUGE = "99.999.999.999"


@pytest.fixture(params=[("it", "al massimo"), ("en", "at most")], ids=["it", "en"])
def treasurer_client(request, client, users):
    """Network A's treasurer, with the admin in each language; `client.words` is how the
    refusal begins."""
    treasurer = users[f"tesoreria-{A}"]
    profile = UserProfile.get_for_user(treasurer)
    profile.preferred_language, client.words = request.param
    profile.save()
    client.force_login(treasurer)
    return client


@pytest.fixture
def donor(demo):
    return Donor.objects.create(network=demo[A], first_name="Rita", last_name="Rossi")


@pytest.fixture
def pledge(demo):
    network = demo[A]
    funder = Donor.objects.create(
        network=network, kind=Donor.Kind.ORGANISATION, organisation_name="Fondazione Alta"
    )
    today = timezone.localdate()
    return MatchPledge.objects.create(
        network=network,
        campaign=CampaignPage.objects.filter(path__startswith=network.page.path).first(),
        funder=funder,
        cap_cents=100000,
        starts_on=today,
        ends_on=today,
    )


def forms_of(donor, pledge):
    today = timezone.localdate().isoformat()
    gift = {"donor": donor.pk, "amount": HUGE, "received_on": today, "method": "bank_transfer"}
    return {
        "a gift": (f"/admin/crm/donors/{donor.pk}/record-gift/", gift, Donation),
        "an in-kind gift": (
            "/admin/crm/in-kind/new/",
            {
                "donor": donor.pk,
                "description": "Computer",
                "value": HUGE,
                "valuation": InKindGift.Valuation.SWORN_APPRAISAL,
                "valuation_note": "Perizia dell'ing. Bianchi",
                "appraisal_date": today,
                "received_on": today,
            },
            InKindGift,
        ),
        "a funder's payment": (
            f"/admin/crm/matches/{pledge.pk}/payment/",
            {"amount": HUGE, "received_on": today, "method": "bank_transfer"},
            Donation,
        ),
    }


@pytest.mark.parametrize("which", ["a gift", "an in-kind gift", "a funder's payment"])
def test_an_amount_too_large_is_a_form_error(treasurer_client, donor, pledge, which):
    url, data, model = forms_of(donor, pledge)[which]
    before = model.objects.count()
    response = treasurer_client.post(url, data)
    assert response.status_code == 200
    assert treasurer_client.words in response.content.decode()
    assert model.objects.count() == before


@pytest.mark.parametrize(
    "which, field",
    [
        ("a gift", "reference"),
        ("an in-kind gift", "valuation_note"),
        ("a funder's payment", "reference"),
    ],
)
def test_a_text_too_long_to_keep_is_a_form_error(treasurer_client, donor, pledge, which, field):
    # a bank's whole remittance text pasted as the reference: more than its 255 characters
    url, data, model = forms_of(donor, pledge)[which]
    before = model.objects.count()
    data = {**data, "amount": "10,00", "value": "10,00", field: "CRO 0123456789 " * 20}
    response = treasurer_client.post(url, data)
    assert response.status_code == 200
    assert "255" in response.content.decode()
    assert model.objects.count() == before


def test_a_yearly_income_too_large_is_a_form_error(treasurer_client, demo):
    # the entity's income in the last accounts, on the Agenzia Entrate page
    network = demo[A]
    year = timezone.localdate().year
    response = treasurer_client.post(
        f"/admin/crm/year/{network.pk}/{year}/agenzia/", {"income": HUGE}
    )
    assert response.status_code == 200
    assert treasurer_client.words in response.content.decode()
    network.lead_entity.refresh_from_db()
    assert network.lead_entity.declared_income_cents is None
