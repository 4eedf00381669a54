"""The admin as the treasurer of a partner entity reads it (the demo's APS Il Ponte dei Colori
of Valle Serena, issue 26): the entity's own gifts and receipts, in Italian, with figures on the
home page; no link, button or menu item that leads to "Sorry, you do not have permission"; and
nothing of the network's lead entity. The network's treasurer, on the same screens, still gets
every link and button.

Links are followed from the admin home as in `test_admin_walk` (the Django test client, each
URL shape a few times), GET only: what a person clicks."""

import datetime
import html
import re

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from crm.models import Donation, Donor, IssuingEntity, Receipt, RecurringPlan
from crm.receipts import issue_receipt
from tests.crm.test_agenzia import cf

from .test_admin_walk import format_report, keep, read_as, shape

ENTITY_TREASURER = "ponte-dei-colori-tesoreria"
NETWORK_TREASURER = "tesoreria-valle-serena"
PARTNER_DONOR, LEAD_DONOR = "Pontiera", "Capofilina"
HREF = re.compile(r"""(?:href|"url")\s*[=:]\s*["'](/admin/[^"'#\s]*)""")
PER_SHAPE = 2


@pytest.fixture
def gifts(demo):
    """A gift with its receipt to each entity of Valle Serena, received this fiscal year."""
    network = demo["valle-serena"]
    partner = IssuingEntity.objects.get(network=network, receipt_series="PC")
    day = timezone.localdate() - datetime.timedelta(days=1)
    made = {}
    for i, (last_name, entity, cents) in enumerate(
        [(PARTNER_DONOR, partner, 5000), (LEAD_DONOR, network.lead_entity, 7000)], start=1
    ):
        donor = Donor.objects.create(
            network=network,
            first_name="Lucia",
            last_name=last_name,
            codice_fiscale=cf(i),
            street_address="Via Roma 1",
            postal_code="24100",
            city="Bergamo",
        )
        gift = Donation.objects.create(
            network=network,
            donor=donor,
            entity=entity,
            amount_cents=cents,
            received_on=day,
            method=Donation.Method.BANK_TRANSFER,
            channel=Donation.Channel.OFFLINE,
            status=Donation.Status.SUCCEEDED,
        )
        issue_receipt([gift])
        # and a gift still without a receipt: its page offers to issue one
        Donation.objects.create(
            network=network,
            donor=donor,
            entity=entity,
            amount_cents=cents + 100,
            received_on=day,
            method=Donation.Method.BANK_TRANSFER,
            channel=Donation.Channel.OFFLINE,
            status=Donation.Status.SUCCEEDED,
        )
        made[entity.is_lead] = gift
    return {"partner": made[False], "lead": made[True], "entity": partner}


def refused(response):
    """A screen that turns the person away: 403, or Wagtail's redirect to the home page with
    "Sorry, you do not have permission to access this area."."""
    return response.status_code == 403 or (
        response.status_code == 302 and response["Location"].rstrip("/").endswith("/admin")
    )


def offered_links(client, start="/admin/"):
    """Every admin link (href, and the menu's urls) reachable by GET from `start`:
    {url: (status, the page that offered it)}, and the pages' texts {url: text}."""
    seen_shapes, offered, texts = {}, {start: None}, {}
    queue, statuses = [start], {}
    while queue:
        url = queue.pop(0)
        response = client.get(url)
        statuses[url] = response
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        text = html.unescape(response.content.decode())
        texts[url] = text
        for link in HREF.findall(text):
            link = link.replace("\\u002D", "-")
            if link in offered or not keep(link):
                continue
            key = shape(link)
            if seen_shapes.get(key, 0) >= PER_SHAPE:
                continue
            seen_shapes[key] = seen_shapes.get(key, 0) + 1
            offered[link] = url
            queue.append(link)
    return {url: (statuses[url], offered[url]) for url in statuses}, texts


def login(client, username, language="it"):
    from wagtail.users.models import UserProfile

    user = get_user_model().objects.get(username=username)
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = language
    profile.save()
    client.force_login(user)
    return user


def test_the_entity_treasurer_is_offered_only_screens_that_open(client, gifts):
    # given the partner entity's treasurer, in Italian
    login(client, ENTITY_TREASURER)
    # when they follow every link from the admin home
    links, texts = offered_links(client)
    # then none turns them away: no donor's page (the donors are the network's), no "Issue
    # receipt", "Void" or "Reissue" button, no bulk action, no menu item they may not open
    trapped = {
        url: f"offered on {source}"
        for url, (response, source) in links.items()
        if refused(response) or response.status_code >= 500
    }
    assert not trapped, "\n".join(f"{url} ({why})" for url, why in trapped.items())
    # and they did reach their gifts and receipts
    reached = {shape(url) for url in links}
    assert {"/admin/crm/donations/inspect/N/", "/admin/crm/receipts/inspect/N/"} <= reached
    # and nothing of the lead entity is on any page
    lead = [url for url, text in texts.items() if LEAD_DONOR in text]
    assert not lead, lead


def test_the_entity_treasurers_home_shows_the_entitys_gifts(client, gifts):
    # given the partner's treasurer, who reaches no network but their entity's gifts
    login(client, ENTITY_TREASURER)
    # when they open the admin home
    page = html.unescape(client.get("/admin/").content.decode()).replace("\xa0", " ")
    # then the figures are their entity's (€ 50 and € 51 received), named by the entity
    assert "Donazioni · APS Il Ponte dei Colori" in page
    assert "€ 101,00" in page
    assert "(2 donazioni)" in page
    # the recent gifts are theirs, the donor's name without a link to a refused page
    assert f"Lucia {PARTNER_DONOR}" in page
    assert f"/admin/crm/donors/inspect/{gifts['partner'].donor_id}/" not in page
    assert LEAD_DONOR not in page


FAILING_PLANS = {
    "it": "Donazioni periodiche con pagamenti non riusciti",
    "en": "Recurring payments failing",
}


@pytest.mark.parametrize("language", ["it", "en"])
def test_the_home_tells_of_failing_plans_only_whoever_reaches_them(client, gifts, language):
    # given a plan of Valle Serena whose payments fail: plans are the network's (a plan has
    # no entity; its page and list are the network's treasurers'), not a partner entity's
    donor = gifts["partner"].donor
    RecurringPlan.objects.create(
        network=donor.network,
        donor=donor,
        amount_cents=1000,
        status=RecurringPlan.Status.PAST_DUE,
        failures=2,
    )

    def home(username):
        login(client, username, language)
        return html.unescape(client.get("/admin/").content.decode())

    # when the partner's treasurer opens the home page, it says nothing of plans (it read
    # "0", always: no plan is theirs to see)
    assert FAILING_PLANS[language] not in home(ENTITY_TREASURER)
    # while the network's treasurer reads the failing plan, counted and listed
    page = home(NETWORK_TREASURER)
    assert re.search(rf"{FAILING_PLANS[language]}: <strong>1</strong>", page)
    assert f"Lucia {PARTNER_DONOR}" in page.split(FAILING_PLANS[language])[-1]


AWAITING_RECEIPTS = {"it": "Donazioni in attesa di ricevuta", "en": "Gifts awaiting a receipt"}


@pytest.mark.parametrize("language", ["it", "en"])
def test_the_home_counts_gifts_awaiting_a_receipt_only_for_whoever_issues_them(
    client, gifts, language
):
    # given a gift of the partner's whose donor asked for a receipt, still without one:
    # issuing it is the network's treasurers' (an entity's own treasurer reads receipts)
    Donation.objects.filter(entity=gifts["entity"], receipts=None).update(wants_receipt=True)

    def home(username):
        login(client, username, language)
        return html.unescape(client.get("/admin/").content.decode())

    # when the partner's treasurer opens the home page, it counts nothing they could act on
    assert AWAITING_RECEIPTS[language] not in home(ENTITY_TREASURER)
    # while the network's treasurer, who issues receipts, reads the gift counted
    assert re.search(rf"{AWAITING_RECEIPTS[language]}: <strong>1</strong>", home(NETWORK_TREASURER))


def test_the_network_treasurer_still_gets_every_action(client, gifts):
    # given the network's treasurer
    login(client, NETWORK_TREASURER)
    gift = Donation.objects.filter(entity=gifts["entity"], receipts=None).get()
    receipt = Receipt.objects.get(donations=gifts["partner"])
    # then a gift of the partner's offers its receipt and its donor
    page = client.get(f"/admin/crm/donations/inspect/{gift.pk}/").content.decode()
    assert f"/admin/crm/donations/{gift.pk}/issue-receipt/" in page
    assert f"/admin/crm/donors/inspect/{gift.donor_id}/" in page
    # and its receipt offers to void and reissue it
    page = client.get(f"/admin/crm/receipts/inspect/{receipt.pk}/").content.decode()
    assert f"/admin/crm/receipts/{receipt.pk}/void/" in page
    assert f"/admin/crm/receipts/{receipt.pk}/reissue/" in page
    # and the lists offer every bulk action, the home page both entities' gifts
    page = client.get("/admin/crm/receipts/").content.decode()
    assert "/admin/bulk/crm/receipt/void/" in page
    page = client.get("/admin/crm/donations/").content.decode()
    assert "/admin/bulk/crm/donation/issue_receipts/" in page
    # (whose "Amount" column says the amount, not the amount and the first column's date again)
    assert re.search(r"<td[^>]*>\s*€\s50,00\s*</td>", page), "the amount cell"
    home = html.unescape(client.get("/admin/").content.decode()).replace("\xa0", " ")
    assert "Donazioni · Comunità Valle Serena" in home
    assert "€ 242,00" in home


@pytest.mark.parametrize("username", [ENTITY_TREASURER, NETWORK_TREASURER])
def test_the_entity_screens_speak_italian(client, gifts, username):
    """`test_admin_walk`'s reading (English, raw values, cents, ISO dates) on the screens of
    a network with two entities, as each treasurer."""
    user = get_user_model().objects.get(username=username)
    pages, report = read_as(client, user, "it")
    assert not report, f"{len(report)} of {len(pages)} pages:\n" + format_report(report)


def test_the_network_treasurers_exports_name_each_rows_entity(client, gifts):
    """The accountant of each entity keeps its own books: the network's exports of gifts and
    receipts say which entity received each gift and issued each receipt."""
    login(client, NETWORK_TREASURER)
    for url, heading in (
        ("/admin/crm/donations/?export=csv", "Ente che riceve il dono"),
        ("/admin/crm/receipts/?export=csv", "Ente emittente"),
    ):
        response = client.get(url)
        body = b"".join(response.streaming_content).decode("utf-8-sig")
        rows = [line.split(";") for line in body.splitlines()]
        column = rows[0].index(heading)
        named = {row[column] for row in rows[1:]}
        assert named == {"APS Il Ponte dei Colori", "Associazione Valle Serena ODV"}, url
