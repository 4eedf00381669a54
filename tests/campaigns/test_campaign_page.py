"""The campaign page that converts (issue 13): error summary, who receives the money and the tax
benefit, impact lines, "add the fee", share previews, favicon, a clean title, the moderated donor
wall, and return pages that tell the truth about the gift."""

import re

import pytest
import requests
from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.core.cache import caches
from django.urls import reverse
from django.utils import translation
from wagtail.models import Page

from campaigns.fees import covered_fee_cents
from campaigns.models import WallName
from campaigns.views import donation_token
from cms import pagecache
from crm.models import Donation, Donor, IssuingEntity, Network

FORM = {
    "amount": "2500",
    "frequency": "once",
    "first_name": "Anna",
    "last_name": "Rossi",
    "email": "anna.rossi@example.org",
    "privacy": "on",
}


def give_url(campaign):
    with translation.override("it"):
        return reverse("campaigns:give", args=[campaign.pk])


def _text(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("\xa0", " ")


def test_a_server_side_error_is_summarised_at_the_top_and_linked_to_its_fields(client, campaign):
    response = client.post(give_url(campaign), {**FORM, "email": "not-an-email", "privacy": ""})
    assert response.status_code == 400
    html = response.content.decode()
    summary = html.split('<div class="error-summary"')[1].split("</div>")[0]
    # the summary comes before the first field, takes the focus and is announced
    assert html.index('id="error-summary"') < html.index('name="first_name"')
    assert 'role="alert"' in summary
    assert "autofocus" in summary
    assert "Correggi 2 cose" in summary
    # each error links to its field, which is described by its message
    assert 'href="#id_email"' in summary
    assert 'href="#id_privacy"' in summary
    email_input = re.search(r"<input[^>]*name=\"email\"[^>]*>", html).group(0)
    assert 'aria-invalid="true"' in email_input
    assert 'aria-describedby="id_email-error"' in email_input
    assert 'id="id_email-error"' in html


def test_a_missing_amount_links_to_the_amount_buttons(client, campaign):
    response = client.post(give_url(campaign), {**FORM, "amount": ""})
    summary = response.content.decode().split('<div class="error-summary"')[1].split("</div>")[0]
    assert 'href="#id_other_amount"' in summary


def test_the_page_names_who_receives_the_money_and_the_tax_benefit(client, campaign):
    network = campaign.network
    for regime, expected in [
        ("detraction_30", "detrazione del 30%"),
        ("detraction_35", "detrazione del 35%"),
        ("deduction_10", "Persone fisiche e aziende: deduzione fino al 10%"),
        ("none", "non danno diritto ad agevolazioni fiscali"),
    ]:
        Network.objects.filter(pk=network.pk).update(tax_regime=regime)
        # (the box names the campaign's receiving entity: here the lead, the network's own)
        IssuingEntity.objects.filter(network=network, is_lead=True).update(tax_regime=regime)
        # what a page shows of its network lags the fragment and page caches (their timeouts)
        caches["fragments"].clear()
        pagecache.bump_content_version()
        html = client.get(campaign.url).content.decode()
        box = _text(html.split('data-testid="legal-box"')[1].split("</aside>")[0])
        assert network.legal_name in box
        assert network.codice_fiscale in box
        assert expected in box, (regime, box)
        if regime.startswith("detraction"):
            assert "Aziende: deduzione fino al 10%" in box


def test_impact_lines_stand_under_their_amounts(client, campaign):
    campaign.impact_lines = "25 = una settimana di doposcuola\n€ 50 = un mese di merende\nnonsense"
    campaign.save_revision().publish()
    html = client.get(campaign.url).content.decode()
    chips = re.findall(r'<label class="chip">(.*?)</label>', html, re.S)
    by_amount = {re.search(r'value="(\w+)"', c).group(1): _text(c) for c in chips}
    assert "una settimana di doposcuola" in by_amount["2500"]
    assert "un mese di merende" in by_amount["5000"]
    assert "=" not in by_amount["1000"]


def test_share_previews_title_and_favicon(client, campaign):
    html = client.get(campaign.url, HTTP_HOST="localhost").content.decode()
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    assert title == f"{campaign.title} · Trama"
    image = re.search(r'<meta property="og:image" content="([^"]+)"', html).group(1)
    assert image.startswith("http://localhost/") and "fill-1200x630" in image
    assert f'<meta name="twitter:image" content="{image}">' in html
    assert '<meta name="twitter:card" content="summary_large_image">' in html
    assert re.search(r'<meta property="og:url" content="http://localhost/[^"]+">', html)
    assert f'<meta property="og:title" content="{campaign.title}">' in html
    assert re.search(r'<link rel="icon" href="[^"]+favicon\.svg"', html)
    # the favicon is a static file
    assert finders.find("favicon.svg")


def test_the_home_page_title_names_trama_once(client, demo):
    home = Page.objects.get(depth=2).specific
    html = client.get(home.url).content.decode()
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    assert title.count("Trama") == 1, title


def test_adding_the_fee_charges_it_and_records_the_gift_clearly(client, campaign, stripe_standin):
    response = client.post(give_url(campaign), {**FORM, "cover_fees": "on"})
    assert response.status_code == 303
    donation = Donation.objects.get()
    fee = covered_fee_cents(2500)
    assert fee == 64  # (2500 + 25) / 0.985 = 2563.45 → 2564
    assert donation.amount_cents == 2500 + fee
    assert donation.donor_details["gift_cents"] == 2500
    assert donation.donor_details["fee_cover_cents"] == fee
    session = requests.get(
        f"{stripe_standin}/v1/checkout/sessions/{donation.stripe_checkout_session_id}",
        params={"expand[]": "line_items"},
        headers={"Authorization": "Bearer sk_test_standin"},
        timeout=5,
    ).json()
    assert session["amount_total"] == 2564
    # without the choice, the gift is what was typed
    client.post(give_url(campaign), {**FORM, "email": "b@example.org"})
    assert Donation.objects.order_by("-pk").first().amount_cents == 2500
    # and the page shows the fee in euros, computed on the server
    html = client.get(campaign.url).content.decode()
    hint = _text(html.split('data-testid="fee-hint"')[1].split("</p>")[0]).replace("\xa0", " ")
    assert "€ 0,64" in hint and "€ 25,00" in hint


def test_sepa_copy_says_settlement_takes_days(client, campaign):
    html = client.get(campaign.url).content.decode()
    assert "alcuni giorni lavorativi" in html.split('data-testid="sepa-note"')[1][:300]


# --- the donor wall ------------------------------------------------------------------------------


def _gift(campaign, first_name, *, anonymous, status="succeeded"):
    donor = Donor.objects.create(network=campaign.network, first_name=first_name)
    return Donation.objects.create(
        network=campaign.network,
        campaign=campaign,
        donor=donor,
        amount_cents=2000,
        status=status,
        anonymous=anonymous,
    )


@pytest.fixture
def people(demo):
    return {u.username: u for u in get_user_model().objects.all()}


def _wall(client, campaign):
    html = client.get(campaign.url).content.decode()
    if 'data-testid="donor-wall"' not in html:
        return ""
    return _text(html.split('data-testid="donor-wall"')[1].split("</section>")[0])


def test_the_donor_wall_shows_a_name_only_after_a_communicator_approves_it(
    client, campaign, people
):
    campaign.donor_wall = True
    campaign.save_revision().publish()
    slug = campaign.network.slug
    named = _gift(campaign, "Ottavia", anonymous=False)
    _gift(campaign, "Segreto", anonymous=True)
    _gift(campaign, "Celato", anonymous=True)
    # before a decision the name is not published; the others are counted
    wall = _wall(client, campaign)
    assert "Ottavia" not in wall and "Segreto" not in wall
    assert "3 donatori" in wall
    # another network's communicator can neither see nor approve it
    other = Network.objects.exclude(pk=campaign.network.pk).get()
    outsider = people[f"comunicazione-{other.slug}"]
    client.force_login(outsider)
    assert "Ottavia" not in client.get(reverse("campaigns_donor_wall")).content.decode()
    decide = reverse("campaigns_donor_wall_decide", args=[named.pk])
    assert client.post(decide, {"decision": "approve"}).status_code == 404
    # nor can the network's treasurer (not a communicator)
    client.force_login(people[f"tesoreria-{slug}"])
    assert client.get(reverse("campaigns_donor_wall")).status_code in (302, 403)
    assert client.post(decide, {"decision": "approve"}).status_code == 404
    assert not WallName.objects.exists()
    assert "Ottavia" not in _wall(client, campaign)
    # the network's communicator sees the name waiting and approves it
    client.force_login(people[f"comunicazione-{slug}"])
    screen = client.get(reverse("campaigns_donor_wall")).content.decode()
    assert "Ottavia" in screen.split('data-testid="waiting"')[1]
    assert "Segreto" not in screen  # anonymous gifts are not even proposed
    assert client.post(decide, {"decision": "approve"}).status_code == 302
    client.logout()
    wall = _wall(client, campaign)
    assert "Ottavia" in wall
    assert "e altri 2 donatori" in wall
    assert "Anonimo" not in wall
    # hidden again, it leaves the wall
    client.force_login(people[f"comunicazione-{slug}"])
    client.post(decide, {"decision": "hide"})
    client.logout()
    assert "Ottavia" not in _wall(client, campaign)


# --- return pages that tell the truth ------------------------------------------------------------


@pytest.mark.parametrize(
    "status,method,state,words",
    [
        ("succeeded", "card", "confirmed", "Grazie!"),
        ("refunded", "card", "refunded", "rimborsata"),
        ("partially_refunded", "card", "partially_refunded", "Grazie!"),
        ("disputed", "card", "disputed", "contestato"),
        ("failed", "sepa_debit", "failed", "addebito diretto SEPA"),
        ("failed", "card", "failed", "rifiutato"),
        ("needs_review", "card", "review", "verifica"),
        ("pending", "sepa_debit", "sepa_pending", "alcuni giorni lavorativi"),
        ("pending", "card", "pending", "aggiorna da sola"),
    ],
)
def test_the_return_page_says_what_happened(client, campaign, status, method, state, words):
    donation = Donation.objects.create(
        network=campaign.network,
        campaign=campaign,
        amount_cents=5000,
        refunded_cents=2000 if status == "partially_refunded" else 0,
        status=status,
        method=method,
    )
    with translation.override("it"):
        url = reverse("campaigns:thanks", args=[donation_token(donation)])
    html = client.get(url).content.decode()
    assert f'data-status="{state}"' in html
    assert words in _text(html)
    thanked = "Grazie!" in html
    assert thanked == (state in ("confirmed", "partially_refunded", "pending", "sepa_pending"))
    try_again = 'data-testid="try-again"' in html
    assert try_again == (state == "failed")
    refreshes = 'http-equiv="refresh"' in html
    assert refreshes == (state == "pending")
    if state == "partially_refunded":
        assert "€ 20,00" in _text(html) and "€ 30,00" in _text(html)


def test_the_return_page_links_the_campaign_without_looking_up_the_site(client, campaign):
    # Given a donor watching their pending gift's page (reloaded every 3 s on a giving day)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    donation = Donation.objects.create(
        network=campaign.network,
        campaign=campaign,
        amount_cents=5000,
        status=Donation.Status.PENDING,
        method="card",
    )
    url = reverse("campaigns:thanks", args=[donation_token(donation)])
    client.get(url)  # the site root paths cached, as on a running server
    # When the page is loaded again
    with CaptureQueriesContext(connection) as queries:
        html = client.get(url).content.decode()
    # Then it links back to the campaign, and no load asks the database for the Site
    assert f'href="{campaign.url}"' in html
    assert not [q["sql"] for q in queries if "wagtailcore_site" in q["sql"]]
