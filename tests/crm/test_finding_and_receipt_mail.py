"""Finding things (search on the gifts and receipts lists by each key; the donor chooser searches
and creates a donor in place) and receipt mail (every receipt issued by hand or reissued is
emailed unless the treasurer unticks it)."""

import json

import pytest
from django.core import mail

from crm.models import Donation, Donor, Receipt
from crm.receipts import issue_receipt

TREASURER_B = "tesoreria-valle-serena"


@pytest.fixture
def found(rows):
    """Network B's donor with a gift (reference CRO-778899) and its receipt 2026/00001."""
    donation = rows["b"]["donation"]
    donation.reference = "CRO-778899"
    donation.save()
    other_donor = Donor.objects.create(
        network=donation.network, first_name="Ugo", last_name="Altri", email="ugo@example.org"
    )
    other = Donation.objects.create(
        network=donation.network,
        donor=other_donor,
        amount_cents=700,
        status="succeeded",
        method="cash",
        channel="offline",
    )
    return {"gift": donation, "receipt": rows["b"]["receipt"], "other": other}


@pytest.mark.parametrize(
    "query",
    ["Bortolo", "rossi bort", "bortolo@example.org", "RSSMRA85T10A562S", "778899", "2026/00001"],
)
def test_gift_list_search_finds_by_each_key(client, users, found, query):
    client.force_login(users[TREASURER_B])
    response = client.get("/admin/crm/donations/results/", {"q": query})
    listing = list(response.context["object_list"])
    assert listing == [found["gift"]]


@pytest.mark.parametrize(
    "query", ["Bortolo", "bortolo@example.org", "RSSMRA85T10A562S", "2026/00001", "CRO-778899"]
)
def test_receipt_list_search_finds_by_each_key(client, users, found, query):
    client.force_login(users[TREASURER_B])
    response = client.get("/admin/crm/receipts/results/", {"q": query})
    assert list(response.context["object_list"]) == [found["receipt"]]


def test_search_never_reaches_another_network(client, users, rows):
    # network A's donor has the same codice fiscale and a receipt "OP-2026/00001"
    client.force_login(users[TREASURER_B])
    for url in ("/admin/crm/donations/results/", "/admin/crm/receipts/results/"):
        for query in ("Zebedeo", "OP-2026", "zebedeo.segreto@example.org"):
            response = client.get(url, {"q": query})
            assert list(response.context["object_list"]) == [], (url, query)


def test_donor_chooser_searches_and_creates_in_place(client, users, rows):
    client.force_login(users[TREASURER_B])
    results = client.get("/admin/crm/donor-chooser/results/", {"q": "bort"})
    assert "Bortolo" in results.content.decode() and "Zebedeo" not in results.content.decode()
    modal = json.loads(client.get("/admin/crm/donor-chooser/").content)["html"]
    assert "Create the donor" in modal and 'name="codice_fiscale"' in modal
    # a bad codice fiscale is shown again with the reason, nothing created
    bad = {"network": rows["b"]["donor"].network_id, "last_name": "Nuova", "codice_fiscale": "X"}
    response = json.loads(client.post("/admin/crm/donor-chooser/create/", bad).content)
    assert response["step"] == "reshow_creation_form" and not Donor.objects.filter(
        last_name="Nuova"
    )
    # a good one is created and chosen
    good = {**bad, "first_name": "Lia", "codice_fiscale": "rssmra85t10a562s", "email": "L@x.org"}
    response = json.loads(client.post("/admin/crm/donor-chooser/create/", good).content)
    donor = Donor.objects.get(last_name="Nuova")
    assert response["step"] == "chosen" and str(response["result"]["id"]) == str(donor.pk)
    assert donor.network_id == rows["b"]["donor"].network_id and donor.source == "admin"
    assert donor.codice_fiscale == "RSSMRA85T10A562S"


def test_donor_chooser_cannot_create_in_another_network(client, users, rows):
    client.force_login(users[TREASURER_B])
    data = {"network": rows["a"]["donor"].network_id, "last_name": "Intrusa"}
    response = json.loads(client.post("/admin/crm/donor-chooser/create/", data).content)
    assert response["step"] == "reshow_creation_form"
    assert not Donor.objects.filter(last_name="Intrusa").exists()


def gift_of(donor, amount_cents=3000):
    return Donation.objects.create(
        network=donor.network,
        donor=donor,
        amount_cents=amount_cents,
        status="succeeded",
        method="bank_transfer",
        channel="offline",
    )


def test_receipt_issued_by_hand_is_emailed_unless_unticked(
    client, users, rows, django_capture_on_commit_callbacks
):
    donor = rows["b"]["donor"]
    donor.street_address, donor.postal_code = "Via Roma 1", "23900"  # what a receipt needs
    donor.save()
    emailed, kept = gift_of(donor), gift_of(donor, 4000)
    client.force_login(users[TREASURER_B])
    page = client.get(f"/admin/crm/donations/{emailed.pk}/issue-receipt/").content.decode()
    assert 'name="email" value="1" checked' in page and not Receipt.objects.filter(
        donations=emailed
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/crm/donations/{emailed.pk}/issue-receipt/", {"email": ["0", "1"]}, follow=True
        )
        assert "issued and emailed to the donor" in response.content.decode()
        response = client.post(
            f"/admin/crm/donations/{kept.pk}/issue-receipt/", {"email": "0"}, follow=True
        )
        assert "not emailed, as chosen" in response.content.decode()
    assert Receipt.objects.get(donations=emailed).emails.count() == 1
    assert Receipt.objects.get(donations=kept).emails.count() == 0
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["bortolo@example.org"]
    name = mail.outbox[0].attachments[0][0]
    assert name == f"ricevuta-{Receipt.objects.get(donations=emailed).number.replace('/', '-')}.pdf"


def test_reissued_receipt_is_emailed_unless_unticked(
    client, users, rows, django_capture_on_commit_callbacks
):
    donor = rows["b"]["donor"]
    first = issue_receipt([gift_of(donor)])
    second = issue_receipt([gift_of(donor)])
    client.force_login(users[TREASURER_B])
    assert 'name="email"' in client.get(f"/admin/crm/receipts/{first.pk}/reissue/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/admin/crm/receipts/{first.pk}/reissue/", {"reason": "name"})
        client.post(f"/admin/crm/receipts/{second.pk}/reissue/", {"reason": "cf", "email": "0"})
    new_first = Receipt.objects.get(replaces=first)
    new_second = Receipt.objects.get(replaces=second)
    assert new_first.emails.count() == 1 and new_second.emails.count() == 0
    assert [m.to for m in mail.outbox] == [["bortolo@example.org"]]
