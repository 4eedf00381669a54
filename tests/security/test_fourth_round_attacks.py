"""The fourth attacker's pass (issue 22), each finding a test written before its fix:

- the community of practice: a "recurring share" times the amount gave the exact total of a
  network's only monthly donor; with three networks the median was another network's figure;
- a newsletter's campaign links carried the delivery's preferences key as `?m=`: a forwarded
  link let a stranger read and change the donor's settings;
- five wrong passwords from anywhere locked a colleague out, for ever if repeated;
- an unconfigured mail provider's webhook, a CSV cell over 131,072 characters and a message form
  without its body each gave a 500;
- a segment's export listed the email of donors who never agreed to news;
- the donor's plan page was cacheable and indexable, and its 400-day link could not be revoked.
"""

import datetime
import hashlib
import itertools
import re

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from crm.import_files import FileRefused, read_table
from crm.links import plan_manage_url
from crm.models import Donation, Donor, RecurringPlan
from outreach.community import (
    MIN_DONORS,
    MIN_NETWORKS,
    community_table,
    medians_for,
    network_cells,
    set_taking_part,
)
from outreach.models import Delivery, Message, Segment
from outreach.rendering import MessageRenderer
from outreach.results import attributed_gifts

pytestmark = pytest.mark.django_db

YEAR = 2026
PASSWORD = "una-Password-lunga-42"


def site_path(url):
    return url.removeprefix(settings.SITE_URL)


# --- The community of practice ------------------------------------------------------------------


def donors_giving(network, cents, *, year=YEAR, plan=False, prefix="D"):
    """One donor per amount in `cents`, each with one gift of that amount in `year` (through a
    monthly plan when `plan`)."""
    donors = []
    for i, amount in enumerate(cents):
        donor = Donor.objects.create(network=network, first_name=f"{prefix}{i}", last_name="X")
        recurring = None
        if plan:
            recurring = RecurringPlan.objects.create(
                network=network,
                donor=donor,
                amount_cents=amount,
                status=RecurringPlan.Status.ACTIVE,
            )
        Donation.objects.create(
            network=network,
            donor=donor,
            recurring_plan=recurring,
            received_on=datetime.date(year, 6, 1),
            amount_cents=amount,
            status=Donation.Status.SUCCEEDED,
        )
        donors.append(donor)
    return donors


def shown_numbers(cells):
    return [float(value) for value in cells.values() if value is not None]


def recoverable(numbers, secret):
    """Whether `secret` comes out of the shown numbers by one or two of + − × ÷ (within half a
    cent), the arithmetic anyone does with a spreadsheet."""

    def close(value):
        return abs(value - secret) < 0.5

    ops = (
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a * b,
        lambda a, b: a / b if b else float("nan"),
    )
    for a in numbers:
        if close(a):
            return True
    for a, b in itertools.permutations(numbers, 2):
        firsts = [op(a, b) for op in ops]
        if any(close(value) for value in firsts):
            return True
        for first, c in itertools.product(firsts, numbers):
            if any(close(op(first, c)) or close(op(c, first)) for op in ops):
                return True
    return False


@pytest.fixture
def lone_monthly_donor(network_factory):
    """A network whose 2026 gifts come from 5 one-off donors (€ 10 each) and one monthly
    donor, the only one, whose total is € 37,43."""
    network = network_factory("rete-sola")
    donors_giving(network, [1000] * 5, prefix="Once")
    donors_giving(network, [3743], plan=True, prefix="Monthly")
    return network


def test_the_recurring_share_cannot_give_away_a_lone_monthly_donors_total(lone_monthly_donor):
    cells = network_cells(lone_monthly_donor, YEAR, with_mrr=True)
    assert cells["donors"] == 6 and cells["amount"] == 8743  # shown: 6 donors
    # the share built from one monthly donor is hidden with the donor's own figures
    assert cells["recurring_share"] is None
    assert not recoverable(shown_numbers(cells), 3743)


def test_the_recurring_share_cannot_give_away_the_few_one_off_donors_total(network_factory):
    """The complement: 6 monthly donors and 1 one-off donor (€ 55,55): 1 − share of the amount."""
    network = network_factory("rete-mensile")
    donors_giving(network, [1000] * 6, plan=True, prefix="Monthly")
    donors_giving(network, [5555], prefix="Once")
    cells = network_cells(network, YEAR, with_mrr=True)
    assert cells["donors"] == 7
    assert cells["recurring_share"] is None
    assert not recoverable(shown_numbers(cells), 5555)


def test_no_combination_of_a_rows_cells_recovers_a_hidden_one(network_factory):
    """Every network of the observers' table, both years: none of the suppressed figures (a
    lone monthly donor's total, a lone one-off donor's total) comes out of that network's
    shown cells, nor out of its cells and the medians."""
    secrets = {}
    for slug, (monthly, once) in {
        "uno": ([4321], [1000] * 5),
        "due": ([1000] * 5, [6789]),
        "tre": ([1500] * 5, [2000] * 5),
    }.items():
        network = network_factory(f"rete-{slug}")
        donors_giving(network, monthly, plan=True, prefix=f"M{slug}")
        donors_giving(network, once, prefix=f"O{slug}")
        set_taking_part(network, True, None)
        secrets[network.pk] = [sum(c) for c in (monthly, once) if len(c) < MIN_DONORS]
    table = community_table(YEAR)
    block = table["blocks"][0]
    medians = shown_numbers(block["medians"])
    for row in block["rows"]:
        numbers = shown_numbers(row["cells"])
        for secret in secrets[row["network"].pk]:
            assert not recoverable(numbers, secret), (row["network"].slug, secret)
            assert not recoverable(numbers + medians, secret), (row["network"].slug, secret)
    # the network with enough of both still shows its share (7.500 of 17.500)
    tre = next(row for row in block["rows"] if row["network"].slug == "rete-tre")
    assert tre["cells"]["recurring_share"] == pytest.approx(7500 / 17500)


@pytest.fixture
def taking_part(network_factory):
    """Networks taking part, each with donors enough: amounts 60, 150, 350, 500, 800 euros."""

    def make(count):
        networks = []
        for i, cents in enumerate([1000, 3000, 7000, 10000, 16000][:count]):
            network = network_factory(f"rete-{i}")
            donors_giving(network, [cents] * 5 + [cents], prefix=f"N{i}")
            set_taking_part(network, True, None)
            networks.append(network)
        return networks

    return make


def test_with_three_networks_the_median_is_not_shown_to_a_network(taking_part):
    first, second, third = taking_part(3)
    # before: A saw the median amount 18.000 cents, which is B's own amount exactly
    assert network_cells(second, YEAR)["amount"] == 18000
    medians = medians_for(first, YEAR)
    assert not medians or medians.get("amount") is None
    assert MIN_NETWORKS >= 5


def test_with_four_networks_the_median_is_not_shown_either(taking_part):
    networks = taking_part(4)
    medians = medians_for(networks[0], YEAR)
    assert not medians or medians.get("amount") is None


def test_with_five_networks_a_network_sees_the_median(taking_part):
    networks = taking_part(5)
    assert medians_for(networks[0], YEAR)["amount"] == 42000  # 6 × € 70, the middle network


# --- Separate tokens for attribution and for preferences ---------------------------------------


@pytest.fixture
def sent_delivery(network_factory, settings):
    network = network_factory("rete-notizie")
    donor = Donor.objects.create(
        network=network,
        first_name="Ginevra",
        last_name="Inoltrata",
        email="ginevra@example.org",
        newsletter=True,
        newsletter_confirmed_at=timezone.now(),
    )
    segment = Segment.objects.create(network=network, name="Tutti")
    link = f"{settings.SITE_URL}/una-pagina/"
    message = Message.objects.create(
        network=network,
        subject="Notizie",
        body=[{"type": "paragraph", "value": f'<p>Ciao, <a href="{link}">dona</a></p>'}],
        segment=segment,
    )
    from outreach.mailing import _new_token

    delivery = Delivery.objects.create(
        message=message,
        donor=donor,
        to=donor.email,
        status=Delivery.Status.SENT,
        sent_at=timezone.now(),
        token=_new_token(),
    )
    return delivery


def marker(html):
    """The `?m=` of the email's link to our own page."""
    return re.search(r'una-pagina/\?m=([A-Za-z0-9_-]+)"', html).group(1)


def test_a_forwarded_campaign_link_does_not_open_the_donors_preferences(client, sent_delivery):
    rendered = MessageRenderer(sent_delivery.message).for_delivery(sent_delivery)
    m = marker(rendered.html)
    # the stranger who got the forwarded email tries the `?m=` as the preferences key
    for page in ("preferences", "unsubscribe"):
        response = Client().get(f"/news/{page}/{m}/")
        assert response.status_code == 404, page
        assert "ginevra" not in response.content.decode().lower()
    response = Client().post("/news/preferences/{m}/", {"newsletter": "", "language": "en"})
    assert response.status_code in (403, 404)
    donor = Donor.objects.get(pk=sent_delivery.donor_id)
    assert donor.newsletter and donor.language == "it"
    # while the footer's own links, in the donor's mailbox, still work
    assert f"/news/preferences/{sent_delivery.token}/" in rendered.html
    assert client.get(f"/news/preferences/{sent_delivery.token}/").status_code == 200
    # and neither the Message-ID nor the marker gives the key away
    from outreach.mailing import message_id_header

    assert sent_delivery.token not in message_id_header(sent_delivery)
    assert sent_delivery.token not in rendered.html.replace(
        f"/news/preferences/{sent_delivery.token}/", ""
    ).replace(f"/news/unsubscribe/{sent_delivery.token}/", "")


def test_a_gift_through_the_campaign_link_is_still_the_messages(sent_delivery):
    rendered = MessageRenderer(sent_delivery.message).for_delivery(sent_delivery)
    gift = Donation.objects.create(
        network=sent_delivery.message.network,
        donor=sent_delivery.donor,
        received_on=timezone.localdate(),
        amount_cents=2500,
        status=Donation.Status.SUCCEEDED,
        message_token=marker(rendered.html),
    )
    assert list(attributed_gifts(sent_delivery.message)) == [gift]


# --- Sign-in lockout ----------------------------------------------------------------------------


@pytest.fixture
def colleague(db, network_factory):
    network = network_factory("rete-accessi")
    user = get_user_model().objects.create_user("tesoriera", "tesoriera@example.org", PASSWORD)
    user.groups.add(network.treasurers_group)
    get_user_model().objects.create_superuser("admin", "admin@example.org", PASSWORD)
    return user


def solve(html):
    """What the browser does with the proof of work (static/js/proof_of_work.js)."""
    puzzle = re.search(r'name="pow_puzzle" value="([^"]+)"', html).group(1)
    bits = int(re.search(r'data-difficulty="(\d+)"', html).group(1))
    answer = 0
    while int.from_bytes(hashlib.sha256(f"{puzzle}:{answer}".encode()).digest()) >> (256 - bits):
        answer += 1
    return {"pow_puzzle": puzzle, "pow_answer": str(answer)}


def sign_in(username, password, ip):
    return Client().post(
        "/admin/login/", {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def test_an_attacker_guessing_a_colleagues_password_does_not_lock_the_colleague_out(colleague):
    attacker, office = "203.0.113.9", "192.0.2.44"
    statuses = [sign_in("tesoriera", f"guess-{n}", attacker).status_code for n in range(30)]
    # guessing from one address is stopped
    limit = settings.AXES_FAILURE_LIMIT
    assert set(statuses[limit:]) == {429}
    assert sign_in("tesoriera", PASSWORD, attacker).status_code == 429
    # and the colleague signs in from the office all the same
    assert sign_in("tesoriera", PASSWORD, office).status_code == 302
    # nor is the admin locked out by guesses from many addresses: their sign-in asks the
    # challenge (tests/security/test_sign_in_challenge.py), which their browser solves
    for n in range(3 * limit):
        sign_in("admin", f"guess-{n}", f"198.51.100.{n + 10}")
    asked = sign_in("admin", PASSWORD, office)
    assert asked.status_code == 200
    solution = solve(asked.content.decode())
    assert (
        Client()
        .post(
            "/admin/login/",
            {"username": "admin", "password": PASSWORD, **solution},
            REMOTE_ADDR=office,
        )
        .status_code
        == 302
    )


def test_the_block_of_an_address_on_an_account_grows_round_after_round(colleague):
    attacker = "203.0.113.10"
    limit = settings.AXES_FAILURE_LIMIT
    waits = []
    for _round in range(3):
        for n in range(limit):
            sign_in("tesoriera", f"guess-{n}", attacker)
        blocked = sign_in("tesoriera", PASSWORD, attacker)
        assert blocked.status_code == 429
        waits.append(int(blocked["Retry-After"]))
        # the block ends when its wait has passed
        AccessAttempt.objects.update(
            attempt_time=F("attempt_time") - datetime.timedelta(seconds=waits[-1] + 60)
        )
    assert waits[0] == settings.SIGN_IN_COOLOFF.total_seconds()
    assert waits[0] < waits[1] < waits[2]


def test_spraying_from_one_address_is_cut_off_by_a_coarser_limit(colleague):
    from accounts.lockouts import ADDRESS_FAILURE_LIMIT

    sprayer = "203.0.113.11"
    assert ADDRESS_FAILURE_LIMIT > settings.AXES_FAILURE_LIMIT
    for n in range(ADDRESS_FAILURE_LIMIT):
        sign_in(f"utente-{n}", "Estate2026!", sprayer)
    assert sign_in("tesoriera", PASSWORD, sprayer).status_code == 429
    assert sign_in("tesoriera", PASSWORD, "192.0.2.45").status_code == 302


# --- 4xx, never 500 -------------------------------------------------------------------------------


def test_an_unconfigured_mail_providers_webhook_is_a_4xx(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:s3cret"}  # no Mailgun signing key
    client = Client(raise_request_exception=False)
    for provider in ("mailgun", "sendgrid", "brevo", "postmark", "amazon_ses"):
        response = client.post(
            f"/crm/anymail/{provider}/tracking/",
            data="{}",
            content_type="application/json",
        )
        assert 400 <= response.status_code < 500, provider


def test_a_csv_cell_over_the_csv_modules_limit_is_refused_clearly():
    data = ("Nome;Email\n" + "Mario;" + "x" * 140_000 + "\n").encode()
    with pytest.raises(FileRefused):
        list(read_table(data, "donatori.csv"))


def test_a_message_form_without_its_body_is_a_4xx(client, network_factory):
    network = network_factory("rete-messaggi")
    user = get_user_model().objects.create_user("comunica", password=PASSWORD)
    user.groups.add(network.communicators_group)
    client.force_login(user)
    segment = Segment.objects.create(network=network, name="Tutti")
    message = Message.objects.create(
        network=network,
        subject="Notizie",
        body=[{"type": "paragraph", "value": "<p>Ciao</p>"}],
        segment=segment,
    )
    client.raise_request_exception = False
    data = {"network": network.pk, "subject": "Nuovo", "segment": segment.pk}
    for url in (
        reverse("outreach_message:add"),
        reverse("outreach_message:edit", args=[message.pk]),
        reverse("outreach_message:preview_on_add"),
        reverse("outreach_message:preview_on_edit", args=[message.pk]),
    ):
        response = client.post(url, data)
        assert response.status_code < 500, url
    message.refresh_from_db()
    assert message.subject == "Notizie"


# --- The segment export ---------------------------------------------------------------------------


def test_a_segments_export_lists_only_donors_who_agreed_to_news(client, network_factory):
    network = network_factory("rete-segmenti")
    user = get_user_model().objects.create_user("comunica", password=PASSWORD)
    user.groups.add(network.communicators_group)
    client.force_login(user)
    Donor.objects.create(
        network=network,
        first_name="Consenziente",
        email="si@example.org",
        newsletter=True,
        newsletter_confirmed_at=timezone.now(),
    )
    Donor.objects.create(network=network, first_name="Silenziosa", email="no@example.org")
    Donor.objects.create(
        network=network, first_name="Inattesa", email="forse@example.org", newsletter=True
    )  # ticked, never confirmed
    segment = Segment.objects.create(network=network, name="Tutti")
    response = client.get(reverse("outreach_segments:export", args=[segment.pk]))
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "si@example.org" in text
    assert "no@example.org" not in text and "forse@example.org" not in text
    # and it says so, in the file's name and on the screen
    assert "newsletter" in response["Content-Disposition"]
    page = client.get(reverse("outreach_segments:edit", args=[segment.pk]))
    with translation.override(page["Content-Language"]):
        said = gettext(
            "The CSV lists only the donors who confirmed the newsletter and have an email "
            "address: the others never agreed to be written to."
        )
    assert said in page.content.decode().replace("&#x27;", "'")


# --- The donor's plan page ------------------------------------------------------------------------


@pytest.fixture
def plan(network_factory):
    network = network_factory("rete-piani")
    donor = Donor.objects.create(
        network=network, first_name="Ada", email="ada@example.org", language="en"
    )
    return RecurringPlan.objects.create(
        network=network,
        donor=donor,
        amount_cents=1000,
        status=RecurringPlan.Status.ACTIVE,
        stripe_subscription_id="sub_piano",
    )


def test_the_plan_page_is_neither_cached_nor_indexed(client, plan):
    for name in ("campaigns:manage_plan", "campaigns:cancel_plan"):
        token = site_path(plan_manage_url(plan)).rstrip("/").rsplit("/", 1)[-1]
        response = client.get(reverse(name, args=[token]))
        assert response.status_code == 200, name
        assert "no-store" in response["Cache-Control"], name
        assert "noindex" in response["X-Robots-Tag"], name
        assert '<meta name="robots" content="noindex' in response.content.decode(), name
    forged = client.get(reverse("campaigns:manage_plan", args=["1:forged:sig"]))
    assert "no-store" in forged["Cache-Control"] and "noindex" in forged["X-Robots-Tag"]


def test_the_donor_revokes_their_plan_link_and_gets_a_fresh_one(client, plan):
    old = site_path(plan_manage_url(plan))
    response = client.post(old, {"action": "revoke"})
    assert response.status_code in (200, 303)
    # the old link no longer opens the plan, and says how to get a new one
    again = client.get(old)
    assert again.status_code == 410
    html = again.content.decode()
    ask = reverse("donor_portal:ask", args=[plan.network.slug])
    assert ask in html
    assert client.post(old, {"action": "pause"}).status_code == 410
    # the link sent now works
    plan.refresh_from_db()
    assert client.get(site_path(plan_manage_url(plan))).status_code == 200


def test_a_treasurer_revokes_the_donors_plan_links(client, plan, network_factory):
    old = site_path(plan_manage_url(plan))
    treasurer = get_user_model().objects.create_user("tesoriere", password=PASSWORD)
    treasurer.groups.add(plan.network.treasurers_group)
    client.force_login(treasurer)
    url = reverse("crm_recurringplan:plan_revoke", args=[plan.pk])
    inspect = client.get(reverse("crm_recurringplan:inspect", args=[plan.pk])).content.decode()
    assert url in inspect
    assert client.get(url).status_code == 200  # the question first
    assert client.post(url).status_code == 302
    client.logout()
    assert Client().get(old).status_code == 410
    plan.refresh_from_db()
    assert Client().get(site_path(plan_manage_url(plan))).status_code == 200
    # another network's treasurer cannot: 404, the links stay as they are
    other = get_user_model().objects.create_user("altro", password=PASSWORD)
    other.groups.add(network_factory("rete-altra").treasurers_group)
    client.force_login(other)
    version = RecurringPlan.objects.get(pk=plan.pk).link_version
    assert client.post(url).status_code == 404
    assert RecurringPlan.objects.get(pk=plan.pk).link_version == version
