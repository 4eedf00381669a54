"""The donor's plan page names who receives the gift, as the thank-you page, the welcome email
and the receipt do (found walking the demo: the page said "A: Oltre il Ponte", the email and
the receipt "Cooperativa Sociale La Lanterna Onlus"; on a partner's campaign the network, never
the partner whose account the money goes to)."""

from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from campaigns.models import CampaignPage
from crm.links import plan_manage_url
from crm.models import Donation, RecurringPlan

pytestmark = pytest.mark.django_db


def _plan_on(slug, *, first_gift=True):
    campaign = CampaignPage.objects.get(slug=slug)
    plan = RecurringPlan.objects.create(
        network=campaign.network,
        campaign=campaign,
        amount_cents=1000,
        status=RecurringPlan.Status.ACTIVE,
        stripe_subscription_id=f"sub_{slug[:10]}",
        next_charge_at=timezone.now(),
    )
    if first_gift:
        Donation.objects.create(
            network=campaign.network,
            campaign=campaign,
            entity=campaign.receiving_entity,
            recurring_plan=plan,
            amount_cents=1000,
            status=Donation.Status.SUCCEEDED,
        )
    return plan, campaign


@pytest.mark.parametrize("first_gift", [True, False])
@pytest.mark.parametrize("slug", ["un-doposcuola-per-ogni-quartiere", "laboratori-per-le-famiglie"])
def test_the_plan_page_names_the_entity_that_receives_the_gift(client, demo, slug, first_gift):
    plan, campaign = _plan_on(slug, first_gift=first_gift)
    entity = campaign.receiving_entity
    assert entity.legal_name != campaign.network.name
    html = client.get(urlsplit(plan_manage_url(plan)).path).content.decode()
    receiver = html.split("<dt>", 3)[3].split("</div>")[0]
    assert entity.legal_name in receiver
    assert campaign.network.name not in receiver


@pytest.mark.parametrize("prefix, label", [("", "Nuovo importo (€)"), ("/en", "New amount (€)")])
def test_the_new_amount_box_says_euro_as_the_donation_form_does(client, demo, prefix, label):
    # the donation form says "Altro importo (€)"; the plan page said "(EUR)", a currency code
    plan, _campaign = _plan_on("un-doposcuola-per-ogni-quartiere")
    path = urlsplit(plan_manage_url(plan)).path.removeprefix("/en")
    html = client.get(prefix + path).content.decode()
    assert label in html
    assert "(EUR)" not in html


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_no_section_of_the_plan_page_repeats_its_heading_as_its_label(client, demo, prefix):
    # found walking the demo on a phone: "Come" over a box labelled "Come"
    import re

    plan, _campaign = _plan_on("un-doposcuola-per-ogni-quartiere")
    path = urlsplit(plan_manage_url(plan)).path.removeprefix("/en")
    html = client.get(prefix + path).content.decode()
    sections = re.findall(r'<section class="plan-action">(.*?)</section>', html, re.S)
    assert len(sections) >= 4
    for section in sections:
        heading = re.search(r"<h2>(.*?)</h2>", section, re.S).group(1).strip()
        labels = [label.strip() for label in re.findall(r"<label[^>]*>(.*?)</label>", section)]
        assert heading not in labels, section


@pytest.mark.parametrize(
    "prefix, message",
    [
        ("", "Scegli una delle frequenze proposte."),
        ("/en", "Choose one of the frequencies offered."),
    ],
)
def test_a_tampered_frequency_is_refused_with_its_error_under_the_box(
    client, demo, prefix, message
):
    # found walking the demo: a frequency the page never offers got a 400, and the box said it
    # was described by an error ("id_interval_error") that was nowhere on the page
    import re

    plan, _campaign = _plan_on("un-doposcuola-per-ogni-quartiere")
    path = urlsplit(plan_manage_url(plan)).path.removeprefix("/en")
    response = client.post(prefix + path, {"action": "interval", "interval": "weekly"})
    assert response.status_code == 400
    html = response.content.decode()
    (described_by,) = re.findall(r'<select name="interval"[^>]*aria-describedby="([^"]+)"', html)
    error = re.search(rf'<p [^>]*id="{described_by}"[^>]*>(.*?)</p>', html, re.S)
    assert error is not None, html
    assert error.group(1).strip() == message
    assert "weekly" not in html  # the tampered code is not echoed back
    plan.refresh_from_db()
    assert plan.interval == RecurringPlan.Interval.MONTH


def test_a_refused_amount_is_said_under_its_box_with_its_example(client, demo):
    # the box said it was described by its example and its error: neither was on the page
    import re

    plan, _campaign = _plan_on("un-doposcuola-per-ogni-quartiere")
    response = client.post(
        urlsplit(plan_manage_url(plan)).path, {"action": "amount", "amount": "x"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    (described_by,) = re.findall(r'<input [^>]*aria-describedby="([^"]+)"', html)
    said = []
    for target in described_by.split():
        found = re.search(rf'<p [^>]*id="{target}"[^>]*>(.*?)</p>', html, re.S)
        assert found is not None, target
        said.append(found.group(1).strip())
    assert said == ["Ad esempio 20 o 12,50", "Inserisci un importo in euro, ad esempio 25 o 10,50."]
