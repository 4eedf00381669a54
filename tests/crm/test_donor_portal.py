"""The donor's page: a signed, expiring link asked for by email (no enumeration, throttled),
then their gifts, plans and receipts, their details and consent, and a copy of their data:
only theirs, never another donor's."""

import csv
import io
import json
import re
import time

import pytest
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone, translation

from crm import portal_links
from crm.models import Donation, Donor, DonorEmail, Receipt, RecurringPlan
from crm.portal_links import PORTAL_SALT

from .conftest import SECRET_EMAIL, SECRET_NAME

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://\S+/my-giving/\S+/open/\S+/")


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


def url(name, network, *args):
    return reverse(f"donor_portal:{name}", args=[network.slug, *args])


def ask(client, network, email, capture):
    with capture(execute=True):
        return client.post(url("ask", network), {"email": email})


def emailed_link(mailoutbox):
    (match,) = LINK.findall(mailoutbox[-1].body)
    return match.removeprefix(settings.SITE_URL)


def open_page(client, network, donor):
    response = client.get(url("open", network, portal_links.login_token(donor)))
    assert response.status_code == 302
    return client.get(url("page", network))


def test_the_answer_is_the_same_for_a_known_and_an_unknown_address(
    client, rows, mailoutbox, django_capture_on_commit_callbacks
):
    network = rows["a"]["donor"].network
    known = ask(client, network, SECRET_EMAIL.upper(), django_capture_on_commit_callbacks)
    unknown = ask(client, network, "nobody@example.org", django_capture_on_commit_callbacks)
    # another network's donor is unknown here
    other = ask(client, network, "bortolo@example.org", django_capture_on_commit_callbacks)

    def text(response):
        html = re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "", response.content.decode())
        for address in (SECRET_EMAIL, "nobody@example.org", "bortolo@example.org"):
            html = html.replace(address, "X")
        return html

    assert known.status_code == unknown.status_code == other.status_code == 200
    assert text(known) == text(unknown) == text(other)
    # only the known donor got a link
    assert [m.to for m in mailoutbox] == [[SECRET_EMAIL]]
    assert DonorEmail.objects.filter(kind="donor_portal").count() == 1


def test_asking_too_often_is_throttled_whether_or_not_we_know_the_address(
    client, rows, django_capture_on_commit_callbacks
):
    network = rows["a"]["donor"].network
    for address in (SECRET_EMAIL, "nobody@example.org"):
        codes = [
            ask(client, network, address, django_capture_on_commit_callbacks).status_code
            for _ in range(4)
        ]
        assert codes == [200, 200, 200, 429]
    assert DonorEmail.objects.filter(kind="donor_portal").count() == 3


def test_a_bad_address_is_a_clear_400(client, rows):
    network = rows["a"]["donor"].network
    response = client.post(url("ask", network), {"email": "not an address"})
    assert response.status_code == 400
    assert "Enter a valid email address" in response.content.decode()


def test_the_emailed_link_opens_the_donors_own_page(
    client, rows, mailoutbox, django_capture_on_commit_callbacks
):
    # given a donor of network A with a gift, a plan and a rendered receipt, and another donor
    donor = rows["a"]["donor"]
    network = donor.network
    other = Donor.objects.create(network=network, first_name="Ottavio", email="o@example.org")
    Donation.objects.create(
        network=network,
        donor=other,
        amount_cents=777700,
        status=Donation.Status.SUCCEEDED,
    )
    Receipt.objects.filter(pk=rows["a"]["receipt"].pk).update(pdf_sha256="ab" * 32)

    # when they ask for the link and open it from the email
    ask(client, network, SECRET_EMAIL, django_capture_on_commit_callbacks)
    link = emailed_link(mailoutbox)
    opened = client.get(link)
    assert opened.status_code == 302
    page = client.get(opened["Location"])

    # then they see their gift, their plan with its link, their receipt; nothing of the other
    html = page.content.decode()
    assert page.status_code == 200
    assert "€\xa012.345,67" in html or "€ 12.345,67" in html
    assert "OP-2026/00001" in html
    assert "/give/plan/" in html
    assert "7.777,00" not in html and "Ottavio" not in html
    assert page["X-Robots-Tag"] == "noindex"


@pytest.mark.parametrize("case", ["forged", "cut", "expired", "other_network"])
def test_bad_links_open_nothing(client, rows, case):
    donor = rows["a"]["donor"]
    network = donor.network
    token = portal_links.login_token(donor)
    if case == "forged":
        token = signing.dumps({"d": donor.pk, "e": "0" * 16}, salt="not-ours")
    elif case == "cut":
        token = token[:-4]
    elif case == "expired":

        class Yesterday(signing.TimestampSigner):
            def timestamp(self):
                return signing.b62_encode(int(time.time()) - 2 * settings.DONOR_PORTAL_LINK_MAX_AGE)

        token = Yesterday(salt=PORTAL_SALT).sign_object(
            {"d": donor.pk, "e": portal_links._address_key(donor.email)}
        )
    elif case == "other_network":
        network = rows["b"]["donor"].network
    response = client.get(url("open", network, token))
    assert response.status_code == (410 if case == "expired" else 404)
    assert client.get(url("page", network)).status_code == 302  # back to asking


@pytest.mark.parametrize("change", ["merged", "anonymised", "new_address"])
def test_a_link_stops_working_when_its_donor_is_no_longer_who_it_was_sent_to(client, rows, change):
    donor = rows["a"]["donor"]
    network = donor.network
    token = portal_links.login_token(donor)
    assert open_page(client, network, donor).status_code == 200
    if change == "merged":
        survivor = Donor.objects.create(network=network, email="s@example.org")
        Donor.objects.filter(pk=donor.pk).update(merged_into=survivor)
    elif change == "anonymised":
        Donor.objects.filter(pk=donor.pk).update(anonymised_at="2026-11-30T10:00:00Z")
    else:
        Donor.objects.filter(pk=donor.pk).update(email="new@example.org")
    # the open page closes, and the link no longer opens it
    assert client.get(url("page", network)).status_code == 302
    assert client.get(url("open", network, token)).status_code == 404


def test_the_donor_updates_their_codice_fiscale_and_address_validated(client, rows):
    donor = rows["a"]["donor"]
    network = donor.network
    open_page(client, network, donor)
    fields = {
        "action": "details",
        "details-codice_fiscale": "RSSMRA85T10A562X",  # wrong check character
        "details-street_address": "Via Nuova 2",
        "details-postal_code": "23900",
        "details-city": "Lecco",
        "details-province": "lc",
    }
    refused = client.post(url("page", network), fields)
    assert refused.status_code == 400
    assert "wrong check character" in refused.content.decode()
    donor.refresh_from_db()
    assert donor.street_address == "" and donor.codice_fiscale == "RSSMRA85T10A562S"

    fields["details-codice_fiscale"] = " rssmra80a01h501u "
    saved = client.post(url("page", network), fields)
    assert saved.status_code == 302
    donor.refresh_from_db()
    assert (donor.codice_fiscale, donor.street_address, donor.province) == (
        "RSSMRA80A01H501U",
        "Via Nuova 2",
        "LC",
    )


def test_the_donor_manages_their_newsletter_consent(client, rows):
    donor = rows["a"]["donor"]
    network = donor.network
    open_page(client, network, donor)
    client.post(url("page", network), {"action": "newsletter", "news-newsletter": "on"})
    donor.refresh_from_db()
    assert donor.newsletter and donor.newsletter_confirmed_at
    client.post(url("page", network), {"action": "newsletter"})
    donor.refresh_from_db()
    assert not donor.newsletter


def test_the_data_download_holds_only_that_donor(client, rows):
    donor = rows["a"]["donor"]
    network = donor.network
    other = Donor.objects.create(network=network, first_name="Ottavio", email="o@example.org")
    Donation.objects.create(network=network, donor=other, amount_cents=777700)
    open_page(client, network, donor)

    as_json = client.get(url("data", network, "json"))
    data = json.loads(as_json.content)
    assert as_json["Content-Disposition"].startswith("attachment")
    assert data["donor"]["email"] == SECRET_EMAIL and data["donor"]["first_name"] == SECRET_NAME
    assert [d["amount_cents"] for d in data["donations"]] == [1234567]
    as_csv = csv_copy(client, network, "it")[1]
    assert SECRET_EMAIL in as_csv and "€\u00a012.345,67" in as_csv
    for text in (as_json.content.decode(), as_csv):
        assert "Ottavio" not in text and "777700" not in text and "bortolo" not in text
    assert "7.777,00" not in as_csv

    assert client.get(url("data", network, "xml")).status_code == 404
    client.post(url("page", network), {"action": "leave"})
    assert client.get(url("data", network, "json")).status_code == 302


def csv_copy(client, network, language):
    with translation.override(language):
        response = client.get(url("data", network, "csv"))
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    heading, *rows = csv.reader(io.StringIO(text), delimiter=";")
    return heading, text, dict(rows)


@pytest.mark.parametrize(
    ("language", "labels"),
    [
        (
            "it",
            {
                "heading": ["Campo", "Valore"],
                "amount": "Donazione 1 – importo",
                "status": "Donazione 1 – stato",
                "method": "Donazione 1 – metodo",
                "received": "Donazione 1 – data di incasso",
                "newsletter": "Consensi – consenso alla newsletter",
                "email": "I tuoi dati – email",
                "language": "I tuoi dati – lingua",
                "issued": "Ricevuta 1 – emessa il",
                "plan": "Donazione periodica 1 – periodicità",
                "plan_amount": "Donazione periodica 1 – importo",
                "goods": "Donazione in natura 1 – valore",
                "accepted": "Consensi – informativa privacy accettata il",
            },
        ),
        (
            "en",
            {
                "heading": ["Field", "Value"],
                "amount": "Donation 1 – amount",
                "status": "Donation 1 – status",
                "method": "Donation 1 – method",
                "received": "Donation 1 – received on",
                "newsletter": "Consents – newsletter consent",
                "email": "Your details – email",
                "language": "Your details – language",
                "issued": "Receipt 1 – issued at",
                "plan": "Recurring gift 1 – interval",
                "plan_amount": "Recurring gift 1 – amount",
                "goods": "Gift in kind 1 – value",
                "accepted": "Consents – privacy notice accepted at",
            },
        ),
    ],
)
def test_the_csv_copy_reads_as_a_person_reads_it_in_their_language(client, rows, language, labels):
    """The JSON copy is for machines (portability, art. 20); the CSV one is for the donor to
    read: labels in their language, euros, local dates and times, words, not codes."""
    donor = rows["a"]["donor"]
    network = donor.network
    receipt = rows["a"]["receipt"]
    open_page(client, network, donor)

    heading, text, cells = csv_copy(client, network, language)

    with translation.override(language):
        thousands = "." if language == "it" else ","
        decimals = "," if language == "it" else "."
        assert heading == labels["heading"]
        assert cells[labels["amount"]] == f"€\u00a012{thousands}345{decimals}67"
        assert cells[labels["plan_amount"]] == f"€\u00a010{decimals}00"
        assert cells[labels["goods"]] == f"€\u00a010{decimals}00"
        assert cells[labels["status"]] == str(Donation.Status.SUCCEEDED.label)
        assert cells[labels["method"]] == str(Donation.Method.BANK_TRANSFER.label)
        assert cells[labels["plan"]] == str(RecurringPlan.Interval.MONTH.label)
        assert cells[labels["newsletter"]] == "No"
        assert cells[labels["email"]] == SECRET_EMAIL
        assert cells[labels["language"]] == str(dict(settings.LANGUAGES)["it"])
        assert cells[labels["received"]] == timezone.localdate().strftime("%d/%m/%Y")
        # times in the site's time zone (Europe/Rome in production), without seconds
        issued = timezone.localtime(receipt.issued_at)
        assert cells[labels["issued"]] == issued.strftime("%d/%m/%Y %H:%M")
        assert cells[labels["accepted"]] == ""  # never accepted: empty, not "None"
    for raw in ("amount_cents", "donations.0", "1234567", "True", "False", "None"):
        assert raw not in text
    for code in ("bank_transfer", "succeeded", "past_due", ",month", ";month", "+00:00"):
        assert code not in text


def test_one_networks_session_does_not_open_another_networks_page(client, rows):
    donor = rows["a"]["donor"]
    open_page(client, donor.network, donor)
    other_network = rows["b"]["donor"].network
    assert client.get(url("page", other_network)).status_code == 302
    assert client.get(url("data", other_network, "json")).status_code == 302


@pytest.mark.parametrize(
    ("language", "words"), [("it", "Donazione periodica"), ("en", "Regular gift")]
)
def test_a_plans_gift_is_not_relabelled_when_the_plan_changes(client, rows, language, words):
    # found walking the demo: a monthly charge read "Trimestrale" in the list of gifts once the
    # donor made the plan quarterly; the gift row said the plan's frequency of today
    import datetime

    donor = rows["a"]["donor"]
    network = donor.network
    plan = RecurringPlan.objects.create(
        network=network, donor=donor, amount_cents=2500, status=RecurringPlan.Status.ACTIVE
    )
    Donation.objects.create(
        network=network,
        donor=donor,
        recurring_plan=plan,
        amount_cents=2500,
        received_on=datetime.date(2026, 11, 5),
        method=Donation.Method.CARD,
        status=Donation.Status.SUCCEEDED,
    )
    plan.interval = RecurringPlan.Interval.QUARTER
    plan.save()
    with translation.override(language):
        page = open_page(client, network, donor).content.decode()
    (gifts,) = re.findall(r'data-testid="portal-gifts">(.*?)</ul>', page, re.S)
    assert words in gifts
    assert "Trimestrale" not in gifts and "Quarterly" not in gifts
