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
